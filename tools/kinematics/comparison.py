"""The comparison rule: when a measured difference between video A and video B gets a label,
and the sentence a coach reads about it.

With ``delta = value_a - value_b`` and combined uncertainty ``u = sqrt(u_a^2 + u_b^2)``, a label
``a``/``b`` is given only when ``|delta| > K_SIGMA * u`` (the *resolution*: what the pose
measurement can tell apart here) **and** ``|delta| >= min_effect`` (the smallest difference that
matters in practice: 5 degrees, 0.1 torso lengths, 10-15% of a duration or speed ...; see
:func:`decision_threshold`). ``K_SIGMA = 3``: an open-mode pass tests some fifty metrics per
stage, and at 2 sigma a couple of them would fire on noise alone. Otherwise the label is
``c``. Metrics that depend on which side is the person's left give ``c`` when the pose model
could not keep left and right apart (see ``PoseSequence.lr_agreement``).

The uncertainties come from :mod:`viddiff.tools.kinematics.uncertainty` (the pose model's
jitter). When the two videos see the body from clearly different directions
(:func:`viddiff.tools.viewpoint.view_difference` above ``VIEW_DIFFERENCE_WARN_DEG``), the
metric's measured cross-view error (:func:`cross_view_error`) is added to each value of a
metric read on the body's geometry, and the sentence says so; timing is not affected.
Same-view pairs keep the tight thresholds of the jitter alone.

Both videos are read on the same sides of the body, those both see
(:func:`viddiff.tools.kinematics.sides.choose_sides`): a two-sided metric combines only those,
and a one-sided metric is not measured in a video that hides its side.

Every :class:`Measurement` says where its values were read (``evidence_a``/``evidence_b``:
source frame numbers and times), so the frame a report shows is the frame a number came from.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from typing import Literal

from viddiff.tools.kinematics.movement import movement_of
from viddiff.tools.kinematics.registry import MetricSpec, get_metric
from viddiff.tools.kinematics.results import (
    Direction,
    Evidence,
    Kind,
    Label,
    Measurement,
    MetricValue,
)
from viddiff.tools.kinematics.sides import choose_sides, side_note
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.kinematics.uncertainty import mean_over_reps
from viddiff.tools.pose.plausibility import outside_picture
from viddiff.tools.pose.quality import person_problem
from viddiff.tools.pose.sequence import LANDMARK_INDEX, LR_AGREEMENT_MIN, PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.viewpoint import VIEW_DIFFERENCE_WARN_DEG, view_difference, views_unknown

__all__ = ["CROSS_VIEW_ERROR", "K_SIGMA", "LR_AGREEMENT_MIN", "capture_causes", "capture_error",
           "compare_metric", "compare_values", "cross_view_error", "decision_threshold",
           "format_value"]

#: A difference must exceed this many combined standard uncertainties to get a label a/b.
K_SIGMA = 3.0

#: Standard error one camera's view adds to a value when A and B are filmed from clearly
#: different directions, per kind, for metrics the measured table has no entry for: degrees
#: for angles, torso lengths for lengths, plain for ratios, a fraction of the value for
#: speeds. Pooled (RMS) over each kind's metrics in tools/data/cross_view_error.csv.
CROSS_VIEW_ERROR: dict[Kind, float] = {"angle": 8.7, "length": 0.19, "ratio": 0.21,
                                       "speed": 0.16, "time": 0.0, "count": 0.0}
#: A metric's own measured cross-view error is used, but never below this share of its
#: kind's pooled value: four views of one take are too few to call any metric view-proof.
CROSS_VIEW_FLOOR = 0.5
_CROSS_VIEW_TABLE = "cross_view_error.csv"


@functools.cache
def _per_metric_table(filename: str, column: str, pairs: str | None = None) -> dict[str, float]:
    """A shipped table of one measured error per metric (``tools/data/FILENAME``); with
    ``pairs``, only the metrics measured on at least one pair (that column above 0)."""
    text = resources.files("viddiff.tools").joinpath("data", filename).read_text(
        encoding="utf-8")
    return {row["metric"]: float(row[column]) for row in csv.DictReader(io.StringIO(text))
            if pairs is None or int(row[pairs]) > 0}


def _measured_cross_view() -> dict[str, float]:
    """Per-metric cross-view errors measured on the four synchronized views of one take at 30
    frames/s (``python -m bench.bench_cross_view --write``): each metric's standard deviation
    over the four views, which see the same performance."""
    return _per_metric_table(_CROSS_VIEW_TABLE, "cross_view_error")


_UNIT_TEXT: dict[str, str] = {"deg": "°", "TL": " torso lengths", "TL/s": " torso lengths/s",
                              "s": " s", "ratio": "", "reps": " repetitions"}


def decision_threshold(spec: MetricSpec, uncertainty: float, va: float, vb: float) -> float:
    """``|value_a - value_b|`` needed for a label a/b: ``K_SIGMA`` combined uncertainties, and
    at least the metric's smallest effect that matters (a fraction of the larger value when the
    metric's ``min_effect`` is relative)."""
    return max(K_SIGMA * uncertainty, _min_effect(spec, va, vb))


