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

from viddiff.tools.kinematics.results import MetricValue
from viddiff.tools.kinematics.signals import (
    ClipContext,
    joint_positions,
    limb_landmarks,
    segment_slice,
    speed_signal,
)
from viddiff.tools.kinematics.uncertainty import BOUNDARY_UNCERTAINTY_S, frame_noise
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
    if segment is None:  # the clip's own ends: only frame quantisation
        return MetricValue(duration, dt, n, "s")
    boundary = max(BOUNDARY_UNCERTAINTY_S, dt)
    return MetricValue(duration, math.sqrt(2) * boundary, n, "s")


def _path_steps(pose: PoseSequence, ctx: ClipContext) -> np.ndarray:
    """(T,) torso-normalised distance the limb landmarks moved since the previous frame
    (mean over landmarks seen in both frames; 0 at the first frame or when unknown)."""
    steps = np.zeros(pose.n_frames)
    if pose.n_frames < 2 or ctx.scale is None:
        return steps
    pos = joint_positions(pose, limb_landmarks(None)) / ctx.scale
    d = np.linalg.norm(np.diff(pos, axis=0), axis=2)
    ok = np.isfinite(d).sum(axis=1) >= 3
    with np.errstate(invalid="ignore"):
        mean = np.where(ok, np.nanmean(np.where(np.isfinite(d), d, np.nan), axis=1), 0.0)
    steps[1:] = np.nan_to_num(mean)
    return steps


def motion_duration(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    sl = segment_slice(pose, segment)
    steps = _path_steps(pose, ctx)
    seg_steps = steps[sl.start + 1:sl.stop]  # movement between frames of the segment
    n = sl.stop - sl.start
    if n < 3 or seg_steps.sum() <= 0:
        return MetricValue(None, 0.0, n, "s")
    # jitter moves landmarks even when the body is still; remove that floor so still frames
    # do not stretch the movement time
    floor = _jitter_step(pose, ctx)
    excess = np.maximum(seg_steps - floor, 0.0)
    if excess.sum() <= 0:
        return MetricValue(None, 0.0, n, "s")
    cum = np.concatenate([[0.0], np.cumsum(excess)]) / excess.sum()
    ts = pose.timestamps[sl]
    t10 = float(np.interp(0.1, cum, ts))
    t90 = float(np.interp(0.9, cum, ts))
    return MetricValue(t90 - t10, ctx.frame_period, n, "s")


def _jitter_step(pose: PoseSequence, ctx: ClipContext) -> float:
    """Mean step length that pose jitter alone produces between two frames (torso lengths).

    The robust per-coordinate noise ``sigma`` of the limb landmarks (median over landmarks and
    axes); the distance between two independent noisy 2-D points is Rayleigh distributed with
    mean ``sigma * sqrt(pi)``.
    """
    if ctx.scale is None or pose.n_frames < 5:
        return 0.0
    pos = joint_positions(pose, limb_landmarks(None)) / ctx.scale
    ones = np.ones(pose.n_frames)
    sig = [s for j in range(pos.shape[1]) for c in range(2)
           if (s := frame_noise(pos[:, j, c], ones)) is not None]
    if not sig:
        return 0.0
    return float(np.median(sig)) * math.sqrt(math.pi)


def longest_pause(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    speed, _ = speed_signal(pose, ctx, limb_landmarks(None))
    ok = np.isfinite(speed)
    sl = segment_slice(pose, segment)
    n = int(ok[sl].sum())
    if ok.sum() < 3 or n == 0:
        return MetricValue(None, 0.0, n, "s")
    threshold = 0.15 * float(np.percentile(speed[ok], 90))
    still = ok[sl] & (speed[sl] < threshold)
    best = run = 0
    for s in still:
        run = run + 1 if s else 0
        best = max(best, run)
    dt = ctx.frame_period
    return MetricValue(best * dt, dt, n, "s")
