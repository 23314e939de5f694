"""Whether each frame's skeleton could be the body the clip shows: bone lengths and continuity.

The pose model sometimes returns a skeleton that no body could have: the first detection of a
clip before tracking settles (a collapsed figure a few pixels tall whose shins are three torso
lengths long), or one limb thrown across the picture for a single frame. Such a frame is not a
measurement. Left in, its angles become the clip's "most bent knee" (the issue-19 example:
knee angle 51°, trunk lean 147°, both read at frame 0 of a clip filmed smaller inside a black
frame). The per-signal glitch rejection of :mod:`viddiff.tools.kinematics.uncertainty` misses
them: a run of bad frames at the start of a clip has no fit around it to stand out from.

Four checks, each against what the clip itself shows (no fixed anthropometry, so children and
adults, near and far cameras pass alike):

* **Proportions.** Each bone (thigh, shank, upper arm, forearm, shoulder width, hip width) in
  torso lengths is compared with its median over the clip. A foreshortened bone is normal (a
  forearm pointing at the camera, hip width seen from the side), so only bones *longer* than
  :data:`MAX_BONE_RATIO` × their median count. When most bones of a frame disagree with the
  clip (the median over bones of ``|log(ratio)|`` beyond ``log(MAX_SHAPE_RATIO)``), the
  skeleton itself is wrong and the whole frame goes. On the four real views of the shared
  clip, real frames stay under 1.5× on every lengthening and 1.3× on the median; collapsed
  first detections read 1.8-12×. Proportions are read on the 3-D world landmarks when the
  clip has them (they do not foreshorten) and in the image in any case; either failing counts.
* **Continuity of the body.** The frames are split into *tracks* wherever the torso length
  (pixels) changes by more than :data:`MAX_TORSO_STEP` × or the hips jump more than
  :data:`MAX_HIP_STEP_TL` torso lengths between present frames, or a gap is longer than
  :data:`MAX_GAP_S`. A short track (at most :data:`MAX_GLITCH_RUN_S`) that is not the clip's
  main track and whose image proportions disagree with it (median beyond
  ``log(MAX_TRACK_SHAPE_RATIO)``) is a detection that had not settled: all its frames go. This
  is what catches the first frames, which have no earlier neighbour to be compared with.
* **Inside the picture.** A landmark placed outside the frame is the model's guess at a joint
  the camera does not see (feet below the picture's edge), whatever visibility it reports.
* **Continuity of each landmark.** A limb landmark that sits further than
  :data:`SPIKE_MIN_TL` torso lengths (or what an acceleration of :data:`SPIKE_ACCEL_TL_S2`
  could move it in one frame, at low frame rates) from the midpoint of its two neighbours,
  and more than :data:`SPIKE_RATIO` × as far as those neighbours are from each other, is a
  one-frame jump; it and the landmarks beyond it on the limb go. So is a run of up to
  :data:`SPIKE_MAX_FRAMES` frames off the line between its neighbours (a blurred picture
  throws a limb away for two frames).

"Go" means *not seen*: visibility 0 (and, for a whole frame, not present, with its
landmarks NaN), which every signal already treats as no measurement. The pose cache keeps the
model's raw output; :func:`plausible` is applied where poses are read for measurement
(:mod:`viddiff.tools.pose.extract`), so the raw data stays on disk and the rules can change
without recomputing any pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from viddiff.tools.pose.sequence import LANDMARK_INDEX, N_LANDMARKS, PoseSequence

#: The bones whose lengths are checked: (proximal, distal) landmark names.
BONES: tuple[tuple[str, str], ...] = (
    *(pair for side in ("left", "right") for pair in (
        (f"{side}_hip", f"{side}_knee"), (f"{side}_knee", f"{side}_ankle"),
        (f"{side}_shoulder", f"{side}_elbow"), (f"{side}_elbow", f"{side}_wrist"))),
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"))

#: Landmarks that lose their meaning with each limb landmark (the landmark and those beyond it).
_BEYOND: dict[str, tuple[str, ...]] = {}
for _side in ("left", "right"):
    _BEYOND[f"{_side}_knee"] = (f"{_side}_knee", f"{_side}_ankle", f"{_side}_heel",
                                f"{_side}_foot_index")
    _BEYOND[f"{_side}_ankle"] = (f"{_side}_ankle", f"{_side}_heel", f"{_side}_foot_index")
    _BEYOND[f"{_side}_elbow"] = (f"{_side}_elbow", f"{_side}_wrist", f"{_side}_pinky",
                                 f"{_side}_index", f"{_side}_thumb")
    _BEYOND[f"{_side}_wrist"] = (f"{_side}_wrist", f"{_side}_pinky", f"{_side}_index",
                                 f"{_side}_thumb")
del _side

#: A bone longer than this many times its clip median (in torso lengths) is not that bone.
MAX_BONE_RATIO = 1.8
#: Percentile of a bone's lengths over the clip taken as its full length, for "too long".
LONG_PERCENTILE = 75.0
#: A frame whose bones differ from the clip's by more than this (median factor) is no body.
MAX_SHAPE_RATIO = 1.5
#: A short track whose image proportions differ from the main track's by more than this
#: (median factor over its bones) is a detection that had not settled.
MAX_TRACK_SHAPE_RATIO = 1.3
#: Torso length changing by more than this factor between present frames starts a new track.
MAX_TORSO_STEP = 1.5
#: Hips moving more than this many torso lengths between present frames start a new track.
MAX_HIP_STEP_TL = 1.0
#: Present frames further apart than this start a new track.
MAX_GAP_S = 0.2
#: A landmark outside the picture on more than this share of a clip's frames is not seen on
#: any of them.
MOSTLY_OUTSIDE = 0.5
#: Tracks at most this long (seconds) may be rejected whole.
MAX_GLITCH_RUN_S = 0.3
#: A landmark this far (torso lengths) off its neighbours' midpoint may be a one-frame jump...
SPIKE_MIN_TL = 0.4
#: ...or further than an acceleration of this many torso lengths/s² moves it in one frame...
SPIKE_ACCEL_TL_S2 = 200.0
#: ...and more than this many times as far as its two neighbours are from each other.
SPIKE_RATIO = 2.0
#: A jump may last up to this many frames before the landmark comes back...
SPIKE_MAX_FRAMES = 3
#: ...when its neighbours are at most this far apart (seconds): a tenth of a second out of
#: place and back is no limb's motion at these distances.
SPIKE_MAX_SPAN_S = 0.15

_SPIKE_LANDMARKS = ("knee", "ankle", "elbow", "wrist")


@dataclass(frozen=True)
class SkeletonCheck:
    """Which skeletons of a clip are implausible: ``frames`` (T,) whole frames, ``landmarks``
    (T, 33) single landmarks (whole frames included)."""

    frames: np.ndarray
    landmarks: np.ndarray

    @property
    def n_frames(self) -> int:
        """How many whole frames were rejected."""
        return int(self.frames.sum())


def _torso(points: np.ndarray) -> np.ndarray:
    ls, rs = points[:, LANDMARK_INDEX["left_shoulder"]], points[:, LANDMARK_INDEX["right_shoulder"]]
    lh, rh = points[:, LANDMARK_INDEX["left_hip"]], points[:, LANDMARK_INDEX["right_hip"]]
    return np.linalg.norm((ls + rs) / 2.0 - (lh + rh) / 2.0, axis=1)


def _bone_log_ratios(points: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(T, bones) ``log`` of each bone's length in torso lengths over its median on ``rows``
    (NaN where a length is not finite or zero)."""
    torso = _torso(points)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.stack([np.linalg.norm(points[:, LANDMARK_INDEX[a]] - points[:, LANDMARK_INDEX[b]],
                                       axis=1) / torso for a, b in BONES], axis=1)
        rel = np.where(np.isfinite(rel) & (rel > 0), rel, np.nan)
        ref = _nanmedian(rel[rows], axis=0)
        return np.log(rel / ref)