def _min_effect(spec: MetricSpec, va: float, vb: float) -> float:
    return spec.min_effect * max(abs(va), abs(vb)) if spec.relative else spec.min_effect


def format_value(value: float | None, unit: str) -> str:
    """``value`` with its unit as a statement shows it ("71°", "0.45 torso lengths", "n/a")."""
    if value is None:
        return "n/a"
    digits = 0 if unit in ("deg", "reps") else 2
    return f"{value:.{digits}f}{_UNIT_TEXT.get(unit, ' ' + unit)}"


def cross_view_error(spec: MetricSpec, value: float | None) -> float:
    """The standard error the viewpoint adds to ``value`` of ``spec`` (0 for timing): the
    metric's measured cross-view error (a sided variant takes its two-sided metric's), at
    least :data:`CROSS_VIEW_FLOOR` of its kind's pooled one; a fraction of the value for
    speeds."""
    if spec.space == "time" or value is None:
        return 0.0
    pooled = CROSS_VIEW_ERROR[spec.kind]
    base = spec.name.removesuffix("_left").removesuffix("_right") if spec.side else spec.name
    error = max(_measured_cross_view().get(base, pooled), CROSS_VIEW_FLOOR * pooled)
    return error * abs(value) if spec.kind == "speed" else error


def _evidence(pose: PoseSequence | None, rows: tuple[int, ...]) -> list[Evidence]:
    if pose is None:
        return []
    seen: dict[int, Evidence] = {}
    for row in rows:
        if 0 <= row < pose.n_frames:
            frame = pose.source_frame(row)
            seen.setdefault(frame, Evidence(source_frame=frame,
                                            timestamp_s=round(float(pose.timestamps[row]), 4)))
    return sorted(seen.values(), key=lambda e: e.source_frame)


def _reps_text(va: MetricValue, vb: MetricValue) -> str:
    if not (va.reps or vb.reps):
        return ""

    def part(v: MetricValue, name: str) -> str:
        return f"{v.reps} reps in {name}" if v.reps else f"one movement in {name}"
    return f" (mean per repetition: {part(va, 'A')}, {part(vb, 'B')})"


