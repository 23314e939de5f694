"""The paper's LMM baseline: every sampled frame of both videos in one vision-model call.

No proposer, no localizer: the model sees A's frames then B's, in order and labelled, and
answers the closed question (a/b per given difference) or the open one (its own statements,
each labelled a/b). It uses the same structured-output helper as the graph nodes; a reply that
does not parse or does not answer every key goes back to the model with the error, and after
``llm_attempts`` replies the sample fails with a one-line :class:`ModelReplyError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.llm import (
    Feedback,
    StructuredReply,
    ask_structured,
    attempts_summary,
    conversation,
    model_name,
)
from viddiff.graphs.schemas import UsageRecord
from viddiff.prompts import render
from viddiff.tools.errors import ModelReplyError
from viddiff.tools.images import ImageDetail, image_part
from viddiff.tools.video import SampledVideo, load_video_cached


class ClosedAnswer(BaseModel):
    key: str = Field(description="The statement's key exactly as given.")
    answer: Literal["a", "b"] = Field(description="'a' if the statement is more true of "
                                      "video A, 'b' if more true of video B.")


class LmmClosedReply(BaseModel):
    """Closed baseline reply: one answer per given statement."""

    answers: list[ClosedAnswer]


class OpenDifference(BaseModel):
    description: str = Field(description="A statement that is more true of one video, never "
                             "naming a video, e.g. 'the jump is higher'.")
    prediction: Literal["a", "b"] = Field(description="'a' if more true of video A, 'b' if "
                                          "more true of video B.")


class LmmOpenReply(BaseModel):
    """Open baseline reply: the model's own differences, most important first."""

    differences: list[OpenDifference]


@dataclass
class LmmAnswer:
    """Labels by key (closed: the given keys; open: "0", "1", ... in the model's order)."""

    labels: dict[str, tuple[str, str]]
    usage: list[UsageRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def frame_parts(label: str, video: SampledVideo, max_side: int | None,
                detail: ImageDetail | None = None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for n, (frame, t) in enumerate(zip(video.frames, video.timestamps, strict=True), 1):
        parts.append({"type": "text", "text": f"Video {label}, frame {n} of {video.n_sampled} "
                                              f"(t = {float(t):.2f} s):"})
        parts.append(image_part(frame, max_side, detail))
    return parts


def _describe(video_a: SampledVideo, video_b: SampledVideo) -> str:
    return (f"The images below are frames sampled from each video at about "
            f"{video_a.effective_fps:.3g} frames per second, in time order: first "
            f"{video_a.n_sampled} frames of video A, then {video_b.n_sampled} frames of video B.")


def _closed_validator(keys: list[str]):
    def validate(reply: LmmClosedReply) -> LmmClosedReply:
        seen: dict[str, str] = {}
        problems = []
        for item in reply.answers:
            key = item.key.strip()
            if key not in keys:
                problems.append(f"{item.key!r} is not one of the keys")
            elif key in seen:
                problems.append(f"key {key!r} is answered more than once")
            seen.setdefault(key, item.answer)
        missing = [k for k in keys if k not in seen]
        if missing:
            problems.append("no answer for key " + ", ".join(repr(k) for k in missing))
        if problems:
            raise ValueError("; ".join(problems))
        return reply
    return validate


def _open_validator(reply: LmmOpenReply) -> LmmOpenReply:
    if not reply.differences:
        raise ValueError("the list of differences is empty")
    return reply


async def _ask(model: BaseChatModel, schema: type[Any], prompt: str,
               images: list[dict[str, Any]], ctx: VidDiffContext,
               validate: Any) -> tuple[Any, list[UsageRecord]]:
    feedback: Feedback | None = None
    usage: list[UsageRecord] = []
    reply: StructuredReply[Any] | None = None
    for attempt in range(1, ctx.llm_attempts + 1):
        reply = await ask_structured(model, schema, conversation(prompt, feedback, images),
                                     role="lmm", method=ctx.structured_output,
                                     validate=validate)
        usage.append(reply.usage)
        if reply.parsed is not None:
            return reply.parsed, usage
        if attempt == ctx.llm_attempts:
            break
        feedback = Feedback.after(feedback, reply.error, reply.raw_text)
    last = reply.error if reply is not None else "no reply"
    raise ModelReplyError(f"lmm: model '{model_name(model)}' gave no usable reply after "
                          f"{ctx.llm_attempts} attempts ({attempts_summary(feedback, last)})")


async def run_lmm(model: BaseChatModel, *, action: str, video_a: str, video_b: str,
                  ctx: VidDiffContext, differences: Mapping[str, str] | None = None,
                  n_differences: int | None = None) -> LmmAnswer:
    """Ask ``model`` about two videos in one call: closed when ``differences`` (key ->
    statement) are given, open (at most ``n_differences`` statements) otherwise."""
    clips = [load_video_cached(path, target_fps=ctx.fps, max_frames=ctx.max_frames,
                               max_side=ctx.max_side) for path in (video_a, video_b)]
    images = (frame_parts("A", clips[0], ctx.image_max_side, ctx.image_detail)
              + frame_parts("B", clips[1], ctx.image_max_side, ctx.image_detail))
    description = _describe(*clips)
    if differences:
        keys = list(differences)
        listing = "\n".join(f"- {key}: {text}" for key, text in differences.items())
        prompt = render("eval_lmm_closed", action=action, video_description=description,
                        differences=listing)
        closed, usage = await _ask(model, LmmClosedReply, prompt, images, ctx,
                                   _closed_validator(keys))
        answers = {a.key.strip(): a.answer for a in closed.answers}
        return LmmAnswer({k: (differences[k], answers[k]) for k in keys}, usage)
    n = max(1, int(n_differences or 1))
    prompt = render("eval_lmm_open", action=action, video_description=description,
                    n_differences=n)
    opened, usage = await _ask(model, LmmOpenReply, prompt, images, ctx, _open_validator)
    notes = []
    if len(opened.differences) > n:
        notes.append(f"the model gave {len(opened.differences)} differences; kept the first {n}")
    kept = opened.differences[:n]
    return LmmAnswer({str(i): (d.description, d.prediction) for i, d in enumerate(kept)},
                     usage, notes)
