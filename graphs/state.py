"""The typed state of the VidDiff graph.

Values are pydantic models (see :mod:`viddiff.graphs.schemas`) or plain containers of them, so
every state can be checkpointed. The input and output schemas are narrower than the internal
state: callers give two paths, an action and (optionally) differences; they get a result back.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, NotRequired, TypedDict

from viddiff.graphs.llm import Feedback
from viddiff.graphs.schemas import (
    ComparisonResult,
    Difference,
    DifferenceResult,
    DifferenceSpec,
    FrameRef,
    MovementEvent,
    RunError,
    Stage,
    StageDraft,
    UsageRecord,
    VideoRef,
)
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.segments import Segment


def merge_feedback(left: dict[str, Feedback | None] | None,
                   right: dict[str, Feedback | None] | None) -> dict[str, Feedback | None]:
    """Per-node feedback; a node clears its entry by writing ``None`` on success."""
    merged = dict(left or {})
    merged.update(right or {})
    return merged


def keep_first_error(left: RunError | None, right: RunError | None) -> RunError | None:
    """Branches can fail in the same step; the run reports the first failure it saw."""
    return left if left is not None else right


class InputState(TypedDict):
    """What a caller gives: two videos, the action, and closed differences or an open budget."""

    video_a: str
    video_b: str
    action: str
    differences: NotRequired[list[DifferenceSpec] | list[dict[str, Any]] | None]
    n_differences: NotRequired[int | None]
    action_key: NotRequired[str | None]


class OutputState(TypedDict):
    """What a caller gets: the result, or the reason the run stopped."""

    result: NotRequired[ComparisonResult | None]
    error: NotRequired[Annotated[RunError | None, keep_first_error]]


class VidDiffState(InputState, OutputState):
    """Internal state; nodes read what they need and return partial updates."""

    mode: NotRequired[str]
    videos: NotRequired[dict[str, VideoRef]]
    candidates: NotRequired[list[Difference]]
    transcript: NotRequired[list[StageDraft]]
    stages: NotRequired[list[Stage]]
    segments: NotRequired[dict[str, list[Segment]]]
    alignment: NotRequired[list[tuple[float, float]]]
    events: NotRequired[list[MovementEvent]]
    """A's time to B's time, ``(t_a, t_b)`` in seconds, where a pose alignment was made."""
    links: NotRequired[dict[str, list[str]]]
    pose_ready: NotRequired[bool]
    localizer_used: NotRequired[str]
    results: Annotated[list[DifferenceResult], operator.add]
    usage: Annotated[list[UsageRecord], operator.add]
    notes: Annotated[list[str], operator.add]
    feedback: Annotated[dict[str, Feedback | None], merge_feedback]


class DifferenceTask(TypedDict):
    """The payload a fanned-out differencer call receives (via ``Send``)."""

    action: str
    difference: Difference
    stages: list[str]
    video_a: VideoRef
    video_b: VideoRef
    frames_a: list[FrameRef]
    frames_b: list[FrameRef]
    feedback: Feedback | None
    kinematics: NotRequired[bool]
    segments_a: NotRequired[list[Segment]]
    segments_b: NotRequired[list[Segment]]
    measurements: NotRequired[list[Measurement]]
