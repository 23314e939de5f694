"""Dense pose at scale: time for a 10 s 720p pair and peak memory for a 60 s 720p pair.

Measurements read every frame up to 30 frames/s (``VidDiffContext.pose_fps``), so long or
high-resolution clips are where the pose path must stay practical. The clips are made from a
real demo clip (../shared/data/clips/Demo_SinglePerson_cam01.mp4, a 1.67 s take) played back
and forth to the wanted length and scaled to 720x1280 (portrait 720p), 30 frames/s. Each
measurement runs in a fresh process with a cold pose cache; peak memory is the process's
maximum resident set size (``ru_maxrss``), interpreter and libraries included.

    python -m bench.bench_dense_pose [--write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bench.results import machine_line, update_section

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips" / \
    "Demo_SinglePerson_cam01.mp4"

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.frames import video_ref
from viddiff.graphs.frames import poses_of
from viddiff.tools.video import load_video
a, b, cache = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = VidDiffContext(cache_dir=Path(cache))
refs = {k: video_ref(load_video(p, target_fps=1.0, max_frames=2, max_side=64))
        for k, p in (("a", a), ("b", b))}
t0 = time.perf_counter()
poses = poses_of(refs, ctx)
seconds = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb,
                  "frames": {k: p.n_frames for k, p in poses.items()}}))
"""


def make_clip(out: Path, seconds: float, mirror: bool = False) -> Path:
    """``seconds`` of the demo take played back and forth, 720x1280 at 30 frames/s."""
    with av.open(str(CLIP)) as inp:
        frames = [f.to_ndarray(width=720, height=1280, format="rgb24")
                  for f in inp.decode(inp.streams.video[0])][::2]  # 60 -> 30 frames/s
    loop = frames + frames[::-1]
    n = int(seconds * 30)
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(30))
        stream.width, stream.height, stream.pix_fmt = 720, 1280, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for i in range(n):
            img = loop[i % len(loop)]
            img = np.ascontiguousarray(img[:, ::-1]) if mirror else img
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out


def run_pair(a: Path, b: Path, cache: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(a), str(b), str(cache)],
                         capture_output=True, text=True, check=True, timeout=1200)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    if not CLIP.exists():
        print(f"demo clip not found at {CLIP}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for seconds in (10.0, 60.0):
            t0 = time.perf_counter()
            a = make_clip(root / f"a{seconds:.0f}.mp4", seconds)
            b = make_clip(root / f"b{seconds:.0f}.mp4", seconds, mirror=True)
            made = time.perf_counter() - t0
            res = run_pair(a, b, root / f"cache{seconds:.0f}")
            rows.append((seconds, res))
            print(f"{seconds:.0f} s 720p pair: pose {res['seconds']:.1f} s, peak "
                  f"{res['peak_mb']:.0f} MB, frames {res['frames']} (clips made in "
                  f"{made:.0f} s)")
    if args.write:
        lines = [machine_line() + ".", "",
                 "Pose on both videos of a pair (offline engine's `estimate_pose`: 30 frames/s, "
                 "A and B in parallel, frames streamed in chunks), cold cache, fresh process. "
                 "Clips: the demo take played back and forth, 720x1280, 30 frames/s.", "",
                 "| pair | pose frames (A + B) | wall time | peak memory (process) |",
                 "|---|---:|---:|---:|"]
        for seconds, res in rows:
            frames = res["frames"]
            assert isinstance(frames, dict)
            lines.append(f"| {seconds:.0f} s, 720p | {sum(frames.values())} | "
                         f"{res['seconds']:.1f} s | {res['peak_mb']:.0f} MB |")
        update_section("Dense pose (bench/bench_dense_pose.py)", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
