"""Scoring of open-mode results on constructed pairs, from the result JSON alone.

The scorer knows nothing of how the engine works: it reads what ``viddiff compare --json``
writes (a :class:`~viddiff.graphs.schemas.ComparisonResult` as JSON) and what the pair's
construction makes true (:class:`bench.open_mode_set.Pair`). A *stated* difference is one
answered ``a`` or ``b``, in the order the result lists them (open mode ranks them).

Each stated difference is read as one :class:`Reading`:

* its **category**: ``reps`` (the number of repetitions), ``pause`` (time held still),
  ``timing`` (durations, tempo, speeds), ``depth`` (how deep the movement goes: the knees'
  deepest bend, the thighs' tilt, the hips' lowest point, the knees' and hips' range; see
  :data:`DEEPER_WHEN`) or ``geometry`` (everything else), from the metric's name and unit
  first and the words of the statement second, so a metric the engine adds later is still
  read;
* for the first four, **which video has more of it**: the slower one for timing, the one
  that pauses longer, the one with more repetitions, the one that goes deeper. From the
  measured values when there are any (seconds: the larger; a speed: the smaller; depth: as
  :data:`DEEPER_WHEN` says), else from the label and the statement's words ("slower",
  "faster", "more repetitions", "deeper", "shallower", ...);
* its **reach**, for a metric that is an extreme over the movement (a largest, a smallest or
  a range: :data:`EXTREME_WHEN`): the video whose value is the more extreme. A copy whose
  frames are a subset of the other's can only reach less far;
* whether it is **sided** (true of one side of the body: a mirror image swaps it) and whether
  it is about the **whole clip** (a measurement with no stage).

A stated difference is then ``target`` (it states the constructed difference), ``allowed``
(true of the pair, e.g. the total duration of a copy with a lead-in), or ``false``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from bench.open_mode_set import Category, Fact, Pair, Video

Verdict = Literal["target", "allowed", "false"]

_WHOLE_STAGES = ("", "whole", "whole clip", "all", "clip")
_SLOWER = re.compile(r"\b(slower|longer|takes? more time|more slowly|lasts? longer)\b")
_FASTER = re.compile(r"\b(faster|quicker|shorter|more quickly|takes? less time)\b")
_TIMING = re.compile(r"\b(slow\w*|fast\w*|quick\w*|tempo|duration|speed|takes? longer|"
                     r"time)\b")
_PAUSE = re.compile(r"\b(paus\w*|still(ness)?|holds? still)\b")
_REPS = re.compile(r"\b(rep|reps|repetitions?|cycles?)\b")
_MORE = re.compile(r"\b(more|longer|higher|greater)\b")
_LESS = re.compile(r"\b(fewer|less|shorter|lower)\b")
_SIDE = re.compile(r"\b(left|right)\b")
_DEEPER = re.compile(r"\b(deeper|go(es)? lower|drops? lower|bends? more|bent more)\b")
_SHALLOWER = re.compile(r"\b(shallower|less deep|stays? straighter|bends? less)\b")
#: Per category, the words that say the labelled video has more of it, and the opposite ones
#: (any other category: plain more/less).
_WORDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "depth": (_DEEPER, _SHALLOWER), "timing": (_SLOWER, _FASTER)}
_DEPTH_WORDS = re.compile(r"\b(deep\w*|shallow\w*|squat depth|knees? bend\w*|hips? (go|drop)"
                          r"\w*)\b")

#: Depth metrics and which value is the deeper one ("higher" or "lower"): the knees' deepest
#: bend (a smaller angle), the thighs' largest tilt, the hips' lowest height, the hips' most
#: flexed angle, the chest's lowest point, the knees' and hips' range of motion.
DEEPER_WHEN: dict[str, Literal["higher", "lower"]] = {
    "knee_angle_min": "lower", "thigh_angle_max": "higher", "hip_depth": "lower",
    "hip_angle_min": "lower", "chest_depth_bottom": "lower",
    "range_of_motion_knee": "higher", "range_of_motion_hip": "higher",
}
#: Metrics that are an extreme of a per-frame signal over the movement (the catalogue's
#: ``max``, ``min`` and ``range`` aggregates), and which value is the more extreme.
EXTREME_WHEN: dict[str, Literal["higher", "lower"]] = {
    **dict.fromkeys(("knee_angle_max", "hip_angle_max", "elbow_angle_max", "shoulder_angle_max",
                     "thigh_angle_max", "knee_raise_angle_max", "trunk_lean_max",
                     "stance_width_max", "hand_height_max", "knee_height_max",
                     "jump_height_proxy", "peak_speed_wrist", "peak_speed_ankle",
                     "heel_lift_max", "knee_valgus_max", "hip_shift_max",
                     "range_of_motion_knee", "range_of_motion_hip", "range_of_motion_elbow",
                     "range_of_motion_shoulder", "range_of_motion_trunk",
                     "range_of_motion_hand", "hip_sway"), "higher"),
    **dict.fromkeys(("knee_angle_min", "hip_angle_min", "elbow_angle_min", "hip_depth",
                     "hand_floor_height_min", "knee_width_ratio_min"), "lower"),
}


@dataclass(frozen=True)
class Reading:
    """What one stated difference says, in the scorer's terms (see the module docstring)."""

    text: str
    label: str
    metric: str
    category: Category
    video: Video | None
    sided: bool
    whole_clip: bool
    reach: Video | None = None


