"""VidDiffBench rows: read them from a file, a folder or the Hub, parse them, select some.

The schema (docs/architecture.md, "VidDiffBench rows") stores ``videos``,
``retrieval_frames``, ``differences_annotated`` and ``differences_gt`` as JSON *strings*;
exports made with other tools sometimes hold them as objects already. Both are accepted.
Every problem with a row is reported with the sample key and the field, because a benchmark
with 549 rows is not debugged by reading a traceback.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from viddiff.graphs.eval.state import GroundTruthDifference
from viddiff.graphs.schemas import Label, NumFrames
from viddiff.tools.errors import VidDiffError
from viddiff.tools.extras import require_extra

HUB_DATASET = "jmhb/VidDiffBench"
"""The benchmark on the Hugging Face Hub (split ``test``, 549 rows)."""

SPLITS = ("easy", "medium", "hard")
DATA_SUFFIXES = (".json", ".jsonl", ".parquet")


class DataError(VidDiffError):
    """A benchmark file or row cannot be used (wrong format, missing field, bad value)."""


class VideoSpec(BaseModel):
    """One video of a pair as the benchmark gives it.

    ``frames_trim`` is a Python slice ``[start, end)`` over the source frames (``None`` or a
    negative value as in Python), which is how the reference loader applies it.
    """

    path: str
    frames_trim: list[int | None] | None = None
    fps_original: float | None = None

    @field_validator("frames_trim")
    @classmethod
    def _two_bounds(cls, value: list[int | None] | None) -> list[int | None] | None:
        if value is not None and len(value) not in (1, 2, 3):
            raise ValueError(f"frames_trim must be [start, end], got {value!r}")
        return value


class AnnotatedDifference(BaseModel):
    """A difference of the action's taxonomy as annotated for this sample."""

    name: str = ""
    description: str
    query_string: str | None = None
    num_frames: NumFrames | None = None

    @field_validator("num_frames", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return None if value in (None, "") else str(value)


class BenchmarkSample(BaseModel):
    """One VidDiffBench row, with its JSON fields decoded."""

    sample_key: str
    sample_hash: int | None = None
    action: str
    action_name: str = ""
    action_description: str
    source_dataset: str = ""
    domain: str = ""
    split: str
    videos: list[VideoSpec] = Field(min_length=2, max_length=2)
    retrieval_frames: list[dict[str, Any]] | None = None
    differences_annotated: dict[str, AnnotatedDifference | None]
    differences_gt: dict[str, Label | None]
    n_differences_open_prediction: int | None = None

    @property
    def labelled(self) -> dict[str, Label]:
        """Ground truth of the annotated differences (``a``, ``b`` or ``c``; never None)."""
        return {k: v for k, v in self.differences_gt.items() if v is not None}

    @property
    def scored_keys(self) -> list[str]:
        """Keys whose ground truth is ``a`` or ``b``: the only ones the benchmark scores."""
        return [k for k, v in self.labelled.items() if v in ("a", "b")]

    @property
    def open_budget(self) -> int:
        """How many differences a method is asked for in open mode: N_diff =
        ceil(1.5 x labelled differences), exactly what scoring keeps (``evals.metrics.n_diff``),
        whatever the row's ``n_differences_open_prediction`` says."""
        return math.ceil(1.5 * len(self.labelled))

    def ground_truth(self) -> list[GroundTruthDifference]:
        """The labelled differences with their descriptions, in key order."""
        out = []
        for key, label in self.labelled.items():
            diff = self.differences_annotated.get(key)
            assert diff is not None  # checked by parse_row
            out.append(GroundTruthDifference(key=key, name=diff.name,
                                             description=diff.description, label=label))
        return out


JSON_FIELDS = ("videos", "retrieval_frames", "differences_annotated", "differences_gt")


def key_order(key: str) -> tuple[int, Any]:
    """Sort key for difference keys: numeric keys in number order ("2" before "10"), then
    the others alphabetically. Benchmark rows and prediction files both use it."""
    return (0, int(key)) if key.isdigit() else (1, key)


def parse_row(row: Mapping[str, Any], where: str = "") -> BenchmarkSample:
    """A raw row (JSON strings or objects) as a :class:`BenchmarkSample`, or a DataError."""
    name = str(row.get("sample_key", "?"))
    label = f"sample {name}" + (f" ({where})" if where else "")
    data = dict(row)
    for field in JSON_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            try:
                data[field] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DataError(f"{label}: field {field!r} is not valid JSON ({exc.msg})") \
                    from None
    if isinstance(data.get("sample_key"), int):
        data["sample_key"] = str(data["sample_key"])
    try:
        sample = BenchmarkSample.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        raise DataError(f"{label}: {loc or 'row'}: {err.get('msg', 'invalid')}") from None
    for key in sample.labelled:
        if sample.differences_annotated.get(key) is None:
            raise DataError(f"{label}: difference {key!r} has a ground-truth label but no "
                            f"annotation in differences_annotated")
    sample.differences_gt = dict(sorted(sample.differences_gt.items(),
                                        key=lambda kv: key_order(kv[0])))
    return sample


# --------------------------------------------------------------------------- reading files


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict):  # {"rows": [...]}, {"test": [...]} or {"data": [...]}
        for key in ("rows", "test", "data"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            if all(isinstance(v, list) for v in data.values()):  # column-oriented
                columns = list(data)
                data = [dict(zip(columns, values, strict=True))
                        for values in zip(*data.values(), strict=True)]
            else:
                data = [data]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of benchmark rows")
    rows = [r.get("row", r) if isinstance(r, dict) else r for r in data]  # HF viewer export
    if not all(isinstance(r, dict) for r in rows):
        raise DataError(f"{path}: every benchmark row must be a JSON object")
    return rows


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}:{n}: a benchmark row must be a JSON object")
            rows.append(row)
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    require_extra("datasets", f"{path}: reading Parquet (or convert the file to JSON Lines)",
                  modules=("pyarrow",))
    import pyarrow.parquet as pq

    try:
        return list(pq.read_table(path).to_pylist())
    except Exception as exc:  # pyarrow raises its own error types
        raise DataError(f"{path}: cannot read Parquet ({exc})") from None


