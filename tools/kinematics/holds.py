"""Where the body holds still, and how much a hold may weigh in an average over time.

One definition of stillness serves two readers: the longest pause
(:func:`viddiff.tools.kinematics.timing.longest_pause`) is the longest run of still frames,
and an average over time (a ``mean`` or ``median`` metric: the hands' height on average, the
stance) counts each hold as if it lasted at most :data:`HOLD_WEIGHT_S`. An average answers
*where the body is during the movement*; a frame held 0.7 s at the bottom would make it
answer *how long the body stayed there*, which the pause already says -- a paused copy of a
lunge read "the hands are held lower on average" and "the upper arm tilts more" beside its
pause, both only the pause again.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from viddiff.tools.kinematics.filters import true_runs
from viddiff.tools.kinematics.signals import (
    ClipContext,
    joint_positions,
    limb_landmarks,
    speed_signal,
    speed_step,
)
from viddiff.tools.kinematics.uncertainty import frame_noise, smooth
from viddiff.tools.pose.sequence import PoseSequence

#: The speed stillness is read on is the change over this time (the central difference of the
#: default pose rate, 30 frames/s, and one over more frames at a denser rate): differences
#: over neighbouring frames are noisier the denser the pose rate, and the same stretch of a
#: movement would be still at one rate and moving at another.
PAUSE_SPEED_SPAN_S = 1 / 15

#: A hold counts in an average over time as if it lasted at most this long (seconds): about a
#: turnaround's natural stop, so an ordinary movement's average is unchanged and a longer hold
#: weighs no more than a brief one.
HOLD_WEIGHT_S = 0.2

#: How far the stillness threshold may be off, as a factor either way: the two readings of
#: the jitter (:func:`stillness`) differ by about this much on copies of one clip filmed at
#: another size or frame rate. An average that weighs holds less is read again with the
#: threshold this much lower and higher, and half the change is part of its uncertainty.
THRESHOLD_SPREAD = 1.25

#: A blip inside a hold (:func:`_bridged`) moves at most this many times the stillness
#: threshold: the flicker of a held body read through compression, not a movement.
BLIP_FACTOR = 2.0


#: A body is still when its limbs move slower than this many times the scatter of their speed
#: about its smoothed course ...
SCATTER_FACTOR = 2.5
#: ... or than this many times the speed that the landmarks' own jitter gives a still body
#: (:func:`jitter_speed`), whichever is smaller (:func:`stillness`). A still body's speed is
#: a mean of Rayleigh-distributed landmark steps: with a dozen independent landmarks it
#: stays under about 1.5 times its mean at three standard deviations, and their jitter is
#: partly shared, so a little more. (On clean copies of the pose2sim clips the first reading
#: came to 1.0-1.7 times the mean, so this one decides only where the scatter is inflated.)
STILL_JITTER_FACTOR = 1.7


def stillness(pose: PoseSequence, ctx: ClipContext, factor: float = 1.0
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: whether the limbs are near still, and whether their speed is known. Still
    is a speed below 15% of the clip's 90th percentile, or below what the pose model's jitter
    alone gives a still body, whichever is higher: at 30 frames/s the jitter would otherwise
    make a still body look as if it moved. Memoised per pose, as :func:`hold_weights` is:
    every average and every pause of a run reads it, and it reads all limbs whatever sides
    ``ctx`` allows.

    The jitter is read twice, as :data:`SCATTER_FACTOR` times the scatter of the speed about
    its smoothed course and as :data:`STILL_JITTER_FACTOR` times the speed the landmarks' own
    scatter gives a still body (:func:`jitter_speed`), and the smaller is used. Why: each
    scatter holds some of the movement as well as the jitter, and how much depends on the
    clip. A jumping-jack clip re-timed from 30 to 24 frames/s read a speed scatter 2.6 times
    the original's (the landmarks' scatter only 1.1 times), so on the speed scatter alone the
    slow turn at its end was still in the copy and moving in the original, and the hands'
    average height, which weighs holds less, differed by 0.22 torso lengths between two
    recordings of one performance.

    ``factor`` scales the threshold, for what rests on it to say how much it would change
    were the threshold a little off (:data:`THRESHOLD_SPREAD`)."""
    def build() -> tuple[np.ndarray, np.ndarray]:
        speed, weights = speed_signal(pose, ctx, limb_landmarks(None), PAUSE_SPEED_SPAN_S)
        ok = np.isfinite(speed)
        if ok.sum() < 3:
            return np.zeros(pose.n_frames, dtype=bool), ok
        # each reading of the jitter holds some of the movement as well, never less than
        # the jitter: the smaller of the two is the nearer
        scatter = smooth(speed, weights, ctx.frame_period).sigma or 0.0
        jitter = min(SCATTER_FACTOR * scatter, STILL_JITTER_FACTOR * jitter_speed(pose, ctx))
        threshold = factor * max(0.15 * float(np.percentile(speed[ok], 90)), jitter)
        still = ok & (speed < threshold)
        return _bridged(still, ok & (speed < BLIP_FACTOR * threshold),
                        2 * max(1, round(PAUSE_SPEED_SPAN_S / ctx.frame_period))), ok

    return pose.derived(("stillness", factor), build)


