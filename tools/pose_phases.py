"""A localizer from pose alone: split a clip into ordered phases, and align two clips in time.

Why: the CLIP localizer needs large model weights; pose is already extracted for the
kinematics, and an action's phases (stand, descend, bottom, rise ...) are runs of frames in which
the body's joint angles and heights change steadily. So:

* :func:`segment_phases` fits the multi-dimensional pose trajectory (joint angles, normalised
  heights; each z-scored) with ``n_phases`` contiguous pieces, each a straight line in time, and
  picks the breakpoints that minimise the total squared error -- exactly, by dynamic
  programming over all breakpoint sets, with O(1) segment costs from prefix sums. Lines rather
  than constants, so a steady descent is one phase and not chopped into steps. Frames without a
  person weigh nothing; a minimum phase length stops the fit from isolating single noisy frames.
* :func:`align_dtw` aligns A to B by dynamic time warping on scale-free pose features (angles
  and torso-normalised joint positions), and :func:`transfer_segments` carries A's phases over
  to B along that path, so both videos get corresponding phases.

It reads kinematics signals (which read pose), so it sits beside :mod:`viddiff.tools.pose` and
:mod:`viddiff.tools.kinematics`, not inside either.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from viddiff.tools.errors import VideoError
from viddiff.tools.kinematics.movement import Movement, movement_pair, paired_events
from viddiff.tools.kinematics.signals import (
    ClipContext,
    Signal,
    bilateral,
    height_above_hips,
    hip_height,
    joint_angle,
    trunk_lean,
)
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence
from viddiff.tools.segments import Segment

_POSITION_JOINTS = ("shoulder", "elbow", "wrist", "knee", "ankle")


def _signals(pose: PoseSequence) -> list[Signal]:
    ctx = ClipContext.of(pose)
    sig: list[Signal] = []
    for a, b, c in (("hip", "knee", "ankle"), ("shoulder", "hip", "knee"),
                    ("shoulder", "elbow", "wrist"), ("hip", "shoulder", "elbow")):
        fn = joint_angle(a, b, c)
        sig += [fn(pose, ctx, "left"), fn(pose, ctx, "right")]
    sig.append(trunk_lean(pose, ctx))
    sig.append(hip_height(pose, ctx))
    sig.append(bilateral(height_above_hips("wrist"), "mean")(pose, ctx))
    sig.append(bilateral(height_above_hips("knee"), "max")(pose, ctx))
    return sig


def phase_features(pose: PoseSequence, smooth_frames: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame feature matrix (T, D) for phase segmentation and per-frame weights (T,).

    Features: left/right knee, hip, elbow and shoulder angles, trunk lean, hip height, hand and
    knee heights; each z-scored over the clip (constant ones dropped), gaps filled by linear
    interpolation, then lightly smoothed (Gaussian, ``smooth_frames`` sigma). The weight of a
    frame is the fraction of features actually observed in it.
    """
    cols, seen = [], []
    for values, _ in _signals(pose):
        ok = np.isfinite(values)
        if ok.sum() < 2:
            continue
        std = float(np.std(values[ok]))
        if std < 1e-9:
            continue
        z = (values - float(np.mean(values[ok]))) / std
        cols.append(_fill_gaps(z))
        seen.append(ok)
    t = pose.n_frames
    if not cols:
        return np.zeros((t, 1)), pose.present.astype(np.float64)
    feats = np.stack(cols, axis=1)
    weights = np.mean(np.stack(seen, axis=1), axis=1)
    if smooth_frames > 0 and t > 2:
        feats = _gaussian_smooth(feats, smooth_frames)
    return feats, weights


def _fill_gaps(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    idx = np.arange(x.size)
    return np.interp(idx, idx[ok], x[ok])


def _gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(1, round(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(x, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, d], k, mode="valid") for d in range(x.shape[1])],
                    axis=1)


