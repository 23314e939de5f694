"""Small synthetic videos made by the tests (no binary fixtures in the repo)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parents[2]
CLIPS_DIR = REPO.parent / "shared" / "data" / "clips"


def write_video(path: Path, n_frames: int = 24, fps: int = 12, size: tuple[int, int] = (64, 48),
                moving: bool = True) -> Path:
    """An H.264 clip of a bright square sliding across a dark background."""
    width, height = size
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    for i in range(n_frames):
        frame = np.full((height, width, 3), 20, dtype=np.uint8)
        x = int((width - 16) * i / max(1, n_frames - 1)) if moving else width // 2
        frame[height // 2 - 8: height // 2 + 8, x: x + 16] = (230, 200, 40)
        for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path
