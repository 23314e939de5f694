"""Cold vs warm ``viddiff compare --offline`` (fresh processes), and what they import.

A warm run (same videos, same settings, caches filled) should decode nothing and run no pose:
its wall time is compared with the cold run's in one invocation (the ratio is what to read on a
shared machine). Each run also reports whether torch, open_clip or matplotlib were imported
(the offline path needs none of them). ``--report`` adds the HTML report to both runs.

Run: ``python -m bench.bench_warm [--baseline-src OTHER/.mypy-src]`` (writes its section of
bench/RESULTS.md); with ``--baseline-src`` every run is also made, alternately, with the code
of another checkout (the "before" columns).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results import machine_line, source_prelude, update_section
from tests.support.videos import CLIPS_DIR

WRAPPER = (
    "import atexit, sys, types\n"
    "atexit.register(lambda: print('HEAVY=' + ','.join(m for m in ('torch', 'open_clip', "
    "'matplotlib') if type(sys.modules.get(m)) is types.ModuleType), file=sys.stderr))\n"
    "from viddiff.agent.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n")


def run(a: Path, b: Path, cache: Path, out: Path, report: bool,
        src: Path | None = None) -> tuple[float, str]:
    args = ["compare", str(a), str(b), "--offline", "--action", "a lunge",
            "--difference", "the knees bend more", "--json", str(out / "r.json"), "--quiet"]
    if report:
        args += ["--report", str(out / "r.html")]
    env = {**os.environ, "VIDDIFF_CACHE_DIR": str(cache)}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", source_prelude(src) + WRAPPER, *args], env=env,
                          capture_output=True, text=True, check=False, cwd=out)
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
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="the .mypy-src folder of a checkout to time as 'before'")
    parser.add_argument("--repeat", type=int, default=3,
                        help="cold+warm pairs per row and version; medians are reported")
    args = parser.parse_args()
    a, b = args.a.resolve(), args.b.resolve()
    versions = [None, args.baseline_src] if args.baseline_src else [None]
    rows = []
    for report in (False, True):
        timed: dict[Path | None, list[tuple[float, float, str, str]]] = {v: [] for v in versions}
        for _ in range(args.repeat):  # versions alternate, so load changes hit both alike
            for src in versions:
                with tempfile.TemporaryDirectory() as tmp:
                    cache, out = Path(tmp) / "cache", Path(tmp)
                    cold, heavy_cold = run(a, b, cache, out, report, src)
                    warm, heavy_warm = run(a, b, cache, out, report, src)
                timed[src].append((cold, warm, heavy_cold, heavy_warm))
        figures = [(statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs),
                    runs[-1][2], runs[-1][3]) for runs in timed.values()]
        rows.append((report, figures))
    head = "| run | cold wall | warm wall | warm / cold | heavy modules imported (cold / warm) |"
    if args.baseline_src:
        head += " before: cold | before: warm | before: warm / cold | before: heavy |"
    table = head + "\n|" + "---|" * (head.count("|") - 1) + "\n"
    lines = []
    for report, figures in rows:
        cells = [f"offline{' + HTML report' if report else ''}"]
        for c, w, hc, hw in figures:
            cells += [f"{c:.2f} s", f"{w:.2f} s", f"**{w / c:.2f}**", f"{hc} / {hw}"]
        lines.append("| " + " | ".join(cells) + " |")
    table += "\n".join(lines)
    before = (f" Before: the same runs with the code of `{args.baseline_src}` "
              "(`--baseline-src`), made alternately with the after runs."
              if args.baseline_src else "")
    body = (f"{machine_line()}. Command: `python -m bench.bench_warm`; clips {args.a.name} vs "
            f"{args.b.name}; each run a fresh process (start-up included), cold with an empty "
            f"cache folder, warm right after with the same one; medians of {args.repeat} such "
            f"pairs.{before}\n\n{table}")
    print(body)
    if not args.no_write:
        update_section("Warm runs (bench/bench_warm.py)", body)


if __name__ == "__main__":
    main()