def compare_values(spec: MetricSpec, va: MetricValue, vb: MetricValue, direction: Direction,
                   stage: str | None = None,
                   lr_agreement: tuple[float, float] = (1.0, 1.0), *,
                   poses: tuple[PoseSequence | None, PoseSequence | None] = (None, None),
                   views_differ: bool = False,
                   capture_differs: frozenset[CaptureCause] = frozenset(),
                   k_sigma: float = K_SIGMA) -> Measurement:
    """Apply the decision rule to two measured values (see the module docstring).

    ``lr_agreement`` are the two poses' left/right label agreements: a metric that depends on
    which side is left gives ``c`` when either is below :data:`LR_AGREEMENT_MIN`. ``poses``
    turn the values' frame rows into evidence (source frames and times); ``views_differ``
    adds the cross-view error, ``capture_differs`` the capture error of each way the two were
    filmed differently (:func:`capture_causes`); ``k_sigma`` is the uncertainty multiple a
    difference must exceed (raised when many tests are made at once, as in open mode).
    """
    where = f" ({stage})" if stage else ""
    view_a = cross_view_error(spec, va.value) if views_differ else 0.0
    view_b = cross_view_error(spec, vb.value) if views_differ else 0.0
    capture = capture_error(spec, capture_differs) / math.sqrt(2) if capture_differs else 0.0
    unc_a = math.hypot(va.uncertainty, view_a, capture)
    unc_b = math.hypot(vb.uncertainty, view_b, capture)
    base = dict(metric=spec.name, stage=stage, value_a=va.value, value_b=vb.value, unit=spec.unit,
                direction=direction, uncertainty_a=unc_a, uncertainty_b=unc_b,
                n_frames_a=va.n_frames, n_frames_b=vb.n_frames,
                evidence_a=_evidence(poses[0], va.rows), evidence_b=_evidence(poses[1], vb.rows),
                reps_a=va.reps, reps_b=vb.reps, viewpoint_error=max(view_a, view_b))
    if va.value is None or vb.value is None:
        missing = " and ".join(v for v, m in (("A", va), ("B", vb)) if m.value is None)
        why = "; ".join(f"{v}: {m.note}" for v, m in (("A", va), ("B", vb)) if m.note) or \
            "the person or the landmarks it needs are not visible"
        return Measurement(**base, label="c",  # type: ignore[arg-type]
                           statement=f"{spec.label}{where}: not measurable in {missing} "
                                     f"({why})")
    unc = math.hypot(unc_a, unc_b)
    resolution = k_sigma * unc
    effect = _min_effect(spec, va.value, vb.value)
    threshold = max(resolution, effect)
    delta = va.value - vb.value
    numbers = (f"{spec.label}{where}: A {format_value(va.value, spec.unit)}, "
               f"B {format_value(vb.value, spec.unit)}{_reps_text(va, vb)}")
    size = format_value(abs(delta), spec.unit)
    resolves = f"the {format_value(resolution, spec.unit)} the pose measurement can resolve here"
    extra = [why for why, on in (("the different camera angles",
                                  views_differ and max(view_a, view_b) > 0),
                                 (f"filming {_capture_words(capture_differs)}",
                                  capture > 0)) if on]
    if extra:
        resolves += f" (including the error of {' and of '.join(extra)})"
    decided = dict(base, uncertainty=unc, threshold=threshold, resolution=resolution)
    unsure = [v for v, agree in zip("AB", lr_agreement, strict=True)
              if agree < LR_AGREEMENT_MIN]
    if spec.needs_sides and unsure:
        return Measurement(**decided, label="c",  # type: ignore[arg-type]
                           statement=f"{numbers}. Not decided: the pose model could not tell "
                           f"left from right reliably in {' and '.join(unsure)} (its labels "
                           f"agreed on {min(lr_agreement):.0%} of frames).")
    unalike = _timed_unalike(spec, va, vb, poses)
    if unalike:
        return Measurement(**decided, label="c",  # type: ignore[arg-type]
                           statement=f"{numbers}. Not compared: {unalike}.")
    if abs(delta) <= resolution or delta == 0:
        return Measurement(**decided, label="c",  # type: ignore[arg-type]
                           statement=f"{numbers}. No clear difference: the difference of "
                           f"{size} is within {resolves}.")
    if abs(delta) < effect:
        return Measurement(**decided, label="c",  # type: ignore[arg-type]
                           statement=f"{numbers}. No difference that matters: {size} is "
                           f"measurable but below the {format_value(effect, spec.unit)} that "
                           "counts in practice.")
    if _hangs_on_a_setting(va, vb, delta, resolution, effect):
        others = ", ".join(f"A {format_value(a, spec.unit)}, B {format_value(b, spec.unit)}"
                           for a, b in zip(va.at_other_settings, vb.at_other_settings,
                                           strict=True))
        return Measurement(**decided, label="c",  # type: ignore[arg-type]
                           statement=f"{numbers}. Not decided: the difference of {size} hangs "
                           f"on a threshold the measurement chooses; at the settings either "
                           f"side of it the values are {others}.")
    higher: Label = "a" if delta > 0 else "b"
    lower: Label = "b" if higher == "a" else "a"
    # name the video the statement is true of, in the words of the asked direction
    label, phrase = (higher, spec.more) if direction == "higher" else (lower, spec.less)
    margin = "well beyond" if abs(delta) >= 2 * resolution else "beyond"
    return Measurement(**decided, label=label,  # type: ignore[arg-type]
                       statement=f"{numbers}. {phrase[0].upper()}{phrase[1:]} in "
                       f"{label.upper()}: the difference of {size} is {margin} {resolves}.")


