"""Dense pose at scale: time for a 10 s 720p pair and peak memory for a 60 s 720p pair.

Measurements read every frame up to 30 frames/s (``VidDiffContext.pose_fps``), so long or
high-resolution clips are where the pose path must stay practical. The clips are made from a
real demo clip (../shared/data/clips/Demo_SinglePerson_cam01.mp4, a 1.67 s take) played back
and forth to the wanted length and scaled to 720x1280 (portrait 720p), 30 frames/s. Each
measurement runs in a fresh process with a cold pose cache; peak memory is the process's
maximum resident set size (``ru_maxrss``), interpreter and libraries included.

    python -m bench.bench_dense_pose [--write] [--baseline-src OTHER/.mypy-src]

``--baseline-src`` also runs each pair with the code of another checkout ("before"), right
after the "after" run, so both come from one invocation on the same (shared) machine. The
"decode only" column is one sequential pass of the after code's streaming decoder over video A
at the pose sampling: the rest of a video's time is MediaPipe.
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

from bench.results import machine_line, source_prelude, update_section

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips" / \
    "Demo_SinglePerson_cam01.mp4"

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.frames import video_ref
from viddiff.graphs.poses import poses_of
from viddiff.tools.video import load_video
a, b, cache = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = VidDiffContext(cache_dir=Path(cache))
refs = {k: video_ref(load_video(p, target_fps=1.0, max_frames=2, max_side=64))
        for k, p in (("a", a), ("b", b))}
t0 = time.perf_counter()
poses = poses_of(refs, ctx)
seconds = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
decode_s = None
if len(sys.argv) > 4:
    from viddiff.graphs.poses import pose_side
    from viddiff.tools.video import iter_frames, plan_sampling
    t0 = time.perf_counter()
    for _ in iter_frames(plan_sampling(a, ctx.pose_fps, ctx.pose_max_frames, pose_side(ctx))):
        pass
    decode_s = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "decode_s": decode_s,
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


def run_child(code: str, *args: str, cwd: Path, timeout: float = 1200) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter (its own memory and start-up, as a user's run) and
    return the JSON object it prints last."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True, timeout=timeout, cwd=cwd)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_pair(a: Path, b: Path, cache: Path, src: Path | None = None,
             decode: bool = False) -> dict[str, object]:
    args = [str(a), str(b), str(cache)] + (["decode"] if decode else [])
    return run_child(source_prelude(src) + _CHILD, *args, cwd=cache.parent)


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run with the median wall time (its memory and decode time with it)."""
    ordered = sorted(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    return ordered[(len(ordered) - 1) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="the .mypy-src folder of a checkout to time as 'before'")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the 10 s pair per version (median reported)")
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
            afters, befores = [], []
            for k in range(args.repeat if seconds <= 10 else 1):  # the long pair is for memory
                afters.append(run_pair(a, b, root / f"cache{seconds:.0f}-{k}", decode=True))
                if args.baseline_src:
                    befores.append(run_pair(a, b, root / f"before{seconds:.0f}-{k}",
                                            args.baseline_src))
            res = median_run(afters)
            old = median_run(befores) if befores else None
            rows.append((seconds, res, old))
            print(f"{seconds:.0f} s 720p pair: pose {res['seconds']:.1f} s, peak "
                  f"{res['peak_mb']:.0f} MB, frames {res['frames']}, decode only (A) "
                  f"{res['decode_s']:.1f} s (clips made in {made:.0f} s)"
                  + (f"; before: {old['seconds']:.1f} s, {old['peak_mb']:.0f} MB" if old
                     else ""))
    if args.write:
        before = (f" Before: the code of `{args.baseline_src}`, run right after each after "
                  "run." if args.baseline_src else "")
        lines = [machine_line() + ".", "",
                 "Pose on both videos of a pair (offline engine's `estimate_pose`: 30 frames/s, "
                 "A and B in parallel, frames streamed in chunks), cold cache, fresh process. "
                 "Clips: the demo take played back and forth, 720x1280, 30 frames/s. Decode "
                 "only: one pass of the streaming decoder over video A at the pose sampling "
                 f"(448 px), the rest is MediaPipe. The 10 s pair: median of {args.repeat} runs "
                 f"per version, alternating; the 60 s pair once (it is there for memory).{before}",
                 "",
                 "| pair | pose frames (A + B) | wall time | peak memory (process) "
                 "| decode only (A) | before: wall | before: peak |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for seconds, res, old in rows:
            frames = res["frames"]
            assert isinstance(frames, dict)
            was = (f"{old['seconds']:.1f} s | {old['peak_mb']:.0f} MB" if old else "– | –")
            lines.append(f"| {seconds:.0f} s, 720p | {sum(frames.values())} | "
                         f"{res['seconds']:.1f} s | {res['peak_mb']:.0f} MB | "
                         f"{res['decode_s']:.1f} s | {was} |")
        update_section("Dense pose (bench/bench_dense_pose.py)", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
