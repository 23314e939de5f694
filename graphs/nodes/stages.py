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
from rapidfuzz import process

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.llm import ask_structured, conversation, model_name, retry_or_fail
from viddiff.graphs.schemas import RefinedStages, Stage, StageDraft, StageTranscript
from viddiff.graphs.state import VidDiffState
from viddiff.prompts import load_prompt, render
from viddiff.tools.files import write_atomic

AFTER_STAGES = ["localize", "link"]


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


def write_cached_stages(path: Path, stages: list[Stage]) -> None:
    """Atomic write: a crash never leaves a half-written transcript behind."""
    write_atomic(path, json.dumps([s.model_dump() for s in stages], indent=1))


def stage_lines(stages: Sequence[StageDraft | Stage]) -> str:
    lines = []
    for i, stage in enumerate(stages, 1):
        lines.append(f"{i}. {stage.name}: {stage.description}")
        lines.extend(f"   - {s}" for s in stage.retrieval_strings)
    return "\n".join(lines)


def make_stage_transcript_node(model: BaseChatModel):
    async def stage_transcript(state: VidDiffState,
                               runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        cached = None
        if ctx.transcript_cache:
            cache = transcript_cache_path(ctx, state["action"], model_name(model))
            cached = await asyncio.to_thread(read_cached_stages, cache)
        if cached:
            emit(runtime, "node", node="stage_transcript", status="cached", count=len(cached))
            return Command(update={"stages": cached,
                                   "notes": ["stage transcript reused from cache"]},
                           goto=AFTER_STAGES)
        previous = (state.get("feedback") or {}).get("stage_transcript")
        emit(runtime, "node", node="stage_transcript", status="start")

        def validate(reply: StageTranscript) -> StageTranscript:
            if not reply.stages:
                raise ValueError("no stages were given")
            if len(reply.stages) > ctx.max_stages:
                raise ValueError(f"{len(reply.stages)} stages given; at most {ctx.max_stages}")
            names = [s.name.strip().lower() for s in reply.stages]
            if len(set(names)) != len(names):
                raise ValueError("stage names must be unique")
            thin = [s.name for s in reply.stages
                    if len([r for r in s.retrieval_strings if r.strip()])
                    < ctx.min_retrieval_strings]
            if thin:
                raise ValueError(f"stage {thin[0]!r} has fewer than "
                                 f"{ctx.min_retrieval_strings} retrieval strings")
            return reply

        prompt = render("stages", action=state["action"], max_stages=ctx.max_stages,
                        min_strings=max(5, ctx.min_retrieval_strings))
        reply = await ask_structured(model, StageTranscript, conversation(prompt, previous),
                                     role="stages", method=ctx.structured_output,
                                     validate=validate)
        if reply.parsed is None:
            return retry_or_fail("stage_transcript", reply, previous,
                                 max_attempts=ctx.llm_attempts, model=model_name(model))
        emit(runtime, "node", node="stage_transcript", status="end",
             count=len(reply.parsed.stages))
        return Command(update={"transcript": reply.parsed.stages, "usage": [reply.usage],
                               "feedback": {"stage_transcript": None}},
                       goto="refine_stages")

    return stage_transcript


def merge_refined(drafts: list[StageDraft], reply: RefinedStages, min_strings: int) -> list[Stage]:
    """Apply the refiner's strings to the drafted stages.

    Stage names are matched fuzzily (a model may re-case or shorten them); a stage the refiner
    forgot keeps its draft strings, and one left with too few strings is topped up from its
    drafts, so refinement can only sharpen the transcript, never break it.
    """
    by_name: dict[str, list[str]] = {}
    draft_names = [d.name for d in drafts]
    for refined in reply.stages:
        match = process.extractOne(refined.name, draft_names, score_cutoff=70)
        if match is not None:
            by_name.setdefault(match[0], []).extend(s for s in refined.retrieval_strings
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


def make_refine_stages_node(model: BaseChatModel):
    async def refine_stages(state: VidDiffState,
                            runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        drafts = state.get("transcript") or []
        previous = (state.get("feedback") or {}).get("refine_stages")
        emit(runtime, "node", node="refine_stages", status="start")
        prompt = render("refine_stages", action=state["action"], stages=stage_lines(drafts),
                        min_strings=ctx.min_retrieval_strings)
        reply = await ask_structured(model, RefinedStages, conversation(prompt, previous),
                                     role="stages", method=ctx.structured_output)
        if reply.parsed is None:
            return retry_or_fail("refine_stages", reply, previous,
                                 max_attempts=ctx.llm_attempts, model=model_name(model))
        stages = merge_refined(drafts, reply.parsed, ctx.min_retrieval_strings)
        if ctx.transcript_cache:
            await asyncio.to_thread(write_cached_stages,
                                    transcript_cache_path(ctx, state["action"],
                                                          model_name(model)), stages)
        emit(runtime, "node", node="refine_stages", status="end", count=len(stages))
        return Command(update={"stages": stages, "usage": [reply.usage],
                               "feedback": {"refine_stages": None}}, goto=AFTER_STAGES)

    return refine_stages
