"""Where a clip's body jumps from one place to another between two frames: a cut.

An edited clip (two takes joined, or one take played twice) shows the person in one pose and,
one frame later, in another: every landmark moves at once, further than any body moves in a
frame. Nothing measured across that instant is real. A foot's "floor" taken from the frames
around it mixes two takes (the issue-19 copy played twice was read as a jump), a speed taken
by differences across it is the editor's, not the athlete's.

A step between two consecutive present frames is a **cut** when

* the median landmark moves at least :data:`CUT_MIN_TL` torso lengths, and faster than
  :data:`CUT_MIN_SPEED_TL_S` (the median over all landmarks: a fast limb moves a few of
  them, a cut moves all; at 10 frames/s a real jump covers 0.4 torso lengths in a step), and
* that is :data:`CUT_RATIO` times the median step of the frames before it and of those after
  it (within :data:`CUT_CONTEXT_S`, the busier side counting): a person who runs across the
  picture moves far every frame, a quick drop into a pause is fast on one side, a cut moves
  far once between two ordinary stretches.

Steps across missing frames are left to the track checks of
:mod:`viddiff.tools.pose.plausibility`; a swap of the left and right labels for a frame is not a
cut (the step is taken the smaller of as labelled and swapped).

The displacement of a cut does not shrink with a higher frame rate, while a real movement's
step does, so the same clip sampled at 30 or 60 frames/s finds the same cuts. On the four
views of the shared clip played twice the join moves the median landmark 0.66-1.14 torso
lengths, 13-28 times its neighbours; in the originals no step exceeds 0.08.

Frames between cuts form *runs* (:func:`continuous_runs`); signals that look at neighbouring
frames (a local floor, a speed) stay inside a run.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from viddiff.tools.pose.sequence import LANDMARK_INDEX, MIRROR_PERMUTATION, PoseSequence

#: The median landmark moves at least this many torso lengths in one step...
CUT_MIN_TL = 0.3
#: ...and at least this far in torso lengths per second of the step (about 7 m/s for the
#: whole body at once: at a low sampling rate a fast real movement covers 0.3 in one step)...
CUT_MIN_SPEED_TL_S = 15.0
#: ...and at least this many times the median step of the frames around it.
CUT_RATIO = 6.0
#: How far around a step (seconds, each way) its neighbours are taken.
CUT_CONTEXT_S = 0.25


def _median_steps(pose: PoseSequence, rows: np.ndarray) -> np.ndarray:
    """(len(rows) - 1,) median landmark displacement between consecutive present frames, in
    torso lengths (the smaller torso of the two frames, so a shrinking figure cannot hide it)."""
    kp = pose.keypoints[rows, :, :2].astype(np.float64)
    hips = (kp[:, LANDMARK_INDEX["left_hip"]] + kp[:, LANDMARK_INDEX["right_hip"]]) / 2.0
    shoulders = (kp[:, LANDMARK_INDEX["left_shoulder"]]
                 + kp[:, LANDMARK_INDEX["right_shoulder"]]) / 2.0
    torso = np.linalg.norm(shoulders - hips, axis=1)
    with np.errstate(invalid="ignore", divide="ignore", all="ignore"):
        scale = np.minimum(torso[1:], torso[:-1])
        # the smaller of the step as labelled and with left and right swapped: the pose model
        # swapping the sides for a frame moves every sided landmark by the body's width, and
        # that is a labelling slip, not the body moving
        options = []
        for later in (kp[1:], kp[1:, MIRROR_PERMUTATION]):
            step = np.linalg.norm(later - kp[:-1], axis=2) / scale[:, None]
            step = np.where(np.isfinite(step), step, np.nan)
            med = np.full(rows.size - 1, np.nan)
            seen = np.isfinite(step).sum(axis=1) >= step.shape[1] // 2
            if seen.any():
                med[seen] = np.nanmedian(step[seen], axis=1)
            options.append(med)
        return np.fmin(*options)


def cut_frames(pose: PoseSequence) -> np.ndarray:
    """Indices of the frames that start a new run: the frame just after each cut (sorted);
    computed once per sequence (every signal of a run asks)."""
    return pose.derived(("cut_frames",), lambda: _find_cuts(pose))


def _find_cuts(pose: PoseSequence) -> np.ndarray:
    rows = np.flatnonzero(pose.present)
    if rows.size < 3:
        return np.zeros(0, dtype=np.int64)
    steps = _median_steps(pose, rows)
    ts = pose.timestamps[rows]
    dt = np.diff(ts)
    # a step across missing frames is not one frame's movement: the track checks of
    # viddiff.tools.pose.plausibility judge those
    steps[dt > 1.5 * float(np.median(dt))] = np.nan
    mids = (ts[1:] + ts[:-1]) / 2.0
    out = []
    limit = np.maximum(CUT_MIN_TL, CUT_MIN_SPEED_TL_S * dt)
    for k in np.flatnonzero(np.nan_to_num(steps) >= limit):
        # against each side's usual step, the busier side counting: a fast movement that
        # comes to rest (a pause after a quick drop) is fast on one side only
        usual = 0.0
        for side in (mids < mids[k], mids > mids[k]):
            near = side & (np.abs(mids - mids[k]) <= CUT_CONTEXT_S) & np.isfinite(steps)
            if not near.any():
                break
            usual = max(usual, float(np.median(steps[near])))
        else:
            if steps[k] >= CUT_RATIO * max(usual, 1e-6):
                out.append(int(rows[k + 1]))
    return np.asarray(out, dtype=np.int64)


def continuous_runs(pose: PoseSequence) -> np.ndarray:
    """(T,) which run each frame belongs to: 0 before the first cut, 1 after it, ..."""
    runs = np.zeros(pose.n_frames, dtype=np.int64)
    for frame in cut_frames(pose):
        runs[frame:] += 1
    return runs


def cut_note(pose: PoseSequence, video: str) -> str | None:
    """A sentence for the result when ``video``'s clip has cuts, else None."""
    frames = cut_frames(pose)
    if frames.size == 0:
        return None
    times = ", ".join(f"{pose.timestamps[f]:.2f} s" for f in frames)
    return (f"video {video}: the person jumps to another place between two frames at "
            f"{times} (an edited clip, or one played twice); nothing is measured across "
            f"{'that moment' if frames.size == 1 else 'those moments'}")


def take_slices(pose: PoseSequence) -> tuple[slice, ...]:
    """The frames of each run between cuts (each *take* of an edited clip), or ``()`` when
    the clip has no cut. A whole-clip tempo of a clip played twice is the tempo of each take:
    measured over both at once it would read the one movement as twice as slow."""
    frames = cut_frames(pose)
    if frames.size == 0:
        return ()
    bounds = [0, *(int(f) for f in frames), pose.n_frames]
    return tuple(slice(a, b) for a, b in pairwise(bounds) if b - a >= 3)