def _nanmedian(x: np.ndarray, axis: int, percentile: float = 50.0) -> np.ndarray:
    """``np.nanpercentile`` (the median by default) of a 2-D array along ``axis``, NaN for an
    all-NaN slice without numpy's warning."""
    moved = np.moveaxis(x, axis, -1)
    out = np.full(moved.shape[:-1], np.nan)
    ok = np.isfinite(moved).any(axis=-1)
    if ok.any():
        out[ok] = np.nanpercentile(moved[ok], percentile, axis=-1)
    return out


def _tracks(pose: PoseSequence) -> list[np.ndarray]:
    """The present frames split where the body jumps (see the module docstring)."""
    rows = np.flatnonzero(pose.present)
    if rows.size == 0:
        return []
    kp = pose.keypoints[rows].astype(np.float64)
    torso = _torso(kp)
    hips = (kp[:, LANDMARK_INDEX["left_hip"]] + kp[:, LANDMARK_INDEX["right_hip"]]) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        small = np.minimum(torso[1:], torso[:-1])
        step = np.maximum(torso[1:], torso[:-1]) / small
        jump = np.linalg.norm(np.diff(hips, axis=0), axis=1) / small
    gap = np.diff(pose.timestamps[rows]) > MAX_GAP_S
    cut = gap | ~(step <= MAX_TORSO_STEP) | ~(jump <= MAX_HIP_STEP_TL)
    return np.split(rows, np.flatnonzero(cut) + 1)


