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
