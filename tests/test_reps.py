"""Repetitions: a clip showing the movement several times is measured per rep."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_kinematics import figure, sequence, squat_clip
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.kinematics.movement import repetition_slices
from viddiff.tools.kinematics.registry import measure_metric as measure


def squat_set(depths: list[float], fps: float = 30.0) -> object:
    """Stand, then one squat per depth (1 s down and up, smooth at the bottom as a real
    squat is; then stand 0.5 s)."""
    n = int(0.5 * fps)
    dip = 0.5 * (1 - np.cos(np.linspace(0, 2 * np.pi, 2 * n + 1)))
    frames = [figure() for _ in range(n)]
    for depth in depths:
        for p in np.concatenate([dip, np.zeros(n)]):
            knee = 180.0 - p * (180.0 - depth)
            frames.append(figure(knee=(knee, knee), thigh=(p * (180.0 - depth) * 0.9,) * 2))
    return sequence(frames, fps=fps)


def test_a_set_of_squats_is_split_into_reps() -> None:
    pose = squat_set([90.0, 80.0, 100.0])
    reps = repetition_slices(pose)
    assert len(reps) == 3
    v = measure("knee_angle_min", pose)
    assert v.reps == 3 and v.value == pytest.approx(90.0, abs=0.5)  # mean of 90, 80, 100
    assert v.uncertainty >= 10.0 / np.sqrt(3) * 0.9  # the rep-to-rep spread counts
    assert len(v.rows) == 3  # each rep's deepest frame is evidence


def test_one_movement_is_not_split() -> None:
    assert repetition_slices(squat_clip(depth_knee=80.0, fps=30.0)) == ()
    assert repetition_slices(squat_set([90.0])) == ()
    assert measure("knee_angle_min", squat_set([90.0])).reps is None


def test_the_result_says_how_many_reps_each_video_had() -> None:
    deep, shallow = squat_set([80.0, 82.0, 78.0]), squat_set([120.0, 118.0])
    m = compare_metric("knee_angle_min", deep, shallow, direction="lower")
    assert (m.reps_a, m.reps_b) == (3, 2) and m.label == "a"
    assert "3 reps in A" in m.statement and "2 reps in B" in m.statement
