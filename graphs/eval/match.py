"""Match ground-truth differences to predicted ones, one-to-one, with an LLM judge.

The judge answers once per sample. Its reply is never trusted blindly, because a matching that
breaks the rules would inflate the score: a prediction matched to two ground-truth differences
could be counted correct twice, and an invented key could count a statement nobody made. So:

- keys are normalised (``G3``, ``g3`` and ``3`` all name ground truth ``3``; ``none``, ``null``
  and an empty string mean "no match");
- a reply that still breaks a rule (unknown key, a prediction used twice, a ground-truth
  difference missing or listed twice) goes back to the judge along the retry edge, with the
  problems spelled out;
- if the last allowed reply still breaks a rule, it is *repaired*, never counted as is: unknown
  keys and missing entries become "no match", a prediction used twice stays with the first
  ground-truth difference (in key order) and the others become "no match". The repair is
  recorded in the sample's notes and flagged in the results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from viddiff.graphs.eval.judge import JudgeCache, JudgeStep, ask_judge
from viddiff.graphs.eval.state import EvalContext, EvalState, MatchReply
from viddiff.graphs.wiring import Exits
from viddiff.prompts import render

NO_MATCH_WORDS = frozenset({"", "none", "null", "no match", "n/a", "na", "-", "nil"})


def gt_tag(key: str) -> str:
    """How a ground-truth key is shown to the judge (prefixed, so it is never confused with a
    prediction key: both lists number their entries from 0)."""
    return f"G{key}"


def pred_tag(key: str) -> str:
    return f"P{key}"


class _Unknown:
    """Marker for a key that names nothing in the list."""


UNKNOWN = _Unknown()


def resolve_key(value: str | None, prefix: str, keys: list[str]) -> str | _Unknown | None:
    """The real key ``value`` names (``None`` for "no match"), or :data:`UNKNOWN`."""
    text = str(value if value is not None else "").strip().strip("\"'")
    if text.lower() in NO_MATCH_WORDS:
        return None
    if text in keys:
        return text
    if text[:1].lower() == prefix.lower() and text[1:].strip() in keys:
        return text[1:].strip()
    return UNKNOWN


@dataclass
class MatchCheck:
    """A judge's matching after checking: the (repaired) mapping and what was wrong with it."""

    matches: dict[str, str | None]
    problems: list[str]

    @property
    def valid(self) -> bool:
        return not self.problems


def check_matches(reply: MatchReply, gt_keys: list[str], pred_keys: list[str]) -> MatchCheck:
    """Check a matching against the one-to-one rules and repair it at the same time.

    ``matches`` is the repaired mapping (every ground-truth key present, each prediction used
    at most once); ``problems`` says what had to change, empty when the reply was valid.
    """
    matches: dict[str, str | None] = {}
    problems: list[str] = []
    for pair in reply.matches:
        gt = resolve_key(pair.ground_truth, "G", gt_keys)
        if isinstance(gt, _Unknown) or gt is None:
            problems.append(f"{pair.ground_truth!r} is not a ground-truth key")
            continue
        if gt in matches:
            problems.append(f"{gt_tag(gt)} is listed more than once")
            continue
        pred = resolve_key(pair.prediction, "P", pred_keys)
        if isinstance(pred, _Unknown):
            problems.append(f"{gt_tag(gt)} is matched to {pair.prediction!r}, which is not a "
                            f"prediction key")
            pred = None
        matches[gt] = pred
    users: dict[str, list[str]] = {}
    for gt in gt_keys:  # key order, so the repair keeps the first ground-truth difference
        pred = matches.get(gt)
        if pred is not None:
            users.setdefault(pred, []).append(gt)
    for pred, gts in users.items():
        if len(gts) > 1:
            problems.append(f"{pred_tag(pred)} is used for {', '.join(map(gt_tag, gts))}; a "
                            f"prediction may match at most one ground-truth difference")
            for gt in gts[1:]:
                matches[gt] = None
    missing = [g for g in gt_keys if g not in matches]
    if missing:
        problems.append("no entry for " + ", ".join(map(gt_tag, missing)))
    return MatchCheck(matches={g: matches.get(g) for g in gt_keys}, problems=problems)


def _listing(items: dict[str, str]) -> str:
    return "\n".join(f"- {key}: {text}" for key, text in items.items()) or "(none)"


def match_prompt(state: EvalState) -> str:
    gt = {gt_tag(g.key): g.description for g in state["ground_truth"]}
    preds = {pred_tag(p.key): p.description for p in state["predictions"]}
    return render("eval_match", action=state["action"], ground_truth=_listing(gt),
                  predictions=_listing(preds), gt_keys=json.dumps(list(gt)),
                  pred_keys=json.dumps(list(preds)))


def make_match_node(model: BaseChatModel, exits: Exits, cache: JudgeCache | None = None):
    """The ``match`` node: one judge call per sample (none when either list is empty). The
    matches go to ``exits.then`` (the flip check), or to ``exits.skip_to`` (scoring) when
    nothing matched, so there is nothing to flip-check."""

    async def match(state: EvalState, runtime: Runtime[EvalContext]) -> Command[Any]:
        if state.get("error"):
            return Command(goto=END)
        gt_keys = [g.key for g in state["ground_truth"]]
        pred_keys = [p.key for p in state["predictions"]]
        if not gt_keys or not pred_keys:  # nothing to match: no call
            return Command(update={"matches": dict.fromkeys(gt_keys)}, goto=exits.skip_to)

        def check(reply: MatchReply) -> tuple[dict[str, Any], list[str]]:
            checked = check_matches(reply, gt_keys, pred_keys)
            return {"matches": checked.matches}, checked.problems

        step = JudgeStep(exits.name, MatchReply, check,
                         repair_note="matching repaired (the replies broke the one-to-one rules)")
        answer = await ask_judge(step, model, match_prompt(state), state, runtime, cache)
        if isinstance(answer, Command):
            return answer
        matches = {g: answer.value["matches"].get(g) for g in gt_keys}
        matched = any(v is not None for v in matches.values())
        return Command(update={"matches": matches, **answer.update(exits.name)},
                       goto=exits.then if matched else exits.skip_to)

    return match
