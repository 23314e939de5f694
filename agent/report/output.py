"""Writing report files: atomically, and with a one-line error a person can act on."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from viddiff.agent.report.load import ReportError


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and rename, so a reader (a browser, a
    chat client polling for the artifact) never sees half a file."""
    p = Path(path).expanduser()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is meant to be shared
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:
        raise ReportError(f"cannot write {p}: {err.strerror or err}") from None
    return p
