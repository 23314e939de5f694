"""One ``viddiff eval`` per output folder at a time: an OS file lock on ``OUT/eval.lock``.

Two runs on the same ``--out`` would each see the same samples as not yet done, run all of
them (paying twice) and append duplicate lines to ``predictions.jsonl``. The lock is an
``fcntl.flock`` on a file in the folder, which holds the holder's pid, host and start time
so the run that is refused can say who holds it. The kernel drops a flock when its process
ends, however it ends (a kill -9 included), so a lock left by a dead run is never "stale" in
the way a pid file is: the next run simply gets it, and says whose lock it took over.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from viddiff.tools.errors import ConfigError

LOCK_FILE = "eval.lock"


class OutDirBusy(ConfigError):
    """Another live process holds the output folder's lock."""


def _holder(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "a process that left no details"
    where = f" on {holder['host']}" if holder.get("host") not in (None, socket.gethostname()) \
        else ""
    return f"pid {holder.get('pid', '?')}{where}, started {holder.get('started_at', '?')}"


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@contextmanager
def lock_out_dir(out_dir: Path, notes: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Hold the folder's lock for the ``with`` block; ``OutDirBusy`` if a live run has it.

    ``notes`` receives a line when the lock of an earlier, dead run was taken over.
    Yields what was written into the lock file (pid, host, start time).
    """
    if out_dir.exists() and not out_dir.is_dir():  # e.g. --out naming the data or a video
        raise ConfigError(f"--out {out_dir} is a file, not a folder: give a folder for the "
                          f"run's files")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the folder --out {out_dir}: "
                          f"{exc.strerror or exc}") from None
    path = out_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutDirBusy(f"{out_dir} is in use by another viddiff eval "
                             f"({_describe(_holder(fd))}): wait for it to finish or use "
                             f"another --out") from None
        previous = _holder(fd)
        if previous.get("pid") and previous.get("pid") != os.getpid() and notes is not None:
            state = "no longer running" if not _alive(previous.get("pid")) else "lock released"
            notes.append(f"took over the lock of an earlier run in {out_dir} "
                         f"({_describe(previous)}; {state})")
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        try:
            yield me
        finally:
            os.ftruncate(fd, 0)  # a clean end leaves no holder to report
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
