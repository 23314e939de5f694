"""The stage transcript: the action's ordered sub-actions and how a frame of each looks.

Two LLM passes: draft the stages, then refine their retrieval strings so that each string
describes its own stage and not the others (the localizer depends on that). The transcript
depends only on the action and the model, so it is cached on disk and reused across videos
(unless ``VidDiffContext.transcript_cache`` is off: then each comparison drafts its own).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime
from langgraph.types import Command

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.llm import ask_structured, conversation, model_name, retry_or_fail
from viddiff.graphs.schemas import (
    RefinedStages,
    Stage,
    StageDraft,
    StageTranscript,
    refined_stages_schema,
    stage_transcript_schema,
)
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.wiring import Exits
from viddiff.prompts import load_prompt, render
from viddiff.tools.files import write_atomic, write_once
from viddiff.tools.stage_names import resolve_stage_name


def transcript_cache_path(ctx: VidDiffContext, action: str, model: str) -> Path:
    """One file per (action, model, stage settings, prompt text): a prompt edit invalidates it."""
    prompts = load_prompt("stages") + load_prompt("refine_stages")
    key = json.dumps([action.strip().lower(), model, ctx.max_stages, ctx.min_retrieval_strings,
                      hashlib.sha256(prompts.encode()).hexdigest()[:12]])
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return Path(ctx.cache_dir) / "transcripts" / f"{digest}.json"


def read_cached_stages(path: Path) -> list[Stage] | None:
    try:
        return [Stage.model_validate(s) for s in json.loads(path.read_text())]
    except (OSError, ValueError):
        return None


def write_cached_stages(path: Path, stages: list[Stage]) -> list[Stage]:
    """Store the transcript unless another run stored one first; the stages to use.

    Runs racing on the same action (two evals, a chat and a compare) would otherwise each
    write their own transcript, the last one winning, while the others go on with theirs:
    the same action localized with different stages. First writer wins: a later run takes
    the stored transcript instead of its own, so every run that finishes agrees. A stored
    file that does not parse (written by an older version) is replaced.
    """
    text = json.dumps([s.model_dump() for s in stages], indent=1)
    if write_once(path, text):
        return stages
    winner = read_cached_stages(path)
    if winner:
        return winner
    write_atomic(path, text)
    return stages


def stage_lines(stages: Sequence[StageDraft | Stage]) -> str:
    lines = []
    for i, stage in enumerate(stages, 1):
        lines.append(f"{i}. {stage.name}: {stage.description}")
        lines.extend(f"   - {s}" for s in stage.retrieval_strings)
    return "\n".join(lines)


def repair_transcript(reply: StageTranscript, max_stages: int,
                      min_strings: int) -> tuple[StageTranscript, list[str]]:
    """The reply with what is safely repairable repaired, and what was done; ``ValueError``
    for what is not.

    Repaired: blank and repeated retrieval strings are dropped; stages beyond ``max_stages``
    are cut (the first ones are the action's start, which the order keeps); a repeated stage
    name gets a number ("hold", "hold 2"). Not repairable: no stage at all, or a stage with
    fewer than ``min_strings`` retrieval strings (inventing strings would mislead the
    localizer): those go back to the model.
    """
    done: list[str] = []
    stages = [s.model_copy(update={"name": s.name.strip(), "retrieval_strings": list(
        dict.fromkeys(r.strip() for r in s.retrieval_strings if r.strip()))})
        for s in reply.stages if s.name.strip()]
    if not stages:
        raise ValueError("no stages were given")
    if len(stages) > max_stages:
        done.append(f"kept the first {max_stages} of {len(stages)} stages")
        stages = stages[:max_stages]
    seen: dict[str, int] = {}
    for i, stage in enumerate(stages):
        key = stage.name.lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            name = f"{stage.name} {seen[key]}"
            while name.lower() in seen:
                name += "'"
            seen[name.lower()] = 1
            done.append(f"renamed the repeated stage {stage.name!r} to {name!r}")
            stages[i] = stage.model_copy(update={"name": name})
    thin = [s.name for s in stages if len(s.retrieval_strings) < min_strings]
    if thin:
        raise ValueError(f"stage {thin[0]!r} has fewer than {min_strings} retrieval strings")
    return StageTranscript(stages=stages), done


def make_stage_transcript_node(model: BaseChatModel, exits: Exits):
    """Draft the stages and hand them to ``exits.then`` (refinement); a cached transcript
    is final already, so it goes to ``exits.skip_to``, where refinement would have gone."""

    async def stage_transcript(state: VidDiffState,
                               runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        cached = None
        if ctx.transcript_cache:
            cache = transcript_cache_path(ctx, state["action"], model_name(model))
            cached = await asyncio.to_thread(read_cached_stages, cache)
        if cached:
            emit(runtime, "node", node=exits.name, status="cached", count=len(cached))
            return Command(update={"stages": cached,
                                   "notes": ["stage transcript reused from cache"]},
                           goto=exits.skip_to)
        previous = (state.get("feedback") or {}).get(exits.name)
        emit(runtime, "node", node=exits.name, status="start")

        repairs: list[str] = []

        def validate(reply: StageTranscript) -> StageTranscript:
            repaired, done = repair_transcript(reply, ctx.max_stages, ctx.min_retrieval_strings)
            repairs[:] = done
            return repaired

        prompt = render("stages", action=state["action"], max_stages=ctx.max_stages,
                        min_strings=max(5, ctx.min_retrieval_strings))
        reply = await ask_structured(
            model, StageTranscript, conversation(prompt, previous), role="stages",
            method=ctx.structured_output, validate=validate,
            wire_schema=stage_transcript_schema(ctx.max_stages, ctx.min_retrieval_strings))
        if reply.parsed is None:
            return retry_or_fail(exits.name, reply, previous,
                                 max_attempts=ctx.llm_attempts, model=model_name(model))
        emit(runtime, "node", node=exits.name, status="end", count=len(reply.parsed.stages))
        update: dict[str, Any] = {"transcript": reply.parsed.stages, "usage": [reply.usage],
                                  "feedback": {exits.name: None}}
        if repairs:
            update["notes"] = [f"stage transcript repaired: {'; '.join(repairs)}"]
        return Command(update=update, goto=exits.then)

    return stage_transcript


def merge_refined(drafts: list[StageDraft], reply: RefinedStages, min_strings: int) -> list[Stage]:
    """Apply the refiner's strings to the drafted stages.

    Stage names are resolved by the one stage-name rule
    (:func:`viddiff.tools.stage_names.resolve_stage_name`: a model may re-case or shorten
    them), and a refined stage that matches no draft is ignored; a stage the refiner
    forgot keeps its draft strings, and one left with too few strings is topped up from its
    drafts, so refinement can only sharpen the transcript, never break it.
    """
    by_name: dict[str, list[str]] = {}
    draft_names = [d.name for d in drafts]
    for refined in reply.stages:
        match = resolve_stage_name(refined.name, draft_names).name
        if match is not None:
            by_name.setdefault(match, []).extend(s for s in refined.retrieval_strings
                                                 if s.strip())
    stages = []
    for draft in drafts:
        strings = list(dict.fromkeys(by_name.get(draft.name, [])))
        for extra in draft.retrieval_strings:
            if len(strings) >= min_strings:
                break
            if extra not in strings:
                strings.append(extra)
        stages.append(Stage(name=draft.name, description=draft.description,
                            retrieval_strings=strings))
    return stages


def make_refine_stages_node(model: BaseChatModel, exits: Exits):
    """Sharpen the drafted stages' retrieval strings and hand the transcript to
    ``exits.then`` (localization and linking, in parallel)."""

    async def refine_stages(state: VidDiffState,
                            runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        drafts = state.get("transcript") or []
        previous = (state.get("feedback") or {}).get(exits.name)
        emit(runtime, "node", node=exits.name, status="start")
        prompt = render("refine_stages", action=state["action"], stages=stage_lines(drafts),
                        min_strings=ctx.min_retrieval_strings)
        reply = await ask_structured(
            model, RefinedStages, conversation(prompt, previous), role="stages",
            method=ctx.structured_output,
            wire_schema=refined_stages_schema(len(drafts), ctx.min_retrieval_strings))
        if reply.parsed is None:
            return retry_or_fail(exits.name, reply, previous,
                                 max_attempts=ctx.llm_attempts, model=model_name(model))
        stages = merge_refined(drafts, reply.parsed, ctx.min_retrieval_strings)
        if ctx.transcript_cache:  # first writer wins: racing runs go on with the stored one
            stages = await asyncio.to_thread(
                write_cached_stages,
                transcript_cache_path(ctx, state["action"], model_name(model)), stages)
        emit(runtime, "node", node=exits.name, status="end", count=len(stages))
        return Command(update={"stages": stages, "usage": [reply.usage],
                               "feedback": {exits.name: None}}, goto=exits.then)

    return refine_stages
