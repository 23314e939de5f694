"""Small helpers shared by the nodes: progress events and frame lookup."""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import FrameRef, VideoRef
from viddiff.tools.video import SampledVideo, load_video_cached


def emit(runtime: Runtime[Any], event: str, **data: Any) -> None:
    """Send a custom progress event (``stream_mode="custom"``); silent when nobody listens."""
    runtime.stream_writer({"event": event, **data})


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
