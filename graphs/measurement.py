"""Pose measurements on request: one metric on both videos over a stage, for the tools that
offer them to a model.

Two tools let a model ask for a number: the differencer's ``measure``
(``graphs/nodes/measure_tool.py``) and the chat's ``measure_pose``
(``agent/chat/video_tools.py``). Both are thin adapters over this module: the request is one
model, :class:`MetricAtStage` (a metric of the catalogue and a stage name); the stage is found
in both videos' segments by one rule (:func:`stage_segments`); :func:`measure_at_stage` reads
the metric on the dense pose of those spans; and :func:`pose_readiness` says whether two
poses can be measured at all, with the caveats (too few frames with a person, a person lost or
swapped, different camera views). What each tool says to its model around the numbers (its
wire format) stays in the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, JsonValue
from rapidfuzz import fuzz, process

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.poses import pose_of, pose_segment
from viddiff.graphs.schemas import VideoRef
from viddiff.tools.kinematics.comparison import CaptureCause, capture_causes, compare_metric
from viddiff.tools.kinematics.registry import METRICS, reads_its_own_moment
from viddiff.tools.kinematics.results import Direction, Measurement
from viddiff.tools.pose.cuts import cut_note
from viddiff.tools.pose.quality import person_problem, second_person_note
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.stage_names import resolve_stage_name
from viddiff.tools.viewpoint import view_note

WHOLE_CLIP = "whole clip"
"""The stage name that means the whole video."""


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


def filmed_differently(ref_a: VideoRef, ref_b: VideoRef, pose_a: PoseSequence,
                       pose_b: PoseSequence) -> frozenset[CaptureCause]:
    """How the two videos were filmed differently, for the capture error that applies: the
    source videos' frame heights or the person's size in the frame (``size``), the pose rate
    (``rate``; :func:`viddiff.tools.kinematics.comparison.capture_causes`)."""
    return capture_causes(pose_a, pose_b, (float(ref_a.height), float(ref_b.height)))


def measure_pair(metric: str, refs: tuple[VideoRef, VideoRef],
                 segments: tuple[Segment | None, Segment | None], ctx: VidDiffContext,
                 direction: Direction = "higher") -> Measurement:
    """Compare one metric between two videos over stage segments of their sampled frames
    (None: the whole clips), read on the dense pose of the same time spans."""
    pose_a, pose_b = pose_of(refs[0], ctx), pose_of(refs[1], ctx)
    return compare_metric(metric, pose_a, pose_b, pose_segment(segments[0], refs[0], pose_a),
                          pose_segment(segments[1], refs[1], pose_b), direction,
                          capture_differs=filmed_differently(*refs, pose_a, pose_b))


class MetricAtStage(BaseModel):
    """Which pose metric to measure on both videos, and over which stage."""

    metric: str = Field(description="Which measurement.",
                        json_schema_extra={"enum": list[JsonValue](sorted(METRICS))})
    stage: str = Field(description="Stage name to measure in, or 'whole clip'.")


class UnknownMetric(ValueError):
    """A metric name the catalogue does not have."""


CLOSEST_METRICS = 3
"""How many known names an unknown metric's error suggests (all ~70 drowned the answer)."""


def closest_metrics(metric: str, n: int = CLOSEST_METRICS) -> list[str]:
    """The ``n`` catalogue names nearest to ``metric`` (rapidfuzz WRatio, ties by name)."""
    found = process.extract(metric, sorted(METRICS), scorer=fuzz.WRatio, limit=n)
    return [name for name, _, _ in found]


def check_metric(metric: str) -> None:
    """Raise :class:`UnknownMetric` unless ``metric`` is in the catalogue (``METRICS``); the
    message names the closest known metrics."""
    if metric not in METRICS:
        raise UnknownMetric(f"unknown metric {metric!r}; the closest known: "
                            f"{', '.join(closest_metrics(metric))}")