def stated(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The differences the result states: answered ``a`` or ``b``, in its order."""
    return [d for d in result.get("differences", [])
            if d.get("status", "answered") == "answered" and d.get("label") in ("a", "b")]


def _other(video: Video) -> Video:
    return "b" if video == "a" else "a"


def _metric_sided(metric: str, text: str) -> bool:
    """Whether the statement is about one side of the body (a mirror image swaps it)."""
    if metric:
        try:
            from viddiff.tools.kinematics.registry import get_metric

            return get_metric(metric).needs_sides
        except (KeyError, ValueError, ImportError):
            pass
        if metric.endswith(("_left", "_right")) or "left_minus_right" in metric:
            return True
    return bool(_SIDE.search(text.replace("left and right", "")))


def _base(metric: str) -> str:
    """The metric without a side suffix (``knee_angle_min_left`` -> ``knee_angle_min``)."""
    return re.sub(r"_(left|right)$", "", metric.lower())


def _category(metric: str, unit: str, text: str) -> Category:
    name = metric.lower()
    if _base(name) in DEEPER_WHEN or (not name and _DEPTH_WORDS.search(text)):
        return "depth"
    if "rep" in name.split("_") or "reps" in name or "repetition" in name or _REPS.search(text):
        return "reps"
    if "pause" in name or "still" in name or _PAUSE.search(text):
        return "pause"
    if unit == "s" or unit.endswith("/s") or any(w in name for w in ("duration", "speed",
                                                                       "tempo")) \
            or _TIMING.search(text):
        return "timing"
    return "geometry"


def _video_from_values(category: Category, unit: str, va: Any, vb: Any) -> Video | None:
    if not isinstance(va, int | float) or not isinstance(vb, int | float) or va == vb:
        return None
    more_b = vb > va
    if category == "timing" and unit.endswith("/s"):
        more_b = not more_b  # a speed: the slower video has the smaller value
    return "b" if more_b else "a"


def _more_extreme(way: Literal["higher", "lower"], va: Any, vb: Any) -> Video | None:
    """The video whose value lies further ``way`` (None without two different numbers)."""
    if not isinstance(va, int | float) or not isinstance(vb, int | float) or va == vb:
        return None
    return "b" if (vb > va) == (way == "higher") else "a"


def _video_from_words(category: Category, label: Video, text: str) -> Video | None:
    """The video a statement's words say is deeper / slower / has more (the labelled one),
    or the other one for the opposite words; None when neither is said."""
    more, less = _WORDS.get(category, (_MORE, _LESS))
    if more.search(text):
        return label
    if less.search(text):
        return _other(label)
    return None


def read(diff: Mapping[str, Any]) -> Reading:
    """One stated difference as a :class:`Reading`."""
    label: Video = "a" if diff.get("label") == "a" else "b"
    text = f"{diff.get('name', '')} {diff.get('description', '')}".lower()
    ms = diff.get("measurements") or []
    m: Mapping[str, Any] = ms[0] if ms else {}
    metric = str(m.get("metric") or "")
    unit = str(m.get("unit") or "")
    category = _category(metric, unit, text)
    video: Video | None = None
    va, vb = m.get("value_a"), m.get("value_b")
    if category == "depth" and _base(metric) in DEEPER_WHEN:
        video = _more_extreme(DEEPER_WHEN[_base(metric)], va, vb)
    elif category != "geometry" and m and _category(metric, unit, "") == category:
        video = _video_from_values(category, unit, va, vb)
    if category == "reps" and video is None and m.get("reps_a") != m.get("reps_b"):
        ra, rb = m.get("reps_a") or 1, m.get("reps_b") or 1
        video = "b" if rb > ra else "a"
    if category != "geometry" and video is None:
        video = _video_from_words(category, label, text)
    stage = m.get("stage") if m else None
    whole = bool(m) and str(stage or "").strip().lower() in _WHOLE_STAGES
    return Reading(text=str(diff.get("name") or diff.get("description") or ""), label=label,
                   metric=metric or "(none)", category=category, video=video,
                   sided=_metric_sided(metric, text), whole_clip=whole,
                   reach=_more_extreme(EXTREME_WHEN[_base(metric)], va, vb)
                   if _base(metric) in EXTREME_WHEN else None)


def _matches(reading: Reading, facts: Sequence[Fact]) -> bool:
    """Whether the reading states one of ``facts`` (a ``reach`` fact: any extreme that is
    more extreme in that video, whatever its category)."""
    return any((reading.reach == f.video if f.category == "reach" else
                reading.category == f.category and reading.video == f.video)
               and (reading.whole_clip or not f.whole_clip) for f in facts)


def verdict(pair: Pair, reading: Reading) -> Verdict:
    """``target``, ``allowed`` or ``false`` for one stated difference of ``pair``."""
    if _matches(reading, pair.target):
        return "target"
    if _matches(reading, pair.allowed):
        return "allowed"
    if pair.sided_allowed and reading.sided:
        return "allowed"
    return "false"


def score_open(pair: Pair, result: Mapping[str, Any]) -> dict[str, Any]:
    """One pair's open-mode score: every stated difference with its verdict, the number of
    false ones, and (for a case) whether the constructed difference is stated and first."""
    rows = []
    for rank, diff in enumerate(stated(result), start=1):
        reading = read(diff)
        rows.append({"rank": rank, **asdict(reading), "verdict": verdict(pair, reading)})
    verdicts = [r["verdict"] for r in rows]
    out: dict[str, Any] = {
        "pair": pair.name, "kind": pair.kind, "n_stated": len(rows),
        "n_false": verdicts.count("false"), "n_allowed": verdicts.count("allowed"),
        "stated": rows,
    }
    if pair.kind == "case":
        out["found"] = "target" in verdicts
        out["first"] = bool(verdicts) and verdicts[0] == "target"
    return out


def summarise_open(scores: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals: false statements on controls (goal 0), constructed differences found and found
    first, and statements beside them on cases that are not true of the pair."""
    controls = [s for s in scores if s["kind"] == "control"]
    cases = [s for s in scores if s["kind"] == "case"]
    return {
        "control_pairs": len(controls),
        "false_on_controls": sum(s["n_false"] for s in controls),
        "controls_with_false": sum(1 for s in controls if s["n_false"]),
        "case_pairs": len(cases),
        "found": sum(1 for s in cases if s["found"]),
        "found_first": sum(1 for s in cases if s["first"]),
        "false_beside_on_cases": sum(s["n_false"] for s in cases),
    }


def score_closed(pair: Pair, labels: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Closed mode: one row per asked statement with its expected label and whether the
    answer is right (a mirror pair is right when its two labels are opposite a/b)."""
    rows: list[dict[str, Any]] = []
    for e in pair.closed:
        got = labels.get(e.statement)
        rows.append({"pair": pair.name, "statement": e.statement, "expected": e.label,
                     "label": got, "constructed": e.constructed, "correct": got == e.label})
    for left, right in pair.mirror_pairs:
        got = f"{labels.get(left)}/{labels.get(right)}"
        ok = got in ("a/b", "b/a")
        rows.append({"pair": pair.name, "statement": f"{left} | {right}",
                     "expected": "opposite", "label": got, "constructed": True, "correct": ok})
    return rows


def label_changes(at_30: Mapping[str, Mapping[str, str | None]],
                  at_60: Mapping[str, Mapping[str, str | None]]) -> list[dict[str, Any]]:
    """Statements whose label differs between ``--pose-fps 30`` and ``60``, per pair
    (``{pair: {statement: label}}`` for each rate); pairs missing from either are skipped."""
    changes = []
    for pair, labels in at_30.items():
        other = at_60.get(pair)
        if other is None:
            continue
        for statement, label in labels.items():
            if statement in other and other[statement] != label:
                changes.append({"pair": pair, "statement": statement, "pose_fps_30": label,
                                "pose_fps_60": other[statement]})
    return changes
