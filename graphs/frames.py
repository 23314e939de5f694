"""What stands behind a :class:`VideoRef` in a running graph: its decoded frames and the frame
references a result records (its pose is :mod:`viddiff.graphs.poses`, measurements on request
:mod:`viddiff.graphs.measurement`).

Graph state holds only references (paths, digests, sampled indices); nodes, the ``measure``
tools and the chat tools go through these functions to reach the decoded data, which comes
from in-process and on-disk caches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.poses import clear_pose_memo
from viddiff.graphs.schemas import FrameRef, VideoRef
from viddiff.tools.images import image_part
from viddiff.tools.kinematics.results import Evidence
from viddiff.tools.video import (
    LazySampledVideo,
    SampledVideo,
    load_frames_at,
    load_video_cached,
    peek_video_cached,
    plan_sampling,
)


def sampled(ref: VideoRef, ctx: VidDiffContext) -> SampledVideo:
    """The decoded frames behind ``ref`` (from the in-process cache: decoded once per run)."""
    return load_video_cached(ref.path, target_fps=ctx.fps, max_frames=ctx.max_frames,
                             max_side=ctx.max_side)


_image_lock = threading.Lock()
_image_memo: OrderedDict[tuple[str, int, int | None, str | None], dict[str, Any]] = OrderedDict()
_image_video_locks: dict[str, threading.Lock] = {}
_IMAGE_MEMO_SIZE = 512
"""Encoded frames kept (a JPEG data URL is ~20-40 kB at 384 px: about 15 MB at most)."""


def frame_image_parts(ref: VideoRef, frames: list[FrameRef],
                      ctx: VidDiffContext) -> dict[int, dict[str, Any]]:
    """Image parts of ``frames`` by source frame number, each distinct frame JPEG-encoded once
    per process (keyed by the video's digest, the source frame, the image size and detail):
    differences that show the same frames share the encoding. Pixels come from the decoded
    sampled video when it is in memory already, else only the missing frames are decoded, at
    the sampled frames' size so the picture is the same either way."""
    with _image_lock:  # one video's frames are encoded by one thread at a time: parallel
        video_lock = _image_video_locks.setdefault(ref.digest, threading.Lock())  # differences
    with video_lock:  # showing the same frame then wait for one encoding instead of racing
        return _frame_image_parts(ref, frames, ctx)


def _frame_image_parts(ref: VideoRef, frames: list[FrameRef],
                       ctx: VidDiffContext) -> dict[int, dict[str, Any]]:
    keys = {f.source_frame: (ref.digest, int(f.source_frame), ctx.image_max_side,
                             ctx.image_detail) for f in frames}
    out: dict[int, dict[str, Any]] = {}
    with _image_lock:
        for frame, key in keys.items():
            if (hit := _image_memo.get(key)) is not None:
                _image_memo.move_to_end(key)
                out[frame] = hit
    missing = [f for f in frames if f.source_frame not in out]
    if not missing:
        return out
    video = peek_video_cached(ref.path, ctx.fps, ctx.max_frames, ctx.max_side)
    pixels: dict[int, np.ndarray] = {}
    if video is not None:
        pixels = {f.source_frame: video.frames[f.sampled_index] for f in missing
                  if f.sampled_index is not None and f.sampled_index < video.n_sampled}
    rest = [f.source_frame for f in missing if f.source_frame not in pixels]
    if rest:
        pixels.update(load_frames_at(ref.path, rest, ctx.max_side))
    with _image_lock:
        for frame, image in pixels.items():
            part = image_part(image, ctx.image_max_side, ctx.image_detail)
            out[frame] = _image_memo[keys[frame]] = part
        while len(_image_memo) > _IMAGE_MEMO_SIZE:
            _image_memo.popitem(last=False)
    return out


def planned(ref: VideoRef, ctx: VidDiffContext) -> LazySampledVideo:
    """The sampled video behind ``ref`` without decoding it: frames decode on first use
    (:class:`~viddiff.tools.video.LazySampledVideo`)."""
    return LazySampledVideo(plan_sampling(ref.path, ctx.fps, ctx.max_frames, ctx.max_side),
                            ctx.max_frames, ctx.max_side)


def planned_ref(path: str, ctx: VidDiffContext) -> VideoRef:
    """The :class:`VideoRef` of ``path`` at the run's sampling, from the plan: no decoding
    (the pixels are decoded later, and only where they are really needed)."""
    plan = plan_sampling(path, ctx.fps, ctx.max_frames, ctx.max_side)
    info = plan.info
    return VideoRef(
        path=str(info.path), digest=plan.digest, source_fps=float(info.fps),
        n_source_frames=int(info.n_frames), duration_s=float(info.duration_s),
        width=int(info.width), height=int(info.height), target_fps=float(plan.target_fps),
        indices=[int(i) for i in plan.indices],
        timestamps=[round(float(t), 4) for t in plan.timestamps],
    )


def frame_refs(ref: VideoRef, sampled_indices: list[int]) -> list[FrameRef]:
    return [FrameRef(sampled_index=i, source_frame=ref.indices[i], timestamp_s=ref.timestamps[i])
            for i in sampled_indices]


def video_ref(video: SampledVideo) -> VideoRef:
    info = video.info
    return VideoRef(
        path=str(info.path), digest=video.digest, source_fps=float(info.fps),
        n_source_frames=int(info.n_frames), duration_s=float(info.duration_s),
        width=int(info.width), height=int(info.height), target_fps=float(video.target_fps),
        indices=[int(i) for i in np.asarray(video.indices)],
        timestamps=[round(float(t), 4) for t in np.asarray(video.timestamps)],
    )


def sampling_fps(ref: VideoRef) -> float:
    """The real rate of the sampled frames (lower than the target when ``max_frames`` capped)."""
    if ref.n_sampled < 2 or ref.timestamps[-1] <= ref.timestamps[0]:
        return ref.target_fps
    return (ref.n_sampled - 1) / (ref.timestamps[-1] - ref.timestamps[0])


def nearest_sample(ref: VideoRef, t: float) -> int | None:
    """Index of the vision model's sampled frame nearest to time ``t`` (None: no frames)."""
    if not ref.timestamps:
        return None
    ts = np.asarray(ref.timestamps)
    return int(np.argmin(np.abs(ts - t)))


def evidence_refs(ref: VideoRef, evidence: list[Evidence]) -> list[FrameRef]:
    """Frame references for measurement evidence; a frame the vision model's sampling also
    holds gets its sampled index."""
    by_frame = {int(f): i for i, f in enumerate(ref.indices)}
    return [FrameRef(sampled_index=by_frame.get(e.source_frame), source_frame=e.source_frame,
                     timestamp_s=e.timestamp_s) for e in evidence]


def clear_memos() -> None:
    """Forget in-process encoded frames and poses (tests and benchmarks that must start as a
    new process would)."""
    with _image_lock:
        _image_memo.clear()
    clear_pose_memo()
