"""The metric registry: what a metric is, how metrics are registered, looked up and measured.

Every metric is one entry of :data:`METRICS` (a :class:`MetricSpec`): a per-frame signal (a
joint angle, a normalised height or width, a speed; :mod:`viddiff.tools.kinematics.signals`)
reduced over a stage segment (or the whole clip) by an aggregate (min, max, mean, median,
range), registered with :func:`add` or :func:`add_bilateral` -- or a timing rule (durations,
pauses; :mod:`viddiff.tools.kinematics.timing`) registered with :func:`register`.

The definitions themselves live in :mod:`viddiff.tools.kinematics.catalogue`, which imports
this module for :class:`MetricSpec` and the helpers. Importing the catalogue from here at
import time would make the two modules import each other (whichever came first would see the
other half-built), so the dependency runs one way at import time and the catalogue is loaded on
first read instead: :data:`METRICS` is served by the module's ``__getattr__`` (PEP 562), and
:func:`get_metric`, :func:`list_metrics` and :func:`measure` go through the same loader. Every
reader therefore sees the whole catalogue, whichever module it imported first.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from viddiff.tools.kinematics.holds import THRESHOLD_SPREAD, hold_weights
from viddiff.tools.kinematics.movement import repetition_slices
from viddiff.tools.kinematics.results import Aggregate, Kind, MetricValue, Space
from viddiff.tools.kinematics.signals import (
    ClipContext,
    SideFn,
    Signal,
    bilateral,
    one_side,
    segment_slice,
)
from viddiff.tools.kinematics.uncertainty import (
    BOUNDARY_UNCERTAINTY_S,
    DEFAULT_NOISE,
    NOISE_FLOOR,
    Smoothed,
    aggregate,
    mean_over_reps,
    sampling_spread,
    smooth,
)
from viddiff.tools.pose.cuts import cut_frames
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment

Computer = Callable[[PoseSequence, ClipContext, Segment | None], MetricValue]


@dataclass(frozen=True)
class MetricSpec:
    """A named metric: what it measures, in which unit, how to phrase a difference in it.

    ``more``/``less`` complete "... in A" for the video with the higher/lower value, e.g.
    ``knee_angle_min``: more = "the knees stay straighter", less = "the knees bend more".
    ``min_effect`` is the smallest difference that matters in practice (absolute, or a fraction
    of the larger value when ``relative``; :mod:`viddiff.tools.kinematics.comparison` applies
    it). ``family`` groups metrics that say the same thing (sided variants, ...), so open mode
    proposes one per family. ``side`` marks left/right variants and ``proposable`` whether open
    mode may propose it at all. ``space`` says what the value is read on (see
    :mod:`viddiff.tools.kinematics.signals`): ``3d`` the world landmarks, ``3d_vertical`` the
    world landmarks against the estimated vertical, ``image`` the 2-D keypoints, ``time`` the
    timestamps; the description ends with a sentence saying so.
    """

    name: str
    unit: str
    kind: Kind
    label: str
    description: str
    more: str
    less: str
    min_effect: float
    family: str
    compute: Computer
    relative: bool = False
    num_frames: Literal["1", "gt_1"] = "1"
    side: Literal["left", "right"] | None = None
    proposable: bool = True
    lateral: bool = False
    space: Space = "image"
    #: How people say it, for the free-text reader (:mod:`viddiff.tools.understanding`): short
    #: phrases of body parts and property words, true of the video with the HIGHER value; a
    #: leading ``-`` marks one true of the LOWER value ("-heel planted"). Opposites come from the
    #: reader's grammar (negation, antonyms), so one phrase covers a statement and its mirror.
    phrases: tuple[str, ...] = ()
    #: The moment of each repetition the metric reads by construction (the top, the bottom,
    #: the way down or up: :mod:`viddiff.tools.kinematics.rep_events`), or None. A stage
    #: hint naming a moment then means every repetition's, not one stage's.
    moment: Literal["top", "bottom", "descent", "ascent"] | None = None

    @property
    def in_words(self) -> str:
        """The metric described once, for every reader: the measure tool's and the chat
        tool's descriptions, the model reader's prompt and docs/measurable.md all show this
        (label, what it measures, what a higher and a lower value look like)."""
        return (f"{self.label} [{self.unit}]: {self.description} Higher: {self.more}. "
                f"Lower: {self.less}.")

    @property
    def needs_sides(self) -> bool:
        """Whether the value depends on which side is the person's left (not just |L - R|)."""
        return self.side is not None or self.lateral


