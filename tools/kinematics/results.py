"""What a kinematic measurement returns, and the words it is described in.

Kept free of the metric engine (no numpy, no pose code) so that code that only stores or shows
measurements -- the graph state schemas, the report -- can import :class:`Measurement` without
loading the signals and the metric catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

#: Which sign of ``value_a - value_b`` makes a statement truer.
Direction = Literal["higher", "lower"]
#: The video a statement is more true of (``c``: no clear difference, or not decided).
Label = Literal["a", "b", "c"]
#: How a per-frame signal is reduced over a segment.
Aggregate = Literal["min", "max", "mean", "median", "range"]
#: What a metric's value is; it fixes the unit, the noise floor and the smallest effect.
Kind = Literal["angle", "length", "ratio", "time", "speed", "count"]
#: What a value is read on: 3-D pose, 3-D against the estimated vertical, the image, timestamps.
Space = Literal["3d", "3d_vertical", "image", "time"]


@dataclass(frozen=True)
class MetricValue:
    """One metric on one clip: value (None when it cannot be measured), standard uncertainty,
    the number of valid frames it rests on, the pose frames (rows) it was read at (the frame
    of an extreme; the first and last frame of a span), and how many repetitions it averages
    (None: the clip was measured as one movement).

    ``at_other_settings``: the value again at other settings of a choice the metric makes
    (a threshold), the same settings in every clip, so two clips' values are compared at each
    setting in turn (:func:`~viddiff.tools.kinematics.comparison.compare_values`): a difference
    that exists at one choice and not at the next is no measured difference. Set together,
    the settings move both clips alike, which one uncertainty per clip could not express."""

    value: float | None
    uncertainty: float
    n_frames: int
    unit: str
    rows: tuple[int, ...] = ()
    reps: int | None = None
    note: str = ""
    at_other_settings: tuple[float, ...] = ()


class Evidence(BaseModel):
    """Where a value was read: a source frame of the video and its time. The report shows
    this frame (with the skeleton the number came from)."""

    source_frame: int
    timestamp_s: float


class Measurement(BaseModel):
    """A metric compared between video A and video B, with the verdict and a sentence."""

    metric: str
    stage: str | None = None
    value_a: float | None = None
    value_b: float | None = None
    unit: str = ""
    uncertainty: float = Field(0.0, description="Standard uncertainty of value_a - value_b.")
    label: Label = "c"
    statement: str = ""
    direction: Direction = "higher"
    uncertainty_a: float | None = None
    uncertainty_b: float | None = None
    n_frames_a: int = 0
    n_frames_b: int = 0
    threshold: float = Field(0.0, description="|value_a - value_b| needed for a label a/b.")
    resolution: float = Field(0.0, description="What the pose measurement can resolve here: "
                              "K_SIGMA times the combined uncertainty, before the smallest "
                              "effect that matters is applied.")
    evidence_a: list[Evidence] = Field(default_factory=list,
                                       description="Frames of A the value was read at.")
    evidence_b: list[Evidence] = Field(default_factory=list,
                                       description="Frames of B the value was read at.")
    reps_a: int | None = Field(None, description="Repetitions found in A (None: one movement).")
    reps_b: int | None = Field(None, description="Repetitions found in B (None: one movement).")
    viewpoint_error: float = Field(0.0, description="Cross-view error added to each value's "
                                   "uncertainty because A and B see the body from different "
                                   "directions (0 when the views agree).")

    @property
    def delta(self) -> float | None:
        if self.value_a is None or self.value_b is None:
            return None
        return self.value_a - self.value_b

    @property
    def score(self) -> float:
        """How far the difference clears its threshold (0 when it does not)."""
        d = self.delta
        if d is None or self.threshold <= 0:
            return 0.0
        return abs(d) / self.threshold
