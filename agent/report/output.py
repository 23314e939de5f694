"""Writing report files: atomically, and with a one-line error a person can act on."""

from __future__ import annotations

from pathlib import Path

from viddiff.agent.report.load import ReportError
from viddiff.tools import files as atomic


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and rename, so a reader (a browser, a
    chat client polling for the artifact) never sees half a file."""
    p = Path(path).expanduser()
    try:
        return atomic.write_atomic(p, data)
    except OSError as err:
        raise ReportError(f"cannot write {p}: {err.strerror or err}") from None
