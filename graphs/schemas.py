"""Pydantic models for everything that flows through the VidDiff graph.

Two families live here: the *reply schemas* the language models must fill (provider-enforced
structured output), and the *domain records* the graph keeps in its state and returns. All of
them are plain data (no tensors, no readers), so host checkpointers can persist any state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.segments import Segment

NumFrames = Literal["1", "gt_1"]
Label = Literal["a", "b", "c"]

# --------------------------------------------------------------------------- model replies


class Difference(BaseModel):
    """One candidate difference between two performances of an action."""

    name: str = Field(description="Short unique key, e.g. 'squat depth'.")
    description: str = Field(
        description="What differs, phrased about the performance and never naming a video, "
        "e.g. 'the squat is deeper'."
    )
    query_string: str = Field(
        description="A statement about what is visible in frames, e.g. 'the hips are lower'."
    )
    num_frames: NumFrames = Field(
        description="'1' when one well-chosen frame per video shows it; 'gt_1' when motion over "
        "several frames is needed (speed, smoothness, timing)."
    )


class ProposedDifferences(BaseModel):
    """Proposer reply: the differences worth checking for this action."""

    differences: list[Difference]


class StageDraft(BaseModel):
    """One sub-action of the stage transcript."""

    name: str = Field(description="Short unique stage name.")
    description: str = Field(description="What happens in this stage.")
    retrieval_strings: list[str] = Field(
        description="At least five descriptions of what a single frame of this stage looks "
        "like (pose, appearance), e.g. 'A photo of a person with bent knees and arms forward'."
    )


class StageTranscript(BaseModel):
    """Stage-transcript reply: the ordered sub-actions of the action."""

    stages: list[StageDraft]


class RefinedStage(BaseModel):
    name: str
    retrieval_strings: list[str]


class RefinedStages(BaseModel):
    """Refiner reply: the same stages with retrieval strings that separate them from each other."""

    stages: list[RefinedStage]


def _bound(prop: dict[str, Any], low: int | None, high: int | None) -> None:
    if low is not None:
        prop["minItems"] = low
    if high is not None:
        prop["maxItems"] = high


def stage_transcript_schema(max_stages: int, min_strings: int) -> dict[str, Any]:
    """The JSON schema sent for a :class:`StageTranscript`, with the run's limits in it.

    A server that enforces the schema (vLLM guided decoding, OpenAI structured outputs) can
    only keep rules the schema states: "1 to ``max_stages`` stages, each with at least
    ``min_strings`` retrieval strings" are array bounds, so they go here. Unique stage
    names cannot be said in JSON schema (``uniqueItems`` compares whole objects) and are
    repaired after the reply instead. The parser stays lenient, so a server that ignores
    the bounds gets its reply repaired (extra stages cut) rather than refused.
    """
    spec = StageTranscript.model_json_schema()
    _bound(spec["properties"]["stages"], 1, max_stages)
    _bound(spec["$defs"]["StageDraft"]["properties"]["retrieval_strings"], min_strings, None)
    return spec


def proposed_differences_schema(n_differences: int) -> dict[str, Any]:
    """The JSON schema sent for :class:`ProposedDifferences`: 1 to ``n_differences`` items
    (a longer list is cut after the reply anyway; the bound saves the tokens)."""
    spec = ProposedDifferences.model_json_schema()
    _bound(spec["properties"]["differences"], 1, max(1, n_differences))
    return spec


def refined_stages_schema(n_stages: int, min_strings: int) -> dict[str, Any]:
    """The JSON schema sent for :class:`RefinedStages`: at most one entry per drafted stage,
    each with at least ``min_strings`` strings (see :func:`stage_transcript_schema`)."""
    spec = RefinedStages.model_json_schema()
    _bound(spec["properties"]["stages"], 1, max(1, n_stages))
    _bound(spec["$defs"]["RefinedStage"]["properties"]["retrieval_strings"], min_strings, None)
    return spec


class Link(BaseModel):
    difference: str = Field(description="The difference's name, exactly as given.")
    stages: list[str] = Field(description="Names of the stages where it is visible.")


class LinkReply(BaseModel):
    """Linker reply: where in the action each difference can be seen."""

    links: list[Link]


class Verdict(BaseModel):
    """Frame-differencer reply for one difference."""

    reason: str = Field(description="One or two sentences on what the frames show.")
    answer: Label = Field(
        description="'a' if the statement is more true of video A, 'b' if more true of video B, "
        "'c' if they are similar or it cannot be told from these frames."
    )


class VerdictAB(BaseModel):
    """Frame-differencer reply when only a or b may be answered (the paper's protocol)."""

    reason: str = Field(description="One or two sentences on what the frames show.")
    answer: Literal["a", "b"] = Field(
        description="'a' if the statement is more true of video A, 'b' if more true of video B."
    )


# --------------------------------------------------------------------------- domain records


class DifferenceSpec(BaseModel):
    """A difference given by the caller (closed mode); missing fields are filled in."""

    name: str | None = None
    description: str
    query_string: str | None = None
    num_frames: NumFrames | None = None


#: A difference as a caller may give it: a text (its description), a dict of
#: :class:`DifferenceSpec` fields, a spec, or a proposed :class:`Difference` (a reviewer's edit).
DifferenceInput = str | Mapping[str, Any] | DifferenceSpec | Difference


def difference_fields(item: DifferenceInput) -> dict[str, Any]:
    """The one rule for a difference given as text or dict: a text is the description, a dict
    holds the spec's fields (kept as given: checked when the run reads it), a record its set
    fields. This plain form is what requests carry (and what cache keys and fingerprints
    see)."""
    if isinstance(item, str):
        return {"description": item}
    if isinstance(item, BaseModel):
        return item.model_dump(exclude_none=True)
    return dict(item)


def difference_spec(item: DifferenceInput) -> DifferenceSpec:
    """A given difference as a checked :class:`DifferenceSpec` (:func:`difference_fields`,
    validated); raises pydantic's ``ValidationError`` for a dict that is not one."""
    if isinstance(item, DifferenceSpec):
        return item
    if isinstance(item, str | BaseModel | Mapping):
        return DifferenceSpec.model_validate(difference_fields(item))
    return DifferenceSpec.model_validate(item)  # anything else: pydantic says what is wrong


class Stage(BaseModel):
    """A stage of the transcript after refinement: what the localizer searches for."""

    name: str
    description: str
    retrieval_strings: list[str]


class VideoRef(BaseModel):
    """Where a video's sampled frames came from; the frames themselves stay in a cache."""

    path: str
    digest: str
    source_fps: float
    n_source_frames: int
    duration_s: float
    width: int
    height: int
    target_fps: float
    indices: list[int] = Field(description="Source frame number of each sampled frame.")
    timestamps: list[float] = Field(description="Time in seconds of each sampled frame.")

    @property
    def n_sampled(self) -> int:
        return len(self.indices)


class FrameRef(BaseModel):
    """One frame of a video a result points at: its source frame number and time, and its
    index among the frames sampled for the vision model (None for a frame that only the dense
    pose sampling read, e.g. the frame a measurement's extreme was found at)."""

    sampled_index: int | None = None
    source_frame: int
    timestamp_s: float


class DifferenceResult(BaseModel):
    """The answer for one difference, with the evidence behind it."""

    name: str
    description: str
    query_string: str
    num_frames: NumFrames
    label: Label | None = Field(
        description="a, b or c; null when the difference failed (see status and reason).")
    reason: str = Field(description="Why this label; for a failed difference, why it failed.")
    status: Literal["answered", "failed", "not_measurable"] = "answered"
    stages: list[str] = Field(default_factory=list)
    frames_a: list[FrameRef] = Field(default_factory=list)
    frames_b: list[FrameRef] = Field(default_factory=list)
    measurements: list[Measurement] = Field(
        default_factory=list, description="Pose measurements behind the label, when any.")
    rule: str | None = Field(
        default=None, description="Offline engine: how the metric was chosen -- the taxonomy "
        "mapping, the catalogue phrase that matched, or the model that mapped the statement "
        "(and, when the phrase reader answered instead, why the model's mapping was not used).")

    @model_validator(mode="after")
    def _failed_has_no_label(self) -> DifferenceResult:
        """A failed difference has no answer. Results written before this rule said
        ``label: "c"`` for a failure, which reads as "no clear difference": loading one
        drops that label, so old files still load and mean what they should."""
        if self.status == "failed":
            self.label = None
        elif self.label is None:
            raise ValueError(f"difference {self.name!r} has no label but status "
                             f"{self.status!r} (only a failed difference has none)")
        return self


class UsageRecord(BaseModel):
    """Tokens spent by one model call."""

    role: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


class UsageSummary(BaseModel):
    role: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int


class RunError(BaseModel):
    """Why a run stopped early: which node, and a one-line message for a person."""

    node: str
    message: str


class MovementEvent(BaseModel):
    """A moment of the movement found in both videos (a repetition's start, turnaround or
    end), in each video's own seconds."""

    name: str = Field(description='What happens, e.g. "start", "bottom", "end 2".')
    t_a: float
    t_b: float


class ComparisonResult(BaseModel):
    """Everything a comparison produced; what ``--json`` writes."""

    action: str
    mode: Literal["closed", "open"]
    engine: Literal["vlm", "offline"] = "vlm"
    video_a: VideoRef
    video_b: VideoRef
    stages: list[Stage] = Field(default_factory=list)
    segments_a: list[Segment] = Field(default_factory=list)
    segments_b: list[Segment] = Field(default_factory=list)
    differences: list[DifferenceResult] = Field(default_factory=list)
    models: dict[str, str] = Field(default_factory=dict)
    usage: list[UsageSummary] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    events: list[MovementEvent] = Field(default_factory=list)
    """The movement's corresponding moments, repetition by repetition (start, turnaround,
    end), where the pose structure of both videos was read; empty otherwise."""
    alignment: list[tuple[float, float]] = Field(default_factory=list)
    """Corresponding moments: a monotone list of ``[t_a, t_b]`` pairs in seconds from the
    start of both clips to their ends (interpolate between pairs); empty when no pose
    alignment was made (the VLM graph with the CLIP localizer, or no person)."""
