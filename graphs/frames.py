"""What stands behind a :class:`VideoRef` in a running graph: its decoded frames, its pose,
its stage segments, and the frame references a result records.

Graph state holds only references (paths, digests, sampled indices); nodes, the ``measure``
tools and the chat tools go through these functions to reach the decoded data, which comes
from in-process and on-disk caches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import FrameRef, VideoRef
from viddiff.tools.pose.mediapipe_runner import extract_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.video import SampledVideo, load_video_cached

WHOLE_CLIP = "whole clip"
"""The stage name that means the whole video."""


def sampled(ref: VideoRef, ctx: VidDiffContext) -> SampledVideo:
    """The decoded frames behind ``ref`` (from the in-process cache: decoded once per run)."""
    return load_video_cached(ref.path, target_fps=ctx.fps, max_frames=ctx.max_frames,
                             max_side=ctx.max_side)


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


def pose_of(ref: VideoRef, ctx: VidDiffContext) -> PoseSequence:
    """The pose sequence of a video (from the on-disk cache after the first extraction)."""
    # the pose model gets at most the decoded size; with no decode limit, the source size
    side = ctx.max_side if ctx.max_side is not None else max(ref.width, ref.height)
    return extract_pose(sampled(ref, ctx), Path(ctx.cache_dir) / "pose", max_side=side)


def resolve_segment(stage: str, segments: list[Segment]) -> Segment | None:
    """The named stage's segment (fuzzy), or None for the whole clip."""
    if not segments or stage.strip().lower() in ("", WHOLE_CLIP, "whole", "all"):
        return None
    names = [s.stage for s in segments]
    match = process.extractOne(stage, names, scorer=fuzz.WRatio, score_cutoff=70)
    return segments[names.index(match[0])] if match else None
