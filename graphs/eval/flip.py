"""Flip check: does a matched prediction say the same as the ground truth, or its opposite?

The matcher pairs statements about the same aspect of the movement, which includes opposite
phrasings ("the knees are straighter" for "the knees bend more"). A prediction of ``a`` for the
opposite statement means ``b`` for the ground-truth statement, so such labels are flipped
before scoring. All matched pairs of a sample go to the judge in one call.

A verdict list that does not cover every pair exactly once goes back along the retry edge; if
the last allowed reply still does not, the missing pairs count as "same" (no flip, the
conservative choice) and the repair is noted.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from viddiff.graphs.eval.judge import JudgeCache, JudgeStep, ask_judge
from viddiff.graphs.eval.state import EvalContext, EvalState, FlipReply
from viddiff.graphs.wiring import Exits
from viddiff.prompts import render


def matched_pairs(state: EvalState) -> list[tuple[str, str, str]]:
    """``(gt_key, gt statement, predicted statement)`` for every matched pair, in key order."""
    preds = {p.key: p for p in state["predictions"]}
    matches = state.get("matches") or {}
    pairs = []
    for gt in state["ground_truth"]:
        pred_key = matches.get(gt.key)
        if pred_key is not None and pred_key in preds:
            pairs.append((gt.key, gt.description, preds[pred_key].description))
    return pairs


def check_verdicts(reply: FlipReply, n_pairs: int) -> tuple[dict[int, bool], list[str]]:
    """``{pair number: opposite}`` for every pair (missing ones: not opposite), and problems."""
    opposite: dict[int, bool] = {}
    problems = []
    for verdict in reply.verdicts:
        if not 1 <= verdict.pair <= n_pairs:
            problems.append(f"there is no pair {verdict.pair} (pairs are 1 to {n_pairs})")
        elif verdict.pair in opposite:
            problems.append(f"pair {verdict.pair} has more than one verdict")
        else:
            opposite[verdict.pair] = verdict.relation == "opposite"
    missing = [n for n in range(1, n_pairs + 1) if n not in opposite]
    if missing:
        problems.append("no verdict for pair " + ", ".join(map(str, missing)))
    return {n: opposite.get(n, False) for n in range(1, n_pairs + 1)}, problems


def flip_prompt(pairs: list[tuple[str, str, str]]) -> str:
    listing = "\n".join(f"{n}. first: {json.dumps(gt)}\n   second: {json.dumps(pred)}"
                        for n, (_, gt, pred) in enumerate(pairs, 1))
    return render("eval_flip", pairs=listing, count=len(pairs))


def make_flip_node(model: BaseChatModel, exits: Exits, cache: JudgeCache | None = None):
    """The ``flip`` node: one batched judge call for all matched pairs of a sample, its
    verdicts handed to ``exits.then`` (scoring)."""

    async def flip(state: EvalState, runtime: Runtime[EvalContext]) -> Command[Any]:
        if state.get("error"):
            return Command(goto=END)
        pairs = matched_pairs(state)
        if not pairs:
            return Command(update={"opposite": {}}, goto=exits.then)

        def check(reply: FlipReply) -> tuple[dict[str, Any], list[str]]:
            by_number, problems = check_verdicts(reply, len(pairs))
            opposite = {gt: by_number[n] for n, (gt, _, _) in enumerate(pairs, 1)}
            return {"opposite": opposite}, problems

        step = JudgeStep(exits.name, FlipReply, check,
                         repair_note="flip check repaired (pairs without a verdict count as "
                                     "'same')")
        answer = await ask_judge(step, model, flip_prompt(pairs), state, runtime, cache)
        if isinstance(answer, Command):
            return answer
        opposite = {gt: bool(answer.value["opposite"].get(gt)) for gt, _, _ in pairs}
        return Command(update={"opposite": opposite, **answer.update(exits.name)},
                       goto=exits.then)

    return flip
