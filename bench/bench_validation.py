"""Sensitivity and false differences of the offline engine on the validation set.

Runs ``viddiff.compare(..., engine="offline")`` at default settings on every case of
:mod:`bench.validation_set` (the original clip against a variant whose answer is known by
construction) and reports, per metric the statements resolved to:

* **sensitivity**: constructed differences (slowed copies, inserted pauses, the mirror's
  left/right swap) found with the right label;
* **false differences**: no-difference statements labelled ``a`` or ``b``, counted separately
  for same-view cases (the goal is none) and cross-view cases (other cameras of the same
  take: the viewpoint case, reported with its count).

Writes ``bench/validation_results.json`` and a markdown table into bench/RESULTS.md (section
"Validation set"). Poses are cached under ``VIDDIFF_CACHE_DIR`` (default ~/.cache/viddiff) and
variants under ``--work`` so a rerun only compares.

Usage::

    python -m bench.bench_validation [--work DIR] [--only slow_1.5,fps_30]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.results import machine_line, update_section
from bench.validation_set import ACTION, Case, build, clips_present
from tests.support.validation import mirror_pair_found
from viddiff.graphs.context import default_cache_dir
from viddiff.tools.files import write_atomic

JSON_OUT = Path(__file__).with_name("validation_results.json")


def run_case(case: Case) -> list[dict[str, Any]]:
    """Compare one pair; one row per statement: label, expected, metric, values."""
    from viddiff import compare

    result = compare(str(case.original), str(case.variant), action=ACTION,
                     differences=case.statements, engine="offline")
    if len(result.differences) != len(case.statements):
        raise RuntimeError(f"{case.name}: {len(result.differences)} answers for "
                           f"{len(case.statements)} statements")
    rows = []
    for statement, diff in zip(case.statements, result.differences, strict=True):
        m = diff.measurements[0] if diff.measurements else None
        rows.append({"case": case.name, "view": case.view, "statement": statement,
                     "label": diff.label, "status": diff.status,
                     "metric": m.metric if m else "(not measurable)",
                     "value_a": m.value_a if m else None, "value_b": m.value_b if m else None,
                     "threshold": m.threshold if m else None, "reason": diff.reason})
    expected = {e.statement: e for e in case.expect}
    for row in rows:
        e = expected.get(row["statement"])
        if e is not None:
            row["expected"] = e.label
            row["constructed"] = e.constructed
            row["correct"] = row["label"] == e.label
    by_statement = {r["statement"]: r for r in rows}
    for left, right in case.mirror_pairs:
        pair = (by_statement[left]["label"], by_statement[right]["label"])
        ok = mirror_pair_found(*pair)
        for s in (left, right):
            by_statement[s].update(expected="opposite", constructed=True, correct=ok,
                                   pair=f"{pair[0]}/{pair[1]}")
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per metric: sensitivity (found/constructed) and false differences (same, cross)."""
    per: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {"found": [0, 0], "false_same": [0, 0], "false_cross": [0, 0]})
    for r in rows:
        if "expected" not in r:
            continue
        cell = per[r["metric"]]
        if r["constructed"]:
            cell["found"][0] += int(r["correct"])
            cell["found"][1] += 1
        else:
            key = "false_same" if r["view"] == "same" else "false_cross"
            cell[key][0] += int(r["label"] != "c")
            cell[key][1] += 1
    totals = {k: [sum(c[k][0] for c in per.values()), sum(c[k][1] for c in per.values())]
              for k in ("found", "false_same", "false_cross")}
    return {"per_metric": dict(sorted(per.items())), "totals": totals}


def _frac(pair: list[int]) -> str:
    return "–" if pair[1] == 0 else f"{pair[0]}/{pair[1]}"