_METRICS: dict[str, MetricSpec] = {}
_CATALOGUE_MODULE = "viddiff.tools.kinematics.catalogue"

if TYPE_CHECKING:
    #: Every registered metric by name. Not a plain module attribute at run time: reading it
    #: goes through the module's ``__getattr__``, which loads the catalogue first.
    METRICS: dict[str, MetricSpec]


def _catalogue() -> dict[str, MetricSpec]:
    """The registry with the whole catalogue in it (imported on the first call; a no-op after)."""
    importlib.import_module(_CATALOGUE_MODULE)
    return _METRICS


def __getattr__(name: str) -> Any:
    if name == "METRICS":
        return _catalogue()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# Registration (used by the catalogue)
# --------------------------------------------------------------------------------------------


def register(spec: MetricSpec) -> None:
    """Add ``spec`` to the registry; a name may be registered only once."""
    if spec.name in _METRICS:  # pragma: no cover - registry bug
        raise ValueError(f"metric {spec.name!r} registered twice")
    _METRICS[spec.name] = spec


def _signal_metric(signal: Callable[[PoseSequence, ClipContext], Signal], agg: Aggregate,
                   kind: Kind) -> Computer:
    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        x, seen = signal(pose, ctx)
        holds_weigh_less = agg in ("mean", "median") and kind != "speed"  # a mean speed
        w = seen * hold_weights(pose, ctx) if holds_weigh_less else seen  # counts the stops
        smoothed = smooth(x, w, ctx.frame_period, NOISE_FLOOR[kind], breaks=cut_frames(pose))
        sigma = DEFAULT_NOISE[kind] if smoothed.sigma is None else smoothed.sigma
        sigma = max(sigma, NOISE_FLOOR[kind])
        boundary = 0.0 if segment is None else BOUNDARY_UNCERTAINTY_S
        reps = repetition_slices(pose) if segment is None and agg in ("min", "max", "range") \
            else ()
        if reps:
            value, unc, n, rows = _per_rep(smoothed, w, reps, agg, sigma, ctx.frame_period,
                                           lambda v, rep: sampling_spread(
                                               v, x, w, ctx.frame_period, NOISE_FLOOR[kind],
                                               rep, agg, sigma, cut_frames(pose)))
        else:
            reading = aggregate(smoothed, w, segment_slice(pose, segment), agg, sigma,
                                ctx.frame_period, boundary)
            value, unc, n, rows = reading.value, reading.uncertainty, reading.n_frames, \
                reading.rows
            if value is not None:
                unc = math.hypot(unc, sampling_spread(
                    value, x, w, ctx.frame_period, NOISE_FLOOR[kind],
                    segment_slice(pose, segment), agg, sigma, cut_frames(pose)))
            if value is not None and holds_weigh_less:
                unc = math.hypot(unc, _hold_spread(value, x, seen, pose, ctx, segment, agg,
                                                   kind, sigma, boundary))
        if value is not None and kind in ("length", "speed"):
            unc = math.hypot(unc, value * ctx.scale_rel_unc)
        return MetricValue(value, unc, n, _UNIT[kind], rows=rows,
                           reps=len(reps) if reps else None)

    return compute


