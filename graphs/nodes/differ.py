"""The frame differencer: ask the vision model about one difference's frames.

``select_frames`` (:mod:`.select_frames`) sends one task per difference here; each
``difference`` call shows the frames of A then B, labelled, and asks which video the
difference's *query string* is more true of. A bad reply travels back along a retry edge (a
new ``Send`` carrying the feedback); after the limit that one difference is reported as
failed while the others stand.

Images are sent once per difference. With pose measurements the differencer makes two calls
(the ``measure`` tool turn, then the verdict), and a chat API is stateless: whatever the first
call carried, the second resends. So the tool turn carries NO images: which metric bears on a
statement follows from its text, the action and the stage names, not from the pixels. The
verdict turn then carries the difference's own frames (1 per video for a single-frame
difference, 3 for a multi-frame one: the reference method's 2 and 6 in all) and, after them, the
frames the measurements were read at. Each distinct frame is JPEG-encoded once per run
(:func:`viddiff.graphs.frames.frame_image_part`), however many differences show it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.frames import evidence_refs, frame_image_parts
from viddiff.graphs.llm import (
    Feedback,
    ask_structured,
    attempts_summary,
    conversation,
    model_name,
)
from viddiff.graphs.nodes.measure_tool import measure_tool, run_measure_call
from viddiff.graphs.schemas import (
    DifferenceResult,
    FrameRef,
    UsageRecord,
    Verdict,
    VerdictAB,
    VideoRef,
)
from viddiff.graphs.state import DifferenceTask
from viddiff.graphs.wiring import Exits
from viddiff.prompts import render
from viddiff.tools.kinematics.results import Measurement

VERDICT_FORMS: dict[str, tuple[str, type[Verdict] | type[VerdictAB]]] = {
    "abc": ("difference", Verdict), "ab": ("difference_ab", VerdictAB)}
"""Prompt template and reply schema per ``VidDiffContext.answer_labels``: a separate
template for a/b-only answers, and a schema whose ``answer`` cannot be "c"."""


def image_parts(label: str, ref: VideoRef, frames: list[FrameRef],
                ctx: VidDiffContext) -> list[dict[str, Any]]:
    """Labelled image parts for ``frames`` of one video (encoded once per run, see
    :func:`frame_image_part`)."""
    encoded = frame_image_parts(ref, frames, ctx)
    parts: list[dict[str, Any]] = []
    for n, frame in enumerate(frames, 1):
        part = encoded.get(frame.source_frame)
        if part is None:
            continue
        parts.append({"type": "text", "text": f"Video {label}, frame {n} of {len(frames)} "
                                              f"(t = {frame.timestamp_s:.2f} s):"})
        parts.append(part)
    return parts


async def measure_first(model: BaseChatModel, task: DifferenceTask, prompt: str,
                        images: list[dict[str, Any]], ctx: VidDiffContext
                        ) -> tuple[list[BaseMessage], list[Measurement], list[UsageRecord]]:
    """The tool turn: the model may ask for pose measurements before it answers. It carries
    no images (module docstring); ``images`` go into the verdict request.

    Returns the conversation to continue (ending with the tool results and a request for the
    verdict that carries ``images`` and the measurements' evidence frames; without tool calls
    just the plain verdict conversation), the measurements taken, and the tokens spent.
    """
    tool_prompt = prompt + "\n\n" + render(
        "difference_tools", max_calls=ctx.max_tool_calls,
        stage_names=", ".join(f'"{s.stage}"' for s in task.get("segments_a") or []))
    messages = conversation(tool_prompt, None)  # no images: they come with the verdict turn
    reply = await model.bind_tools([measure_tool()]).ainvoke(messages)
    meta: dict[str, Any] = dict(getattr(reply, "usage_metadata", None) or {})
    usage = [UsageRecord(role="differencer", model=model_name(model),
                         input_tokens=int(meta.get("input_tokens", 0)),
                         output_tokens=int(meta.get("output_tokens", 0)))]
    measurements: list[Measurement] = []
    if not isinstance(reply, AIMessage) or not reply.tool_calls:
        return conversation(prompt, None, images), measurements, usage
    messages.append(reply)
    refs = (task["video_a"], task["video_b"])
    segments = (task.get("segments_a") or [], task.get("segments_b") or [])
    for n, call in enumerate(reply.tool_calls):
        if n >= ctx.max_tool_calls:
            messages.append(ToolMessage(content="error: too many measurements requested",
                                        tool_call_id=call.get("id") or "measure",
                                        status="error"))
            continue
        tool_message, measurement = await asyncio.to_thread(run_measure_call, dict(call), refs,
                                                            segments, ctx)
        messages.append(tool_message)
        if measurement is not None:
            measurements.append(measurement)
    verdict: list[str | dict[str, Any]] = [{"type": "text", "text": render(
        "verdict_after_tools", query_string=task["difference"].query_string)}, *images]
    verdict += await asyncio.to_thread(evidence_parts, measurements, refs, ctx)
    messages.append(HumanMessage(content=verdict))
    return messages, measurements, usage


def evidence_parts(measurements: list[Measurement], refs: tuple[VideoRef, VideoRef],
                   ctx: VidDiffContext) -> list[dict[str, Any]]:
    """The frames each measured value was read at, labelled, so the model can check the
    numbers against the picture (none when the measurements have no evidence frames)."""
    parts: list[dict[str, Any]] = []
    for label, ref, key in (("A", refs[0], "evidence_a"), ("B", refs[1], "evidence_b")):
        evidence = {e.source_frame: e for m in measurements for e in getattr(m, key)}
        if not evidence:
            continue
        encoded = frame_image_parts(ref, evidence_refs(ref, list(evidence.values())), ctx)
        for frame, e in sorted(evidence.items()):
            if frame not in encoded:
                continue
            metrics = ", ".join(m.metric for m in measurements
                                if any(x.source_frame == frame for x in getattr(m, key)))
            parts.append({"type": "text", "text": f"Video {label} at t = {e.timestamp_s:.2f} s, "
                                                  f"where {metrics} was read:"})
            parts.append(encoded[frame])
    return parts


def with_evidence(frames: list[FrameRef], ref: VideoRef, measurements: list[Measurement],
                  key: str) -> list[FrameRef]:
    """The frames shown for a difference plus the frames its measurements were read at."""
    seen = {f.source_frame for f in frames}
    extra = [e for m in measurements for e in getattr(m, key) if e.source_frame not in seen]
    unique = list({e.source_frame: e for e in extra}.values())
    return [*frames, *evidence_refs(ref, unique)]


def make_difference_node(model: BaseChatModel, exits: Exits):
    """One difference's verdict, handed to ``exits.then`` (the result); a bad reply is sent
    back to ``exits.name`` (this node) as a new task carrying the feedback."""

    async def difference(task: DifferenceTask,
                         runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        diff = task["difference"]
        previous = task.get("feedback")
        measurements = list(task.get("measurements") or [])
        template, schema = VERDICT_FORMS[ctx.answer_labels]
        prompt = render(template, action=task["action"], query_string=diff.query_string,
                        stages=", ".join(task["stages"]) or "the whole action")
        images = await asyncio.to_thread(
            lambda: image_parts("A", task["video_a"], task["frames_a"], ctx)
            + image_parts("B", task["video_b"], task["frames_b"], ctx))
        usage: list[UsageRecord] = []
        if task.get("kinematics") and previous is None:
            messages, measurements, usage = await measure_first(model, task, prompt, images,
                                                                ctx)
        else:
            if measurements:  # a retry: the numbers were taken already; state them
                prompt += "\n\nPose measurements: " + "; ".join(m.statement
                                                                 for m in measurements)
            messages = conversation(prompt, previous, images)
        reply = await ask_structured(model, schema, messages, role="differencer",
                                     method=ctx.structured_output)
        usage.append(reply.usage)
        base: dict[str, Any] = {
            "name": diff.name, "description": diff.description,
            "query_string": diff.query_string, "num_frames": diff.num_frames,
            "stages": task["stages"],
            "frames_a": with_evidence(task["frames_a"], task["video_a"], measurements,
                                      "evidence_a"),
            "frames_b": with_evidence(task["frames_b"], task["video_b"], measurements,
                                      "evidence_b"),
            "measurements": measurements}
        if reply.parsed is not None:
            result = DifferenceResult(label=reply.parsed.answer, reason=reply.parsed.reason,
                                      **base)
        else:
            feedback = Feedback.after(previous, reply.error, reply.raw_text)
            attempts = feedback.attempts
            if attempts < ctx.llm_attempts:
                retry = {**task, "feedback": feedback, "measurements": measurements}
                return Command(update={"usage": usage}, goto=Send(exits.name, retry))
            result = DifferenceResult(
                label=None, status="failed", **base,
                reason=f"no usable answer from '{model_name(model)}' after {attempts} "
                       f"attempts ({attempts_summary(previous, reply.error)})")
        emit(runtime, "difference_answered", name=diff.name, label=result.label,
             status=result.status)
        return Command(update={"results": [result], "usage": usage}, goto=exits.then)

    return difference
