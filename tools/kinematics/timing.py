"""Timing metrics: how long a stage or a movement takes, and the longest pause.

Unlike the signal metrics (a per-frame signal reduced by an aggregate), these read the sampled
frames' timestamps and the body's accumulated path directly, so they need rules of their own.
They hardly depend on the camera's viewpoint, which makes them the fairest comparison between
clips filmed differently. Each is a :data:`~viddiff.tools.kinematics.registry.Computer`;
:mod:`viddiff.tools.kinematics.catalogue` registers them.
"""

from __future__ import annotations

import math

import numpy as np

from viddiff.tools.kinematics.filters import true_runs
from viddiff.tools.kinematics.holds import PAUSE_SPEED_SPAN_S, jitter_step, stillness
from viddiff.tools.kinematics.movement import movement_of, repetition_slices
from viddiff.tools.kinematics.results import MetricValue
from viddiff.tools.kinematics.signals import (
    ClipContext,
    joint_positions,
    limb_landmarks,
    segment_slice,
)
from viddiff.tools.kinematics.uncertainty import (
    BOUNDARY_UNCERTAINTY_S,
    mean_over_reps,
)
from viddiff.tools.pose.cuts import cut_frames, take_slices
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment


def stage_duration(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    sl = segment_slice(pose, segment)
    n = sl.stop - sl.start
    if n <= 0:
        return MetricValue(None, 0.0, 0, "s")
    dt = ctx.frame_period
    ts = pose.timestamps
    duration = float(ts[sl.stop - 1] - ts[sl.start]) + dt
    rows = (sl.start, sl.stop - 1)
    if segment is None:  # the clip's own ends: only frame quantisation
        return MetricValue(duration, dt, n, "s", rows=rows)
    boundary = max(BOUNDARY_UNCERTAINTY_S, dt)
    return MetricValue(duration, math.sqrt(2) * boundary, n, "s", rows=rows)


def _path_steps(pose: PoseSequence, ctx: ClipContext) -> np.ndarray:
    """(T,) torso-normalised distance the limb landmarks moved since the previous frame
    (mean over landmarks seen in both frames; 0 at the first frame or when unknown)."""
    steps = np.zeros(pose.n_frames)
    if pose.n_frames < 2 or ctx.scale is None:
        return steps
    pos = joint_positions(pose, limb_landmarks(None)) / ctx.scale
    d = np.linalg.norm(np.diff(pos, axis=0), axis=2)
    seen = np.isfinite(d)
    count = seen.sum(axis=1)
    total = np.where(seen, d, 0.0).sum(axis=1)
    steps[1:] = np.where(count >= 3, total / np.maximum(count, 1), 0.0)
    steps[cut_frames(pose)] = 0.0  # the jump at a cut is the editor's, not the body's path
    return steps


def motion_duration(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    """Time to cover the middle 80% of the body's path; with repetitions (whole clip), the
    mean over reps, uncertain by the rep-to-rep spread as well; a clip with cuts and no
    repetitions to average, the mean over its takes (:func:`viddiff.tools.pose.cuts.
    take_slices`)."""
    steps = _path_steps(pose, ctx)
    floor = jitter_step(pose, ctx)
    reps = (repetition_slices(pose) or take_slices(pose)) if segment is None else ()
    if reps:
        per_rep = [_path_time(pose, steps, floor, rep, ctx.frame_period) for rep in reps]
        good = [m for m in per_rep if m.value is not None]
        if len(good) >= 2:
            value, unc = mean_over_reps([m.value for m in good if m.value is not None],
                                        ctx.frame_period)
            return MetricValue(value, unc, sum(m.n_frames for m in good), "s",
                               rows=tuple(r for m in good for r in m.rows), reps=len(good))
    sl = segment_slice(pose, segment) if segment is not None else _between_rests(pose, ctx)
    return _path_time(pose, steps, floor, sl, ctx.frame_period)


#: A still run at least this long before the movement starts (or after it ends) is a rest
#: that the movement's time is read from (or to): :func:`_between_rests`.
REST_S = 0.5


def _between_rests(pose: PoseSequence, ctx: ClipContext) -> slice:
    """The rows a whole clip's movement time is read on: from the end of the last rest of at
    least :data:`REST_S` that ends before the movement starts to the start of the first one
    that begins after it ends (the whole clip when there is none).

    Why: what happens before such a rest is not the movement -- a fidget, or the pose model
    settling on its first detection (cam02's copy with a still second in front of it drew 3.4
    torso lengths a second of motion in its first five frames, which put the 10 % mark of the
    path there and added the whole still second to the movement time). The movement's span
    itself only says which side of the rest the movement is on; reading the time on the span
    would make it hang on where the span's ends fall."""
    span = movement_of(pose).span()
    if span is None or ctx.frame_period <= 0:
        return slice(0, pose.n_frames)
    shortest = REST_S / ctx.frame_period
    rests = [(first, stop) for first, stop in true_runs(stillness(pose, ctx)[0])
             if stop - first >= shortest]
    start = max((stop for _, stop in rests if stop <= span[0] + 1), default=0)
    stop = min((first for first, _ in rests if first >= span[1]), default=pose.n_frames)
    # from the rest's last frame to the next rest's first: the steps into and out of it count
    return slice(max(start - 1, 0), min(stop + 1, pose.n_frames))


def _path_time(pose: PoseSequence, steps: np.ndarray, floor: float, sl: slice,
               frame_period: float) -> MetricValue:
    seg_steps = steps[sl.start + 1:sl.stop]  # movement between frames of the segment
    n = sl.stop - sl.start
    if n < 3 or seg_steps.sum() <= 0:
        return MetricValue(None, 0.0, n, "s")
    # jitter moves landmarks even when the body is still; remove that floor so still frames
    # do not stretch the movement time
    excess = np.maximum(seg_steps - floor, 0.0)
    if excess.sum() <= 0:
        return MetricValue(None, 0.0, n, "s")
    ts = pose.timestamps[sl]
    t10, t90 = _marks(excess, ts)
    rows = (sl.start + int(np.searchsorted(ts, t10)),
            sl.start + min(int(np.searchsorted(ts, t90)), n - 1))
    # a tracking glitch (a left/right swap across a blended frame, a limb thrown for a frame)
    # is path the body did not travel, and it moves the marks: read the time again with each
    # step capped at SPIKE_STEPS x the clip's 90th-percentile step, and count the whole
    # change as uncertainty: capping removes only part of a glitch (cam02's mirror read 1.05 s
    # against the original's 1.24 s; capped, 1.17 s), so half would understate it; a clean
    # clip's steps are under the cap and nothing changes
    cap = SPIKE_STEPS * float(np.percentile(excess, 90))
    c10, c90 = _marks(np.minimum(excess, cap), ts) if cap > 0 else (t10, t90)
    spread = abs((c90 - c10) - (t90 - t10))
    return MetricValue(t90 - t10, math.hypot(frame_period, spread), n, "s", rows=rows)


#: A path step more than this many times the clip's 90th-percentile step is read as a
#: possible tracking glitch for the movement time's uncertainty (:func:`_path_time`).
SPIKE_STEPS = 3.0


def _marks(steps: np.ndarray, ts: np.ndarray) -> tuple[float, float]:
    """Times at which 10 % and 90 % of the path ``steps`` (between the frames ``ts``) is
    covered."""
    cum = np.concatenate([[0.0], np.cumsum(steps)]) / steps.sum()
    return float(np.interp(0.1, cum, ts)), float(np.interp(0.9, cum, ts))


def longest_pause(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    """Longest run of near-still frames (:func:`~viddiff.tools.kinematics.holds.stillness`).

    Over the whole clip a pause is a stop *within* the movement (:func:`_within_movement`):
    standing still before the first repetition starts or after the last one ends is waiting,
    not a pause, so a clip with a longer still lead-in does not pause longer."""
    still_all, ok = stillness(pose, ctx)
    if ok.sum() < 3:
        return MetricValue(None, 0.0, int(ok.sum()), "s")
    sl = segment_slice(pose, segment) if segment is not None else \
        _within_movement(pose, ok & ~still_all, ctx.frame_period)
    n = int(ok[sl].sum())
    if n == 0:
        return MetricValue(None, 0.0, n, "s")
    runs = true_runs(still_all[sl])
    dt = ctx.frame_period
    if not runs:
        return MetricValue(0.0, dt, n, "s")
    first, stop = max(runs, key=lambda r: (r[1] - r[0], -r[0]))  # the longest, first of ties
    return MetricValue((stop - first) * dt, dt, n, "s",
                       rows=(sl.start + first, sl.start + stop - 1))


def _within_movement(pose: PoseSequence, moving: np.ndarray, frame_period: float) -> slice:
    """The rows from the movement's first start to its last end
    (:meth:`~viddiff.tools.kinematics.movement.Movement.span`; the whole clip when no movement
    clears the noise), to the clip's last frame when the clip ends in motion (its last
    :data:`PAUSE_SPEED_SPAN_S`, two frames at least, all moving): a clip cut while the body
    still moves has not come to its final rest, so a hold just before its end is inside the
    movement. Not so at the start: a body still in the first frames can read as moving there,
    while the pose model's tracker settles on it."""
    span = movement_of(pose).span()
    if span is None:
        return slice(0, pose.n_frames)
    need = max(2, round(PAUSE_SPEED_SPAN_S / frame_period))
    ends_moving = moving.size >= need and bool(moving[-need:].all())
    return slice(span[0], moving.size if ends_moving else span[1] + 1)
