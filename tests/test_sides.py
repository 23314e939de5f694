"""A bilateral metric reads a side both videos see, the same side in both; a side the camera
does not see (the far side of a side view, limbs the model only guesses) is not measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_kinematics import squat_clip, viewed
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.kinematics.sides import choose_sides, hidden_sides, visible_sides
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence


def _side_on(yaw: float = 80.0, guess: float = 0.0) -> PoseSequence:
    """A squat seen from the side (``yaw`` 80: the figure's right side faces away), its far
    (right) knee guessed ``guess`` metres off, with the high visibility the model gives it."""
    pose = viewed(squat_clip(depth_knee=100.0, fps=30.0), yaw=yaw)
    world = pose.world.copy()
    far = "right" if yaw > 0 else "left"
    world[:, LANDMARK_INDEX[f"{far}_knee"], 0] += guess
    vis = pose.visibility.copy()
    vis[:, [LANDMARK_INDEX[f"{far}_{p}"] for p in ("knee", "ankle", "elbow", "wrist")]] = 0.9
    return PoseSequence(keypoints=pose.keypoints, visibility=vis, present=pose.present,
                        timestamps=pose.timestamps, width=pose.width, height=pose.height,
                        world=world)


def test_a_front_view_sees_both_sides() -> None:
    for pose in (squat_clip(fps=30.0), viewed(squat_clip(fps=30.0), yaw=40.0)):
        assert hidden_sides(pose) == {} and visible_sides(pose) == ("left", "right")


def test_the_far_side_of_a_side_view_is_hidden_even_when_the_model_says_it_sees_it() -> None:
    pose = _side_on()
    assert set(hidden_sides(pose)) == {"right"} and "faces away" in hidden_sides(pose)["right"]
    assert visible_sides(pose) == ("left",)
    assert visible_sides(_side_on(yaw=-80.0)) == ("right",)
    assert choose_sides(pose, _side_on(yaw=-80.0)) == ()
    assert choose_sides(pose, squat_clip(fps=30.0)) == ("left",)


def test_limbs_the_model_only_guesses_are_hidden() -> None:
    pose = squat_clip(fps=30.0)
    pose.visibility[:, [LANDMARK_INDEX[f"left_{p}"] for p in ("knee", "ankle", "wrist")]] = 0.6
    assert visible_sides(pose) == ("right",)
    assert "guesses" in hidden_sides(pose)["left"]


def test_a_guessed_far_leg_is_not_compared() -> None:
    """Issue 19: "left knee raise (thigh angle): A 78°, B 60°" on two copies of one side-view
    squat whose far leg is hidden: the guess differs, the performance does not."""
    a, b = _side_on(), _side_on(guess=0.25)
    far = compare_metric("knee_raise_angle_max_right", a, b)
    assert far.label == "c" and far.value_a is None and far.value_b is None
    assert "faces away" in far.statement
    both = compare_metric("thigh_angle_max", a, b)  # read on the near leg in both
    assert both.label == "c" and both.value_a == pytest.approx(both.value_b, abs=0.5)
    near = compare_metric("knee_raise_angle_max_left", a, b)
    assert near.value_a is not None and near.value_a == pytest.approx(near.value_b, abs=0.5)
    assert compare_metric("left_right_asymmetry_knee", a, b).value_a is None
    assert compare_metric("knee_raise_left_minus_right", a, b).value_a is None


def test_a_side_hidden_in_one_video_only_is_not_measured_there() -> None:
    m = compare_metric("knee_raise_angle_max_right", squat_clip(fps=30.0), _side_on())
    assert m.label == "c" and m.value_a is not None and m.value_b is None
    assert "not measurable in B" in m.statement


@pytest.mark.real_clips
@pytest.mark.slow
def test_real_turned_view_hides_its_far_side_in_a_half_resolution_copy(
        clips_dir: Path, tmp_path: Path) -> None:
    from tests.support.videos import write_variant
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.video import plan_sampling

    src = clips_dir / "Demo_SinglePerson_cam03.mp4"  # turned 43° from the front, right away
    half = write_variant(src, tmp_path / "half.mp4", max_side=224)
    poses = [extract_video_pose(plan_sampling(p, 30.0, 1800, 448)) for p in (src, half)]
    assert [visible_sides(p) for p in poses] == [("left",), ("left",)]
    m = compare_metric("knee_raise_angle_max_right", *poses)
    assert m.label == "c" and m.value_a is None and m.value_b is None
    front = extract_video_pose(plan_sampling(clips_dir / "Demo_SinglePerson_cam01.mp4", 30.0,
                                             1800, 448))
    assert visible_sides(front) == ("left", "right")
    assert choose_sides(front, poses[0]) == ("left",)
    assert np.isfinite(poses[0].visibility).all()