def _unsettled_tracks(pose: PoseSequence) -> np.ndarray:
    """(T,) frames of short tracks whose proportions disagree with the main track's."""
    out = np.zeros(pose.n_frames, dtype=bool)
    tracks = _tracks(pose)
    if len(tracks) < 2:
        return out
    main = max(tracks, key=len)
    kp = pose.keypoints.astype(np.float64)
    ref = _bone_log_ratios(kp, main)
    limit = math.log(MAX_TRACK_SHAPE_RATIO)
    for track in tracks:
        if track is main:
            continue
        span = pose.timestamps[track[-1]] - pose.timestamps[track[0]]
        if span > MAX_GLITCH_RUN_S:
            continue
        shape = _nanmedian(np.abs(ref[track]), axis=1)
        if np.all(shape > limit) or not np.isfinite(shape).any():
            out[track] = True
    return out


def _spikes(pose: PoseSequence, keep: np.ndarray) -> np.ndarray:
    """(T, 33) limb landmarks that jump away from their path for a frame or a short run of
    frames (at most :data:`SPIKE_MAX_FRAMES`, within :data:`SPIKE_MAX_SPAN_S` of each other)
    and come back: every frame of the run sits off the line between the frames before and
    after it by more than the limit, and more than :data:`SPIKE_RATIO` × as far as those two
    are apart. A blurred copy of cam01 threw both legs a torso length away for two frames,
    which a one-frame check let through and the movement's time then read as motion."""
    out = np.zeros((pose.n_frames, N_LANDMARKS), dtype=bool)
    rows = np.flatnonzero(keep)
    if rows.size < 3:
        return out
    kp = pose.keypoints[rows].astype(np.float64)
    scale = float(np.nanmedian(_torso(kp))) if np.isfinite(_torso(kp)).any() else 0.0
    if scale <= 0:
        return out
    ts = pose.timestamps[rows]
    n = rows.size
    for run in range(1, SPIKE_MAX_FRAMES + 1):
        if n < run + 2:
            break
        before, after = np.arange(n - run - 1), np.arange(run + 1, n)
        span = ts[after] - ts[before]
        # one frame: its neighbours within two gaps, as any two present frames
        close = span <= (SPIKE_MAX_SPAN_S if run > 1 else 2 * MAX_GAP_S)
        # the run's frames against where a steady path between its neighbours would be;
        # the limit: what an acceleration of SPIKE_ACCEL_TL_S2 moves a limb out and back in
        # the time (at low frame rates a real limb can move that far)
        gap = np.maximum(ts[before + 1] - ts[before], ts[after] - ts[after - 1]) if run == 1 \
            else span / 2
        limit = np.maximum(SPIKE_MIN_TL, 0.5 * SPIKE_ACCEL_TL_S2 * gap ** 2)
        for part in _SPIKE_LANDMARKS:
            for side in ("left", "right"):
                name = f"{side}_{part}"
                p = kp[:, LANDMARK_INDEX[name]] / scale
                with np.errstate(invalid="ignore"):
                    between = np.linalg.norm(p[after] - p[before], axis=1)
                    off = np.full(before.size, np.inf)
                    for k in range(1, run + 1):
                        w = (ts[before + k] - ts[before]) / np.where(span > 0, span, np.nan)
                        line = p[before] + w[:, None] * (p[after] - p[before])
                        off = np.minimum(off, np.linalg.norm(p[before + k] - line, axis=1))
                    spike = close & (off > limit) & (off > SPIKE_RATIO * between)
                for i in np.flatnonzero(spike):
                    hit = rows[before[i] + 1: before[i] + run + 1]
                    beyond = np.array([LANDMARK_INDEX[n] for n in _BEYOND[name]])
                    out[np.ix_(hit, beyond)] = True
    return out


