"""Repetitions: split a clip that shows the movement several times into one slice per rep.

A set of squats or a series of swings compared as one long movement would read the single
deepest squat of each set, and one unusual rep would decide the label. Split into reps, each
rep is measured on its own and the per-rep values are averaged, with the rep-to-rep spread in
the uncertainty (:mod:`viddiff.tools.kinematics.registry`).

How reps are found: the limb landmarks' positions (torso-normalised) are projected on their
main direction of change over the clip (first principal component), smoothed over 0.25 s,
and measured as the distance from the clip's resting level (its median over the first and
last tenth). A rep is an excursion away from rest: a peak of that distance of at least
:data:`MIN_PROMINENCE` of the largest, at least :data:`MIN_REP_S` after the previous one,
with a return towards rest (below :data:`MAX_RETURN` of the peaks) in between; reps are cut at
the lowest point between consecutive peaks. Only a clip whose excursions
look alike (heights within :data:`MAX_HEIGHT_RATIO`, durations within
:data:`MAX_DURATION_RATIO`) counts as repetitions; anything else — a lunge followed by a
balance hold, say — is one movement, measured whole.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from viddiff.tools.kinematics.filters import find_peaks, savgol_filter
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence

#: Shortest time between two reps' peaks, in seconds.
MIN_REP_S = 0.4
#: A peak counts as a rep when it rises at least this share of the largest excursion.
MIN_PROMINENCE = 0.5
#: Between two reps the body comes back towards rest: below this share of the lower peak.
MAX_RETURN = 0.4
#: Largest ratio between the highest and the lowest rep's excursion.
MAX_HEIGHT_RATIO = 2.0
#: Largest ratio between the longest and the shortest rep.
MAX_DURATION_RATIO = 2.5

_JOINTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def _movement(pose: PoseSequence) -> np.ndarray | None:
    """(T,) position along the clip's main direction of change, NaN where unknown."""
    idx = [LANDMARK_INDEX[f"{side}_{j}"] for j in _JOINTS for side in ("left", "right")]
    pts = pose.keypoints[:, idx, :].reshape(pose.n_frames, -1).astype(np.float64)
    ok = np.isfinite(pts).all(axis=1)
    if ok.sum() < 8:
        return None
    centred = pts[ok] - pts[ok].mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    out = np.full(pose.n_frames, np.nan)
    out[ok] = centred @ vt[0]
    return out


def find_reps(pose: PoseSequence) -> tuple[slice, ...]:
    """One slice of pose frames per repetition, or ``()`` when the clip is one movement."""
    x = _movement(pose)
    period = pose.frame_period
    if x is None or period <= 0:
        return ()
    ok = np.isfinite(x)
    x = np.interp(np.arange(x.size), np.flatnonzero(ok), x[ok])
    window = max(5, round(0.25 / period) | 1)
    if x.size > window:
        x = savgol_filter(x, window, 2)
    tenth = max(1, x.size // 10)
    rest = float(np.median(np.concatenate([x[:tenth], x[-tenth:]])))
    away = np.abs(x - rest)
    top = float(away.max())
    if top <= 0:
        return ()
    peaks = find_peaks(away, prominence=MIN_PROMINENCE * top,
                       distance=max(1, int(MIN_REP_S / period)))
    if peaks.size < 2:
        return ()
    heights = away[peaks]
    if heights.max() > MAX_HEIGHT_RATIO * heights.min():
        return ()
    cuts = [0, *(int(a + np.argmin(away[a:b])) for a, b in pairwise(peaks)), x.size]
    for (a, b), cut in zip(pairwise(peaks), cuts[1:-1], strict=True):
        if away[cut] > MAX_RETURN * min(away[a], away[b]):
            return ()  # no return towards rest between them: one movement, not two reps
    reps = tuple(slice(a, b) for a, b in pairwise(cuts))
    lengths = np.array([r.stop - r.start for r in reps], dtype=float)
    if lengths.max() > MAX_DURATION_RATIO * lengths.min():
        return ()
    return reps
