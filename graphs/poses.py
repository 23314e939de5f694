"""The pose behind a :class:`VideoRef` in a running graph, and stage segments carried between
the sampled frames and the pose frames.

Pose has its own, denser sampling (``VidDiffContext.pose_fps``), so a stage found on one
sampling is translated to the other here. Poses come from an in-process memo over the on-disk
pose cache, so every node and tool of a run reads the same :class:`PoseSequence`.
"""

from __future__ import annotations

import contextvars
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import VideoRef
from viddiff.tools.pose.extract import cached_video_pose, extract_video_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.video import plan_sampling

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
    """Forget in-process poses (tests; :func:`viddiff.graphs.frames.clear_memos` forgets the
    encoded frames too)."""
    with _pose_lock:
        _pose_memo.clear()


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
