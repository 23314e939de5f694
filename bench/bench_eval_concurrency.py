"""Eval throughput (samples/min) against ``--concurrency`` with a 1 s latency server.

Runs the viddiff method through the real ``viddiff eval`` command path (``async_run.run``,
``BenchmarkRunner``, the compiled graph, the real langchain-openai client) over a small fixture
benchmark in the VidDiffBench row schema: synthetic clips (tests/support/videos.py), two
distinct videos per sample, rows made by the eval tests' ``bench_row``. The local
OpenAI-compatible server adds ``--latency`` seconds to every reply. CLIP has random weights
(``--clip-pretrained none``), ``--localizer clip``, ``--no-kinematics``: no pose work, so what
is left is the LLM chain plus a little CLIP.

With one sample being a chain of dependent calls, samples/min should grow about linearly with
the concurrency until something shared saturates. Run: ``python -m bench.bench_eval_concurrency``
(``--no-write`` to leave bench/RESULTS.md alone).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.results import machine_line, update_section
from tests.support.benchmark import ANNOTATED, SCORED, bench_row, eval_args
from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
from tests.support.scripts import links_for, standard_script, verdict
from tests.support.videos import write_video
from viddiff.agent.cli.main import main as cli_main


def make_bench(root: Path, n: int) -> Path:
    """``n`` samples, each over its own two small synthetic clips (60 frames at 12 fps)."""
    videos = root / "videos"
    videos.mkdir(parents=True)
    rows = []
    for i in range(n):
        a = write_video(videos / f"s{i}_a.mp4", n_frames=60, fps=12, size=(96, 64))
        b = write_video(videos / f"s{i}_b.mp4", n_frames=48, fps=12, size=(96, 64))
        rows.append(bench_row(f"s{i}", "easy", [(a.name, [0, None], 12.0),
                                                (b.name, [0, None], 12.0)]))
    data = root / "bench.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


def routes() -> RouteBySchema:
    script = standard_script()
    script["LinkReply"] = links_for([ANNOTATED[k]["name"] for k in SCORED])  # type: ignore[index]
    script["Verdict"] = verdict("b", "B looks more so")
    return RouteBySchema({k: Reply.json(v) for k, v in script.items()})


def one_run(data: Path, work: Path, concurrency: int, latency: float, *extra: str,
            name: str | None = None) -> dict[str, Any]:
    """One ``viddiff eval`` over every sample in ``data`` (``extra``: more options) on fresh
    caches under ``work``; samples/min from the run's summary, and where its output is."""
    name = name or f"c{concurrency}"
    out = work / f"out_{name}"
    os.environ["VIDDIFF_CACHE_DIR"] = str(work / f"cache_{name}")  # nothing reused
    with FakeOpenAIServer(routes(), latency_s=latency) as srv:
        args = eval_args(data, out, srv.base_url, "--concurrency", str(concurrency),
                         "--no-kinematics", "--localizer", "clip", *extra, method="viddiff")
        args[args.index("--video-cache") + 1] = str(work / f"video_cache_{name}")
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli_main(args)
        wall = time.perf_counter() - t0
        calls = len(srv.requests)
    if code != 0:
        raise SystemExit(f"viddiff eval exited {code} at concurrency {concurrency} "
                         f"{' '.join(extra)}")
    run = json.loads((out / "summary.json").read_text())["run"]
    samples = run["samples_run"]
    return {"concurrency": concurrency, "samples": samples, "calls": calls, "wall": wall,
            "per_min": samples / wall * 60, "out": out}


def measure(levels: list[int], latency: float, per_level: int) -> list[dict[str, float]]:
    """Each level runs ``per_level * concurrency`` samples (at least 4), on fresh caches."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_JUDGE_MODEL"):
        os.environ.pop(var, None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n_max = max(4, per_level * max(levels))
        data = make_bench(root / "bench", n_max)
        lines = data.read_text().splitlines(keepends=True)
        warm = root / "bench" / "warm.jsonl"  # CLIP build and imports: start-up, not throughput
        warm.write_text(lines[0])
        one_run(warm, root / "warm", 1, 0.0)
        for c in levels:
            subset = root / "bench" / f"bench_c{c}.jsonl"
            subset.write_text("".join(lines[:max(4, per_level * c)]))
            row = one_run(subset, root / f"run_c{c}", c, latency)
            row.pop("out")
            print(f"concurrency {c}: {row['samples']} samples, {row['calls']} calls, "
                  f"{row['wall']:.1f} s, {row['per_min']:.1f} samples/min", flush=True)
            rows.append(row)
    return rows


def table(rows: list[dict[str, float]], before: list[dict[str, float]] | None = None) -> str:
    """One row per level; with ``before`` (an earlier run's rows), its samples/min beside."""
    base = rows[0]["per_min"]
    then = {r["concurrency"]: r for r in before or []}
    head = "| --concurrency | samples | model calls | wall | samples/min | vs 1 |"
    rule = "|---|---|---|---|---|---|"
    if then:
        head += " before: samples/min | before: vs 1 | after / before |"
        rule += "---|---|---|"
    lines = [head, rule]
    for r in rows:
        line = (f"| {r['concurrency']} | {r['samples']} | {r['calls']} | {r['wall']:.1f} s | "
                f"{r['per_min']:.1f} | {r['per_min'] / base:.2f}x |")
        old = then.get(r["concurrency"])
        if old is not None:
            first = before[0]["per_min"] if before else 1.0
            line += (f" {old['per_min']:.1f} | {old['per_min'] / first:.2f}x | "
                     f"{r['per_min'] / old['per_min']:.2f}x |")
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--per-level", type=int, default=2,
                        help="samples per unit of concurrency (default %(default)s)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--before", type=Path,
                        help="rows (--json) of an earlier run to compare against")
    parser.add_argument("--note", default="", help="a sentence to add below the table")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = measure(args.levels, args.latency, args.per_level)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    before = json.loads(args.before.read_text()) if args.before else None
    body = (f"{machine_line()}. Command: `python -m bench.bench_eval_concurrency --latency "
            f"{args.latency:g}`; `viddiff eval --method viddiff --mode closed --localizer clip "
            f"--no-kinematics --clip-pretrained none --fps 2` over synthetic clips, local "
            f"OpenAI-compatible server on 127.0.0.1 adding {args.latency:g} s to every reply.\n\n"
            f"{table(rows, before)}" + (f"\n\n{args.note}" if args.note else ""))
    print(body)
    if not args.no_write:
        update_section("Eval concurrency (bench/bench_eval_concurrency.py)", body)


if __name__ == "__main__":
    main()
