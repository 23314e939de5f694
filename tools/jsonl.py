"""An append-only JSON Lines log of records, durable line by line, that survives a crash.

Why: long runs (a benchmark's samples, a batch of comparisons) make paid model calls for
hours. A crash, a kill or Ctrl-C must lose at most the work in flight, and running the same
command again must pick up where it stopped. Appending one whole line per finished item, with
a flush and an fsync, gives both; a line cut short by a crash is the only damage possible, and
it is dropped (and cut off the file) when the log is opened again. The last line per key wins,
so a retried item simply appends its new outcome.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from viddiff.tools.errors import VidDiffError

M = TypeVar("M", bound=BaseModel)


class JsonLinesLog(Generic[M]):
    """Records of type ``model`` keyed by ``key``; ``error`` is raised for a bad line that is
    not a crash's cut-short last line (that file was not written by this log)."""

    def __init__(self, path: str | os.PathLike[str], model: type[M], key: Callable[[M], str],
                 *, what: str = "record",
                 error: type[VidDiffError] = VidDiffError) -> None:
        self.path = Path(path)
        self.model = model
        self.key = key
        self.what = what
        self.error = error
        self._lock = threading.Lock()
        self.dropped_partial = False
        """Whether :meth:`load` dropped a cut-short last line."""

    def load(self) -> dict[str, M]:
        """Records by key, the last line per key winning."""
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        records: dict[str, M] = {}
        for n, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                record = self.model.model_validate_json(raw)
            except ValidationError as exc:
                is_tail = n == len(lines) and not data.endswith(b"\n")
                if is_tail:  # a write cut short by a crash: drop it and carry on
                    self._truncate_to(len(data) - len(raw))
                    self.dropped_partial = True
                    break
                raise self.error(f"{self.path}:{n}: not a {self.what} "
                                 f"({exc.errors()[0].get('msg', 'invalid')})") from None
            records[self.key(record)] = record
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

    def append(self, record: M) -> None:
        """Write one record as one line, then flush and fsync before returning."""
        line = record.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
