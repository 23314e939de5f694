"""Small synthetic videos made by the tests (no binary fixtures in the repo)."""

from __future__ import annotations

from fractions import Fraction
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


def write_variant(src: Path, dst: Path, slow: float = 1.0, mirror: bool = False,
                  max_side: int = 448) -> Path:
    """Re-encode ``src`` with the same frames: timestamps stretched by ``slow`` and/or each
    frame flipped left-right. Frames are shrunk to ``max_side`` first (what the pipeline
    samples anyway), which keeps the encoding fast."""
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        rate = Fraction(stream.average_rate or 30)
        w, h = stream.width, stream.height
        scale = min(1.0, max_side / max(w, h))
        size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
        frames = [f.to_ndarray(width=size[0], height=size[1], format="rgb24")
                  for f in inp.decode(stream)]
    out = av.open(str(dst), mode="w")
    enc = out.add_stream("libx264", rate=(rate / Fraction(slow)).limit_denominator(10000))
    enc.width, enc.height, enc.pix_fmt = size[0], size[1], "yuv420p"
    enc.options = {"crf": "12"}
    for frame in frames:
        img = np.ascontiguousarray(frame[:, ::-1]) if mirror else frame
        for packet in enc.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            out.mux(packet)
    for packet in enc.encode():
        out.mux(packet)
    out.close()
    return dst
