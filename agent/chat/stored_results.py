"""Finished comparisons as a model reads them: a short summary, details on demand, by id.

A comparison takes minutes and costs model calls; a follow-up question ("why B?", "which
frames?") must not run it again. So every result gets a stable id, the ``compare_videos`` tool
returns the full :class:`ComparisonResult` as its artifact (kept in the conversation state, not
shown to the model), and ``get_result`` reads the details back from that state.

Results are found in the agent state under ``comparisons`` (kept there by the chat agent's
memory middleware) or, for a host agent without it, in the artifacts of earlier
``compare_videos`` tool messages. After a checkpoint round trip artifacts may come back as
plain dicts; both forms are accepted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz, process

from viddiff.graphs.schemas import ComparisonResult, DifferenceResult, FrameRef, VideoRef
from viddiff.tools.segments import Segment

COMPARE_TOOL = "compare_videos"
LABEL_WORDS = {"a": "A", "b": "B", "c": "no clear difference"}
REASON_CHARS = 220


def comparison_id(result: ComparisonResult) -> str:
    """A short id that stays the same for the same videos, action and differences."""
    key = json.dumps([result.video_a.digest, result.video_b.digest, result.action, result.mode,
                      result.engine, [d.name for d in result.differences]])
    return "cmp-" + hashlib.sha1(key.encode()).hexdigest()[:8]


def as_result(value: Any) -> ComparisonResult | None:
    """A stored result (object or its JSON dump) as a :class:`ComparisonResult`, else None."""
    if isinstance(value, ComparisonResult):
        return value
    if isinstance(value, Mapping):
        try:
            return ComparisonResult.model_validate(value)
        except ValidationError:
            return None
    return None


def stored_results(state: Mapping[str, Any] | None) -> dict[str, ComparisonResult]:
    """Every comparison the conversation holds, oldest first, by id."""
    found: dict[str, ComparisonResult] = {}
    for message in (state or {}).get("messages") or []:
        if isinstance(message, ToolMessage) and message.name == COMPARE_TOOL:
            result = as_result(message.artifact)
            if result is not None:
                found[comparison_id(result)] = result
    for cid, value in ((state or {}).get("comparisons") or {}).items():
        result = as_result(value)
        if result is not None:
            found.pop(cid, None)
            found[cid] = result  # the explicit store wins and counts as the newest
    return found


# ------------------------------------------------------------------------------ wording


def _clip(text: str, limit: int = REASON_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(ref: VideoRef) -> str:
    return ref.path.rsplit("/", 1)[-1]


def _label(diff: DifferenceResult) -> str:
    if diff.status == "failed" or diff.label is None:
        return "failed (no answer)"
    if diff.status == "not_measurable":
        return "not measurable"
    return LABEL_WORDS[diff.label]


def summarize(result: ComparisonResult, cid: str | None = None) -> str:
    """The few lines a chat model needs to answer, and the id to ask for more."""
    cid = cid or comparison_id(result)
    a, b = result.video_a, result.video_b
    lines = [f"Comparison {cid} ({result.mode} mode, {result.engine} engine) of "
             f"{result.action!r}: A = {_name(a)} ({a.duration_s:.1f} s), "
             f"B = {_name(b)} ({b.duration_s:.1f} s)."]
    stages = [s.name for s in result.stages] or [s.stage for s in result.segments_a]
    if stages:
        lines.append("Stages: " + ", ".join(stages) + ".")
    for i, diff in enumerate(result.differences, 1):
        line = f"{i}. {diff.description} → {_label(diff)}. {_clip(diff.reason)}"
        numbers = [m.statement for m in diff.measurements if m.statement]
        if numbers:
            line += f" Measured: {_clip('; '.join(numbers), 160)}"
        lines.append(line)
    if not result.differences:
        lines.append("No differences were checked.")
    lines.extend(f"Note: {_clip(n, 160)}" for n in result.notes[:3])
    lines.append(f"Details (frames, timestamps, stage times, measurements): "
                 f"get_result(comparison_id={cid!r}, difference=...).")
    return "\n".join(lines)


def _frames(frames: list[FrameRef]) -> str:
    return ", ".join(f"source frame {f.source_frame} ("
                     f"{f.timestamp_s:.2f} s)" for f in frames) or "none"


def _segment_times(ref: VideoRef, segments: list[Segment], stage: str) -> str:
    seg = next((s for s in segments if s.stage == stage), None)
    if seg is None or seg.end >= len(ref.timestamps):
        return "not found"
    return (f"{ref.timestamps[seg.start]:.2f}–{ref.timestamps[seg.end]:.2f} s "
            f"(sampled frames {seg.start}–{seg.end})")


def describe_difference(result: ComparisonResult, diff: DifferenceResult) -> str:
    """Everything known about one difference: answer, reason, frames, stages, numbers."""
    lines = [f"Difference {diff.name!r}: {diff.description}",
             f"Query shown to the vision model: {diff.query_string!r} "
             f"({'one frame' if diff.num_frames == '1' else 'several frames'} per video)",
             f"Answer: {_label(diff)} (label {diff.label!r}, status {diff.status})",
             f"{'Why it failed' if diff.status == 'failed' else 'Reason'}: {diff.reason}",
             f"Frames of A: {_frames(diff.frames_a)}",
             f"Frames of B: {_frames(diff.frames_b)}"]
    for stage in diff.stages:
        times_a = _segment_times(result.video_a, result.segments_a, stage)
        times_b = _segment_times(result.video_b, result.segments_b, stage)
        lines.append(f"Stage {stage!r}: A {times_a}; B {times_b}")
    for m in diff.measurements:
        values = (f"A {m.value_a:.3g} {m.unit}, B {m.value_b:.3g} {m.unit} (±{m.uncertainty:.2g})"
                  if m.value_a is not None and m.value_b is not None else "not measurable")
        lines.append(f"Measurement {m.metric}{f' in {m.stage}' if m.stage else ''}: {values} "
                     f"→ {LABEL_WORDS[m.label]}. {m.statement}")
    return "\n".join(lines)


def describe_result(result: ComparisonResult, cid: str) -> str:
    """The overview: videos, stage times, every answer in one line, models and notes."""
    a, b = result.video_a, result.video_b
    lines = [f"Comparison {cid}: {result.action!r} ({result.mode} mode, {result.engine} engine)",
             f"Video A: {a.path} — {a.duration_s:.2f} s, {a.n_sampled} frames sampled at "
             f"{a.target_fps:g} fps",
             f"Video B: {b.path} — {b.duration_s:.2f} s, {b.n_sampled} frames sampled at "
             f"{b.target_fps:g} fps"]
    names = [s.name for s in result.stages] or [s.stage for s in result.segments_a]
    for stage in names:
        lines.append(f"Stage {stage!r}: A {_segment_times(a, result.segments_a, stage)}; "
                     f"B {_segment_times(b, result.segments_b, stage)}")
    for diff in result.differences:
        lines.append(f"- {diff.name!r} ({diff.description}): {_label(diff)} — "
                     f"{_clip(diff.reason, 160)}")
    if result.models:
        lines.append("Models: " + ", ".join(f"{k}={v}" for k, v in result.models.items()))
    lines.extend(f"Note: {n}" for n in result.notes)
    return "\n".join(lines)


def find_difference(result: ComparisonResult, query: str) -> DifferenceResult | None:
    """A difference by name or description: exact, then fuzzy (models paraphrase)."""
    text = query.strip().lower()
    for diff in result.differences:
        if text in (diff.name.lower(), diff.description.lower()):
            return diff
    choices = {i: f"{d.name} | {d.description}" for i, d in enumerate(result.differences)}
    match = process.extractOne(query, choices, scorer=fuzz.WRatio, score_cutoff=60)
    return result.differences[match[2]] if match else None


def pick(results: Mapping[str, ComparisonResult], cid: str | None) -> tuple[str, ComparisonResult]:
    """The comparison named by ``cid`` (the newest when None); ToolException otherwise."""
    if not results:
        raise ToolException("no comparison has been run in this conversation yet; call "
                            f"{COMPARE_TOOL} first")
    if cid is None or not cid.strip():
        last = list(results)[-1]
        return last, results[last]
    key = cid.strip()
    if key in results:
        return key, results[key]
    raise ToolException(f"unknown comparison id {key!r}; known: {', '.join(results)}")


# ------------------------------------------------------------------------------- tool


class GetResultArgs(BaseModel):
    """Arguments of ``get_result``."""

    comparison_id: str | None = Field(
        None, description="Id of an earlier comparison (e.g. 'cmp-1a2b3c4d'); the most recent "
                          "one when omitted.")
    difference: str | None = Field(
        None, description="Name or description of one difference for its full evidence; omit "
                          "for the overview (videos, stage times, every answer).")


def _get_result(comparison_id: str | None = None, difference: str | None = None, *,
                runtime: ToolRuntime) -> str:
    results = stored_results(runtime.state)
    cid, result = pick(results, comparison_id)
    if not difference:
        return describe_result(result, cid)
    diff = find_difference(result, difference)
    if diff is None:
        names = "; ".join(f"{d.name!r}" for d in result.differences)
        raise ToolException(f"comparison {cid} has no difference like {difference!r}; it has: "
                            f"{names}")
    return describe_difference(result, diff)


def make_get_result_tool() -> BaseTool:
    """``get_result(comparison_id?, difference?)``: details of an earlier comparison, read
    from the conversation state — no video is decoded and no model is called."""
    return StructuredTool.from_function(
        func=_get_result,
        name="get_result",
        description="Details of a comparison already run in this conversation: which frames "
                    "and timestamps were shown, the reason, the stage times in each video and "
                    "any measurements. Use it for follow-up questions instead of comparing "
                    "again.",
        args_schema=GetResultArgs,
        handle_tool_error=True,
        handle_validation_error=True,
    )


def results_in(messages: Iterable[Any]) -> dict[str, ComparisonResult]:
    """Comparison results carried by ``compare_videos`` tool messages (newest last)."""
    return stored_results({"messages": list(messages)})
