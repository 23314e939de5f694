"""Pick the frames for each difference and ask the vision model about them, concurrently.

``select_frames`` fans out one ``Send`` per difference; each ``difference`` call shows the
frames of A then B, labelled, and asks which video the difference's *query string* is more
true of. A bad reply travels back along a retry edge (a new ``Send`` carrying the feedback);
after the limit that one difference is reported as failed while the others stand.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, Send
from PIL import Image

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.llm import Feedback, ask_structured, conversation, model_name
from viddiff.graphs.nodes.common import emit, frame_refs, sampled
from viddiff.graphs.schemas import DifferenceResult, FrameRef, Verdict, VideoRef
from viddiff.graphs.state import DifferenceTask, VidDiffState
from viddiff.prompts import render
from viddiff.tools.frame_select import frames_for_difference


def sampling_fps(ref: VideoRef) -> float:
    """The real rate of the sampled frames (lower than the target when ``max_frames`` capped)."""
    if ref.n_sampled < 2 or ref.timestamps[-1] <= ref.timestamps[0]:
        return ref.target_fps
    return (ref.n_sampled - 1) / (ref.timestamps[-1] - ref.timestamps[0])


def select_frames(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> Command[Any]:
    """One differencer task per difference, with the frames of both videos it should look at."""
    if state.get("error") or state.get("segments") is None or state.get("links") is None:
        return Command(goto=END)
    ctx = runtime.context
    videos = state["videos"]
    sends = []
    for diff in state.get("candidates") or []:
        linked = state["links"].get(diff.name, [])
        picked = {}
        for key in ("a", "b"):
            ref = videos[key]
            idx = frames_for_difference(state["segments"][key], linked, diff.num_frames,
                                        fps=sampling_fps(ref), n_frames=ref.n_sampled,
                                        spacing_s=ctx.frame_spacing_s, count=ctx.motion_frames)
            picked[key] = frame_refs(ref, idx)
        task = DifferenceTask(action=state["action"], difference=diff, stages=linked,
                              video_a=videos["a"], video_b=videos["b"], frames_a=picked["a"],
                              frames_b=picked["b"], feedback=None)
        sends.append(Send("difference", task))
    emit(runtime, "differences", total=len(sends))
    return Command(goto=sends or "report")


def to_data_url(frame: np.ndarray, max_side: int) -> str:
    """JPEG data URL of one frame, resized so its longer side is at most ``max_side``."""
    image = Image.fromarray(frame)
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def image_parts(label: str, ref: VideoRef, frames: list[FrameRef],
                ctx: VidDiffContext) -> list[dict[str, Any]]:
    video = sampled(ref, ctx)
    parts: list[dict[str, Any]] = []
    for n, frame in enumerate(frames, 1):
        parts.append({"type": "text", "text": f"Video {label}, frame {n} of {len(frames)} "
                                              f"(t = {frame.timestamp_s:.2f} s):"})
        parts.append({"type": "image_url", "image_url": {
            "url": to_data_url(video.frames[frame.sampled_index], ctx.image_max_side)}})
    return parts


def make_difference_node(model: BaseChatModel):
    async def difference(task: DifferenceTask,
                         runtime: Runtime[VidDiffContext]) -> Command[Any]:
        ctx = runtime.context
        diff = task["difference"]
        previous = task.get("feedback")
        prompt = render("difference", action=task["action"], query_string=diff.query_string,
                        stages=", ".join(task["stages"]) or "the whole action")
        images = (image_parts("A", task["video_a"], task["frames_a"], ctx)
                  + image_parts("B", task["video_b"], task["frames_b"], ctx))
        reply = await ask_structured(model, Verdict, conversation(prompt, previous, images),
                                     role="differencer", method=ctx.structured_output)
        base: dict[str, Any] = {
            "name": diff.name, "description": diff.description,
            "query_string": diff.query_string, "num_frames": diff.num_frames,
            "stages": task["stages"], "frames_a": task["frames_a"], "frames_b": task["frames_b"]}
        if reply.parsed is not None:
            result = DifferenceResult(label=reply.parsed.answer, reason=reply.parsed.reason,
                                      **base)
        else:
            attempts = (previous.attempts if previous else 0) + 1
            if attempts < ctx.llm_attempts:
                feedback = Feedback(attempts=attempts, error=reply.error or "unusable reply",
                                    raw=reply.raw_text[:4000])
                return Command(update={"usage": [reply.usage]},
                               goto=Send("difference", {**task, "feedback": feedback}))
            result = DifferenceResult(
                label="c", status="failed", **base,
                reason=f"no usable answer from '{model_name(model)}' after {attempts} "
                       f"attempts (last: {reply.error})")
        emit(runtime, "difference_answered", name=diff.name, label=result.label,
             status=result.status)
        return Command(update={"results": [result], "usage": [reply.usage]}, goto="report")

    return difference
