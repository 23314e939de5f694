"""Regenerate ``examples/clips/A.mp4`` and ``B.mp4`` from the pose2sim wheel on PyPI.

The clips are two synchronized camera views (cam01 and cam02) of ONE take of the pose2sim demo
("Demo_SinglePerson": a man doing a lunge with a balance hold, 60 fps, 100 frames), BSD-3-Clause.
The pose2sim and sports2d wheels hold no second take of the same action (pose2sim's
"Demo_MultiPerson" is the same recording with a second person in view, and the sports2d demo
shows other movements), so the pair is a same-take control: timing must come out equal, while
2-D angles differ by viewpoint. See ``examples/clips/NOTICE.md``.

What is changed: frames are scaled to a longer side of 480 px (aspect kept, even sizes) and
re-encoded as H.264 (libx264, CRF 23, yuv420p, one thread for reproducible output); frame rate,
frame count and timing are kept.

Usage::

    python examples/make_example_clips.py                      # pip downloads the wheel
    python examples/make_example_clips.py --wheel pose2sim-0.10.49-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from fractions import Fraction
from pathlib import Path

import av

VERSION = "0.10.49"
SOURCES = {
    "A.mp4": "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4",
    "B.mp4": "Pose2Sim/Demo_SinglePerson/videos/cam02.mp4",
}
# sha256 of the source members in pose2sim 0.10.49: a changed upstream file is refused
SOURCE_SHA256 = {
    "Pose2Sim/Demo_SinglePerson/videos/cam01.mp4":
        "cf4f2816c86bea4bfbea255333d8626ff32a3ecabdab8b0fb147cea9167fde3a",
    "Pose2Sim/Demo_SinglePerson/videos/cam02.mp4":
        "94ff87cf978b8406e8aa36ab3c5362e72848994e87652f0dc7a33c315e8e0442",
}
MAX_SIDE = 480
OUT_DIR = Path(__file__).resolve().parent / "clips"


def fetch_wheel(dest: Path) -> Path:
    """Download the pinned pose2sim wheel with pip (no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "-d", str(dest), f"pose2sim=={VERSION}"], check=True)
    return next(dest.glob(f"pose2sim-{VERSION}-*.whl"))


def even_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def convert(data: bytes, dst: Path) -> None:
    """Scale every frame to ``MAX_SIDE`` and re-encode as H.264 at the source frame rate."""
    with av.open(io.BytesIO(data)) as inp:
        stream = inp.streams.video[0]
        rate = Fraction(stream.average_rate or 30).limit_denominator(1000)
        size = even_size(stream.width, stream.height, MAX_SIDE)
        frames = [f.to_ndarray(width=size[0], height=size[1], format="rgb24")
                  for f in inp.decode(stream)]
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp.mp4")
    with av.open(str(tmp), mode="w") as out:
        enc = out.add_stream("libx264", rate=rate)
        enc.width, enc.height, enc.pix_fmt = size[0], size[1], "yuv420p"
        enc.options = {"crf": "23", "preset": "slow", "threads": "1"}
        for frame in frames:
            for packet in enc.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in enc.encode():
            out.mux(packet)
    tmp.replace(dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a local pose2sim wheel (else pip downloads)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            for name, member in SOURCES.items():
                data = zf.read(member)
                digest = hashlib.sha256(data).hexdigest()
                if digest != SOURCE_SHA256[member]:
                    print(f"{member}: sha256 {digest} differs from pose2sim {VERSION}'s",
                          file=sys.stderr)
                    return 1
                convert(data, args.out / name)
                size = (args.out / name).stat().st_size
                print(f"{name}: {member} (sha256 {digest[:16]}…) -> {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