def check_skeletons(pose: PoseSequence) -> SkeletonCheck:
    """Which frames and landmarks of ``pose`` no body could have (see the module docstring)."""
    t = pose.n_frames
    frames = np.zeros(t, dtype=bool)
    landmarks = np.zeros((t, N_LANDMARKS), dtype=bool)
    rows = np.flatnonzero(pose.present)
    if rows.size < 3:
        return SkeletonCheck(frames, landmarks)
    # per frame, on the reading that does not foreshorten when there is one: in the image a
    # trunk bent towards the camera shortens the torso and so lengthens every limb with it
    points = (pose.world if pose.has_world else pose.keypoints).astype(np.float64)
    logs = _bone_log_ratios(points, rows)
    with np.errstate(invalid="ignore"):
        frames |= pose.present & (_nanmedian(np.abs(logs), axis=1) > math.log(MAX_SHAPE_RATIO))
        # "too long" against the bone's usual long length (75th percentile): a bone is at its
        # full length when it lies across the view, and foreshortened frames pull the median
        long_ref = _nanmedian(logs[rows], axis=0, percentile=LONG_PERCENTILE)
        too_long = (logs - long_ref) > math.log(MAX_BONE_RATIO)
    for j, (_, far) in enumerate(BONES):
        hit = too_long[:, j] & pose.present
        if far in _BEYOND and hit.any():  # a limb: its far end is what is wrong
            landmarks[np.ix_(hit, [LANDMARK_INDEX[n] for n in _BEYOND[far]])] = True
    frames |= _unsettled_tracks(pose)
    landmarks |= _spikes(pose, pose.present & ~frames)
    landmarks |= outside_picture(pose) & pose.present[:, None]
    landmarks[frames] = True
    return SkeletonCheck(frames, landmarks)


def outside_picture(pose: PoseSequence) -> np.ndarray:
    """(T, 33) landmarks the model placed outside the frame: a guess at a joint the camera
    does not see. The model's visibility does not say so: on the jumping jacks cropped above
    the ankles it put them below the picture with visibility up to 0.93, and the stance read
    twice as wide as in the whole picture."""
    x, y = pose.keypoints[..., 0], pose.keypoints[..., 1]
    with np.errstate(invalid="ignore"):
        out = (x < 0) | (x > pose.width) | (y < 0) | (y > pose.height)
    # a foot cut off by the edge: its ankle is placed from what is not in the picture
    for side in ("left", "right"):
        foot = out[:, [LANDMARK_INDEX[f"{side}_heel"], LANDMARK_INDEX[f"{side}_foot_index"]]]
        out[:, LANDMARK_INDEX[f"{side}_ankle"]] |= foot.any(axis=1)
    # a joint the framing leaves out on most frames is a guess on the others too (cam01 cut
    # at mid-shin: the one frame whose ankle fell inside the picture read the knee at 79°
    # where the whole picture reads 144°)
    rows = pose.present
    if rows.any():
        mostly = out[rows].mean(axis=0) > MOSTLY_OUTSIDE
        out[:, mostly] = True
    return out


def plausible(pose: PoseSequence) -> PoseSequence:
    """``pose`` with the skeletons :func:`check_skeletons` rejects marked not seen: their
    landmarks' visibility 0, and whole frames not present (landmarks NaN). Returns ``pose``
    itself when nothing is rejected."""
    check = check_skeletons(pose)
    if not check.landmarks.any():
        return pose
    visibility = np.where(check.landmarks, 0.0, pose.visibility)
    keypoints = pose.keypoints.copy()
    world = pose.world.copy()
    keypoints[check.frames] = np.nan
    world[check.frames] = np.nan
    return PoseSequence(keypoints=keypoints, visibility=visibility,
                        present=pose.present & ~check.frames, timestamps=pose.timestamps.copy(),
                        width=pose.width, height=pose.height, lr_agreement=pose.lr_agreement,
                        world=world,
                        indices=None if pose.indices is None else pose.indices.copy(),
                        others=None if pose.others is None else pose.others.copy(),
                        sharpness=pose.sharpness, contrast=pose.contrast)