def jitter_step(pose: PoseSequence, ctx: ClipContext) -> float:
    """Mean distance (torso lengths) that pose jitter alone moves a limb landmark between two
    frames: the robust per-coordinate noise ``sigma`` of the limb landmarks (median over
    landmarks and axes); the distance between two independent noisy 2-D points is Rayleigh
    distributed with mean ``sigma * sqrt(pi)``."""
    if ctx.scale is None or pose.n_frames < 5:
        return 0.0
    pos = joint_positions(pose, limb_landmarks(None)) / ctx.scale
    ones = np.ones(pose.n_frames)
    sig = [s for j in range(pos.shape[1]) for c in range(2)
           if (s := frame_noise(pos[:, j, c], ones, ctx.frame_period)) is not None]
    if not sig:
        return 0.0
    return float(np.median(sig)) * math.sqrt(math.pi)


def jitter_speed(pose: PoseSequence, ctx: ClipContext) -> float:
    """The speed (torso lengths per second) that :func:`speed_signal` reads on a still body
    from the jitter alone: :func:`jitter_step` over the time between the two frames it
    differences (:data:`PAUSE_SPEED_SPAN_S` at the clip's rate)."""
    if ctx.frame_period <= 0:
        return 0.0
    step = speed_step(PAUSE_SPEED_SPAN_S, ctx.frame_period)
    return jitter_step(pose, ctx) / (2 * step * ctx.frame_period)


def _bridged(still: np.ndarray, slow: np.ndarray, most: int) -> np.ndarray:
    """``still`` with each brief blip inside a hold counted as still: a run of at most
    ``most`` moving frames between two still runs, every one of them ``slow``. A blip as
    long as the speed's own span (:data:`PAUSE_SPEED_SPAN_S`) moves the speed over twice
    that, so ``most`` is two spans. Why: a held
    body read through a compressed video flickers -- a re-encoded frame held 0.7 s read as
    two holds of 0.47 s and 0.13 s split by two frames just over the stillness threshold -- and
    a pause is how long the body stays put, not its longest flicker-free stretch. A real
    movement between two stops is either longer than the blip span or faster than a blip."""
    out = still.copy()
    runs = true_runs(still)
    for (_, stop), (first, _) in itertools.pairwise(runs):
        if first - stop <= most and bool(slow[stop:first].all()):
            out[stop:first] = True
    return out


def hold_weights(pose: PoseSequence, ctx: ClipContext, factor: float = 1.0) -> np.ndarray:
    """(T,) weights for an average over time: 1, and ``HOLD_WEIGHT_S / duration`` on each
    frame of a hold longer than :data:`HOLD_WEIGHT_S` (memoised per pose; ``factor`` as
    :func:`stillness` takes it). A clip that is still throughout (a plank) is one hold: its
    frames weigh alike, so its averages do not change."""
    def build() -> np.ndarray:
        out = np.ones(pose.n_frames)
        if ctx.frame_period <= 0:
            return out
        cap = HOLD_WEIGHT_S / ctx.frame_period
        for first, stop in true_runs(stillness(pose, ctx, factor)[0]):
            if stop - first > cap:
                out[first:stop] = cap / (stop - first)
        return out

    return pose.derived(("hold_weights", factor), build)
