"""Stage segments: the contiguous runs of sampled frames that belong to one stage of an action.

Shared by every localizer (CLIP + Viterbi, pose phases) and by frame selection, so it lives in
its own module with no heavy imports.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class Segment(BaseModel):
    """One stage's frames, as inclusive indices into the *sampled* frames of a video."""

    stage: str = Field(description="Name of the stage (sub-action).")
    start: int = Field(ge=0, description="First sampled-frame index of the stage (inclusive).")
    end: int = Field(ge=0, description="Last sampled-frame index of the stage (inclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> Segment:
        if self.end < self.start:
            raise ValueError(
                f"segment {self.stage!r} ends ({self.end}) before it starts ({self.start})")
        return self

    @property
    def middle(self) -> int:
        """The frame in the middle of the segment (lower middle for even lengths)."""
        return (self.start + self.end) // 2

    @property
    def length(self) -> int:
        return self.end - self.start + 1