def markdown(summary: dict[str, Any], rows: list[dict[str, Any]], seconds: float) -> str:
    t = summary["totals"]
    lines = [
        machine_line() + f"; {seconds:.0f} s for {len({r['case'] for r in rows})} cases, "
        "including writing the variants and computing every pose when the caches are cold "
        "(a rerun reuses both).",
        "",
        "Offline engine, default settings, `python -m bench.bench_validation`. A = cam01 "
        "re-encoded, B = a variant with a known answer (bench/validation_set.py).",
        "",
        f"Constructed differences found with the right label: **{_frac(t['found'])}**; "
        f"false differences on same-view no-difference cases: **{_frac(t['false_same'])}**; "
        f"on cross-view cases (other cameras of the take): **{_frac(t['false_cross'])}**.",
        "",
        "| metric | sensitivity | false diff. same view | false diff. cross view |",
        "|---|---:|---:|---:|",
    ]
    for metric, c in summary["per_metric"].items():
        lines.append(f"| `{metric}` | {_frac(c['found'])} | {_frac(c['false_same'])} | "
                     f"{_frac(c['false_cross'])} |")
    lines += ["", "Constructed differences, one by one:", "",
              "| case | statement | expected | got | metric | A | B | threshold |",
              "|---|---|---|---|---|---:|---:|---:|"]
    for r in rows:
        if r.get("constructed"):
            got = r.get("pair", r["label"])
            lines.append(
                f"| {r['case']} | {r['statement']} | {r['expected']} | {got} | "
                f"`{r['metric']}` | {_num(r['value_a'])} | {_num(r['value_b'])} | "
                f"{_num(r['threshold'])} |")
    wrong = [r for r in rows if r.get("constructed") is False and r["label"] != "c"]
    if wrong:
        lines += ["", "False differences:", ""]
        lines += [f"- {r['case']} ({r['view']} view): \"{r['statement']}\" → {r['label']} "
                  f"(`{r['metric']}` A {_num(r['value_a'])}, B {_num(r['value_b'])}, "
                  f"threshold {_num(r['threshold'])})" for r in wrong]
    lines += ["", READING]
    return "\n".join(lines)


#: How to read the table; written with it so a rerun keeps it.
READING = (
    "Reading: timing differences (slowed 1.25x and 1.5x, pauses of 0.3 s and 0.6 s) are found "
    "at default settings, and no same-view control (scaled, re-timed, rotation-flagged "
    "copies) gets a label. The mirrored copy is not counted as found: a horizontal flip turns "
    "the body's facing direction from θ to -θ, so the engine treats it as another viewpoint "
    "and adds each metric's measured cross-view error, and MediaPipe's single-view 3-D reading "
    "of the flipped frames really differs (the knee's most bent angle reads 138° vs 115° on "
    "the same side). Left/right swaps of 15-25° stay below those thresholds; the left-minus-"
    "right metric, which compares a clip's own sides, does label the swap "
    "(tests/test_offline.py::test_d_mirror_swaps_left_and_right). The cross-view pause that "
    "cam02 read until stop 27 (0.27 s where cam01 read none) came from a stillness threshold "
    "set by the speed signal's own scatter, which holds movement; stillness now takes the "
    "smaller of two readings of the jitter (tools/kinematics/holds.py), and "
    "tests/test_validation.py asks that both views get the same timing.")


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path,
                        default=default_cache_dir() / "validation",
                        help="where the variant clips are written")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave RESULTS.md and the JSON alone")
    args = parser.parse_args(argv)
    if not clips_present():
        print("the demo clips are not in ../shared/data/clips", file=sys.stderr)
        return 2
    start = time.perf_counter()
    names = tuple(n for n in args.only.split(",") if n) or None
    cases = build(args.work, names=names)
    rows: list[dict[str, Any]] = []
    for case in cases:
        t0 = time.perf_counter()
        rows += run_case(case)
        print(f"{case.name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    seconds = time.perf_counter() - start
    summary = summarise(rows)
    text = markdown(summary, rows, seconds)
    print(text)
    if not args.no_write:
        write_atomic(JSON_OUT, json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
        update_section("Validation set (known answers)", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
