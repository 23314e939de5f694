"""Eval throughput (samples/min): the local runner against a local Ray instance.

The same fixture benchmark and scripted server as ``bench.bench_eval_concurrency`` (synthetic
clips, the viddiff method with random-weight CLIP, ``--no-kinematics``, every reply delayed by
``--latency`` s), run through the real ``viddiff eval`` command: once in this process
(``--concurrency C``) and once with ``--ray auto`` on a Ray instance started here with
``--cpus`` CPUs (one worker actor per CPU, ``C / workers`` samples each). The Ray wall time
includes starting the workers (each imports viddiff and builds its graph and CLIP) and their
first sample's warm-up, which a long benchmark run pays once; the rate between the first and
the last finished sample is the steady state.

Run: ``python -m bench.bench_ray`` (``--no-write`` to leave bench/RESULTS.md alone).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.bench_eval_concurrency import make_bench
from bench.bench_eval_concurrency import one_run as eval_run
from bench.results import machine_line, update_section


def one_run(data: Path, work: Path, concurrency: int, latency: float, *extra: str
            ) -> dict[str, Any]:
    """``bench_eval_concurrency.one_run``, plus where it ran, how long its workers took to
    start, and the rate between its first and last finished sample (the steady state)."""
    row = eval_run(data, work, concurrency, latency, *extra, name="run")
    out = row.pop("out")
    run = json.loads((out / "run.json").read_text())
    finished = sorted(datetime.fromisoformat(json.loads(line)["finished_at"]).timestamp()
                      for line in (out / "predictions.jsonl").read_text().splitlines())
    steady = (len(finished) - 1) / (finished[-1] - finished[0]) * 60 if len(finished) > 1 \
        else float("nan")
    return {**row, "ready": float(run.get("workers_ready_s") or 0.0), "steady": steady,
            "ran_on": run["ran_on"]}


def measure(levels: list[int], latency: float, per_level: int, cpus: int
            ) -> list[dict[str, Any]]:
    from viddiff.evals.cluster.connect import loopback_only

    loopback_only()
    import ray

    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_JUDGE_MODEL",
                "RAY_ADDRESS"):
        os.environ.pop(var, None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = make_bench(root / "bench", max(4, per_level * max(levels)))
        lines = data.read_text().splitlines(keepends=True)
        warm = root / "bench" / "warm.jsonl"
        warm.write_text(lines[0])
        one_run(warm, root / "warm", 1, 0.0)  # imports and CLIP in this process
        t0 = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=False)
        start = time.perf_counter() - t0
        try:
            for c in levels:
                subset = root / "bench" / f"bench_c{c}.jsonl"
                subset.write_text("".join(lines[:max(4, per_level * c)]))
                local = one_run(subset, root / f"local_c{c}", c, latency)
                remote = one_run(subset, root / f"ray_c{c}", c, latency, "--ray", "auto")
                for where, row in (("local", local), ("ray", remote)):
                    row.update(concurrency=c, where=where)
                    print(f"{where} concurrency {c}: {row['samples']} samples, "
                          f"{row['wall']:.1f} s, {row['per_min']:.1f} samples/min "
                          f"({row['ran_on']})", flush=True)
                    rows.append(row)
        finally:
            ray.shutdown()
    rows.append({"where": "ray start", "wall": start})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| --concurrency | ran on | samples | model calls | wall | of which starting "
             "workers | samples/min (wall) | samples/min, first to last finished sample |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["where"] == "ray start":
            continue
        lines.append(f"| {r['concurrency']} | {r['ran_on']} | {r['samples']} | {r['calls']} | "
                     f"{r['wall']:.1f} s | {r['ready']:.1f} s | {r['per_min']:.1f} | "
                     f"{r['steady']:.1f} |")
    start = next(r["wall"] for r in rows if r["where"] == "ray start")
    return "\n".join(lines) + f"\n\nStarting the local Ray instance itself: {start:.1f} s " \
                              "(not in the walls above)."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--per-level", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--note", default="")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = measure(args.levels, args.latency, args.per_level, args.cpus)
    body = (f"{machine_line()}. Command: `python -m bench.bench_ray --latency {args.latency:g} "
            f"--cpus {args.cpus}`; `viddiff eval --method viddiff --mode closed --localizer clip "
            f"--no-kinematics --clip-pretrained none --fps 2` over synthetic clips "
            f"({args.per_level} samples per unit of concurrency), local OpenAI-compatible "
            f"server on 127.0.0.1 adding {args.latency:g} s to every reply; fresh caches per "
            f"run; Ray wall times include starting the worker actors.\n\n{table(rows)}"
            + (f"\n\n{args.note}" if args.note else ""))
    print(body)
    if not args.no_write:
        update_section("Ray (bench/bench_ray.py)", body)


if __name__ == "__main__":
    main()
