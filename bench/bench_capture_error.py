"""Capture error of every metric: how much the pose model's value moves when the SAME
performance is filmed at another size, quality, frame rate, sharpness, light or framing.

Method. For each real clip (the four views of ../shared/data/clips) the original (re-encoded at
the pipeline's size, :mod:`bench.open_mode_set`) is paired with each of its capture-only copies
(:data:`bench.open_mode_set.CAPTURE_VARIANTS`: the picture at 60% of its size, shrunk to 60%
inside a black frame, half the source resolution with heavy compression, re-timed to 24
frames/s, blurred at the same size, darker with noise, cut above the ankles). The copy shows
exactly the same performance, so whatever changes between the two values is the capture's.
Poses come from :func:`viddiff.tools.pose.extract.extract_video_pose` at the engine's longer
side (448 px) on the whole clips, at each pose rate of :data:`POSE_RATES` (the default 30
frames/s and ``--pose-fps 60``: a denser sampling reads other frames, so a small person's
detections, the frames where the model loses them and the extremes all change with it, and an
error measured at one rate alone is too small at the other), and each metric is measured on
both with :func:`viddiff.tools.kinematics.comparison.compare_metric` (no stage: the whole
clip). Per metric, over every (pair, rate),

    capture_error = sqrt(mean((value_copy - value_original) ** 2))

per cause (:data:`CAUSE_OF_VARIANT`): ``size`` over the copies whose picture differs (resized,
framed, half resolution and compressed), ``rate`` over the re-timed ones, so a pair filmed at
another frame rate carries the rate's error and not the picture's, ``sharpness`` over the
blurred ones, ``exposure`` over the darker ones, ``framing`` over the cut ones; in the metric's
own unit (degrees, torso lengths, seconds, torso lengths/s ...), over the pairs where both
values exist; ``n_pairs`` says how many (pairs × rates; a copy on which no single person is
followed well enough, ``viddiff.tools.pose.quality.person_problem``, gives no value). It is the
root mean square of the change, not its spread about the mean: a systematic offset (the person
further away reads a little differently) is as much an error of the other capture as its
scatter is. The printout shows the mean change beside it. Sided metrics are measured as they
are (left and right separately). A metric with fewer than 3 pairs gets no row. Mirrored copies
are not capture changes (they swap the sides) and a lead-in changes the clip's timing, so
neither is used.

    python -m bench.bench_capture_error [--work DIR] [--write]

prints the table and with ``--write`` stores it in tools/data/capture_error.csv (columns
metric, size_error, size_pairs, rate_error, rate_pairs, sharpness_error, sharpness_pairs,
exposure_error, exposure_pairs, framing_error, framing_pairs) and a summary in bench/RESULTS.md.
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
from viddiff.tools.kinematics.comparison import CAPTURE_CAUSES, CaptureCause, compare_metric
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.pose.extract import extract_video_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.video import plan_sampling

TABLE = Path(__file__).resolve().parents[1] / "tools" / "data" / "capture_error.csv"
#: The pose rates the error is measured at: the engine's default and the denser one.
POSE_RATES = (30.0, 60.0)
MIN_PAIRS = 3
#: Which way each capture-only copy was filmed differently (the causes of
#: :func:`viddiff.tools.kinematics.comparison.capture_causes`).
CAUSE_OF_VARIANT: dict[str, CaptureCause] = {
    "resized_0.6": "size", "framed_0.6": "size", "halfres_crf40": "size", "fps_24": "rate",
    "blurred_2": "sharpness", "dark_0.3": "exposure", "feet_cut": "framing"}


def _pose(path: Path, cache: Path, rate: float) -> PoseSequence:
    """The pose the engine reads at ``rate`` (its cache: ``cache_dir/pose``, 448 px)."""
    return extract_video_pose(plan_sampling(path, rate, 1800, 448), cache / "pose",
                              max_side=448)


def measure(work: Path, cams: tuple[int, ...]) -> dict[tuple[str, CaptureCause], list[float]]:
    """(metric, cause) -> value_copy - value_original over every (clip, capture copy) pair and
    pose rate."""
    pairs = build(work, cams=cams, names=CAPTURE_VARIANTS)
    cache = work / "cache"
    changes: dict[tuple[str, CaptureCause], list[float]] = defaultdict(list)
    for rate in POSE_RATES:
        poses: dict[Path, PoseSequence] = {}
        for i, pair in enumerate(pairs, start=1):
            if pair.original not in poses:
                poses[pair.original] = _pose(pair.original, cache, rate)
            copy = _pose(pair.copy, cache, rate)
            cause = CAUSE_OF_VARIANT[pair.name.split("/")[-1]]
            for name in METRICS:
                m = compare_metric(name, poses[pair.original], copy, capture_differs=frozenset())
                if m.value_a is not None and m.value_b is not None \
                        and math.isfinite(m.value_a) and math.isfinite(m.value_b):
                    changes[(name, cause)].append(float(m.value_b - m.value_a))
            print(f"[{i}/{len(pairs)}] {pair.name} at {rate:g} frames/s", file=sys.stderr,
                  flush=True)
    return dict(changes)


Row = tuple[str, dict[CaptureCause, tuple[float, int, float]]]


def table(changes: dict[tuple[str, CaptureCause], list[float]]) -> list[Row]:
    """Per metric (by name) and cause with enough pairs: (capture error, n_pairs, mean
    change)."""
    rows: dict[str, dict[CaptureCause, tuple[float, int, float]]] = defaultdict(dict)
    for (name, cause), d in sorted(changes.items()):
        if len(d) >= MIN_PAIRS:
            v = np.asarray(d, dtype=float)
            rows[name][cause] = (float(np.sqrt(np.mean(np.square(v)))), int(v.size),
                                 float(np.mean(v)))
    return sorted(rows.items())


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
    print(f"\n{'metric':34s} " + " ".join(f"{c + ' err':>10s} {'n':>3s} {'mean chg':>9s}"
                                          for c in CAPTURE_CAUSES))
    for name, by_cause in rows:
        cells = ["{:10.4f} {:3d} {:9.4f}".format(*by_cause[c]) if c in by_cause
                 else f"{'-':>24s}" for c in CAPTURE_CAUSES]
        print(f"{name:34s} " + " ".join(cells))
    if args.write:
        with TABLE.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["metric", *(f"{c}_{w}" for c in CAPTURE_CAUSES
                                         for w in ("error", "pairs"))])
            for name, by_cause in rows:
                row: list[str | int] = [name]
                for cause in CAPTURE_CAUSES:
                    error, n, _ = by_cause.get(cause, (0.0, 0, 0.0))
                    row += [f"{error:.4f}", n]
                writer.writerow(row)
        print(f"wrote {TABLE}")
        _write_summary(rows, len(cams))
    return 0


def _write_summary(rows: list[Row], n_clips: int) -> None:
    variants = {c: [v for v in CAPTURE_VARIANTS if CAUSE_OF_VARIANT[v] == c]
                for c in CAPTURE_CAUSES}
    lines = [machine_line() + ".", "",
             f"Per metric and cause, the root mean square of value(copy) − value(original) over "
             f"{n_clips} clips × the capture-only copies of that cause ("
             + "; ".join(f"{c}: {', '.join(v)}" for c, v in variants.items())
             + f"), whole clips, pose at {' and '.join(f'{r:g}' for r in POSE_RATES)} "
             "frames/s (`python -m bench.bench_capture_error --write`, "
             "`tools/data/capture_error.csv`). A pair filmed differently in a way gets that "
             "way's error (both: in quadrature).", "",
             "| cause | kind | pooled capture error (RMS over metrics) | range | metrics | "
             "largest |", "|---|---|---:|---:|---:|---|"]
    for cause in CAPTURE_CAUSES:
        by_kind: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for name, by_cause in rows:
            if cause in by_cause:
                by_kind[METRICS[name].kind].append((name, by_cause[cause][0]))
        for kind, items in sorted(by_kind.items()):
            errors = [e for _, e in items]
            top = max(items, key=lambda x: x[1])
            lines.append(f"| {cause} | {kind} | "
                         f"{math.sqrt(float(np.mean(np.square(errors)))):.3g} | "
                         f"{min(errors):.3g}–{max(errors):.3g} | {len(items)} | "
                         f"`{top[0]}` {top[1]:.3g} |")
    update_section("Capture error (bench/bench_capture_error.py)", "\n".join(lines))


if __name__ == "__main__":
    raise SystemExit(main())
