"""Each sample's full comparison result, saved beside the predictions (``OUT/results/``).

``predictions.jsonl`` keeps only what scoring needs; the :class:`ComparisonResult` a graph
method produced (stages, cited frames, reasons, measurements) is what a person looks at to see
*why* a sample scored low, e.g. in the gallery of the worst-scored pairs. It is written before
the sample's prediction line, atomically (temporary file, fsync, rename), so a record that names
its result file always finds a whole file there. The lmm baseline makes no such result.

Sample keys may hold characters a file name cannot (``/``, ``:``, spaces, upper case on a
case-insensitive disk); those get a readable slug plus a hash of the full key, so two keys never
share a file. The record keeps the file's name (``result_file``) as well.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from viddiff.evals.predictions import PredictionRecord
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.files import write_atomic

RESULTS_DIR = "results"
_PLAIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def result_name(sample_key: str) -> str:
    """The file name of a sample's result: the key itself when it is a plain lower-case name,
    else a slug of it, ``~`` and a hash of the whole key (``~`` never occurs in plain names)."""
    if _PLAIN.fullmatch(sample_key):
        return f"{sample_key}.json"
    slug = _UNSAFE.sub("_", sample_key).strip("._")[:60] or "sample"
    digest = hashlib.sha256(sample_key.encode("utf-8")).hexdigest()[:12]
    return f"{slug}~{digest}.json"


def save_result(results_dir: Path, sample_key: str, result: ComparisonResult) -> str:
    """Write ``result`` durably to ``results_dir``; returns the file name written."""
    name = result_name(sample_key)
    write_atomic(results_dir / name, result.model_dump_json(indent=2), durable=True)
    return name


def result_path(results_dir: Path, record: PredictionRecord) -> Path | None:
    """Where ``record``'s result was saved, or None. A record without a ``result_file`` (written
    before results were saved) is looked up under its key's name, unless its method failed."""
    if record.result_file:
        return results_dir / Path(record.result_file).name
    return results_dir / result_name(record.sample_key) if record.status == "ok" else None


def sample_scores(per_sample: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Each sample's score from the ``per_sample`` entries of the summary's metrics: its closed
    accuracy or open recall (correct / scored items); a failed sample counts 0. Samples with
    no scored item (only ``c`` ground truth) have no score and are left out."""
    scores = {}
    for entry in per_sample:
        total = int(entry.get("total") or 0)
        if total <= 0:
            continue
        ok = entry.get("status", "ok") == "ok"
        scores[str(entry["sample_key"])] = int(entry.get("correct") or 0) / total if ok else 0.0
    return scores


def worst_with_results(scores: Mapping[str, float], records: Mapping[str, PredictionRecord],
                       results_dir: Path, n: int) -> list[tuple[str, Path, float]]:
    """The ``n`` lowest-scored samples that have a saved result: (key, result file, score),
    lowest first (ties by sample key)."""
    found = []
    for key, score in scores.items():
        record = records.get(key)
        if record is None:
            continue
        path = result_path(results_dir, record)
        if path is not None and path.is_file():
            found.append((key, path, score))
    found.sort(key=lambda item: (item[2], item[0]))
    return found[:max(0, n)]