def segment_costs(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """cost[i, j] = weighted squared error of the best straight-line fit to frames i..j.

    ``x`` is (T, D), ``w`` (T,). Entries with j < i are +inf. All O(T^2) entries come from
    prefix sums of w, w*t, w*t^2, w*x, w*x*t, w*x^2 and a closed-form 2x2 solve.
    """
    t_len = x.shape[0]
    t = np.arange(t_len, dtype=np.float64)
    t = t - t.mean()  # better conditioned sums

    def prefix(a: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros((1, *a.shape[1:])), np.cumsum(a, axis=0)])

    p_w, p_wt, p_wtt = prefix(w), prefix(w * t), prefix(w * t * t)
    p_wx = prefix(w[:, None] * x)
    p_wxt = prefix((w * t)[:, None] * x)
    p_wxx = prefix(w * (x * x).sum(axis=1))
    i = np.arange(t_len)[:, None]
    j = np.arange(t_len)[None, :]
    lo, hi = i, j + 1
    s0 = p_w[hi] - p_w[lo]
    s1 = p_wt[hi] - p_wt[lo]
    s2 = p_wtt[hi] - p_wtt[lo]
    sx = p_wx[hi] - p_wx[lo]  # (T, T, D)
    sxt = p_wxt[hi] - p_wxt[lo]
    sxx = p_wxx[hi] - p_wxx[lo]
    det = s0 * s2 - s1 * s1
    a = (sx * sx).sum(axis=2)
    b = (sx * sxt).sum(axis=2)
    c = (sxt * sxt).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        line = sxx - (s2 * a - 2 * s1 * b + s0 * c) / det
        const = sxx - a / s0
    good_line = det > 1e-9 * np.maximum(s0 * s2, 1e-12)
    cost = np.where(good_line, line, np.where(s0 > 1e-12, const, 0.0))
    cost = np.maximum(np.nan_to_num(cost, nan=0.0), 0.0)
    cost[j < i] = np.inf
    return cost


def optimal_breaks(cost: np.ndarray, n_segments: int, min_len: int = 1) -> list[int]:
    """Start frames of the ``n_segments`` contiguous segments minimising the summed cost.

    Exact dynamic programming: D[k, j] = min_i D[k-1, i-1] + cost[i, j], vectorised over i.
    Requires ``n_segments * min_len <= T``.
    """
    t_len = cost.shape[0]
    if n_segments * min_len > t_len:
        raise ValueError("not enough frames for that many segments")
    seg_cost = cost.copy()
    lengths = np.arange(t_len)[None, :] - np.arange(t_len)[:, None] + 1
    seg_cost[lengths < min_len] = np.inf
    d = np.full((n_segments, t_len), np.inf)
    arg = np.zeros((n_segments, t_len), dtype=np.int64)
    d[0] = seg_cost[0]
    for k in range(1, n_segments):
        # candidate: segment k spans i..j, previous segments end at i-1
        prev = np.concatenate([[np.inf], d[k - 1][:-1]])  # prev[i] = D[k-1, i-1]
        total = prev[:, None] + seg_cost  # (i, j)
        arg[k] = np.argmin(total, axis=0)
        d[k] = total[arg[k], np.arange(t_len)]
    starts = [0] * n_segments
    j = t_len - 1
    for k in range(n_segments - 1, 0, -1):
        i = int(arg[k, j])
        starts[k] = i
        j = i - 1
    return starts


def _names(n_phases: int, stage_names: Sequence[str] | None) -> list[str]:
    if stage_names is None:
        return [f"phase {k + 1}" for k in range(n_phases)]
    names = list(stage_names)
    if len(names) != n_phases:
        raise ValueError(f"got {len(names)} stage names for {n_phases} phases")
    return names


def segments_from_starts(starts: Sequence[int], n_frames: int,
                         names: Sequence[str]) -> list[Segment]:
    ends = [s - 1 for s in starts[1:]] + [n_frames - 1]
    return [Segment(stage=n, start=s, end=e) for n, s, e in zip(names, starts, ends, strict=True)]


