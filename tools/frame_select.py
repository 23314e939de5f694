"""Which sampled frames to show the VLM for one difference (docs/architecture.md, "Frames").

A difference seen in one pose needs one well-chosen frame; one about motion needs a few frames
spread over its stage. The spacing is set in seconds (so it means the same at any sampling
rate) but never below one frame: the reference rounds 0.35 s × 1 fps to 0 and sends the same
frame three times.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from viddiff.tools.segments import Segment


def _pick_segments(segments: Sequence[Segment], linked_stages: Sequence[str]) -> list[Segment]:
    """Linked segments in link order; unknown names ignored; none left → the middle segment."""
    by_name: dict[str, Segment] = {}
    for seg in segments:
        by_name.setdefault(seg.stage, seg)
    chosen = [by_name[name] for name in dict.fromkeys(linked_stages) if name in by_name]
    return chosen or [segments[len(segments) // 2]]


def frames_for_difference(
    segments: Sequence[Segment],
    linked_stages: Sequence[str],
    num_frames: Literal["1", "gt_1"],
    fps: float,
    n_frames: int,
    spacing_s: float = 0.35,
    count: int = 3,
) -> list[int]:
    """Sorted distinct sampled-frame indices to show for one difference in one video.

    ``"1"``: the middle frame of the first linked stage's segment. ``"gt_1"``: ``count`` frames
    centred on the middle of the span of all linked segments, ``round(spacing_s · fps)`` frames
    apart but at least 1, shifted (and, if needed, packed closer) to fit in
    ``[0, n_frames - 1]``; with ``n_frames <= count`` every frame. ``fps`` and ``n_frames``
    describe the SAMPLED frames (``SampledVideo.effective_fps``, ``n_sampled``). Without any
    segment the whole video is the segment.
    """
    if num_frames not in ("1", "gt_1"):
        raise ValueError(f"num_frames must be '1' or 'gt_1', got {num_frames!r}")
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    last = n_frames - 1
    if segments:
        chosen = _pick_segments(segments, linked_stages)
    else:
        chosen = [Segment(stage="", start=0, end=last)]

    if num_frames == "1":
        return [min(chosen[0].middle, last)]

    if n_frames <= count:
        return list(range(n_frames))
    lo = min(min(seg.start for seg in chosen), last)
    hi = min(max(seg.end for seg in chosen), last)
    centre = (lo + hi) // 2
    step = max(1, math.floor(spacing_s * fps + 0.5))
    if count > 1:
        step = min(step, last // (count - 1))  # >= 1 because n_frames > count
    span = (count - 1) * step
    first = min(max(centre - span // 2, 0), last - span)
    return [first + i * step for i in range(count)]
