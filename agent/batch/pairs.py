"""The CSV of pairs that ``viddiff compare-many`` reads.

Columns (header row, any order, case-insensitive): ``video_a``, ``video_b``, ``action``
(required); ``differences`` (optional: the differences to check, separated by ``;``; empty
means the action's checklist for a benchmark action key, else open mode); ``id`` (optional:
names the pair's output files; default ``row-0001``... by data row). Relative video paths are
relative to the CSV's folder, so a folder of videos and its CSV move together.

Everything is checked before any pair runs, and every problem found is reported at once: a
batch that fails on row 900 after an hour of model calls is what this prevents.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viddiff.tools.errors import ConfigError
from viddiff.tools.paths import looks_like_url

REQUIRED = ("video_a", "video_b", "action")
OPTIONAL = ("differences", "id")
SEPARATOR = ";"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_PROBLEMS_SHOWN = 5


@dataclass(frozen=True)
class PairRow:
    """One comparison to make."""

    pair_id: str
    video_a: Path
    video_b: Path
    action: str
    differences: tuple[str, ...] = ()
    line: int = 0
    """The CSV line it came from (for messages)."""

    def fingerprint(self, settings: dict[str, Any]) -> str:
        """Identifies the inputs (videos by path, size and modification time) and the run's
        settings: a pair done with the same fingerprint is not run again."""
        def video(path: Path) -> list[Any]:
            st = path.stat()
            return [str(path), st.st_size, st.st_mtime_ns]

        blob = json.dumps({"a": video(self.video_a), "b": video(self.video_b),
                           "action": self.action, "differences": list(self.differences),
                           "settings": settings}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass
class _Problems:
    path: Path
    lines: list[str] = field(default_factory=list)

    def add(self, line: int, text: str) -> None:
        self.lines.append(f"line {line}: {text}")

    def raise_if_any(self) -> None:
        if not self.lines:
            return
        shown = "; ".join(self.lines[:MAX_PROBLEMS_SHOWN])
        more = len(self.lines) - MAX_PROBLEMS_SHOWN
        raise ConfigError(f"{self.path}: {len(self.lines)} problem(s): {shown}"
                          + (f"; and {more} more" if more > 0 else ""))


def read_pairs(path: str | Path) -> list[PairRow]:
    """The pairs of a CSV file; a :class:`ConfigError` naming every problem (up to a few,
    with the count) when the file or any row cannot be used."""
    csv_path = Path(path).expanduser()
    if not csv_path.is_file():
        raise ConfigError(f"pairs file not found: {csv_path}" if not csv_path.exists()
                          else f"{csv_path} is not a file")
    try:
        text = csv_path.read_text(encoding="utf-8-sig")  # a BOM from spreadsheet exports
    except UnicodeDecodeError:
        raise ConfigError(f"{csv_path} is not UTF-8 text (save the CSV as UTF-8)") from None
    reader = csv.DictReader(text.splitlines())
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ConfigError(f"{csv_path}: no column {', '.join(missing)} (the header row needs "
                          f"{', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)})")
    base = csv_path.parent
    problems = _Problems(csv_path)
    rows: list[PairRow] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader, 1):
        line = reader.line_num
        cells = {key: (raw.get(original) or "").strip() for key, original in header.items()}
        if not any(cells.values()):
            continue  # a blank row
        pair_id = cells.get("id") or f"row-{index:04d}"
        if pair_id in seen:
            problems.add(line, f"id {pair_id!r} is used again (first on line "
                               f"{seen[pair_id]})")
            continue
        seen[pair_id] = line
        row = _row(cells, pair_id, line, base, problems)
        if row is not None:
            rows.append(row)
    problems.raise_if_any()
    if not rows:
        raise ConfigError(f"{csv_path}: no pairs (only a header row)")
    return rows


def _row(cells: dict[str, str], pair_id: str, line: int, base: Path,
         problems: _Problems) -> PairRow | None:
    bad = len(problems.lines)
    videos = []
    for column in ("video_a", "video_b"):
        value = cells.get(column, "")
        if not value:
            problems.add(line, f"{column} is empty")
            continue
        if looks_like_url(value):
            problems.add(line, f"{column} is a URL ({value}); download the video first")
            continue
        video = Path(value).expanduser()
        video = video if video.is_absolute() else base / video
        if not video.is_file():
            problems.add(line, f"{column} not found: {video}")
            continue
        videos.append(video.absolute())
    action = cells.get("action", "")
    if not action:
        problems.add(line, "action is empty")
    if not _SAFE_ID.match(pair_id):
        problems.add(line, f"id {pair_id!r} must be letters, digits, '.', '_' or '-' (it "
                           "names the output files)")
    differences = tuple(d.strip() for d in cells.get("differences", "").split(SEPARATOR)
                        if d.strip())
    if len(problems.lines) > bad:
        return None
    return PairRow(pair_id, videos[0], videos[1], action, differences, line)
