"""Open mode (and closed mode) on constructed copies of the real clips: issue 19's measure.

For every pair of :mod:`bench.open_mode_set` (original clip A against a copy B whose answer is
known by construction) this runs the offline engine at default settings through the library
(``viddiff.compare(..., engine="offline")``, which keeps no result cache) and scores only the
result it returns (:mod:`bench.open_mode_score`):

* **open mode** (``n_differences=5``, the CLI's ``--open 5``): the stated differences per
  pair; false statements on each control (goal 0); on each case whether the constructed
  difference is stated, and stated first, and what else is stated beside it;
* **closed mode**: a fixed set of statements per pair with the label a correct engine gives
  (the body's geometry and timing unchanged on controls; the constructed difference on
  cases). bench/bench_validation.py keeps the earlier validation set as it was;
* **pose-fps invariance**: the closed statements again at ``pose_fps=60`` on the pairs whose
  two clips are both at 60 frames/s (the source allows it), and every label that changes.

Copies are written once under ``--work`` and poses cached under ``--work``/cache, so a rerun
only compares. Writes bench/open_mode_results.json and the section "Open mode on constructed
copies (issue 19)" of bench/RESULTS.md (``--no-write``: print only).

Usage::

    python -m bench.bench_open_mode [--work DIR] [--pairs cam01/slow_1.5,mirror]
        [--cams 1,2] [--no-pose-fps] [--no-write]

A cold run of the whole set (4 clips, 41 pairs: writing the copies, every pose at 30 and 60
frames/s) took 5.5 minutes on 2 shared cores, a warm rerun 30 s; ``--cams 1`` (11 pairs) is
the quick subset.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.open_mode_score import (
    label_changes,
    score_closed,
    score_open,
    summarise_open,
)
from bench.open_mode_set import ACTION, Pair, available_cams, build
from bench.results import machine_line, update_section
from viddiff.graphs.context import default_cache_dir
from viddiff.tools.files import write_atomic

JSON_OUT = Path(__file__).with_name("open_mode_results.json")
SECTION = "Open mode on constructed copies (issue 19)"
OPEN_N = 5


def _context(cache: Path, pose_fps: float) -> Any:
    from viddiff.graphs.context import VidDiffContext

    return VidDiffContext(cache_dir=cache, pose_fps=pose_fps)


def run_open(pair: Pair, cache: Path, action: str = ACTION) -> dict[str, Any]:
    """Open mode on one pair: the result as the JSON ``--json`` writes."""
    from viddiff import compare

    result = compare(str(pair.original), str(pair.copy), action=action, n_differences=OPEN_N,
                     engine="offline", context=_context(cache, 30.0))
    return result.model_dump(mode="json")


def run_closed(pair: Pair, cache: Path, pose_fps: float, action: str = ACTION
               ) -> tuple[dict[str, str | None], int]:
    """Closed mode on one pair: statement -> label, and how many statements were not
    measurable (all of them: the engine followed no person, so a control's silence in open
    mode means nothing)."""
    from viddiff import compare

    statements = pair.statements
    result = compare(str(pair.original), str(pair.copy), action=action, differences=statements,
                     engine="offline", context=_context(cache, pose_fps))
    if len(result.differences) != len(statements):
        raise RuntimeError(f"{pair.name}: {len(result.differences)} answers for "
                           f"{len(statements)} statements")
    labels: dict[str, str | None] = {
        s: d.label for s, d in zip(statements, result.differences, strict=True)}
    return labels, sum(d.status == "not_measurable" for d in result.differences)


def summarise_closed(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    constructed = [r for r in rows if r["constructed"]]
    controls = [r for r in rows if not r["constructed"]]
    return {"statements": len(rows), "correct": sum(r["correct"] for r in rows),
            "constructed": len(constructed),
            "constructed_correct": sum(r["correct"] for r in constructed),
            "no_difference": len(controls),
            "false_differences": sum(not r["correct"] for r in controls)}


def by_variant(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """:func:`summarise_closed` per copy (``cam01/slow_1.5`` counts under ``slow_1.5``)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(str(r["pair"]).split("/")[-1], []).append(r)
    return {k: summarise_closed(v) for k, v in groups.items()}


