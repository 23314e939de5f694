"""The output files of one command, checked before any work and written together.

A careless path used to cost a file: ``--json`` or ``--report`` pointing at an input video,
``--json x --report x``, ``viddiff report r.json --png`` naming a video of the result, ``viddiff
score --json`` naming its own ``--data``. Each exited 0 having overwritten it. So every command
names its outputs and its inputs, and :func:`check_outputs` refuses (one line, exit 2) any
output that is an input or another output of the same run, compared as resolved paths
(``./x`` and ``x``, a symlink and its target, ``~``), and any output that is a folder.

:func:`write_outputs` then writes them together: every file is complete in a temporary file
before the first one is renamed into place, so a run that fails or is killed while making its
report does not leave a new JSON beside the report of an older run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from viddiff.tools.errors import VidDiffError
from viddiff.tools.files import write_all_atomic

PathLike = str | os.PathLike[str]


def _resolved(path: PathLike) -> Path:
    return Path(path).expanduser().resolve()


def check_outputs(outputs: Mapping[str, PathLike | None],
                  inputs: Mapping[str, PathLike | None]) -> None:
    """Refuse outputs that would overwrite an input or each other, or that are folders.

    ``outputs`` and ``inputs`` map what a person would call each path (``--json``, ``video
    A``) to the path, ``None`` for one not given. Raises :class:`VidDiffError` (exit 2).
    """
    seen: dict[Path, str] = {}
    for name, path in inputs.items():
        if path is not None and str(path):
            seen.setdefault(_resolved(path), name)
    outs: dict[Path, str] = {}
    for name, path in outputs.items():
        if path is None:
            continue
        target = _resolved(path)
        if target in seen:
            raise VidDiffError(f"{name} {path} would overwrite an input of this run "
                               f"({seen[target]}); give another file")
        if target in outs:
            raise VidDiffError(f"{name} {path} is also given as {outs[target]}; each output "
                               f"needs a file of its own")
        if target.is_dir():
            raise VidDiffError(f"{name} {path} is a folder; give a file name")
        outs[target] = name


def write_outputs(files: Sequence[tuple[PathLike, bytes | str]]) -> None:
    """Write every file, or none: all are complete before any takes its final name.

    An ``OSError`` becomes one line naming the file (exit 2)."""
    try:
        write_all_atomic(files)
    except OSError as exc:
        name = exc.filename or (files[0][0] if files else "")
        raise VidDiffError(f"cannot write {name}: {exc.strerror or exc}") from None
