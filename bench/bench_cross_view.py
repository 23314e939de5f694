"""Cross-view error of every metric: how much one camera's viewpoint sways its value.

The four synchronized views of one take (../shared/data/clips, cam01..04) show the same
performance, so every difference between their values is the viewpoint's (plus jitter, which
is far smaller). Per metric, the standard deviation of the four views' values is its
cross-view error; the comparison rule adds it to each value when two videos see the body from
clearly different directions (:mod:`viddiff.tools.kinematics.comparison`).

    python -m bench.bench_cross_view [--write]

prints the table (per metric and pooled per kind) and with ``--write`` stores it in
tools/data/cross_view_error.csv, which the package reads. Sided variants (``_left``,
``_right``) share their two-sided metric's value; speeds are stored as a fraction of the value.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.results import machine_line, update_section
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.pose.extract import extract_video_pose
from viddiff.tools.video import plan_sampling
from viddiff.tools.viewpoint import view_difference

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"
TABLE = Path(__file__).resolve().parents[1] / "tools" / "data" / "cross_view_error.csv"


def measure_views(cache: Path) -> dict[str, tuple[str, float, float]]:
    """metric -> (kind, cross-view error, mean jitter uncertainty), two-sided metrics only."""
    poses = [extract_video_pose(plan_sampling(CLIPS / f"Demo_SinglePerson_cam0{c}.mp4", 30.0,
                                              1800, 448), cache) for c in (1, 2, 3, 4)]
    for i in range(4):
        for j in range(i + 1, 4):
            diff = view_difference(poses[i], poses[j])
            print(f"cam0{i + 1} vs cam0{j + 1}: facing directions {diff:.0f}° apart"
                  if diff is not None else f"cam0{i + 1} vs cam0{j + 1}: unknown")
    out: dict[str, tuple[str, float, float]] = {}
    for name, spec in METRICS.items():
        if spec.space == "time" or spec.side is not None:
            continue
        values = [spec.compute(p, ClipContext.of(p), None) for p in poses]
        v = np.array([m.value for m in values if m.value is not None], dtype=float)
        if v.size < 3:
            continue
        error = float(np.std(v, ddof=1))
        if spec.kind == "speed":
            error /= max(float(np.mean(np.abs(v))), 1e-9)
        out[name] = (spec.kind, error, float(np.mean([m.uncertainty for m in values])))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the table in {TABLE}")
    args = parser.parse_args(argv)
    if not (CLIPS / "Demo_SinglePerson_cam01.mp4").exists():
        print(f"real clips not found at {CLIPS}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        table = measure_views(Path(tmp))
    print(f"\n{'metric':34s} {'kind':6s} {'cross-view':>10s} {'jitter u':>9s}")
    for name, (kind, error, jitter) in sorted(table.items(), key=lambda kv: kv[1][0]):
        print(f"{name:34s} {kind:6s} {error:10.3f} {jitter:9.3f}")
    lines = [machine_line() + ".", "",
             "Per metric, the standard deviation of its value over the four synchronized views "
             "of one take (30 frames/s pose), against the jitter uncertainty of one value. The "
             "comparison adds the cross-view error only when two videos' facing directions "
             "are more than 30° apart (`tools/data/cross_view_error.csv`).", "",
             "| kind | pooled cross-view error | range over metrics | metrics | "
             "mean jitter uncertainty |", "|---|---:|---:|---:|---:|"]
    for kind in sorted({k for k, _, _ in table.values()}):
        errors = [e for k, e, _ in table.values() if k == kind]
        jitters = [j for k, _, j in table.values() if k == kind]
        pooled = math.sqrt(float(np.mean(np.square(errors))))
        unit = {"angle": "°", "length": " TL", "speed": " (fraction)"}.get(kind, "")
        print(f"pooled {kind}: {pooled:.3f} (range {min(errors):.3f}-{max(errors):.3f}, "
              f"{len(errors)} metrics)")
        lines.append(f"| {kind} | {pooled:.3g}{unit} | {min(errors):.3g}–{max(errors):.3g} | "
                     f"{len(errors)} | {float(np.mean(jitters)):.3g} |")
    if args.write:
        update_section("Cross-view error (bench/bench_cross_view.py)", "\n".join(lines))
    if args.write:
        with TABLE.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["metric", "kind", "cross_view_error"])
            for name, (kind, error, _) in sorted(table.items()):
                writer.writerow([name, kind, f"{error:.4f}"])
        print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