READERS = {".json": _read_json, ".jsonl": _read_jsonl, ".parquet": _read_parquet}


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Raw rows from a ``.json``/``.jsonl``/``.parquet`` file or a folder of them."""
    p = Path(path).expanduser()
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in DATA_SUFFIXES)
        if not files:
            raise DataError(f"{p}: no .json, .jsonl or .parquet files in this folder")
        return [row for f in files for row in read_rows(f)]
    reader = READERS.get(p.suffix.lower())
    if reader is None:
        raise DataError(f"{p}: unknown benchmark file type (use .json, .jsonl or .parquet)")
    return reader(p)


def load_hub_rows(name: str = HUB_DATASET, split: str = "test",
                  cache_dir: str | None = None) -> list[dict[str, Any]]:
    """Rows of the benchmark from the Hugging Face Hub (needs the ``datasets`` extra and
    network access; written for users, not exercised where the Hub is unreachable)."""
    require_extra("datasets", f"loading {name!r} from the Hugging Face Hub (or pass a local "
                  "JSON/JSONL/Parquet export with --data)")
    import datasets

    try:
        table = datasets.load_dataset(name, split=split, cache_dir=cache_dir)
    except Exception as exc:  # network, auth, unknown dataset: one line for the user
        raise DataError(f"cannot load {name!r} (split {split!r}) from the Hugging Face Hub: "
                        f"{' '.join(str(exc).split())[:300]}") from None
    return [dict(row) for row in table]


def looks_like_hub_name(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "~"))


def load_samples(source: str | os.PathLike[str]) -> list[BenchmarkSample]:
    """Every sample of a local benchmark file/folder, or of a Hub dataset ``owner/name``."""
    text = str(source)
    path = Path(text).expanduser()
    if path.exists():
        rows, where = read_rows(path), str(path)
    elif looks_like_hub_name(text):
        rows, where = load_hub_rows(text), text
    else:
        raise DataError(f"benchmark not found: {text} (give a .json/.jsonl/.parquet file, a "
                        f"folder of them, or a Hub dataset such as {HUB_DATASET})")
    samples = [parse_row(row, where) for row in rows]
    counts = Counter(s.sample_key for s in samples)
    duplicates = sorted(k for k, n in counts.items() if n > 1)
    if duplicates:
        raise DataError(f"{where}: sample keys occur more than once: {', '.join(duplicates[:5])}")
    return samples


def select_samples(samples: Sequence[BenchmarkSample], *, split: str = "all",
                   actions: Iterable[str] = (), domains: Iterable[str] = (),
                   limit: int | None = None) -> list[BenchmarkSample]:
    """Samples of a split (or ``all``), some actions and domains, at most ``limit`` of them."""
    wanted_actions = {a.strip() for a in actions if a.strip()}
    wanted_domains = {d.strip().lower() for d in domains if d.strip()}
    out = [s for s in samples
           if (split == "all" or s.split == split)
           and (not wanted_actions or s.action in wanted_actions)
           and (not wanted_domains or s.domain.lower() in wanted_domains)]
    if limit is not None:
        out = out[:max(0, limit)]
    return out