def _frac(n: int, d: int) -> str:
    return "–" if d == 0 else f"{n}/{d}"


def markdown(report: Mapping[str, Any], *, about: str | None = None) -> str:
    """The RESULTS.md section: totals, then one line per pair, then closed mode and pose-fps
    (``about``: what the pairs are, in place of this bench's own sentence)."""
    s, c, p = report["open_summary"], report["closed_summary"], report["pose_fps"]
    lines = [
        machine_line() + f"; {report['seconds']:.0f} s for {len(report['open'])} pairs "
        "(copies and poses not yet cached under `--work` are made first; a warm rerun only "
        "compares).",
        "",
        about or ("Offline engine, default settings, `python -m bench.bench_open_mode`: A = a "
                  "clip re-encoded, B = a copy made from it (bench/open_mode_set.py says what "
                  "each copy may and may not change). Scored from the result JSON only "
                  "(bench/open_mode_score.py)."),
        "",
        f"**Open mode (`--open {OPEN_N}`)**: **{s['false_on_controls']}** false statements "
        f"over {s['control_pairs']} control pairs ({s['controls_with_false']} pairs with any; "
        f"goal 0); constructed difference stated on **{s['found']}/{s['case_pairs']}** cases, "
        f"stated first on {s['found_first']}/{s['case_pairs']}; "
        f"{s['false_beside_on_cases']} false statements beside them on the cases. "
        f"Pairs where closed mode could measure none of its statements (no person followed "
        f"well enough; a control's silence there proves nothing): "
        f"{', '.join(s['unmeasured_pairs']) or 'none'}.",
        "",
        "| pair | kind | stated | false | found | first | closed not measurable | "
        "stated differences (verdict) |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for o in report["open"]:
        said = "; ".join(f"{r['rank']}. {r['text']} → {r['label']} `{r['metric']}` "
                         f"({r['verdict']})" for r in o["stated"]) or "none"
        found = {True: "yes", False: "no"}.get(o.get("found"), "–")
        first = {True: "yes", False: "no"}.get(o.get("first"), "–")
        lines.append(f"| {o['pair']} | {o['kind']} | {o['n_stated']} | {o['n_false']} | "
                     f"{found} | {first} | {o['not_measurable'][0]}/{o['not_measurable'][1]}"
                     f" | {said} |")
    lines += [
        "",
        f"**Closed mode**: {c['correct']}/{c['statements']} statements right; constructed "
        f"differences right on {c['constructed_correct']}/{c['constructed']}; "
        f"{c['false_differences']}/{c['no_difference']} no-difference statements got a or b.",
        "",
    ]
    lines += ["| copy | statements right | constructed right | no-difference given a/b |",
              "|---|---:|---:|---:|"]
    for variant, v in by_variant(report["closed"]).items():
        lines.append(f"| {variant} | {v['correct']}/{v['statements']} | "
                     f"{_frac(v['constructed_correct'], v['constructed'])} | "
                     f"{_frac(v['false_differences'], v['no_difference'])} |")
    lines.append("")
    wrong = [r for r in report["closed"] if not r["correct"]]
    if wrong:
        lines += ["Closed-mode answers that are wrong:", ""]
        lines += [f"- {r['pair']}: \"{r['statement']}\" → {r['label']} (expected "
                  f"{r['expected']})" for r in wrong]
        lines.append("")
    lines.append(f"**Pose-fps invariance** (closed statements at `--pose-fps 30` and `60`, "
                 f"{p['pairs']} pairs whose clips are both 60 frames/s, {p['statements']} "
                 f"statements): **{len(p['changes'])}** labels change.")
    if p["changes"]:
        lines += [""] + [f"- {x['pair']}: \"{x['statement']}\" {x['pose_fps_30']} → "
                         f"{x['pose_fps_60']}" for x in p["changes"]]
    lines += ["", READING]
    return "\n".join(lines)


#: How the figures are counted; written with them so a rerun keeps it.
READING = (
    "Counting: a statement is a difference answered a or b. On a control every statement is "
    "false except those its construction makes true: on a mirrored copy a sided statement "
    "(one side of the body: a mirror image swaps the sides, so it may be true and is not "
    "counted), on a copy with a still lead-in a whole-clip statement that B takes longer. On "
    "a case the constructed difference must be stated in its direction (slowed: B slower; "
    "paused: B pauses longer; played twice: B has more repetitions); a statement that B takes "
    "longer is also true of the paused copy (anywhere) and of the played-twice copy (whole "
    "clip only, not per stage); every other statement beside it is false. Closed mode: "
    "geometry and timing statements must be c on controls and unchanged geometry on cases; "
    "a lead-in's still second is not \"a longer pause\"; on the mirror each left/right pair "
    "must get opposite labels, as in the validation set above.")


def evaluate(pairs: Sequence[Pair], cache: Path, *, pose_fps_60: bool = True,
             actions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Open and closed mode on every pair, scored: the report :func:`markdown` reads (its
    ``seconds`` is the caller's to set, with what it spent making the copies). ``actions``
    names the action of each clip (:attr:`Pair.clip`) that is not the lunge's."""
    start = time.perf_counter()
    opened: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    at_30: dict[str, dict[str, str | None]] = {}
    at_60: dict[str, dict[str, str | None]] = {}
    for i, pair in enumerate(pairs, start=1):
        t0 = time.perf_counter()
        action = (actions or {}).get(pair.clip, ACTION)
        score = score_open(pair, run_open(pair, cache, action))
        opened.append(score)
        at_30[pair.name], unmeasured = run_closed(pair, cache, 30.0, action)
        score["not_measurable"] = [unmeasured, len(at_30[pair.name])]
        closed += score_closed(pair, at_30[pair.name])
        if pair.pose_fps_60 and pose_fps_60:
            at_60[pair.name] = run_closed(pair, cache, 60.0, action)[0]
        print(f"[{i}/{len(pairs)}] {pair.name}: {score['n_stated']} stated, "
              f"{score['n_false']} false{', found' if score.get('found') else ''} "
              f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    checked = [n for n in at_60 if n in at_30]
    return {
        "machine": machine_line(), "seconds": time.perf_counter() - start,
        "open": opened,
        "open_summary": {**summarise_open(opened), "unmeasured_pairs": [
            o["pair"] for o in opened if o["not_measurable"][0] == o["not_measurable"][1]]},
        "closed": closed, "closed_summary": summarise_closed(closed),
        "pose_fps": {"pairs": len(checked),
                     "statements": sum(len(at_60[n]) for n in checked),
                     "changes": label_changes(at_30, at_60)},
    }


def publish(report: dict[str, Any], start: float, *, write: bool, text: str | None = None,
            json_out: Path = JSON_OUT, section: str = SECTION,
            about: str | None = None) -> None:
    """Stamp ``report`` with the seconds since ``start``, print its markdown (or ``text`` after
    it, a reading of the figures) and, when ``write``, store the JSON and the section of
    bench/RESULTS.md: the end of this bench and of bench/bench_second_clip.py."""
    report["seconds"] = time.perf_counter() - start
    out = markdown(report, about=about) + (f"\n\n{text}" if text else "")
    print(out)
    if write:
        write_atomic(json_out, json.dumps(report, indent=1) + "\n")
        update_section(section, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path,
                        default=default_cache_dir() / "open_mode",
                        help="where the copies and the pose cache are written")
    parser.add_argument("--pairs", default="",
                        help="comma-separated pairs (cam01/slow_1.5), variants (mirror: every "
                             "clip's) or example_AB; default all")
    parser.add_argument("--cams", default="", help="comma-separated clip numbers (1-4)")
    parser.add_argument("--no-pose-fps", action="store_true",
                        help="skip the pose-fps 60 rerun of closed mode")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave RESULTS.md and the JSON alone")
    args = parser.parse_args(argv)
    cams = tuple(int(c) for c in args.cams.split(",") if c) or available_cams()
    if not cams:
        print("the demo clips are not in ../shared/data/clips", file=sys.stderr)
        return 2
    start = time.perf_counter()
    names = [n for n in args.pairs.split(",") if n] or None
    pairs = build(args.work, cams=cams, names=names)
    report = evaluate(pairs, args.work / "cache", pose_fps_60=not args.no_pose_fps)
    publish(report, start, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
