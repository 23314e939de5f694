"""Cold vs warm ``viddiff compare --offline`` (fresh processes), and what they import.

A warm run (same videos, same settings, caches filled) should decode nothing and run no pose:
its wall time is compared with the cold run's in one invocation (the ratio is what to read on a
shared machine). Each run also reports whether torch, open_clip or matplotlib were imported
(the offline path needs none of them). ``--report`` adds the HTML report to both runs.

Run: ``python -m bench.bench_warm`` (writes its section of bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import machine_line, update_section
from tests.support.videos import CLIPS_DIR

WRAPPER = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('HEAVY=' + ','.join(m for m in ('torch', 'open_clip', "
    "'matplotlib') if m in sys.modules), file=sys.stderr))\n"
    "from viddiff.agent.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n")


def run(a: Path, b: Path, cache: Path, out: Path, report: bool) -> tuple[float, str]:
    args = ["compare", str(a), str(b), "--offline", "--action", "a lunge",
            "--difference", "the knees bend more", "--json", str(out / "r.json"), "--quiet"]
    if report:
        args += ["--report", str(out / "r.html")]
    env = {**os.environ, "VIDDIFF_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], env=env, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"compare failed: {done.stderr[-2000:]}")
    heavy = next((line.split("=", 1)[1] for line in done.stderr.splitlines()
                  if line.startswith("HEAVY=")), "?")
    return wall, heavy or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", type=Path, default=CLIPS_DIR / "Demo_SinglePerson_cam01.mp4")
    parser.add_argument("--b", type=Path, default=CLIPS_DIR / "Demo_SinglePerson_cam02.mp4")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for report in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            cache, out = Path(tmp) / "cache", Path(tmp)
            cold, heavy_cold = run(args.a, args.b, cache, out, report)
            warm, heavy_warm = run(args.a, args.b, cache, out, report)
        rows.append((report, cold, warm, heavy_cold, heavy_warm))
    table = ("| run | cold wall | warm wall | warm / cold | heavy modules imported (cold / warm) |"
             "\n|---|---|---|---|---|\n")
    table += "\n".join(f"| offline{' + HTML report' if r else ''} | {c:.2f} s | {w:.2f} s | "
                       f"**{w / c:.2f}** | {hc} / {hw} |" for r, c, w, hc, hw in rows)
    body = (f"{machine_line()}. Command: `python -m bench.bench_warm`; clips {args.a.name} vs "
            f"{args.b.name}; each run a fresh process (start-up included), cold with an empty "
            f"cache folder, warm right after with the same one.\n\n{table}")
    print(body)
    if not args.no_write:
        update_section("Warm runs (bench/bench_warm.py)", body)


if __name__ == "__main__":
    main()