#: Why the whole clips were measured instead of the stage asked for: no stages are known for
#: these videos, or the stage was not found in both of them.
StageMissing = Literal["no stages", "not in both"]


def stage_segments(stage: str, segments: tuple[list[Segment], list[Segment]] | None
                   ) -> tuple[Segment | None, Segment | None, StageMissing | None]:
    """The segments of A and B to measure ``stage`` over (None, None: the whole clips), and
    why the whole clips were taken when a stage was asked for.

    The stage is resolved in each video by :func:`resolve_segment`; a
    stage found in only one video is measured over both whole clips, so the two values always
    cover comparable spans.
    """
    if is_whole_clip(stage):
        return None, None, None
    if segments is None:
        return None, None, "no stages"
    seg_a, seg_b = resolve_segment(stage, segments[0]), resolve_segment(stage, segments[1])
    if seg_a is None or seg_b is None:
        return None, None, "not in both"
    return seg_a, seg_b, None


@dataclass(frozen=True)
class StageMeasurement:
    """One metric measured on both videos, and where."""

    measurement: Measurement
    segment_a: Segment | None
    """The stage's segment in A (as the vision model's sampled frames); None: the whole clip."""
    segment_b: Segment | None
    stage_missing: StageMissing | None = None
    """Set when a stage was asked for but the whole clips were measured instead."""


def measure_at_stage(request: MetricAtStage, refs: tuple[VideoRef, VideoRef],
                     segments: tuple[list[Segment], list[Segment]] | None,
                     ctx: VidDiffContext) -> StageMeasurement:
    """Measure ``request.metric`` on both videos over ``request.stage`` (whole clips when it
    names none, or no ``segments`` are known). Raises :class:`UnknownMetric` for a metric the
    catalogue lacks; pose comes from :func:`viddiff.graphs.poses.pose_of` (its caches)."""
    check_metric(request.metric)
    # a metric read at its own moment of every repetition (the knees at the top) is not
    # narrowed to one stage named for that moment
    stage = WHOLE_CLIP if reads_its_own_moment(request.metric, request.stage) else request.stage
    seg_a, seg_b, missing = stage_segments(stage, segments)
    measurement = measure_pair(request.metric, refs, (seg_a, seg_b), ctx)
    return StageMeasurement(measurement=measurement, segment_a=seg_a, segment_b=seg_b,
                            stage_missing=missing)


@dataclass(frozen=True)
class PoseReadiness:
    """Whether two videos' poses can be measured, and the notes that say why not (or what to
    keep in mind when they can)."""

    ready: bool
    notes: list[str] = field(default_factory=list)


def pose_readiness(poses: Mapping[str, PoseSequence],
                   min_person_fraction: float) -> PoseReadiness:
    """Ready when a person is found in at least ``min_person_fraction`` of the frames of every
    video and no video has a person problem (lost, swapped; ``person_problem``); when ready,
    a note if the two videos see the body from clearly different directions."""
    fractions = {key: float(pose.present.mean()) if pose.n_frames else 0.0
                 for key, pose in poses.items()}
    missing = [k.upper() for k, f in fractions.items() if f < min_person_fraction]
    if missing:
        return PoseReadiness(False, [f"no pose measurements: a person was found in too few "
                                     f"frames of video {' and '.join(missing)}"])
    problems = [f"video {k.upper()}: {p}" for k, pose in poses.items()
                if (p := person_problem(pose)) is not None]
    if problems:
        return PoseReadiness(False, [f"no pose measurements: {'; '.join(problems)}"])
    notes = [f"video {k.upper()}: {n}" for k, pose in poses.items()
             if (n := second_person_note(pose)) is not None]
    notes += [n for k, pose in poses.items() if (n := cut_note(pose, k.upper())) is not None]
    note = view_note(poses["a"], poses["b"]) if len(poses) == 2 else None
    return PoseReadiness(True, [*notes, note] if note else notes)
