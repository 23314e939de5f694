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

import numpy as np

from viddiff.tools.kinematics.filters import true_runs
from viddiff.tools.kinematics.signals import ClipContext, limb_landmarks, speed_signal
from viddiff.tools.kinematics.uncertainty import smooth
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

#: A blip inside a hold (:func:`_bridged`) moves at most this many times the stillness
#: threshold: the flicker of a held body read through compression, not a movement.
BLIP_FACTOR = 2.0


def stillness(pose: PoseSequence, ctx: ClipContext) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: whether the limbs are near still, and whether their speed is known. Still
    is a speed below 15% of the clip's 90th percentile, or below 2.5 times the speed jitter
    alone produces (the jitter model of :mod:`viddiff.tools.kinematics.uncertainty`),
    whichever is higher: at 30 frames/s the pose model's jitter would otherwise make a still
    body look as if it moved. Memoised per pose, as :func:`hold_weights` is: every average and
    every pause of a run reads it, and it reads all limbs whatever sides ``ctx`` allows."""
    def build() -> tuple[np.ndarray, np.ndarray]:
        speed, weights = speed_signal(pose, ctx, limb_landmarks(None), PAUSE_SPEED_SPAN_S)
        ok = np.isfinite(speed)
        if ok.sum() < 3:
            return np.zeros(pose.n_frames, dtype=bool), ok
        jitter = smooth(speed, weights, ctx.frame_period).sigma or 0.0
        threshold = max(0.15 * float(np.percentile(speed[ok], 90)), 2.5 * jitter)
        still = ok & (speed < threshold)
        return _bridged(still, ok & (speed < BLIP_FACTOR * threshold),
                        2 * max(1, round(PAUSE_SPEED_SPAN_S / ctx.frame_period))), ok

    return pose.derived(("stillness",), build)


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


def hold_weights(pose: PoseSequence, ctx: ClipContext) -> np.ndarray:
    """(T,) weights for an average over time: 1, and ``HOLD_WEIGHT_S / duration`` on each
    frame of a hold longer than :data:`HOLD_WEIGHT_S` (memoised per pose). A clip that is
    still throughout (a plank) is one hold: its frames weigh alike, so its averages do not
    change."""
    def build() -> np.ndarray:
        out = np.ones(pose.n_frames)
        if ctx.frame_period <= 0:
            return out
        cap = HOLD_WEIGHT_S / ctx.frame_period
        for first, stop in true_runs(stillness(pose, ctx)[0]):
            if stop - first > cap:
                out[first:stop] = cap / (stop - first)
        return out

    return pose.derived(("hold_weights",), build)
