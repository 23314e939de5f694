"""Capture error of every metric: how much the pose model's value moves when the SAME
performance is filmed at another size, quality or frame rate.

Method. For each real clip (the four views of ../shared/data/clips) the original (re-encoded at
the pipeline's size, :mod:`bench.open_mode_set`) is paired with each of its capture-only copies
(:data:`bench.open_mode_set.CAPTURE_VARIANTS`: the picture at 60% of its size, shrunk to 60%
inside a black frame, half the source resolution with heavy compression, re-timed to 24
frames/s). The copy shows exactly the same performance, so whatever changes between the two
values is the capture's. Poses come from :func:`viddiff.tools.pose.extract.extract_video_pose`
at the engine's longer side (448 px) on the whole clips, at each pose rate of
:data:`POSE_RATES` (the default 30 frames/s and ``--pose-fps 60``: a denser sampling reads other
frames, so a small person's detections, the frames where the model loses them and the extremes
all change with it, and an error measured at one rate alone is too small at the other), and
each metric is measured on both with :func:`viddiff.tools.kinematics.comparison.compare_metric`
(no stage: the whole clip). Per metric, over every (pair, rate),

    capture_error = sqrt(mean((value_copy - value_original) ** 2))

in the metric's own unit (degrees, torso lengths, seconds, torso lengths/s ...), over the pairs
where both values exist; ``n_pairs`` says how many (pairs × rates; a copy on which no single
person is followed well enough, ``viddiff.tools.pose.quality.person_problem``, gives no value).
It is the root mean square of the change, not its spread about the mean: a systematic offset
(the person further away reads a little differently) is as much an error of the other capture
as its scatter is. The printout shows the mean change beside it. Sided metrics are measured
as they are (left and right separately). A metric with fewer than 3 pairs gets no row.
Mirrored copies are not capture changes (they swap the sides) and a lead-in changes the clip's
timing, so neither is used.

    python -m bench.bench_capture_error [--work DIR] [--write]

prints the table and with ``--write`` stores it in tools/data/capture_error.csv (columns
metric, capture_error, n_pairs) and a summary in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.open_mode_set import CAPTURE_VARIANTS, available_cams, build
from bench.results import machine_line, update_section
from viddiff.graphs.context import default_cache_dir
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.pose.extract import extract_video_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.video import plan_sampling

TABLE = Path(__file__).resolve().parents[1] / "tools" / "data" / "capture_error.csv"
#: The pose rates the error is measured at: the engine's default and the denser one.
POSE_RATES = (30.0, 60.0)
MIN_PAIRS = 3


def _pose(path: Path, cache: Path, rate: float) -> PoseSequence:
    """The pose the engine reads at ``rate`` (its cache: ``cache_dir/pose``, 448 px)."""
    return extract_video_pose(plan_sampling(path, rate, 1800, 448), cache / "pose",
                              max_side=448)


def measure(work: Path, cams: tuple[int, ...]) -> dict[str, list[float]]:
    """metric -> value_copy - value_original over every (clip, capture copy) pair and pose
    rate."""
    pairs = build(work, cams=cams, names=CAPTURE_VARIANTS)
    cache = work / "cache"
    changes: dict[str, list[float]] = defaultdict(list)
    for rate in POSE_RATES:
        poses: dict[Path, PoseSequence] = {}
        for i, pair in enumerate(pairs, start=1):
            if pair.original not in poses:
                poses[pair.original] = _pose(pair.original, cache, rate)
            copy = _pose(pair.copy, cache, rate)
            for name in METRICS:
                m = compare_metric(name, poses[pair.original], copy)
                if m.value_a is not None and m.value_b is not None \
                        and math.isfinite(m.value_a) and math.isfinite(m.value_b):
                    changes[name].append(float(m.value_b - m.value_a))
            print(f"[{i}/{len(pairs)}] {pair.name} at {rate:g} frames/s", file=sys.stderr,
                  flush=True)
    return dict(changes)


def table(changes: dict[str, list[float]]) -> list[tuple[str, float, int, float]]:
    """(metric, capture error, n_pairs, mean change), metrics with enough pairs, by name."""
    rows = []
    for name, d in sorted(changes.items()):
        if len(d) >= MIN_PAIRS:
            v = np.asarray(d, dtype=float)
            rows.append((name, float(np.sqrt(np.mean(np.square(v)))), int(v.size),
                         float(np.mean(v))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path,
                        default=default_cache_dir() / "open_mode",
                        help="where the copies and the pose cache are written")
    parser.add_argument("--cams", default="", help="comma-separated clip numbers (1-4)")
    parser.add_argument("--write", action="store_true", help=f"store the table in {TABLE}")
    args = parser.parse_args(argv)
    cams = tuple(int(c) for c in args.cams.split(",") if c) or available_cams()
    if not cams:
        print("the demo clips are not in ../shared/data/clips", file=sys.stderr)
        return 2
    rows = table(measure(args.work, cams))
    print(f"\n{'metric':34s} {'capture err':>11s} {'n':>3s} {'mean change':>11s}")
    for name, error, n, mean in rows:
        print(f"{name:34s} {error:11.4f} {n:3d} {mean:11.4f}")
    if args.write:
        with TABLE.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["metric", "capture_error", "n_pairs"])
            for name, error, n, _ in rows:
                writer.writerow([name, f"{error:.4f}", n])
        print(f"wrote {TABLE}")
        _write_summary(rows, len(cams))
    return 0


def _write_summary(rows: list[tuple[str, float, int, float]], n_clips: int) -> None:
    lines = [machine_line() + ".", "",
             f"Per metric, the root mean square of value(copy) − value(original) over "
             f"{n_clips} clips × {len(CAPTURE_VARIANTS)} capture-only copies "
             f"({', '.join(CAPTURE_VARIANTS)}), whole clips, pose at "
             f"{' and '.join(f'{r:g}' for r in POSE_RATES)} frames/s "
             "(`python -m bench.bench_capture_error --write`, "
             "`tools/data/capture_error.csv`).", "",
             "| kind | pooled capture error (RMS over metrics) | range | metrics | "
             "largest |", "|---|---:|---:|---:|---|"]
    by_kind: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for name, error, _, _ in rows:
        by_kind[METRICS[name].kind].append((name, error))
    for kind, items in sorted(by_kind.items()):
        errors = [e for _, e in items]
        top = max(items, key=lambda x: x[1])
        lines.append(f"| {kind} | {math.sqrt(float(np.mean(np.square(errors)))):.3g} | "
                     f"{min(errors):.3g}–{max(errors):.3g} | {len(items)} | "
                     f"`{top[0]}` {top[1]:.3g} |")
    update_section("Capture error (bench/bench_capture_error.py)", "\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
