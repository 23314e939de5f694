"""The predictions file: one JSON line per finished sample, durable as soon as it is written.

Why JSON Lines with a flush and an fsync per sample: a benchmark run makes thousands of paid
model calls over hours. A crash, a kill or Ctrl-C must lose at most the samples in flight, and
re-running the same command must pick up where it stopped. Appending whole lines gives both; a
line cut short by a crash is the only damage possible, and it is dropped (and cut off the
file) when the file is opened again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from viddiff.evals.data import DataError
from viddiff.graphs.schemas import Label, UsageSummary

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


class PredictionStore:
    """Append-only JSON Lines file of :class:`PredictionRecord`; the last line per sample wins."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.dropped_partial = False

    def load(self) -> dict[str, PredictionRecord]:
        """Records by sample key. A cut-short last line is removed from the file; a bad line
        anywhere else is an error (that file was not written by this store)."""
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        records: dict[str, PredictionRecord] = {}
        for n, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                record = PredictionRecord.model_validate_json(raw)
            except ValidationError as exc:
                is_tail = n == len(lines) and not data.endswith(b"\n")
                if is_tail:  # a write cut short by a crash: drop it and carry on
                    self._truncate_to(len(data) - len(raw))
                    self.dropped_partial = True
                    break
                raise DataError(f"{self.path}:{n}: not a prediction record "
                                f"({exc.errors()[0].get('msg', 'invalid')})") from None
            records[record.sample_key] = record
        else:
            if data and not data.endswith(b"\n"):  # complete, but its newline never landed
                with self.path.open("ab") as fh:
                    fh.write(b"\n")
        return records

    def _truncate_to(self, size: int) -> None:
        with self._lock, self.path.open("r+b") as fh:
            fh.truncate(size)
            fh.flush()
            os.fsync(fh.fileno())

    def append(self, record: PredictionRecord) -> None:
        """Write one record as one line, then flush and fsync before returning."""
        line = record.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())


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