def spread_thin(n_phases: int, n_frames: int, names: Sequence[str]) -> list[Segment]:
    """Fewer frames than phases: phase k gets frame floor(k*T/K) (frames may repeat), and the
    last phase runs to the end, so every phase has a frame, order is kept, none is dropped."""
    starts = [k * n_frames // n_phases for k in range(n_phases)]
    segs = []
    for k, (name, s) in enumerate(zip(names, starts, strict=True)):
        nxt = starts[k + 1] - 1 if k + 1 < n_phases else n_frames - 1
        segs.append(Segment(stage=name, start=s, end=max(s, nxt)))
    return segs


def segment_phases(pose: PoseSequence, n_phases: int,
                   stage_names: Sequence[str] | None = None) -> list[Segment]:
    """Split the clip into ``n_phases`` contiguous, ordered phases covering every frame.

    With fewer frames than phases, phases share frames (see :func:`spread_thin`) rather than
    failing. ``stage_names`` (one per phase) name the segments; default "phase 1", ...
    """
    if n_phases < 1:
        raise ValueError("n_phases must be at least 1")
    names = _names(n_phases, stage_names)
    t_len = pose.n_frames
    if t_len == 0:
        raise VideoError("cannot find phases in a video with no frames")
    if t_len < n_phases:
        return spread_thin(n_phases, t_len, names)
    if n_phases == 1:
        return [Segment(stage=names[0], start=0, end=t_len - 1)]
    feats, weights = phase_features(pose)
    min_len = max(1, t_len // (4 * n_phases))
    starts = optimal_breaks(segment_costs(feats, weights + 1e-6), n_phases, min_len)
    return segments_from_starts(starts, t_len, names)


# --------------------------------------------------------------------------------------------
# Alignment
# --------------------------------------------------------------------------------------------


def alignment_features(pose: PoseSequence) -> np.ndarray:
    """(T, D) scale-free features for aligning two performances: joint angles / 90° and joint
    positions relative to the hip midpoint in torso lengths; gaps filled by interpolation."""
    ctx = ClipContext.of(pose)
    cols: list[np.ndarray] = []
    for values, _ in _signals(pose)[:9]:  # the angles and trunk lean
        cols.append(values / 90.0)
    scale = ctx.scale or 1.0
    hip_l = pose.keypoints[:, LANDMARK_INDEX["left_hip"]].astype(np.float64)
    hip_r = pose.keypoints[:, LANDMARK_INDEX["right_hip"]].astype(np.float64)
    centre = (hip_l + hip_r) / 2
    for joint in _POSITION_JOINTS:
        for side in ("left", "right"):
            rel = (pose.keypoints[:, LANDMARK_INDEX[f"{side}_{joint}"]] - centre) / scale
            cols += [rel[:, 0], rel[:, 1]]
    out = []
    for col in cols:
        ok = np.isfinite(col)
        out.append(_fill_gaps(col) if ok.sum() >= 1 else np.zeros(pose.n_frames))
    return np.stack(out, axis=1)


def dtw_path(cost: np.ndarray) -> np.ndarray:
    """Minimum-cost monotone path through ``cost`` (Ta, Tb) from (0, 0) to (Ta-1, Tb-1).

    Steps (1,0), (0,1), (1,1). Each row is computed with a prefix-min scan instead of a Python
    loop over cells: D[i, j] = C[i, j] + min(m[j], D[i, j-1]) with m[j] = min(D[i-1, j-1],
    D[i-1, j]) unrolls to D[i, :] = cumC + min.accumulate(m - cumC_before).
    Returns an (L, 2) int array of (index in A, index in B).
    """
    ta, tb = cost.shape
    d = np.full((ta, tb), np.inf)
    d[0] = np.cumsum(cost[0])
    for i in range(1, ta):
        m = np.minimum(np.concatenate([[np.inf], d[i - 1][:-1]]), d[i - 1])
        cum = np.cumsum(cost[i])
        before = np.concatenate([[0.0], cum[:-1]])
        d[i] = cum + np.minimum.accumulate(m - before)
    path = [(ta - 1, tb - 1)]
    i, j = ta - 1, tb - 1
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            options = (d[i - 1, j - 1], d[i - 1, j], d[i, j - 1])
            step = int(np.argmin(options))
            i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
        path.append((i, j))
    return np.asarray(path[::-1], dtype=np.int64)


def align_dtw(pose_a: PoseSequence, pose_b: PoseSequence) -> np.ndarray:
    """DTW path aligning the frames of A to the frames of B; (L, 2) array of (i_a, i_b).

    Features are z-scored with statistics pooled over both clips, so neither dominates.
    """
    if pose_a.n_frames == 0 or pose_b.n_frames == 0:
        raise VideoError("cannot align a video with no frames")
    return dtw_path(_cost_matrix(pose_a, pose_b))


#: An event pair anchors the alignment only if its two frames match about as well as A's frame
#: matches its best frames of B: its cost is within this quantile of that frame's row of costs.
ANCHOR_QUANTILE = 0.2


def _cost_matrix(pose_a: PoseSequence, pose_b: PoseSequence) -> np.ndarray:
    fa, fb = alignment_features(pose_a), alignment_features(pose_b)
    both = np.concatenate([fa, fb])
    mu = both.mean(axis=0)
    sd = both.std(axis=0)
    sd[sd < 1e-9] = 1.0
    fa, fb = (fa - mu) / sd, (fb - mu) / sd
    return np.asarray(np.sqrt(((fa[:, None, :] - fb[None, :, :]) ** 2).sum(axis=2)))


def event_anchors(movement_a: Movement, movement_b: Movement) -> list[tuple[int, int]]:
    """Corresponding rows of A and B: repetition k of A with repetition k of B, event by
    event (start, turnaround, end), kept strictly increasing in both clips."""
    anchors: list[tuple[int, int]] = []
    for _, ea, eb in paired_events(movement_a, movement_b):
        if not anchors or (ea.row > anchors[-1][0] and eb.row > anchors[-1][1]):
            anchors.append((ea.row, eb.row))
    # a clip with more repetitions: what follows the paired ones is not in the other clip, so
    # the other's last frame waits there (its tail goes up to where the extra ones begin)
    k = min(len(movement_a.reps), len(movement_b.reps))
    if k and len(movement_b.reps) > k:
        corner = (movement_a.n_frames - 1, movement_b.reps[k].start.row - 1)
    elif k and len(movement_a.reps) > k:
        corner = (movement_a.reps[k].start.row - 1, movement_b.n_frames - 1)
    else:
        return anchors
    if not anchors or (corner[0] >= anchors[-1][0] and corner[1] >= anchors[-1][1]):
        anchors.append(corner)
    return anchors


def anchored_path(cost: np.ndarray, anchors: list[tuple[int, int]]) -> np.ndarray:
    """A DTW path through ``cost`` that passes through every anchor: one DTW per block
    between consecutive anchors (the clips' first and last frames are anchors too)."""
    ta, tb = cost.shape
    points = [(0, 0)]
    for a, b in anchors:  # strictly inside on one side at least, monotone in both
        if (a, b) != (ta - 1, tb - 1) and a >= points[-1][0] and b >= points[-1][1] \
                and (a, b) != points[-1]:
            points.append((a, b))
    points.append((ta - 1, tb - 1))
    pieces: list[np.ndarray] = []
    for (a0, b0), (a1, b1) in pairwise(points):
        block = dtw_path(cost[a0:a1 + 1, b0:b1 + 1]) + np.array([a0, b0])
        pieces.append(block if not pieces else block[1:])
    return np.concatenate(pieces)


def plausible_anchors(cost: np.ndarray, anchors: list[tuple[int, int]],
                      n_events: int) -> list[tuple[int, int]]:
    """The first ``n_events`` anchors (event pairs) whose frames match well
    (:data:`ANCHOR_QUANTILE`), so a misread structure cannot force a bad match; anchors after
    them (the corner where one clip's extra repetitions begin) are kept as they are."""
    kept = []
    for i, (a, b) in enumerate(anchors):
        if i >= n_events or cost[a, b] <= float(np.quantile(cost[a], ANCHOR_QUANTILE)):
            kept.append((a, b))
    return kept


def align_movements(pose_a: PoseSequence, pose_b: PoseSequence) -> np.ndarray:
    """The frames of A aligned to the frames of B, repetition to repetition and event to
    event (:func:`viddiff.tools.kinematics.movement.movement_pair`), with DTW between the
    events; event pairs whose frames do not match are left out (:func:`plausible_anchors`),
    and with none left this is the free DTW path. (L, 2) rows (i_a, i_b)."""
    if pose_a.n_frames == 0 or pose_b.n_frames == 0:
        raise VideoError("cannot align a video with no frames")
    cost = _cost_matrix(pose_a, pose_b)
    movement_a, movement_b = movement_pair(pose_a, pose_b)
    anchors = event_anchors(movement_a, movement_b)
    n_events = 3 * min(len(movement_a.reps), len(movement_b.reps))
    anchors = plausible_anchors(cost, anchors, n_events)
    if not anchors:
        return dtw_path(cost)
    return anchored_path(cost, anchors)


def transfer_segments(segments_a: Sequence[Segment], path: np.ndarray,
                      n_frames_b: int | None = None) -> list[Segment]:
    """Carry A's phases to B along a DTW path: each boundary goes to the first B frame aligned
    with A's boundary frame. The result is contiguous, ordered and covers all of B."""
    path = np.asarray(path)
    if not len(segments_a):
        return []
    tb = int(path[:, 1].max()) + 1 if n_frames_b is None else n_frames_b
    names = [s.stage for s in segments_a]
    k = len(segments_a)
    if tb < k:
        return spread_thin(k, tb, names)
    starts = [0]
    for seg in segments_a[1:]:
        hits = path[path[:, 0] >= seg.start, 1]
        starts.append(int(hits.min()) if hits.size else tb - 1)
    # keep boundaries strictly increasing and leave room for the phases after each
    for idx in range(1, k):
        starts[idx] = max(starts[idx], starts[idx - 1] + 1)
        starts[idx] = min(starts[idx], tb - (k - idx))
    for idx in range(k - 1, 0, -1):
        starts[idx - 1] = min(starts[idx - 1], starts[idx] - 1)
    starts[0] = 0
    return segments_from_starts(starts, tb, names)


def time_pairs(path: np.ndarray, pose_a: PoseSequence,
               pose_b: PoseSequence) -> list[tuple[float, float]]:
    """A frame path as ``(t_a, t_b)`` pairs in seconds: monotone in both, from the first
    frames of both clips to the last, with runs where one side stands still kept only at
    their ends (so the list stays short and a replay can interpolate between pairs)."""
    path = np.asarray(path)
    if path.size == 0:
        return []
    ta, tb = pose_a.timestamps[path[:, 0]], pose_b.timestamps[path[:, 1]]
    keep = np.ones(len(path), dtype=bool)
    if len(path) > 2:  # drop the inner points of straight runs (same step as both neighbours)
        step = np.diff(path, axis=0)
        keep[1:-1] = np.any(step[1:] != step[:-1], axis=1)
    return [(round(float(a), 4), round(float(b), 4)) for a, b in zip(ta[keep], tb[keep],
                                                                  strict=True)]


def localize_pair(pose_a: PoseSequence, pose_b: PoseSequence, n_phases: int,
                  stage_names: Sequence[str] | None = None,
                  path: np.ndarray | None = None) -> tuple[list[Segment], list[Segment]]:
    """Corresponding phases for both videos: segment A, then carry its phases to B along the
    DTW alignment (so a boundary means the same moment of the movement in both). ``path``:
    an alignment already computed by :func:`align_dtw`."""
    segments_a = segment_phases(pose_a, n_phases, stage_names)
    if path is None:
        path = align_dtw(pose_a, pose_b)
    return segments_a, transfer_segments(segments_a, path, pose_b.n_frames)
