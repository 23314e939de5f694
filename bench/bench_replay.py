"""The aligned replay: render time of a 10 s 720p pair against the comparison's own, and peak
memory of a 10 s and a 60 s replay (it must not grow with the clip's length).

The clips are bench/bench_dense_pose.py's (the demo take played back and forth, 720x1280, 30
frames/s; B mirrored). Each step runs in a fresh process: the offline comparison (``viddiff
compare --offline``, closed mode, cold caches, no result cache), then ``write_replay`` of its
result with skeletons from the pose cache the comparison filled, side by side and ghost. The
memory pair renders a result made without a comparison (the clips' own sampling, no
alignment: the linear map) and without skeletons (posing 60 s would only time MediaPipe
again), so both replays draw and encode the same kind of frames. Peak memory is the
process's maximum resident set size (``ru_maxrss``); "before" is the same process's resident
size just before rendering, so the difference is what rendering added.

    python -m bench.bench_replay [--write] [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.bench_dense_pose import CLIP, make_clip, median_run, run_child
from bench.results import machine_line, update_section

_COMPARE = r"""
import json, sys, time
from viddiff.agent.cli.main import main
a, b, out, cache = sys.argv[1:5]
t0 = time.perf_counter()
code = main(["compare", a, b, "--action", "a lunge", "-d", "the knees bend more",
             "-d", "the stance is wider", "--offline", "-q", "--no-result-cache",
             "--json", out, "--cache-dir", cache])
print(json.dumps({"code": code, "seconds": time.perf_counter() - t0}))
"""

_REPLAY = r"""
import json, resource, sys, time
from pathlib import Path
from viddiff.agent.report import load_result
from viddiff.agent.report.replay_video import write_replay
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.frames import video_ref
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.video import load_video
source, out, cache, mode, skeletons = sys.argv[1:6]
if source.endswith(".json"):
    result = load_result(source)
else:  # two clips, no comparison: their sampling, no alignment
    a, b = source.split(",")
    refs = [video_ref(load_video(p, target_fps=6.0, max_frames=96, max_side=448)) for p in (a, b)]
    result = ComparisonResult(action="bench", mode="closed", engine="offline",
                              video_a=refs[0], video_b=refs[1])
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
before = rss_mb()
t0 = time.perf_counter()
info = write_replay(result, out, mode=mode, skeletons=skeletons == "yes",
                    context=VidDiffContext(cache_dir=Path(cache)))
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "frames": info.frames, "fps": info.fps,
                  "notes": info.notes, "before_mb": before,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "size_mb": Path(out).stat().st_size / 1e6}))
"""


def _child(code: str, *args: str, cwd: Path) -> dict[str, object]:
    return run_child(code, *args, cwd=cwd, timeout=1800)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of the 10 s comparison and replays (median reported)")
    args = parser.parse_args(argv)
    if not CLIP.exists():
        print(f"demo clip not found at {CLIP}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a, b = make_clip(root / "a10.mp4", 10.0), make_clip(root / "b10.mp4", 10.0, mirror=True)
        compares, sides, ghosts = [], [], []
        for k in range(args.repeat):
            cache, result = root / f"cache{k}", root / f"r{k}.json"
            compares.append(_child(_COMPARE, str(a), str(b), str(result), str(cache), cwd=root))
            sides.append(_child(_REPLAY, str(result), str(root / f"side{k}.mp4"), str(cache),
                                "side", "yes", cwd=root))
            ghosts.append(_child(_REPLAY, str(result), str(root / f"ghost{k}.mp4"), str(cache),
                                 "ghost", "yes", cwd=root))
        compare, side, ghost = median_run(compares), median_run(sides), median_run(ghosts)
        memory = {}
        for seconds in (10.0, 60.0):
            la = make_clip(root / f"ma{seconds:.0f}.mp4", seconds)
            lb = make_clip(root / f"mb{seconds:.0f}.mp4", seconds, mirror=True)
            memory[seconds] = _child(_REPLAY, f"{la},{lb}", str(root / f"m{seconds:.0f}.mp4"),
                                     str(root / "mcache"), "side", "no", cwd=root)
    print(f"10 s 720p pair: comparison {compare['seconds']:.1f} s; replay side by side "
          f"{side['seconds']:.1f} s ({side['frames']} frames, {side['size_mb']:.1f} MB), "
          f"ghost {ghost['seconds']:.1f} s; notes {side['notes']}")
    for seconds, m in memory.items():
        print(f"memory, {seconds:.0f} s pair, no skeletons: {m['seconds']:.1f} s, "
              f"{m['frames']} frames, before {m['before_mb']:.0f} MB, peak {m['peak_mb']:.0f} MB")
    if args.write:
        lines = [machine_line() + ".", "",
                 "A 10 s 720p pair (bench/bench_dense_pose.py's clips: 720x1280, 30 frames/s, "
                 "B mirrored): the offline comparison in a fresh process (cold caches, no result "
                 "cache), then `write_replay` of its result in another (skeletons from the pose "
                 "cache the comparison filled; replay 720 px high, A's 30 frames/s, each measured "
                 "moment held 0.5 s). Memory: a 10 s and a 60 s pair rendered without a "
                 "comparison (linear map, no skeletons); before = resident size just before "
                 f"rendering. Median of {args.repeat} run(s).", "",
                 "| step | wall time | frames | file | peak memory (process) |",
                 "|---|---:|---:|---:|---:|",
                 f"| comparison (`viddiff compare --offline`) | {compare['seconds']:.1f} s "
                 "| – | – | – |"]
        for name, r in (("replay, side by side", side), ("replay, ghost", ghost)):
            lines.append(f"| {name} | {r['seconds']:.1f} s | {r['frames']} | "
                         f"{r['size_mb']:.1f} MB | {r['peak_mb']:.0f} MB |")
        for seconds, m in memory.items():
            lines.append(f"| replay of a {seconds:.0f} s pair, no skeletons | "
                         f"{m['seconds']:.1f} s | {m['frames']} | {m['size_mb']:.1f} MB | "
                         f"{m['peak_mb']:.0f} MB (before {m['before_mb']:.0f} MB) |")
        update_section("Aligned replay (bench/bench_replay.py)", "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
