"""Body metrics are never read from the wrong person: too few frames with a person, or a
tracker that jumps between two people, make every body measurement not measurable."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.test_kinematics import figure, sequence, squat_clip
from viddiff.graphs.measured_answers import propose_offline
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.pose.quality import identity_switches, person_problem


def _alternating(n: int = 40, every: int = 1) -> object:
    """One figure, and a second one twice as large and far to the right, in turn."""
    small, large = figure(), figure() * 2.0 + np.array([300.0, -200.0])
    frames = [large if (i // every) % 2 else small for i in range(n)]
    return sequence(frames, fps=30.0, width=1280, height=1400)


def test_a_steady_person_is_measurable() -> None:
    pose = squat_clip(depth_knee=80.0, fps=30.0)
    assert identity_switches(pose) == 0 and person_problem(pose) is None


def test_two_people_alternating_are_not_measured() -> None:
    pose = _alternating(every=3)
    assert identity_switches(pose) >= 10
    problem = person_problem(pose)
    assert problem is not None and "jumped between people" in problem
    m = compare_metric("knee_angle_min", pose, squat_clip(fps=30.0))
    assert m.label == "c" and m.value_a is None and m.value_b is not None
    assert "not measurable in A" in m.statement and "jumped between people" in m.statement
    assert propose_offline(pose, squat_clip(fps=30.0), [], [], n=5) == []


def test_a_person_in_few_frames_is_not_measured() -> None:
    pose = squat_clip(depth_knee=80.0, fps=30.0)
    present = pose.present.copy()
    present[: int(0.7 * present.size)] = False
    kp = pose.keypoints.copy()
    kp[~present] = np.nan
    sparse = dataclasses.replace(pose, keypoints=kp, present=present)
    problem = person_problem(sparse)
    assert problem is not None and "only" in problem
    m = compare_metric("thigh_angle_max", squat_clip(fps=30.0), sparse)
    assert m.label == "c" and m.value_b is None and "not measurable in B" in m.statement


@pytest.mark.real_clips
def test_real_clip_with_most_frames_blank_is_not_measured(clips_dir) -> None:
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.video import plan_sampling

    pose = extract_video_pose(plan_sampling(clips_dir / "Demo_SinglePerson_cam01.mp4", 30.0,
                                            1800, 448))
    assert person_problem(pose) is None and identity_switches(pose) == 0
    present = pose.present.copy()
    present[::3] = True
    present[1::3] = False
    present[2::3] = False
    kp = pose.keypoints.copy()
    kp[~present] = np.nan
    blank = dataclasses.replace(pose, keypoints=kp, present=present)
    assert "only" in (person_problem(blank) or "")


def _turned(points: np.ndarray, degrees: float) -> np.ndarray:
    """``points`` turned by ``degrees`` in the picture about their hip midpoint."""
    from viddiff.tools.pose.sequence import LANDMARK_INDEX

    hips = 0.5 * (points[LANDMARK_INDEX["left_hip"]] + points[LANDMARK_INDEX["right_hip"]])
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (points - hips) @ rot.T + hips


def _with_gap(frames: list[np.ndarray], absent: slice) -> object:
    pose = sequence(frames, fps=60.0)
    present = pose.present.copy()
    present[absent] = False
    kp = pose.keypoints.copy()
    kp[~present] = np.nan
    return dataclasses.replace(pose, keypoints=kp, present=present)


def test_a_skeleton_read_upside_down_for_a_stretch_is_not_measured() -> None:
    """The pose model fits an inverted body for a stretch, loses the person, then fits the right
    one: no frame shows the torso turning, so the stretch is nonsense, not a movement (a small
    person at 60 frames/s did this on a real clip, and every angle of it read as a difference)."""
    upright = figure()
    frames = [_turned(upright, 180.0)] * 16 + [upright] * 12 + [upright] * 60
    pose = _with_gap(frames, slice(16, 28))
    from viddiff.tools.pose.quality import torso_flips

    assert torso_flips(pose) == 1
    problem = person_problem(pose)
    assert problem is not None and "upside down" in problem
    m = compare_metric("trunk_lean_max", squat_clip(fps=60.0), pose)
    assert m.label == "c" and m.value_b is None


def test_a_torso_turning_over_through_every_direction_is_measured() -> None:
    """A cartwheel turns the torso over as fast as 720°/s: at 30 frames/s that is 24° a frame,
    each frame a direction between, and losing the person for a few frames of it is no flip."""
    from viddiff.tools.pose.quality import torso_flips

    upright = figure()
    frames = [_turned(upright, a) for a in np.arange(0.0, 360.0, 24.0)] * 3
    pose = sequence(frames, fps=30.0)
    assert torso_flips(pose) == 0 and person_problem(pose) is None
    gapped = _with_gap(frames, slice(5, 7))
    assert torso_flips(gapped) == 0 and person_problem(gapped) is None