def _hold_spread(value: float, x: np.ndarray, seen: np.ndarray, pose: PoseSequence,
                 ctx: ClipContext, segment: Segment | None, agg: Aggregate, kind: Kind,
                 sigma: float, boundary: float) -> float:
    """Half the range of an average that weighs holds less (:func:`~viddiff.tools.kinematics.
    holds.hold_weights`) read with the stillness threshold as it is and
    :data:`~viddiff.tools.kinematics.holds.THRESHOLD_SPREAD` times lower and higher.

    Why: a stretch that moves at about the threshold's speed (a slow turn after the last
    repetition) is a hold at one reading of the threshold and movement at another, and the
    weight it gets in the average jumps with it. Two recordings of one performance then
    differ in the average by far more than the pose jitter says (a jumping-jack clip re-timed
    from 30 to 24 frames/s, 0.22 torso lengths in the hands' average height); this term says
    how much the average rests on where the threshold falls, and is nothing where it does
    not matter."""
    readings = [value]
    for factor in (1 / THRESHOLD_SPREAD, THRESHOLD_SPREAD):
        w = seen * hold_weights(pose, ctx, factor)
        smoothed = smooth(x, w, ctx.frame_period, NOISE_FLOOR[kind], breaks=cut_frames(pose))
        other = aggregate(smoothed, w, segment_slice(pose, segment), agg, sigma,
                          ctx.frame_period, boundary)
        if other.value is not None:
            readings.append(other.value)
    return (max(readings) - min(readings)) / 2


def _per_rep(smoothed: Smoothed, w: np.ndarray, reps: tuple[slice, ...], agg: Aggregate,
             sigma: float, frame_period: float,
             spread: Callable[[float, slice], float]
             ) -> tuple[float | None, float, int, tuple[int, ...]]:
    """The mean over repetitions of each rep's extreme, uncertain by the jitter, by how much
    each extreme depends on the sampling (``spread(value, rep)``,
    :func:`~viddiff.tools.kinematics.uncertainty.sampling_spread`) and by the rep-to-rep
    spread (all over the square root of the number of reps)."""
    readings = [aggregate(smoothed, w, rep, agg, sigma, frame_period) for rep in reps]
    good = [(r, rep) for r, rep in zip(readings, reps, strict=True) if r.value is not None]
    if not good:
        return None, 0.0, 0, ()
    per_rep = [math.hypot(r.uncertainty, spread(r.value, rep)) for r, rep in good
               if r.value is not None]
    value, unc = mean_over_reps([r.value for r, _ in good if r.value is not None],
                                float(np.mean(per_rep)))
    rows = tuple(row for r, _ in good for row in r.rows)
    return value, unc, sum(r.n_frames for r, _ in good), rows


_UNIT: dict[str, str] = {"angle": "deg", "length": "TL", "ratio": "ratio", "time": "s",
                         "speed": "TL/s", "count": "reps"}
_MIN_EFFECT: dict[str, float] = {"angle": 5.0, "length": 0.1, "ratio": 0.1, "time": 0.1,
                                 "speed": 0.1, "count": 1.0}


#: The sentence each description ends with, saying what the value is read on (LLMs choosing a
#: metric and people reading the report should know which values the camera angle can sway).
_SPACE_NOTE: dict[str, str] = {
    "3d": "Read on the 3-D pose (little view dependence; 2-D image if the clip has none).",
    "3d_vertical": "Read on the 3-D pose against the vertical estimated from standing frames "
                   "(else the camera's; 2-D image if the clip has no 3-D pose).",
    "image": "Read in the image (2-D), so it depends on the viewpoint.",
    "time": "",
}


def described(description: str, space: Space) -> str:
    """``description`` followed by the sentence saying what ``space`` the value is read on."""
    note = _SPACE_NOTE[space]
    return f"{description} {note}" if note else description


