"""What stands behind a :class:`VideoRef` in a running graph: its decoded frames, its pose,
its stage segments, and the frame references a result records.

Graph state holds only references (paths, digests, sampled indices); nodes, the ``measure``
tools and the chat tools go through these functions to reach the decoded data, which comes
from in-process and on-disk caches.
"""

from __future__ import annotations

import contextvars
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import FrameRef, VideoRef
from viddiff.tools.images import image_part
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.kinematics.results import Direction, Evidence, Measurement
from viddiff.tools.pose.mediapipe_runner import cached_video_pose, extract_video_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.stage_names import resolve_stage_name
from viddiff.tools.video import (
    LazySampledVideo,
    SampledVideo,
    load_frames_at,
    load_video_cached,
    peek_video_cached,
    plan_sampling,
)

WHOLE_CLIP = "whole clip"
"""The stage name that means the whole video."""


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


_pose_lock = threading.Lock()
_pose_memo: OrderedDict[tuple[str, str, float, int, int], PoseSequence] = OrderedDict()
_POSE_MEMO_SIZE = 8
POSE_MAX_SIDE = 448


def pose_of(ref: VideoRef, ctx: VidDiffContext,
            on_progress: Callable[[int, int], None] | None = None) -> PoseSequence:
    """The dense pose of a video: its own sampling (``ctx.pose_fps``, at most
    ``ctx.pose_max_frames``), not the vision model's frames; from the on-disk cache after the
    first extraction, and from memory within a process (every metric of a run reads it)."""
    side = pose_side(ctx)
    key = (ref.path, ref.digest, float(ctx.pose_fps), int(ctx.pose_max_frames), side)
    with _pose_lock:
        hit = _pose_memo.get(key)
        if hit is not None:
            _pose_memo.move_to_end(key)
            return hit
    plan = plan_sampling(ref.path, ctx.pose_fps, ctx.pose_max_frames, side)
    pose = extract_video_pose(plan, Path(ctx.cache_dir) / "pose", max_side=side,
                              on_progress=on_progress)
    with _pose_lock:
        _pose_memo[key] = pose
        while len(_pose_memo) > _POSE_MEMO_SIZE:
            _pose_memo.popitem(last=False)
    return pose


def cached_pose_of(ref: VideoRef, ctx: VidDiffContext) -> PoseSequence | None:
    """:func:`pose_of` if it is already known (in this process or in the on-disk cache),
    else None: nothing is decoded and no pose runs. A report draws its skeletons from this,
    the comparison's own dense pose, instead of running pose again."""
    side = pose_side(ctx)
    key = (ref.path, ref.digest, float(ctx.pose_fps), int(ctx.pose_max_frames), side)
    with _pose_lock:
        hit = _pose_memo.get(key)
    if hit is not None:
        return hit
    plan = plan_sampling(ref.path, ctx.pose_fps, ctx.pose_max_frames, side)
    if ref.digest and plan.digest != ref.digest:
        return None
    return cached_video_pose(plan, Path(ctx.cache_dir) / "pose", max_side=side)


def poses_of(videos: Mapping[str, VideoRef], ctx: VidDiffContext,
             on_progress: Callable[[str, int, int], None] | None = None
             ) -> dict[str, PoseSequence]:
    """:func:`pose_of` of every video, in parallel threads (MediaPipe runs outside the GIL,
    so two videos take about as long as one on two cores). ``on_progress(video, done,
    total)`` follows each extraction chunk by chunk."""

    def one(key: str) -> PoseSequence:
        def progress(done: int, total: int) -> None:
            if on_progress is not None:
                on_progress(key, done, total)

        return pose_of(videos[key], ctx, on_progress=progress)

    with ThreadPoolExecutor(max_workers=max(1, len(videos))) as pool:
        # each worker runs in a copy of this context, where LangGraph keeps the stream writer
        futures = {key: pool.submit(contextvars.copy_context().run, one, key)
                   for key in videos}
        return {key: future.result() for key, future in futures.items()}


def pose_side(ctx: VidDiffContext) -> int:
    """Longer side of the frames pose reads: the decode size, at most :data:`POSE_MAX_SIDE`
    (the pose model sees 256 pixels; a source-resolution setting for the vision model must
    not make pose decode every frame at full size)."""
    return min(ctx.max_side or POSE_MAX_SIDE, POSE_MAX_SIDE)


def clear_pose_memo() -> None:
    """Forget in-process poses and encoded frames (tests)."""
    with _pose_lock:
        _pose_memo.clear()
    with _image_lock:
        _image_memo.clear()


def nearest_sample(ref: VideoRef, t: float) -> int | None:
    """Index of the vision model's sampled frame nearest to time ``t`` (None: no frames)."""
    if not ref.timestamps:
        return None
    ts = np.asarray(ref.timestamps)
    return int(np.argmin(np.abs(ts - t)))