def _timed_unalike(spec: MetricSpec, va: MetricValue, vb: MetricValue,
                   poses: tuple[PoseSequence | None, PoseSequence | None]) -> str:
    """Why a time read per repetition in one clip and as one movement in the other is not one
    quantity ("" when it is, or when it cannot be told): the one-movement reading stands for
    a repetition only when that clip's movement is one whole repetition.

    Why: a walk has no rest between its steps, so whether they are found as repetitions hangs
    on small things. One recording of a walk was timed per step (0.38 s, three steps) and the
    same walk filmed smaller as one movement (2.77 s), and "the movement is faster in A" was
    stated on a copy that differs only in size."""
    if spec.space != "time" or (va.reps is None) == (vb.reps is None):
        return ""
    whole = 0 if va.reps is None else 1
    pose = poses[whole]
    if pose is None:
        return ""
    reps = movement_of(pose).reps
    if len(reps) == 1 and reps[0].complete:
        return ""
    timed, one = "BA"[whole], "AB"[whole]
    found = f"of {len(reps)} repetitions found, too few whole" if reps else \
        "no repetition found"
    return (f"{timed} is timed per repetition ({(va, vb)[1 - whole].reps}), {one} as one "
            f"movement ({found}), so the two times are not the same quantity")


def _hangs_on_a_setting(va: MetricValue, vb: MetricValue, delta: float, resolution: float,
                       effect: float) -> bool:
    """Whether a difference that is decided at the metric's own setting is not at one of its
    other settings (:attr:`MetricValue.at_other_settings`, compared setting by setting, by the
    same rule: beyond ``resolution`` and at least ``effect``, the same way round); False when
    the two values carry no common other settings."""
    others = va.at_other_settings, vb.at_other_settings
    if not others[0] or len(others[0]) != len(others[1]):
        return False
    sign = math.copysign(1.0, delta)
    return any((a - b) * sign <= resolution or (a - b) * sign < effect
               for a, b in zip(*others, strict=True))


def compare_metric(name: str, pose_a: PoseSequence, pose_b: PoseSequence,
                   segment_a: Segment | None = None, segment_b: Segment | None = None,
                   direction: Direction = "higher",
                   moment_rows: tuple[int, int] = (0, 0),
                   capture_differs: frozenset[CaptureCause] | None = None) -> Measurement:
    """Measure ``name`` on both videos and label which one the statement is more true of.

    ``direction`` says which sign of ``value_a - value_b`` makes the statement truer: "the
    squat is deeper" with ``thigh_angle_max`` is ``higher``; with ``hip_depth`` it is ``lower``.
    Segments are in pose frames (rows of the two sequences). ``moment_rows``: how many frames
    each video's segment boundaries may be off (their events' timing uncertainty); what the
    value does when they move that far is added to its uncertainty (:func:`at_moment`).
    ``capture_differs``: how the two were filmed differently (None: judged from the poses,
    :func:`capture_causes`).
    """
    spec = get_metric(name)
    sides = _pair_sides(pose_a, pose_b)
    va = at_moment(spec, pose_a, segment_a, sides, moment_rows[0])
    vb = at_moment(spec, pose_b, segment_b, sides, moment_rows[1])
    stage = segment_a.stage if segment_a is not None else None
    return _compare_pair(spec, va, vb, direction, stage, pose_a, pose_b, capture_differs)


def _pair_sides(pose_a: PoseSequence, pose_b: PoseSequence) -> tuple[str, ...] | None:
    """The sides a two-sided metric is read on in both videos (None when either clip follows
    no single person well enough to be measured)."""
    both_measurable = person_problem(pose_a) is None and person_problem(pose_b) is None
    return choose_sides(pose_a, pose_b) if both_measurable else None


def _compare_pair(spec: MetricSpec, va: MetricValue, vb: MetricValue, direction: Direction,
                  stage: str | None, pose_a: PoseSequence, pose_b: PoseSequence,
                  capture_differs: frozenset[CaptureCause] | None) -> Measurement:
    """:func:`compare_values` with what the two poses say about themselves: their left/right
    agreement, whether their views may differ (:func:`views_may_differ`), how they were
    filmed differently (judged from the poses when ``capture_differs`` is None)."""
    return compare_values(spec, va, vb, direction, stage,
                          (pose_a.lr_agreement, pose_b.lr_agreement), poses=(pose_a, pose_b),
                          views_differ=views_may_differ(pose_a, pose_b),
                          capture_differs=capture_causes(pose_a, pose_b)
                          if capture_differs is None else capture_differs)


