"""Viewpoint check: the result warns when A and B see the body from different angles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viddiff.tools.pose.sequence import LANDMARK_INDEX, N_LANDMARKS, PoseSequence
from viddiff.tools.viewpoint import facing_angle, view_difference, view_note


def figure(yaw_deg: float, n: int = 8, jitter: float = 0.0, seed: int = 0) -> PoseSequence:
    """A standing 3-D figure turned by ``yaw_deg`` about the vertical (camera y) axis."""
    rng = np.random.default_rng(seed)
    world = np.zeros((n, N_LANDMARKS, 3), dtype=np.float32)
    base = {"left_hip": (-0.1, 0.0, 0.0), "right_hip": (0.1, 0.0, 0.0),
            "left_shoulder": (-0.18, -0.5, 0.0), "right_shoulder": (0.18, -0.5, 0.0)}
    yaw = np.radians(yaw_deg)
    rot = np.array([[np.cos(yaw), 0, -np.sin(yaw)], [0, 1, 0], [np.sin(yaw), 0, np.cos(yaw)]])
    for name, xyz in base.items():
        world[:, LANDMARK_INDEX[name]] = rot @ np.array(xyz) + rng.normal(0, jitter, (n, 3))
    return PoseSequence(keypoints=np.zeros((n, N_LANDMARKS, 2)), visibility=np.ones((n, 33)),
                        present=np.ones(n, bool), timestamps=np.arange(n) / 6.0, width=100,
                        height=200, world=world)


def test_facing_angle_follows_the_rotation():
    for yaw in (0.0, 30.0, -75.0, 160.0):
        diff = view_difference(figure(0.0), figure(yaw))
        assert diff == pytest.approx(abs(yaw), abs=1e-3)


def test_front_back_confusion_compares_axes_only():
    turned = figure(160.0)
    turned.lr_agreement = 0.55  # the model could not tell this person's left from right
    assert view_difference(figure(0.0), turned) == pytest.approx(20.0, abs=1e-3)


def test_same_view_gives_no_note_and_a_turned_view_does():
    assert view_note(figure(10.0), figure(20.0)) is None
    note = view_note(figure(0.0), figure(60.0))
    assert note is not None and "about 60° apart" in note and "timing and speed" in note


def test_an_unstable_orientation_is_not_trusted():
    noisy = figure(0.0, jitter=0.3, seed=3)
    spread = facing_angle(noisy)
    assert spread is not None and spread[1] > 45.0
    assert view_difference(figure(0.0), noisy) is None
    assert "could not be read reliably" in (view_note(figure(0.0), noisy) or "")


def test_without_world_landmarks_nothing_is_claimed():
    flat = PoseSequence(keypoints=np.zeros((4, N_LANDMARKS, 2)), visibility=np.ones((4, 33)),
                        present=np.ones(4, bool), timestamps=np.arange(4.0), width=1, height=1)
    assert facing_angle(flat) is None and view_note(flat, flat) is None


def test_real_views_of_one_take(clips_dir: Path, tmp_path: Path):
    from viddiff.tools.pose.extract import extract_pose
    from viddiff.tools.video import load_video

    poses = [extract_pose(load_video(clips_dir / f"Demo_SinglePerson_cam0{c}.mp4", 6, 96, 448),
                          tmp_path) for c in (1, 3)]
    assert view_difference(poses[0], poses[0]) == 0.0
    diff = view_difference(*poses)
    assert diff is not None and diff > 90  # cam03 films the person from the other side
