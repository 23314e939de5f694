"""Writing files atomically: a reader never sees half a file, a failed write leaves nothing.

Every file viddiff writes (results, reports, caches, run records) goes through
:func:`write_atomic`: the data goes to a temporary file beside the target, optionally fsynced,
then renamed over it. On any failure the temporary file is removed. The final file gets the
mode a plain ``open(path, "w")`` would give it (``0666`` less the process umask, so ``0644``
under the usual umask) instead of ``mkstemp``'s private ``0600``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["default_file_mode", "write_all_atomic", "write_atomic", "write_once"]


@functools.cache
def _umask() -> int:
    """The process umask, read once (``os.umask`` can only be read by setting it)."""
    try:  # Linux: readable without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def default_file_mode() -> int:
    """The mode ``open(path, "w")`` would create a file with: ``0o666 & ~umask``."""
    return 0o666 & ~_umask()


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, durable: bool = False,
                 mode: int | None = None, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    The parent folder is created. ``durable`` fsyncs the file and (where the platform allows)
    its folder, for records that must survive a crash (predictions, results). ``mode``
    defaults to :func:`default_file_mode`. Returns the path written. ``OSError`` propagates;
    the temporary file never stays behind.
    """
    target = Path(path).expanduser()
    tmp = _complete_temp(target, data, encoding, durable=durable, mode=mode)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(target.parent)
    return target


def write_once(path: str | os.PathLike[str], data: bytes | str, *,
               encoding: str = "utf-8") -> bool:
    """Create ``path`` holding ``data`` unless it exists already; True if this call made it.

    For caches that several processes may fill at once: the complete file is written beside
    the target, then hard-linked to the target name, which fails when another process got
    there first. So the first writer wins, every later one sees that file, and nobody ever
    sees half of one (``write_atomic``'s rename would let the last writer win instead).
    """
    target = Path(path).expanduser()
    tmp = _complete_temp(target, data, encoding)
    try:
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _complete_temp(target: Path, data: bytes | str, encoding: str, *, durable: bool = False,
                   mode: int | None = None) -> str:
    """``data`` written in full to a temporary file beside ``target`` (its folder created),
    with the final file mode; removed again if anything fails. Returns its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, default_file_mode() if mode is None else mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable by syncing its folder (not possible on every platform)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_all_atomic(files: Sequence[tuple[str | os.PathLike[str], bytes | str]], *,
                     encoding: str = "utf-8") -> list[Path]:
    """Write several files that belong together (a result and its report): every one is
    written in full to its temporary file first, and only then are they renamed into place,
    one after the other. A failure while writing leaves none of them changed; the window in
    which some are new and some old is only the renames. Returns the paths written."""
    done: list[tuple[Path, str]] = []
    try:
        for path, data in files:
            target = Path(path).expanduser()
            done.append((target, _complete_temp(target, data, encoding)))
        for target, tmp in done:
            os.replace(tmp, target)
    finally:
        for _, tmp in done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return [target for target, _ in done]