def compare_over_repetitions(name: str, pose_a: PoseSequence, pose_b: PoseSequence,
                             spans_a: Sequence[Segment], spans_b: Sequence[Segment],
                             direction: Direction = "higher", stage: str | None = None,
                             moment_rows: tuple[int, int] = (0, 0),
                             capture_differs: frozenset[CaptureCause] | None = None) -> Measurement:
    """:func:`compare_metric` over the same phase of every repetition: "the knees cave in on
    the way down" on two clips of several squats reads each descent (A's k-th with B's k-th
    span in the lists) and compares the means, uncertain by the per-repetition uncertainty
    and the repetition-to-repetition spread (:func:`~viddiff.tools.kinematics.uncertainty.
    mean_over_reps`); the evidence is every repetition's frames."""
    spec = get_metric(name)
    sides = _pair_sides(pose_a, pose_b)

    def mean(pose: PoseSequence, spans: Sequence[Segment], shift: int) -> MetricValue:
        parts = [at_moment(spec, pose, span, sides, shift) for span in spans]
        good = [p for p in parts if p.value is not None]
        if len(good) < 2:
            return good[0] if good else (parts[0] if parts else
                                         MetricValue(None, 0.0, 0, spec.unit))
        per_rep = math.sqrt(sum(p.uncertainty ** 2 for p in good) / len(good))
        value, unc = mean_over_reps([float(p.value) for p in good  # type: ignore[arg-type]
                                     ], per_rep)
        return MetricValue(value, unc, sum(p.n_frames for p in good), good[0].unit,
                           rows=tuple(r for p in good for r in p.rows), reps=len(good))

    va, vb = mean(pose_a, spans_a, moment_rows[0]), mean(pose_b, spans_b, moment_rows[1])
    return _compare_pair(spec, va, vb, direction, stage, pose_a, pose_b, capture_differs)


def at_moment(spec: MetricSpec, pose: PoseSequence, segment: Segment | None,
              sides: tuple[str, ...] | None, shift: int) -> MetricValue:
    """``spec`` over ``segment``, its uncertainty widened by how much the value changes when
    the segment's boundaries move by ``shift`` frames either way (the segment widened and
    narrowed): a value read near a boundary that is itself uncertain is that much less
    certain. Half the spread of the three readings is added in quadrature."""
    value = measure_value(spec, pose, segment, sides)
    if segment is None or shift <= 0 or value.value is None or spec.space == "time":
        return value
    last = pose.n_frames - 1
    readings = [value.value]
    for d in (shift, -shift):
        start, end = max(0, segment.start - d), min(last, segment.end + d)
        if end < start:
            continue
        moved = measure_value(spec, pose, segment.model_copy(update={"start": start,
                                                                     "end": end}), sides)
        if moved.value is not None:
            readings.append(moved.value)
    moment = (max(readings) - min(readings)) / 2
    return replace(value, uncertainty=math.hypot(value.uncertainty, moment))


def measure_value(spec: MetricSpec, pose: PoseSequence, segment: Segment | None,
                  sides: tuple[str, ...] | None = None) -> MetricValue:
    """``spec`` on ``pose``, or no value (with the reason) when the clip does not follow one
    person well enough (:func:`viddiff.tools.pose.quality.person_problem`).

    ``sides`` restricts the body sides read (None: both): a bilateral metric combines only
    those, and a one-sided metric of a side this clip does not see is not measured here (the
    other clip keeps its value, so the statement says which video hides it)."""
    problem = person_problem(pose)
    if problem is not None:
        return MetricValue(None, 0.0, 0, spec.unit, note=problem)
    ctx = ClipContext.of(pose)
    if sides is not None:
        if spec.side is not None and spec.side not in sides:
            note = side_note(pose, spec.side)
            if note is not None:
                return MetricValue(None, 0.0, 0, spec.unit, note=note)
        elif tuple(sides) != ctx.sides:
            ctx = dataclasses.replace(ctx, sides=tuple(sides))
    return spec.compute(pose, ctx, segment)


#: Two videos are filmed differently when their frame heights, the person's size in the
#: frame or their pose rates differ by more than this factor.
CAPTURE_RATIO = 1.2
_CAPTURE_TABLE = "capture_error.csv"


