"""Metrics read at the events of each repetition: a value at its top or its bottom, and the
time of its way down and its way up.

Why a module of its own: these metrics do not reduce a signal over a stage, they read the
movement's structure (:mod:`viddiff.tools.kinematics.movement`): "the knees at the top" is the
knee angle at the moments the person stands between repetitions, "the chest at the bottom"
the shoulder height at each repetition's turnaround, "the descent" the time from a
repetition's start to its turnaround. Each repetition is read once and the repetitions are
averaged (:func:`viddiff.tools.kinematics.uncertainty.mean_over_reps`), so a clip with more
repetitions is not read as deeper or straighter; the frames read are the value's evidence.

Which moments are the top and the bottom follows the movement's direction: a movement that
lowers the hips (a squat, a push-up, a lunge) -- or just moves -- rests at its top (the rest
next to its ``start`` and ``end`` events) and turns at its bottom (the ``turnaround`` and the
stage around it); one that raises them (a jump, a rise onto the toes) turns at its top and
rests at its bottom. The way down is start to turnaround in the first case, turnaround to end
in the second.

Where a clip cuts into a repetition, the cut event is not an event of the movement (the clip's
first or last frame is): it is not read, and a phase it bounds is not timed. When nothing is
left, the value is ``None`` with the reason, never a number from part of a phase.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from viddiff.tools.kinematics.movement import Event, Movement, Repetition, movement_of
from viddiff.tools.kinematics.results import Kind, MetricValue
from viddiff.tools.kinematics.signals import ClipContext, Signal
from viddiff.tools.kinematics.uncertainty import (
    DEFAULT_NOISE,
    NOISE_FLOOR,
    aggregate,
    mean_over_reps,
    smooth,
)
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment

__all__ = ["at_events", "phase_time"]

Which = Literal["top", "bottom"]
Phase = Literal["descent", "ascent"]
Computer = Callable[[PoseSequence, ClipContext, Segment | None], MetricValue]

_UNIT: dict[str, str] = {"angle": "deg", "length": "TL"}


def _reps_in(movement: Movement, segment: Segment | None) -> tuple[Repetition, ...]:
    """The repetitions a stage belongs to: those whose span (start to end) overlaps the stage
    widened by one frame, so a rest right after a repetition belongs to it (all: no stage)."""
    if segment is None:
        return movement.reps
    lo, hi = segment.start - 1, segment.end + 1
    return tuple(r for r in movement.reps if r.start.row <= hi and r.end.row >= lo)


def _turn_inside(rep: Repetition, n_frames: int) -> bool:
    """Whether the turnaround is a moment of the clip, not its first or last frame (a clip cut
    at a turnaround may have missed the real one)."""
    return 0 < rep.turnaround.row < n_frames - 1


#: A start or end event is where the movement leaves rest by a tenth of its excursion, already
#: part-way down; the top is read in the rest next to it, at most this long (seconds): a longer
#: rest may hold other things (a step away, a reset of the feet).
REST_WINDOW_S = 0.5


def _moments(movement: Movement, k: int, which: Which, n_frames: int, period: float
             ) -> list[tuple[int, int]]:
    """The spans of rows (inclusive) where repetition ``k`` is at its top or its bottom (see
    the module docstring): its turnaround stage (``hold``), or the rest next to each of its
    start and end events that the clip shows (up to :data:`REST_WINDOW_S`, never into a
    neighbouring repetition)."""
    rep = movement.reps[k]
    turns_at_top = movement.direction == "raises the hips"
    if (which == "top") == turns_at_top:
        return [rep.hold] if _turn_inside(rep, n_frames) else []
    reach = max(1, round(REST_WINDOW_S / max(period, 1e-9)))
    spans = []
    if rep.starts_inside:
        floor = movement.reps[k - 1].end.row + 1 if k > 0 else 0
        spans.append((max(floor, rep.start.row - reach), rep.start.row))
    if rep.ends_inside:
        ceiling = movement.reps[k + 1].start.row - 1 if k + 1 < len(movement.reps) \
            else n_frames - 1
        spans.append((rep.end.row, min(ceiling, rep.end.row + reach)))
    return spans


def _no_movement(pose: PoseSequence, unit: str, what: str) -> MetricValue:
    why = "no person found" if not pose.present.any() else \
        f"no repetition was found, so there is no {what}"
    return MetricValue(None, 0.0, 0, unit, note=why)


def at_events(signal: Callable[[PoseSequence, ClipContext], Signal], which: Which,
              extreme: Literal["min", "max"], kind: Kind) -> Computer:
    """``signal`` at each repetition's top or bottom (the repetitions of the stage), averaged
    per repetition and then over repetitions.

    A moment is a span (:func:`_moments`), and the reading there its ``extreme`` -- the
    straightest knee at the top, the lowest chest at the bottom -- on the jitter model's fit
    (:func:`viddiff.tools.kinematics.uncertainty.aggregate`: refined between frames, uncertain
    by a fitted value's noise), so the frame of the reading is its evidence. Torso-normalised
    lengths add the scale's relative uncertainty."""
    unit = _UNIT[kind]

    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        movement = movement_of(pose)
        if not movement.reps:
            return _no_movement(pose, unit, f"{which} of a repetition")
        x, w = signal(pose, ctx)
        s = smooth(x, w, ctx.frame_period, NOISE_FLOOR[kind])
        sigma = max(DEFAULT_NOISE[kind] if s.sigma is None else s.sigma, NOISE_FLOOR[kind])
        chosen = set(_reps_in(movement, segment))
        values: list[float] = []
        uncs: list[float] = []
        rows: list[int] = []
        frames = 0
        for k, rep in enumerate(movement.reps):
            if rep not in chosen:
                continue
            readings = [aggregate(s, w, slice(a, b + 1), extreme, sigma, ctx.frame_period)
                        for a, b in _moments(movement, k, which, pose.n_frames,
                                             ctx.frame_period)]
            good = [(r.value, r) for r in readings if r.value is not None]
            if good:
                values.append(float(np.mean([v for v, _ in good])))
                uncs.append(float(np.mean([r.uncertainty for _, r in good])))
                rows += [row for _, r in good for row in r.rows]
                frames += sum(r.n_frames for _, r in good)
        if not values:
            return MetricValue(None, 0.0, 0, unit,
                               note=f"the {which} of a repetition is not in the clip (or the "
                                    "landmarks are not seen there)")
        value, unc = mean_over_reps(values, float(np.mean(uncs)))
        if kind == "length":
            unc = math.hypot(unc, value * ctx.scale_rel_unc)
        return MetricValue(value, unc, frames, unit, rows=tuple(sorted(set(rows))),
                           reps=len(values) if len(values) > 1 else None)

    return compute


def _phase_events(movement: Movement, rep: Repetition, phase: Phase, n_frames: int
                  ) -> tuple[Event, Event] | None:
    """The events that bound ``phase`` of ``rep``, or None when the clip cuts it."""
    towards = (phase == "descent") != (movement.direction == "raises the hips")
    if not _turn_inside(rep, n_frames):
        return None
    if towards:
        return (rep.start, rep.turnaround) if rep.starts_inside else None
    return (rep.turnaround, rep.end) if rep.ends_inside else None


def phase_time(phase: Phase) -> Computer:
    """Seconds of each repetition's way down (``descent``) or way up (``ascent``), averaged
    over the stage's repetitions whose phase the clip shows whole; uncertain by the two
    events' own timing uncertainties (in quadrature) and the rep-to-rep spread. Evidence: the
    two events of each timed repetition."""

    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        movement = movement_of(pose)
        if not movement.reps:
            return _no_movement(pose, "s", f"{phase} to time")
        values: list[float] = []
        uncs: list[float] = []
        rows: list[int] = []
        frames = 0
        for rep in _reps_in(movement, segment):
            bounds = _phase_events(movement, rep, phase, pose.n_frames)
            if bounds is None:
                continue
            a, b = bounds
            values.append(b.t - a.t)
            uncs.append(math.hypot(a.uncertainty_s, b.uncertainty_s))
            rows += [a.row, b.row]
            frames += b.row - a.row + 1
        if not values:
            cut = {"descent": "starts", "ascent": "ends"}[phase]
            if movement.direction == "raises the hips":
                cut = "ends" if cut == "starts" else "starts"
            return MetricValue(None, 0.0, 0, "s",
                               note=f"the clip {cut} mid-movement, so no {phase} is shown whole")
        value, unc = mean_over_reps(values, float(np.mean(uncs)))
        return MetricValue(value, unc, frames, "s", rows=tuple(sorted(set(rows))),
                           reps=len(values) if len(values) > 1 else None)

    return compute
