"""Link each difference to the stage(s) where it can be seen, repairing what the model gets wrong.

A linker reply is never trusted blindly: names that do not exist are matched to a real one
(:func:`viddiff.tools.stage_names.resolve_stage_name`, the rule every stage name follows) or
dropped, and a difference left without a stage goes to the middle stage.
So a bad link can cost accuracy, but never the run.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.llm import ask_structured, conversation, model_name, retry_or_fail
from viddiff.graphs.schemas import Difference, LinkReply, Stage
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.wiring import Exits
from viddiff.prompts import render
from viddiff.tools.stage_names import resolve_stage_name


def repair_links(reply: LinkReply, differences: list[Difference],
                 stages: list[Stage]) -> tuple[dict[str, list[str]], list[str]]:
    """Turn a raw linker reply into a complete, valid mapping, with notes on each repair.

    Difference names are resolved by the same rule as stage names: a model garbles both alike.
    """
    diff_names = [d.name for d in differences]
    stage_names = [s.name for s in stages]
    links: dict[str, list[str]] = {name: [] for name in diff_names}
    notes = []
    for link in reply.links:
        diff = resolve_stage_name(link.difference, diff_names).name
        if diff is None:
            notes.append(f"linker named an unknown difference {link.difference!r}; dropped")
            continue
        for stage_name in link.stages:
            stage = resolve_stage_name(stage_name, stage_names).name
            if stage is None:
                notes.append(f"linker named an unknown stage {stage_name!r} for {diff!r}; "
                             f"dropped")
            elif stage not in links[diff]:
                links[diff].append(stage)
    middle = stage_names[len(stage_names) // 2] if stage_names else None
    for diff, linked in links.items():
        if not linked and middle is not None:
            linked.append(middle)
            notes.append(f"no stage linked to {diff!r}; using the middle stage {middle!r}")
        linked.sort(key=stage_names.index)
    return links, notes


def make_link_node(model: BaseChatModel, exits: Exits):
    """The ``link`` join: once differences and stages are both there, link them and hand the
    links to ``exits.then`` (frame selection)."""

    async def link(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> Command[Any]:
        if state.get("error") or not state.get("stages") or state.get("candidates") is None:
            return Command(goto=END)
        ctx = runtime.context
        stages = state["stages"]
        differences = state["candidates"]
        if len(stages) == 1 or not differences:  # nothing to choose: skip the call
            links = {d.name: [stages[0].name] for d in differences}
            return Command(update={"links": links}, goto=exits.then)
        previous = (state.get("feedback") or {}).get(exits.name)
        emit(runtime, "node", node=exits.name, status="start")
        prompt = render(
            "link", action=state["action"],
            stages="\n".join(f"- {s.name}: {s.description}" for s in stages),
            differences="\n".join(f"- {d.name}: {d.description}" for d in differences),
        )
        reply = await ask_structured(model, LinkReply, conversation(prompt, previous),
                                     role="linker", method=ctx.structured_output)
        if reply.parsed is None:
            return retry_or_fail(exits.name, reply, previous, max_attempts=ctx.llm_attempts,
                                 model=model_name(model))
        links, notes = repair_links(reply.parsed, differences, stages)
        emit(runtime, "node", node=exits.name, status="end")
        return Command(update={"links": links, "notes": notes, "usage": [reply.usage],
                               "feedback": {exits.name: None}}, goto=exits.then)

    return link