#: What differs between two captures of one performance, each with its own measured error:
#: ``size`` the picture (its resolution, the person's size in it, so also its quality), ``rate``
#: the pose rate (frames read per second), ``sharpness`` how sharp the person's picture is at
#: the same size (one filmed out of focus or through a poorer lens), ``exposure`` how much
#: contrast it has (one filmed in poor light: dim, flat and noisy), ``framing`` whether the
#: picture cuts the body off (the feet below its edge in one video, not in the other).
CaptureCause = Literal["size", "rate", "sharpness", "exposure", "framing"]
CAPTURE_CAUSES: tuple[CaptureCause, ...] = ("size", "rate", "sharpness", "exposure", "framing")
#: Two clips whose sharpness (:mod:`viddiff.tools.pose.sharpness`) differs by more than this
#: factor were filmed at another sharpness: a 2-pixel blur of the shared clips makes it 1.4-2.1;
#: their other capture copies and the four views of one take stay within 1.2.
SHARPNESS_RATIO = 1.3
#: ... and more than this factor in contrast were filmed in other light: a copy three times
#: darker, with noise, reads 3.4-3.7; different scenes of these clips differ by up to 2.1.
EXPOSURE_RATIO = 2.5
#: A clip whose hands or feet are outside the picture on more than this share of its frames
#: is framed tighter than one where they are on fewer: the pose model reads the rest of the
#: body differently when a limb is cut off (the lunge clips cut at mid-shin read their trunk
#: leaning 5-10° further).
FRAMING_SHARE = 0.5


def _measured_capture(cause: CaptureCause) -> dict[str, float]:
    """Per-metric capture errors of one cause: how much the pose model's value changes when
    the same performance is filmed at another size or quality (``size``), frame rate
    (``rate``), sharpness (``sharpness``: blurred at the same size), light (``exposure``) or
    framing (``framing``: the feet cut off), measured on constructed copies of real clips with
    poses at 30 and 60 frames/s (``python -m bench.bench_capture_error --write``): the root
    mean square of (copy - original) over the pairs and rates, a systematic offset included.
    A metric measured on no pair (a cut-off copy does not measure what needs the feet) has no
    entry here, so :func:`capture_error` falls back to its kind's pooled error."""
    return _per_metric_table(_CAPTURE_TABLE, f"{cause}_error", f"{cause}_pairs")


@functools.cache
def _pooled_capture(cause: CaptureCause, kind: Kind) -> float:
    """One cause's capture error pooled (root mean square) over the measured metrics of a
    kind, for a metric the table has no measurement of (0 when none of the kind has one)."""
    from viddiff.tools.kinematics.registry import METRICS

    values = [v for name, v in _measured_capture(cause).items()
              if name in METRICS and METRICS[name].kind == kind]
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else 0.0


def capture_error(spec: MetricSpec, causes: frozenset[CaptureCause] = frozenset(CAPTURE_CAUSES)
                  ) -> float:
    """The standard deviation of the change in ``spec``'s value between two captures of one
    performance that differ by ``causes`` (the errors of independent causes in quadrature):
    the metric's measured error, else its two-sided form's, else its kind's pooled one."""
    base = spec.name.removesuffix("_left").removesuffix("_right")
    errors = []
    for cause in CAPTURE_CAUSES:
        if cause in causes:
            table = _measured_capture(cause)
            errors.append(table.get(spec.name, table.get(base, _pooled_capture(cause,
                                                                                spec.kind))))
    return math.hypot(*errors) if errors else 0.0


def _capture_words(causes: frozenset[CaptureCause]) -> str:
    """How the two were filmed differently, in words ("at another size or quality")."""
    words = {"size": "at another size or quality", "rate": "at another frame rate",
             "sharpness": "sharper or blurrier", "exposure": "in other light",
             "framing": "framed so that a hand or a foot is out of the picture in one"}
    return " and ".join(words[c] for c in CAPTURE_CAUSES if c in causes)


