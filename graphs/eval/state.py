"""Typed state, reply schemas and settings of the evaluation graph (open-mode scoring).

The evaluation graph decides, for one benchmark sample, which predicted difference (if any)
each ground-truth difference corresponds to, whether the matched statements say the same thing
or its opposite, and therefore which label the method effectively gave each ground-truth
difference. Closed mode needs none of this (the keys are shared), but it produces the same
:class:`ScoredItem` records, so the metrics never care which mode made them.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Annotated, Literal, NotRequired, TypedDict

from pydantic import BaseModel, Field

from viddiff.graphs.llm import Feedback, StructuredMethod
from viddiff.graphs.schemas import Label, RunError, UsageRecord
from viddiff.graphs.state import keep_first_error, merge_feedback

Outcome = Literal["correct", "wrong_label", "undecided", "missing", "failed", "not_scored"]
"""What became of one ground-truth difference:

- ``correct``: the (matched, flip-corrected) prediction equals the ground truth;
- ``wrong_label``: it is the other of a/b (the paper's "flipped prediction" error);
- ``undecided``: the prediction is ``c``;
- ``missing``: no prediction (closed) or no matching prediction (open);
- ``failed``: the method or the judge failed on this sample, so nothing could be scored, or
  the method's model calls failed for this difference (its result says ``status: failed``);
- ``not_scored``: the ground truth is ``c``, which the benchmark does not score.
"""

SCORED_OUTCOMES: tuple[Outcome, ...] = ("correct", "wrong_label", "undecided", "missing",
                                        "failed")
"""Outcomes of items that count in accuracy / recall (every ground truth ``a`` or ``b``)."""


def flip_label(label: Label | None) -> Label | None:
    """``a`` <-> ``b``; ``c`` and ``None`` stay (swapped videos, opposite statements)."""
    return {"a": "b", "b": "a"}.get(label, label) if label is not None else None  # type: ignore[return-value]


def item_outcome(gt: Label, pred: Label | None, *, failed: bool = False) -> Outcome:
    """The outcome of one ground-truth difference given the effective predicted label;
    ``failed``: the method tried to answer it and its model calls failed.

    One function for both modes, so closed accuracy and open recall agree on what counts.
    """
    if gt not in ("a", "b"):
        return "not_scored"
    if failed:
        return "failed"
    if pred is None:
        return "missing"
    if pred == "c":
        return "undecided"
    return "correct" if pred == gt else "wrong_label"


# --------------------------------------------------------------------------- inputs/records


class GroundTruthDifference(BaseModel):
    """An annotated difference of a sample with its label (``c`` included, never ``None``)."""

    key: str
    name: str = ""
    description: str
    label: Label


class PredictedDifference(BaseModel):
    """A difference a method stated, with the label it gave (``None``: gave none)."""

    key: str
    description: str = ""
    label: Label | None = None
    failed: bool = False
    """The method's model calls for this difference failed (scored as a failure)."""


class ScoredItem(BaseModel):
    """One ground-truth difference, what it was matched to, and the outcome."""

    gt_key: str
    gt_label: Label
    gt_description: str
    pred_key: str | None = None
    pred_description: str | None = None
    pred_label: Label | None = Field(
        default=None, description="The label as the method gave it, before any flip.")
    opposite: bool | None = Field(
        default=None, description="True when the matched statement is the opposite of the "
        "ground truth's, so its label was flipped; None when nothing was matched.")
    final_label: Label | None = None
    outcome: Outcome


class SampleEvaluation(BaseModel):
    """The evaluation graph's answer for one sample."""

    sample_key: str
    items: list[ScoredItem]
    notes: list[str] = Field(default_factory=list)
    repaired: bool = Field(default=False, description="The judge's matching had to be "
                           "repaired after the last attempt (see notes).")
    cached: bool = Field(default=False, description="Every judge answer came from the cache.")
    usage: list[UsageRecord] = Field(default_factory=list)


# --------------------------------------------------------------------------- judge replies


class MatchPair(BaseModel):
    ground_truth: str = Field(description="A ground-truth key exactly as listed, e.g. 'G3'.")
    prediction: str = Field(description="The matching prediction key, e.g. 'P0', or 'none' "
                            "when no prediction describes this difference.")


class MatchReply(BaseModel):
    """Judge reply: one entry per ground-truth difference."""

    matches: list[MatchPair]


class FlipVerdict(BaseModel):
    pair: int = Field(description="The pair's number as listed (1, 2, ...).")
    relation: Literal["same", "opposite"] = Field(
        description="'same' if both statements say the same (wording or degree may differ), "
        "'opposite' if one states the direct opposite of the other.")


class FlipReply(BaseModel):
    """Judge reply: one verdict per listed pair of statements."""

    verdicts: list[FlipVerdict]


# --------------------------------------------------------------------------- graph state


class EvalInput(TypedDict):
    """One sample to score: the ground truth and the (already cut) predictions."""

    sample_key: str
    action: str
    ground_truth: list[GroundTruthDifference]
    predictions: list[PredictedDifference]


class EvalOutput(TypedDict):
    evaluation: NotRequired[SampleEvaluation | None]
    error: NotRequired[Annotated[RunError | None, keep_first_error]]


class EvalState(EvalInput, EvalOutput):
    matches: NotRequired[dict[str, str | None]]
    opposite: NotRequired[dict[str, bool]]
    repaired: NotRequired[bool]
    cache_hits: Annotated[list[str], operator.add]
    usage: Annotated[list[UsageRecord], operator.add]
    notes: Annotated[list[str], operator.add]
    feedback: Annotated[dict[str, Feedback | None], merge_feedback]


@dataclass(kw_only=True)
class EvalContext:
    """Settings of the evaluation graph, read by its nodes through ``runtime.context``."""

    llm_attempts: int = 3
    """Replies the judge may give per node before the sample fails (or, for a matching that
    parses but breaks the one-to-one rules, before it is repaired)."""

    structured_output: StructuredMethod = "json_schema"
    """How judge replies are constrained (as in :class:`VidDiffContext`)."""
