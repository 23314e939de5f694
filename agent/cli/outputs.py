"""The one rule every command that writes files follows: an output may not be one of its
inputs, nor another output of the same run.

Checked before any work, so ``--video a.mp4`` (a slip of the keyboard) costs neither a
comparison nor the input video, and two outputs on one path cannot silently overwrite each
other. Paths are compared after ``~`` and symbolic links are resolved, and an existing file
reached by another name (a hard link) counts as the same file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from viddiff.tools.errors import VidDiffError


def _same(a: Path, b: Path) -> bool:
    ra, rb = a.expanduser().resolve(), b.expanduser().resolve()
    if ra == rb:
        return True
    try:
        return os.path.samefile(ra, rb)
    except OSError:  # one of them does not exist yet: different files
        return False


def check_outputs(inputs: Mapping[str, str | os.PathLike[str]],
                  outputs: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Raise a one-line :class:`VidDiffError` when an output names an input or another
    output. ``inputs`` and ``outputs`` map a name for the person ("video A", "--json") to a
    path; outputs that are None were not asked for."""
    given = [(name, Path(p)) for name, p in outputs.items() if p is not None]
    sources = [(name, Path(p)) for name, p in inputs.items()]
    for name, path in given:
        for source, spath in sources:
            if _same(path, spath):
                raise VidDiffError(f"{name} {path} would overwrite {source}; "
                                   "write it to another file")
    for i, (name, path) in enumerate(given):
        for other, opath in given[i + 1:]:
            if _same(path, opath):
                raise VidDiffError(f"{name} and {other} are the same file ({path}); "
                                   "give each output its own path")