def capture_causes(pose_a: PoseSequence, pose_b: PoseSequence,
                   heights: tuple[float, float] | None = None) -> frozenset[CaptureCause]:
    """How A and B were filmed differently, for the capture error that applies (each cause
    differing by more than :data:`CAPTURE_RATIO`): ``size`` when the source videos' frame
    height (``heights``; else the poses' sampled height) or the person's size in the frame
    (median torso length over frame height) differ; ``rate`` when the poses were read at
    different rates; ``sharpness`` when the person's picture is clearly sharper in one
    (:data:`SHARPNESS_RATIO`); ``exposure`` when it has far more contrast in one
    (:data:`EXPOSURE_RATIO`); ``framing`` when a hand or a foot is out of the picture on
    most frames of one and not of the other (:data:`FRAMING_SHARE`). The rate counts: a clip
    filmed at 24 frames/s is read at 24 poses a second however high ``--pose-fps`` is, and
    the pose model's tracker smooths differently at another rate (a 7-frame stop at a
    lunge's turnaround read at 30 frames/s was no stop at 24); a clip filmed at 60 and one
    at 30 are both read at the default 30."""
    def ratio(x: float, y: float) -> float:
        return max(x, y) / min(x, y) if min(x, y) > 0 else 1.0

    def person_size(pose: PoseSequence) -> float:
        scale = ClipContext.of(pose).scale
        return (scale or 0.0) / max(pose.height, 1)

    h_a, h_b = heights or (float(pose_a.height), float(pose_b.height))
    causes: set[CaptureCause] = set()
    if ratio(h_a, h_b) > CAPTURE_RATIO or \
            ratio(person_size(pose_a), person_size(pose_b)) > CAPTURE_RATIO:
        causes.add("size")
    if pose_a.n_frames > 1 and pose_b.n_frames > 1 and \
            ratio(_mean_period(pose_a), _mean_period(pose_b)) > CAPTURE_RATIO:
        causes.add("rate")
    if math.isfinite(pose_a.sharpness) and math.isfinite(pose_b.sharpness) and \
            ratio(pose_a.sharpness, pose_b.sharpness) > SHARPNESS_RATIO:
        causes.add("sharpness")
    if math.isfinite(pose_a.contrast) and math.isfinite(pose_b.contrast) and \
            ratio(pose_a.contrast, pose_b.contrast) > EXPOSURE_RATIO:
        causes.add("exposure")
    if (cut_off_share(pose_a) > FRAMING_SHARE) != (cut_off_share(pose_b) > FRAMING_SHARE):
        causes.add("framing")
    return frozenset(causes)


_LIMB_ENDS = tuple(f"{side}_{part}" for side in ("left", "right")
                   for part in ("wrist", "ankle", "heel", "foot_index"))


def cut_off_share(pose: PoseSequence) -> float:
    """The share of the present frames in which a hand or a foot is outside the picture
    (:func:`~viddiff.tools.pose.plausibility.outside_picture`)."""
    def share() -> float:
        rows = pose.present
        if not rows.any():
            return 0.0
        out = outside_picture(pose)[rows][:, [LANDMARK_INDEX[n] for n in _LIMB_ENDS]]
        return float(out.any(axis=1).mean())

    # asked for by every metric a closed-mode comparison measures
    return pose.derived("cut_off_share", share)


def _mean_period(pose: PoseSequence) -> float:
    """Seconds per pose frame on average: a 48 frames/s clip read at 30 poses a second is read
    at uneven steps of one and two source frames, whose median (1/24 s) is not its rate."""
    return float(pose.timestamps[-1] - pose.timestamps[0]) / (pose.n_frames - 1)


def views_may_differ(pose_a: PoseSequence, pose_b: PoseSequence) -> bool:
    """Whether the cross-view error applies: the views differ (:func:`views_differ`), or
    they cannot be compared although both clips have 3-D landmarks (a facing angle that
    cannot be read in one of them, :func:`~viddiff.tools.viewpoint.views_unknown`), so they
    may differ by any angle. cam02's mirror, whose left and right labels agree on 56 % of its
    frames, read "the head juts further forward" from one take as if from one view."""
    return views_differ(pose_a, pose_b) or views_unknown(pose_a, pose_b)


def views_differ(pose_a: PoseSequence, pose_b: PoseSequence) -> bool:
    """Whether A and B see the body from clearly different directions (memoised per pair).

    A mirrored video counts as a different view: a horizontal flip turns the facing angle
    ``θ`` into ``-θ``, and on the four views of one take the model's errors for symmetric
    camera positions (cam03 and cam04, facing angles +43° and -41°) are not mirror images of
    each other."""
    def differ() -> tuple[PoseSequence, bool]:
        diff = view_difference(pose_a, pose_b)
        return pose_b, diff is not None and diff > VIEW_DIFFERENCE_WARN_DEG

    # keyed by B's identity; B is kept with the answer, so its id cannot be reused meanwhile
    return pose_a.derived(("views_differ", id(pose_b)), differ)[1]