def add(*, name: str, signal: Callable[[PoseSequence, ClipContext], Signal], agg: Aggregate,
        kind: Kind, label: str, description: str, more: str, less: str, family: str,
        side: Literal["left", "right"] | None = None, num_frames: Literal["1", "gt_1"] = "1",
        min_effect: float | None = None, relative: bool = False,
        proposable: bool = True, vertical: bool = False,
        phrases: tuple[str, ...] = ()) -> None:
    """Register a signal metric; angles are read in 3-D (``vertical``: against the estimated
    vertical), everything else in the image."""
    space: Space = ("3d_vertical" if vertical else "3d") if kind == "angle" else "image"
    register(MetricSpec(
        name=name, unit=_UNIT[kind], kind=kind, label=label,
        description=described(description, space), more=more, less=less, family=family,
        compute=_signal_metric(signal, agg, kind),
        min_effect=_MIN_EFFECT[kind] if min_effect is None else min_effect, relative=relative,
        num_frames=num_frames, side=side, proposable=proposable, space=space, phrases=phrases))


def add_bilateral(*, name: str, signal: SideFn, combine: str, agg: Aggregate, kind: Kind,
                  label: str, description: str, more: str, less: str, family: str,
                  sided: bool = True, num_frames: Literal["1", "gt_1"] = "1",
                  vertical: bool = False, phrases: tuple[str, ...] = ()) -> None:
    """Register the two-sided metric (``signal`` of both sides, per frame combined by
    ``combine``: mean, min, max or absdiff) and, when ``sided``, its ``_left``/``_right``
    variants."""
    add(name=name, signal=bilateral(signal, combine), agg=agg, kind=kind, label=label,
        description=description, more=more, less=less, family=family, num_frames=num_frames,
        vertical=vertical, phrases=phrases)
    if not sided:
        return
    sides: tuple[Literal["left", "right"], ...] = ("left", "right")
    for side in sides:
        add(name=f"{name}_{side}", signal=one_side(signal, side), agg=agg, kind=kind,
            label=f"{side} {label}", description=f"{description} Only the {side} side.",
            more=f"{more} on the {side} side", less=f"{less} on the {side} side",
            family=family, side=side, num_frames=num_frames, vertical=vertical, phrases=phrases)


def difference_metric(base: str) -> Computer:
    """``<base>_left - <base>_right`` with the two uncertainties combined."""

    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        if len(set(ctx.sides)) < 2:  # a side the comparison may not read
            return MetricValue(None, 0.0, 0, get_metric(f"{base}_left").unit)
        left = get_metric(f"{base}_left").compute(pose, ctx, segment)
        right = get_metric(f"{base}_right").compute(pose, ctx, segment)
        if left.value is None or right.value is None:
            return MetricValue(None, 0.0, 0, left.unit)
        return MetricValue(left.value - right.value, math.hypot(left.uncertainty,
                           right.uncertainty), min(left.n_frames, right.n_frames), left.unit,
                           rows=left.rows + right.rows, reps=left.reps)

    return compute


# --------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------


def list_metrics() -> list[str]:
    """Names of all registered metrics."""
    return list(_catalogue())


def get_metric(name: str) -> MetricSpec:
    metrics = _catalogue()
    try:
        return metrics[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(metrics)}") from None


def measure_metric(name: str, pose: PoseSequence, segment: Segment | None = None,
                   context: ClipContext | None = None) -> MetricValue:
    """Value of metric ``name`` on ``pose`` over ``segment`` (whole clip when None)."""
    spec = get_metric(name)
    return spec.compute(pose, context or ClipContext.of(pose), segment)


#: Words of a stage hint that name a moment of each repetition.
_MOMENT_WORDS = r"\b(top|bottom|turnaround|descent|ascent|down|up|lockout|lowering|rising)\b"


def reads_its_own_moment(metric: str, hint: str | None) -> bool:
    """Whether ``metric`` reads a moment of each repetition by construction (the knees at the
    top, the descent's time) and ``hint`` names a moment: then the hint is that moment of
    every repetition, which the metric reads itself, not one stage ("the descent is slower"
    on two clips of three squats times all three descents, not the first)."""
    spec = _catalogue().get(metric)
    return bool(spec is not None and spec.moment is not None and hint
                and re.search(_MOMENT_WORDS, hint.lower()))
