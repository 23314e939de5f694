"""Single decoded frames kept on disk, so a report made again decodes nothing.

A report shows a dozen frames per video, but reaching frame 80 of an H.264 clip means decoding
frames 0–80 (most of a second for a 1080p clip), on every report of the same result. The
frames it shows are stored here as lossless PNG (the picture is identical to a fresh decode),
keyed by the video's content digest, the source frame number and the decoded size, like the
pose cache: a changed video has another digest, so it never gets stale frames.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from viddiff.tools.files import write_atomic
from viddiff.tools.video import file_digest, load_frames_at, plan_sampling

FORMAT = 1
"""Part of every file name: bump it when what is stored changes."""


def _file(folder: Path, digest: str, frame: int, size: tuple[int, int]) -> Path:
    return folder / f"f{FORMAT}-{digest[:32]}-{size[0]}x{size[1]}-{frame}.png"


def stored_frames_at(path: str | os.PathLike[str], source_frames: list[int],
                     max_side: int | None, folder: Path | None) -> dict[int, np.ndarray]:
    """:func:`~viddiff.tools.video.load_frames_at`, through the store in ``folder`` (None:
    no store): stored frames are read back, only the others are decoded, and then stored.
    A store that cannot be read or written is skipped, never an error."""
    if folder is None:
        return load_frames_at(path, source_frames, max_side)
    plan = plan_sampling(path, 1.0, 1, max_side)
    size = (plan.width, plan.height)
    digest = file_digest(path)
    out: dict[int, np.ndarray] = {}
    for frame in {int(f) for f in source_frames}:
        try:
            with Image.open(_file(folder, digest, frame, size)) as img:
                pixels = np.asarray(img.convert("RGB"))
        except (OSError, ValueError):
            continue
        if pixels.shape == (plan.height, plan.width, 3):
            out[frame] = pixels
    missing = [f for f in source_frames if int(f) not in out]
    if missing:
        decoded = load_frames_at(path, missing, max_side)
        for frame, pixels in decoded.items():
            buffer = io.BytesIO()
            Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG",
                                                               compress_level=1)
            with contextlib.suppress(OSError):  # a read-only cache: still a report
                write_atomic(_file(folder, digest, frame, size), buffer.getvalue())
        out.update(decoded)
    return out
