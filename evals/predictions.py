"""The predictions file: one JSON line per finished sample, durable as soon as it is written.

Why JSON Lines with a flush and an fsync per sample: see :mod:`viddiff.tools.jsonl` (a crash
loses at most the samples in flight; re-running the same command picks up where it stopped).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from viddiff.evals.data import DataError
from viddiff.graphs.schemas import Label, UsageSummary
from viddiff.tools.jsonl import JsonLinesLog

Mode = Literal["closed", "open"]
Sanity = Literal["duplicate", "swap"]


class PredictedLabel(BaseModel):
    """What a method said about one difference.

    ``status="failed"``: the method tried and its model calls failed; it counts as a failure
    when scored, not as ``c`` nor as a missing prediction. Older files have no status."""

    description: str = ""
    label: Label | None = None
    status: Literal["answered", "failed"] = "answered"
    error: str | None = None


class PredictionRecord(BaseModel):
    """One finished sample: the method's predictions (or why there are none) and its cost.

    Closed mode keys ``predictions`` by the benchmark's difference keys; open mode by the
    method's own order (``"0"``, ``"1"``, ...), which is the order N_diff cuts in.
    """

    sample_key: str
    split: str = ""
    action: str = ""
    method: str
    mode: Mode
    sanity: Sanity | None = None
    protocol: str = Field(default="viddiff", description="The settings preset of the run.")
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    predictions: dict[str, PredictedLabel] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
    usage: list[UsageSummary] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    fps: float | None = Field(default=None, description="Frames per second sampled.")
    result_file: str | None = Field(
        default=None, description="File name of the sample's full comparison result under "
                                  "the run's results/ folder (graph methods only).")
    elapsed_s: float = 0.0
    finished_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


class PredictionStore(JsonLinesLog[PredictionRecord]):
    """The predictions file: :class:`PredictionRecord` lines; the last line per sample wins."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, PredictionRecord, lambda r: r.sample_key,
                         what="prediction record", error=DataError)


def read_predictions(path: str | os.PathLike[str]) -> dict[str, PredictionRecord]:
    """Records of a predictions file (for ``viddiff score``); a clear error when absent."""
    store = PredictionStore(path)
    if not store.path.exists():
        raise DataError(f"predictions file not found: {store.path}")
    return store.load()


def check_consistent(records: Iterable[PredictionRecord], *, mode: str | None = None) -> None:
    """One file holds one kind of run: refuse mixed modes, methods or sanity checks."""
    kinds = {(r.mode, r.method, r.sanity) for r in records}
    if len(kinds) > 1:
        listed = ", ".join(f"mode={m} method={me} sanity={s}" for m, me, s in sorted(
            kinds, key=str))
        raise DataError(f"the predictions mix several runs ({listed}); keep one per file")
    if mode is not None and kinds and next(iter(kinds))[0] != mode:
        raise DataError(f"the predictions were made in {next(iter(kinds))[0]} mode, not "
                        f"{mode} mode")