def _sample_bounds(ref: VideoRef, seg: Segment) -> tuple[float, float]:
    """Time span a sampled-frame segment stands for: halfway to the neighbouring samples."""
    ts = ref.timestamps
    lo = -math.inf if seg.start <= 0 else 0.5 * (ts[seg.start - 1] + ts[seg.start])
    hi = math.inf if seg.end >= len(ts) - 1 else 0.5 * (ts[seg.end] + ts[seg.end + 1])
    return lo, hi


def pose_segment(seg: Segment | None, ref: VideoRef, pose: PoseSequence) -> Segment | None:
    """A stage segment of the sampled frames as the pose frames of the same time span
    (None stays None: the whole clip)."""
    if seg is None or not ref.timestamps or pose.n_frames == 0:
        return seg
    lo, hi = _sample_bounds(ref, seg)
    inside = np.flatnonzero((pose.timestamps >= lo) & (pose.timestamps < hi))
    if inside.size == 0:  # a stage shorter than one pose frame: its nearest frame
        mid = 0.5 * (ref.timestamps[seg.start] + ref.timestamps[seg.end])
        row = int(np.argmin(np.abs(pose.timestamps - mid)))
        return seg.model_copy(update={"start": row, "end": row})
    return seg.model_copy(update={"start": int(inside[0]), "end": int(inside[-1])})


def pose_segments(segs: list[Segment], ref: VideoRef, pose: PoseSequence) -> list[Segment]:
    """:func:`pose_segment` of each segment."""
    return [s for seg in segs if (s := pose_segment(seg, ref, pose)) is not None]


def sampled_segments(segs: list[Segment], pose: PoseSequence, ref: VideoRef) -> list[Segment]:
    """Stage segments found on the pose frames, as segments of the sampled frames: each
    sampled frame goes to the stage of the pose frame nearest in time; a stage no sampled
    frame falls in is dropped."""
    if not segs or not ref.timestamps:
        return []
    stage_of_row = np.empty(pose.n_frames, dtype=np.int64)
    for k, seg in enumerate(segs):
        stage_of_row[seg.start:seg.end + 1] = k
    rows = np.searchsorted(pose.timestamps, np.asarray(ref.timestamps))
    rows = np.clip(rows, 0, pose.n_frames - 1)
    prev = np.clip(rows - 1, 0, pose.n_frames - 1)
    ts = np.asarray(ref.timestamps)
    closer = np.abs(pose.timestamps[prev] - ts) < np.abs(pose.timestamps[rows] - ts)
    labels = stage_of_row[np.where(closer, prev, rows)]
    out = []
    for k, seg in enumerate(segs):
        where = np.flatnonzero(labels == k)
        if where.size:
            out.append(seg.model_copy(update={"start": int(where[0]), "end": int(where[-1])}))
    return out


def evidence_refs(ref: VideoRef, evidence: list[Evidence]) -> list[FrameRef]:
    """Frame references for measurement evidence; a frame the vision model's sampling also
    holds gets its sampled index."""
    by_frame = {int(f): i for i, f in enumerate(ref.indices)}
    return [FrameRef(sampled_index=by_frame.get(e.source_frame), source_frame=e.source_frame,
                     timestamp_s=e.timestamp_s) for e in evidence]


def is_whole_clip(stage: str) -> bool:
    """Whether a stage name asks for the whole clip ('whole clip', 'whole', 'all', or none)."""
    return stage.strip().lower() in ("", WHOLE_CLIP, "whole", "all")


def resolve_segment(stage: str, segments: list[Segment]) -> Segment | None:
    """The named stage's segment, or None for the whole clip: when the name says so ('whole
    clip', 'all'), or names no stage by the one stage-name rule
    (:func:`viddiff.tools.stage_names.resolve_stage_name`)."""
    if not segments or is_whole_clip(stage):
        return None
    match = resolve_stage_name(stage, [s.stage for s in segments])
    return segments[match.index] if match.index is not None else None


def measure_pair(metric: str, refs: tuple[VideoRef, VideoRef],
                 segments: tuple[Segment | None, Segment | None], ctx: VidDiffContext,
                 direction: Direction = "higher") -> Measurement:
    """Compare one metric between two videos over stage segments of their sampled frames
    (None: the whole clips), read on the dense pose of the same time spans."""
    pose_a, pose_b = pose_of(refs[0], ctx), pose_of(refs[1], ctx)
    return compare_metric(metric, pose_a, pose_b, pose_segment(segments[0], refs[0], pose_a),
                          pose_segment(segments[1], refs[1], pose_b), direction)
