"""Which differences to check: proposed by an LLM (open mode) or taken from the caller (closed)."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime
from langgraph.types import Command

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.llm import ask_structured, conversation, model_name, retry_or_fail
from viddiff.graphs.schemas import (
    Difference,
    DifferenceSpec,
    ProposedDifferences,
    difference_spec,
    proposed_differences_schema,
)
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.wiring import Exits
from viddiff.prompts import render

MOTION_WORDS = re.compile(
    r"\b(fast|faster|slow|slower|speed|quick|quicker|tempo|rhythm|smooth|smoother|jerky|"
    r"duration|longer|shorter|time|timing|pace|accelerat\w*|momentum|explosive|pause)\b",
    re.IGNORECASE,
)
"""Words that say a difference needs motion (several frames) rather than one still frame."""

VIDEO_MENTION = re.compile(r"\b(video|clip)\s+[ab]\b|\b(first|second)\s+video\b", re.IGNORECASE)


def unique_names(names: list[str]) -> list[str]:
    """Make names unique by suffixing repeats (" (2)"), keeping order."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        base = name.strip() or "difference"
        count = seen.get(base.lower(), 0) + 1
        seen[base.lower()] = count
        out.append(base if count == 1 else f"{base} ({count})")
    return out


def complete_spec(spec: DifferenceSpec) -> Difference:
    """Fill what a caller left out: the query defaults to the description, and frames to "1"
    unless the wording is about motion (speed, timing, smoothness), which needs several."""
    description = spec.description.strip()
    query = (spec.query_string or description).strip()
    num_frames = spec.num_frames or ("gt_1" if MOTION_WORDS.search(description) else "1")
    name = (spec.name or description[:48]).strip()
    return Difference(name=name, description=description, query_string=query,
                      num_frames=num_frames)


def prepare_differences(state: VidDiffState) -> dict[str, Any]:
    """Closed mode: the caller's differences, completed and with unique names."""
    specs = [difference_spec(s) for s in state.get("differences") or []]
    diffs = [complete_spec(s) for s in specs]
    for diff, name in zip(diffs, unique_names([d.name for d in diffs]), strict=True):
        diff.name = name
    return {"candidates": diffs}


def make_propose_node(model: BaseChatModel, exits: Exits):
    """Open mode: ask the proposer model for at most ``n_differences`` differences, then hand
    them to ``exits.then`` (the linker, or a person's review first)."""

    async def propose(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        n = int(state.get("n_differences") or 1)
        previous = (state.get("feedback") or {}).get(exits.name)
        emit(runtime, "node", node=exits.name, status="start", attempt=_attempt(previous))

        def validate(reply: ProposedDifferences) -> ProposedDifferences:
            if not reply.differences:
                raise ValueError("the list of differences is empty")
            named = [d for d in reply.differences if VIDEO_MENTION.search(d.description)]
            if named:
                raise ValueError(f"descriptions must not name a video, e.g. "
                                 f"{named[0].description!r}: describe the performance instead")
            return reply

        template = "propose_exact" if ctx.proposer_wording == "exactly" else "propose"
        prompt = render(template, action=state["action"], n_differences=n)
        reply = await ask_structured(model, ProposedDifferences, conversation(prompt, previous),
                                     role="proposer", method=ctx.structured_output,
                                     validate=validate,
                                     wire_schema=proposed_differences_schema(n))
        if reply.parsed is None:
            return retry_or_fail(exits.name, reply, previous, max_attempts=ctx.llm_attempts,
                                 model=model_name(model))
        diffs = reply.parsed.differences[:n]  # the benchmark cuts extras; so do we
        for diff, name in zip(diffs, unique_names([d.name for d in diffs]), strict=True):
            diff.name = name
        notes = []
        if len(reply.parsed.differences) > n:
            notes.append(f"the proposer gave {len(reply.parsed.differences)} differences; "
                         f"kept the first {n}")
        emit(runtime, "node", node=exits.name, status="end", count=len(diffs))
        return Command(update={"candidates": diffs, "usage": [reply.usage], "notes": notes,
                               "feedback": {exits.name: None}}, goto=exits.then)

    return propose


def _attempt(previous: Any) -> int:
    return (previous.attempts if previous else 0) + 1
