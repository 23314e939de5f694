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
Kind = Literal["angle", "length", "ratio", "time", "speed"]
#: What a value is read on: 3-D pose, 3-D against the estimated vertical, the image, timestamps.
Space = Literal["3d", "3d_vertical", "image", "time"]


@dataclass(frozen=True)
class MetricValue:
    """One metric on one clip: value (None when it cannot be measured), standard uncertainty,
    and the number of valid frames it rests on."""

    value: float | None
    uncertainty: float
    n_frames: int
    unit: str


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
