"""Whether a pose sequence follows one person well enough to be measured.

MediaPipe Pose tracks one person. Two failure modes would otherwise turn into confident wrong
numbers: nobody is found in most frames (a measurement would rest on a few stray detections),
and the tracker jumps between two people (a "knee angle" would mix two bodies). Either makes
every body measurement of the clip *not measurable*, with a note that says why; no number
from the wrong person is ever reported. A second person who stays in view while the tracker
keeps to the first is not a failure of the measurement, but the result should say so
(:func:`second_person_note`).

Identity switches are told from real motion by what a body cannot do between two frames: its
hip midpoint jumping more than :data:`MAX_HIP_JUMP_TL` torso lengths, or its torso length
changing by more than :data:`MAX_TORSO_RATIO` ×, from one present frame to the next (frames
at most :data:`MAX_GAP_S` apart; after a longer gap a new position is plausible).

A third failure is a skeleton read *upside down*: on a small or unclear person the model may
fit a body whose shoulders lie where the hips are for a stretch of frames, then the right one
after some frames without a person. Every angle of that stretch is nonsense (a trunk "leaning"
160°), and which frames it covers depends on the pose rate, so it turns a capture-only copy into
differences that come and go with ``--pose-fps``. A torso that really turns over (a handstand,
a cartwheel) passes through the directions in between, and the tracker reads some of them at
any pose rate; one that turns by more than :data:`MAX_TORSO_TURN_DEG` from one present frame to
the next, across frames without a person, has been fitted upside down on one side of that gap
(:func:`torso_flips`).
"""

from __future__ import annotations

import numpy as np

from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence

#: Body measurements need a person in at least this share of the pose frames.
MIN_PERSON_FRACTION = 0.5
#: Larger jumps of the hip midpoint between close frames, in torso lengths, are a new person.
MAX_HIP_JUMP_TL = 1.0
#: Larger changes of the torso length between close frames are a new person.
MAX_TORSO_RATIO = 1.5
#: Frames further apart than this are not compared (a person may really have moved).
MAX_GAP_S = 0.2
#: More switches than this (as a share of present frames) mean two people alternate.
MAX_SWITCH_FRACTION = 0.02
#: A larger turn of the torso (shoulders about hips, in the picture) from one present frame to
#: the next is a skeleton fitted upside down, not a movement.
MAX_TORSO_TURN_DEG = 90.0
#: A second person counts as "visible for a sustained time" when found in at least this
#: share of the frames looked at (:func:`viddiff.tools.pose.extract.probe_others`)...
MIN_OTHERS_FRACTION = 0.5
#: ...and in at least this many of them.
MIN_OTHERS_FRAMES = 2


def _mid(pose: PoseSequence, left: str, right: str) -> np.ndarray:
    kp = pose.keypoints
    return 0.5 * (kp[:, LANDMARK_INDEX[left]] + kp[:, LANDMARK_INDEX[right]])


def identity_switches(pose: PoseSequence) -> int:
    """How many times the tracked skeleton jumps to what must be another body."""
    present = np.flatnonzero(pose.present)
    if present.size < 2:
        return 0
    hips = _mid(pose, "left_hip", "right_hip")[present]
    shoulders = _mid(pose, "left_shoulder", "right_shoulder")[present]
    torso = np.linalg.norm(shoulders - hips, axis=1)
    t = pose.timestamps[present]
    close = np.diff(t) <= MAX_GAP_S
    scale = np.minimum(torso[1:], torso[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = np.linalg.norm(np.diff(hips, axis=0), axis=1) / scale
        ratio = np.maximum(torso[1:], torso[:-1]) / scale
    odd = close & np.isfinite(jump) & ((jump > MAX_HIP_JUMP_TL) | (ratio > MAX_TORSO_RATIO))
    return int(odd.sum())


def torso_flips(pose: PoseSequence) -> int:
    """How many times the torso's direction in the picture (hip midpoint to shoulder midpoint)
    turns by more than :data:`MAX_TORSO_TURN_DEG` between two consecutive present frames,
    however far apart: a body turns over only through the directions in between."""
    present = np.flatnonzero(pose.present)
    if present.size < 2:
        return 0
    torso = (_mid(pose, "left_shoulder", "right_shoulder")
             - _mid(pose, "left_hip", "right_hip"))[present].astype(np.float64)
    angle = np.arctan2(torso[:, 0], -torso[:, 1])
    turn = np.abs(np.angle(np.exp(1j * np.diff(angle))))
    return int((np.isfinite(turn) & (np.degrees(turn) > MAX_TORSO_TURN_DEG)).sum())


def person_problem(pose: PoseSequence) -> str | None:
    """Why this clip's body cannot be measured, in one line; None when it can (computed once
    per sequence: every metric of a comparison asks)."""
    return pose.derived("person_problem", lambda: _problem(pose))


def _problem(pose: PoseSequence) -> str | None:
    n = pose.n_frames
    found = int(pose.present.sum())
    if n == 0 or found == 0:
        return "no person was found in the video"
    if found < MIN_PERSON_FRACTION * n:
        return f"a person was found in only {found} of {n} frames"
    switches = identity_switches(pose)
    if switches > max(1, MAX_SWITCH_FRACTION * found):
        return (f"the pose tracker jumped between people {switches} times; with more than "
                "one person in view the measurements could mix two bodies")
    flips = torso_flips(pose)
    if flips:
        return (f"the pose model's skeleton turned over between two frames ({flips} "
                f"time{'s' if flips > 1 else ''}): part of the clip was read upside down")
    return None


def second_person_note(pose: PoseSequence) -> str | None:
    """A sentence for the result when someone besides the tracked person is in view for a
    sustained time, else None.

    The tracker follows one person and may stay on them throughout, so nothing in the tracked
    pose shows the other; the look for them is made while the pose is extracted (the tracked
    person masked out and the detector run again on a few frames, ``pose.others``). Numbers
    stay measurable: they follow the tracked person, and the note says so, since a reader
    cannot otherwise tell whom they belong to."""
    others = pose.others
    if others is None or others.shape[0] == 0:
        return None
    looked = int(others.shape[0])
    found = int(others[:, 1].sum())
    if found < max(MIN_OTHERS_FRAMES, MIN_OTHERS_FRACTION * looked):
        return None
    return (f"a second person is visible (in {found} of {looked} frames checked); the pose "
            "follows one person, so the measurements describe whoever the tracker kept, "
            "which may not be the person the question is about")
