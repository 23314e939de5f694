"""The VidDiffBench metrics (paper §3.2, appendix F), as pure functions.

- **Closed accuracy**: over (pair, difference) items whose ground truth is ``a`` or ``b``;
  ground truth ``c`` is not scored; a ``c`` or missing prediction is wrong. Micro-averaged
  within a split; the headline is the unweighted mean of the easy/medium/hard splits.
- **Open recall@N_diff**: ``N_diff = ceil(1.5 × annotated differences)`` (annotated: label not
  None, ``c`` included); predictions beyond ``N_diff`` are cut; recall = correctly labelled
  matched differences / ground-truth differences labelled ``a`` or ``b``.
- **Significance**: one-sided exact binomial test against chance (p = 0.5).

Every function takes plain values (labels, counts, outcomes), so they are easy to test against
the paper's numbers and reused by the runner and ``viddiff score`` alike.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

from viddiff.graphs.eval.state import (
    SCORED_OUTCOMES,
    Outcome,
    flip_label,
    item_outcome,
)
from viddiff.graphs.schemas import Label

__all__ = [
    "ALPHA",
    "SPLITS",
    "Tally",
    "ab_balance",
    "binomial_p_value",
    "cut_predictions",
    "error_counts",
    "flip_label",
    "item_outcome",
    "n_diff",
    "split_average",
    "swap_ground_truth",
    "tally",
]

SPLITS = ("easy", "medium", "hard")
ALPHA = 0.05
"""Significance level of the binomial test (the paper's p < 0.05)."""

T = TypeVar("T")


def binomial_p_value(successes: int, trials: int, p: float = 0.5) -> float:
    """One-sided exact binomial test: P(X >= successes) for X ~ Binomial(trials, p).

    Computed exactly with integers (``p`` as a fraction), so it needs no scipy and has no
    rounding trouble at benchmark sizes (thousands of items). ``trials == 0`` gives 1.0.
    """
    if trials < 0 or not 0 <= successes <= max(trials, 0):
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if trials == 0:
        return 1.0
    q = Fraction(p).limit_denominator(1_000_000)
    num, den = q.numerator, q.denominator
    rest = den - num
    tail = sum(math.comb(trials, i) * num**i * rest**(trials - i)
               for i in range(successes, trials + 1))
    return float(Fraction(tail, den**trials))


@dataclass(frozen=True)
class Tally:
    """Correct out of total scored items, with the binomial test against chance."""

    correct: int
    total: int

    @property
    def value(self) -> float | None:
        """Accuracy (closed) or recall (open) in [0, 1]; None when nothing was scored."""
        return self.correct / self.total if self.total else None

    @property
    def p_value(self) -> float:
        return binomial_p_value(self.correct, self.total)

    @property
    def significant(self) -> bool:
        """Better than chance at p < 0.05 (one-sided)."""
        return self.total > 0 and self.p_value < ALPHA

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.correct + other.correct, self.total + other.total)

    def as_dict(self) -> dict[str, object]:
        return {"correct": self.correct, "total": self.total, "value": self.value,
                "p_value": self.p_value, "significant": self.significant}


def tally(outcomes: Iterable[Outcome]) -> Tally:
    """Micro-average of item outcomes: ``not_scored`` items (ground truth ``c``) are left out."""
    correct = total = 0
    for outcome in outcomes:
        if outcome in SCORED_OUTCOMES:
            total += 1
            correct += outcome == "correct"
    return Tally(correct, total)


def error_counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How scored items went wrong: wrong label (the paper's flipped prediction), undecided
    (``c``), missing (no prediction / no match), failed (method or judge failure)."""
    counts = Counter(o for o in outcomes if o in SCORED_OUTCOMES and o != "correct")
    return {kind: counts.get(kind, 0) for kind in SCORED_OUTCOMES if kind != "correct"}


def split_average(values: Mapping[str, float | None],
                  splits: Sequence[str] = SPLITS) -> float | None:
    """The headline number: the unweighted mean over the splits that have a value.

    The paper's GPT-4o closed row: (58.3, 53.2, 48.9) -> 53.5.
    """
    present = [v for s in splits if (v := values.get(s)) is not None]
    return sum(present) / len(present) if present else None


def n_diff(n_annotated: int) -> int:
    """How many predictions open mode scores: ceil(1.5 × annotated differences)."""
    return math.ceil(1.5 * n_annotated)


def cut_predictions(predictions: Sequence[T], n_annotated: int) -> list[T]:
    """The first ``N_diff`` predictions; the rest are not scored (the paper's rule)."""
    return list(predictions[:n_diff(n_annotated)])


def swap_ground_truth(gt: Mapping[str, Label | None]) -> dict[str, Label | None]:
    """Ground truth for the swap sanity check (B shown as A): ``a`` and ``b`` trade places."""
    return {k: flip_label(v) for k, v in gt.items()}


def ab_balance(labels: Iterable[Label | None]) -> dict[str, float | int | None]:
    """Share of ``a`` and ``b`` among scored ground-truth labels (the paper: 0.493/0.507)."""
    counts = Counter(label for label in labels if label in ("a", "b"))
    n = counts["a"] + counts["b"]
    return {"a": counts["a"] / n if n else None, "b": counts["b"] / n if n else None, "n": n}
