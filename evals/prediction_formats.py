"""Predictions made by anyone, read for ``viddiff score``.

Three formats, told apart by their content:

- **The benchmark's published format** (jmhb0/viddiff README, "Prediction format"): one JSON
  list aligned with the dataset rows, ``predictions[i]`` for ``rows[i]``; each entry maps a
  difference key to ``{"description": ..., "prediction": "a"|"b"}``, or in closed mode simply
  to ``"a"|"b"``.
- **viddiff's own** ``predictions.jsonl`` (:class:`PredictionRecord` lines, from ``viddiff eval``).
- **JSON Lines from other tools**: ``{"sample_key": ..., "predictions": {...}}`` per line, the
  ``predictions`` object as in the published format.

A file that does not fit is refused with one line naming the first bad row, because a score
computed over silently skipped or misaligned rows is worse than no score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from viddiff.evals.data import BenchmarkSample, DataError
from viddiff.evals.predictions import Mode, PredictedLabel, PredictionRecord, PredictionStore

EXTERNAL_METHOD = "external"
"""The method name recorded for predictions that did not come from ``viddiff eval``."""
LABELS = ("a", "b", "c")
"""Accepted labels: the benchmark asks for a or b; c ("similar") is read and scored wrong."""


def _label(value: Any, where: str) -> str:
    if isinstance(value, str) and value.strip().lower() in LABELS:
        return value.strip().lower()
    raise DataError(f"{where}: prediction {value!r} is not a label (use \"a\" or \"b\")")


def parse_entry(entry: Any, sample: BenchmarkSample, mode: Mode,
                where: str) -> dict[str, PredictedLabel]:
    """One sample's predictions in the published format, checked against its row."""
    if not isinstance(entry, Mapping):
        raise DataError(f"{where}: expected an object of difference key -> prediction, got "
                        f"{type(entry).__name__}")
    out: dict[str, PredictedLabel] = {}
    for raw_key, value in entry.items():
        key = str(raw_key)
        if mode == "closed" and key not in sample.differences_gt:
            raise DataError(f"{where}: unknown difference key {key!r} (the row has "
                            f"{', '.join(sample.differences_gt) or 'none'})")
        if mode == "open" and not key.isdigit():
            raise DataError(f"{where}: open-mode keys are numbers \"0\", \"1\", ... in the "
                            f"method's order, not {key!r}")
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"description", "prediction"})
            if unknown or "prediction" not in value:
                raise DataError(f"{where}, key {key!r}: expected {{\"description\", "
                                f"\"prediction\"}}, got fields {sorted(value)}")
            description = value.get("description") or ""
            if not isinstance(description, str):
                raise DataError(f"{where}, key {key!r}: description must be text")
            label = _label(value["prediction"], f"{where}, key {key!r}")
        elif mode == "closed":
            description, label = "", _label(value, f"{where}, key {key!r}")
        else:
            raise DataError(f"{where}, key {key!r}: open mode needs {{\"description\", "
                            f"\"prediction\"}}, got {value!r}")
        if mode == "open" and not description.strip():
            raise DataError(f"{where}, key {key!r}: open mode needs a description")
        out[key] = PredictedLabel(description=description, label=label)  # type: ignore[arg-type]
    return out


def _record(sample: BenchmarkSample, mode: Mode,
            predictions: dict[str, PredictedLabel]) -> PredictionRecord:
    return PredictionRecord(sample_key=sample.sample_key, split=sample.split,
                            action=sample.action, method=EXTERNAL_METHOD, mode=mode,
                            predictions=predictions)


def from_aligned_list(items: Sequence[Any], samples: Sequence[BenchmarkSample], mode: Mode,
                      name: str) -> dict[str, PredictionRecord]:
    """The published format: entry ``i`` answers row ``i``."""
    if len(items) != len(samples):
        raise DataError(f"{name}: {len(items)} prediction entries for {len(samples)} dataset "
                        f"rows; the list must be aligned with the rows (entry i for row i; "
                        f"check --split)")
    return {s.sample_key: _record(s, mode, parse_entry(item, s, mode,
                                                      f"{name}: entry {i} (sample "
                                                      f"{s.sample_key})"))
            for i, (item, s) in enumerate(zip(items, samples, strict=True))}


def from_keyed_lines(lines: Sequence[tuple[int, Any]], samples: Mapping[str, BenchmarkSample],
                     mode: Mode, name: str) -> dict[str, PredictionRecord]:
    """JSON Lines ``{"sample_key", "predictions"}`` from other tools (line numbers kept)."""
    out: dict[str, PredictionRecord] = {}
    for n, row in lines:
        where = f"{name}:{n}"
        if not isinstance(row, Mapping) or "sample_key" not in row or "predictions" not in row:
            raise DataError(f"{where}: expected {{\"sample_key\", \"predictions\"}}")
        key = str(row["sample_key"])
        sample = samples.get(key)
        if sample is None:
            raise DataError(f"{where}: sample {key!r} is not in the dataset rows")
        if key in out:
            raise DataError(f"{where}: sample {key!r} appears twice")
        out[key] = _record(sample, mode, parse_entry(row["predictions"], sample, mode,
                                                     f"{where} (sample {key})"))
    return out


def read_any_predictions(path: str | Path, samples: Sequence[BenchmarkSample],
                         mode: Mode) -> tuple[dict[str, PredictionRecord], str]:
    """Records from a file in any of the three formats, and which format it was."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"predictions file not found: {p}")
    text = p.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{p}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        return from_aligned_list(items, samples, mode, str(p)), "benchmark list"
    rows: list[tuple[int, Any]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            if n == len(text.splitlines()) and not text.endswith("\n") and rows:
                break  # a cut-short last line: viddiff's store drops it the same way
            raise DataError(f"{p}:{n}: not a JSON line ({exc.msg})") from None
    if rows and isinstance(rows[0][1], Mapping) and "method" in rows[0][1]:
        return PredictionStore(p).load(), "viddiff"
    return from_keyed_lines(rows, {s.sample_key: s for s in samples}, mode, str(p)), "keyed lines"
