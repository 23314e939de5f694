"""The body-part metrics beyond limb angles (heel lift, knee valgus, foot turn-out, hip shift,
head forward, arm height at the top) on synthetic figures whose answer is known, plus their
behaviour where they cannot be measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_kinematics import TORSO, figure, sequence, viewed
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.registry import measure_metric as measure
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence

NEW = ("heel_lift_max", "knee_valgus_max", "foot_turn_out", "hip_shift_mean", "hip_shift_max",
       "head_forward_mean", "arm_height_at_top")


def _moved(kp: np.ndarray, **shifts: tuple[float, float]) -> np.ndarray:
    """``kp`` with the named landmarks moved by (dx, dy) torso lengths (image axes)."""
    out = kp.copy()
    for name, (dx, dy) in shifts.items():
        out[LANDMARK_INDEX[name]] += np.array([dx, dy]) * TORSO
    return out


def test_new_metrics_are_registered_and_documented() -> None:
    for name in NEW:
        spec = METRICS[name]
        assert spec.description and spec.more and spec.less, name
    for base in ("heel_lift_max", "knee_valgus_max", "foot_turn_out", "arm_height_at_top"):
        assert METRICS[f"{base}_left"].side == "left"
        assert METRICS[f"{base}_right"].side == "right"
    assert METRICS["hip_shift_mean"].needs_sides


def test_heel_lift_in_foot_lengths() -> None:
    flat = figure()
    raised = _moved(flat, left_heel=(0.0, -0.06))  # foot length 0.2 TL: about 0.3 foot lengths
    pose = sequence([flat] * 6 + [raised] * 6)
    left = measure("heel_lift_max_left", pose)
    assert left.value == pytest.approx(0.29, abs=0.02)
    assert measure("heel_lift_max_right", pose).value == pytest.approx(0.0, abs=0.01)
    assert measure("heel_lift_max", pose).value == pytest.approx(left.value, abs=1e-9)
    # a jump lifts heel and toes together: no heel lift
    jump = sequence([figure()] * 6 + [figure(lift=0.5)] * 6)
    assert measure("heel_lift_max", jump).value == pytest.approx(0.0, abs=0.01)
    m = compare_metric("heel_lift_max", pose, sequence([flat] * 12))
    assert m.label == "a", m.statement


def _knees(dx: float) -> PoseSequence:
    """Straight-legged front-facing figure whose knees sit ``dx`` TL inside the hip-ankle line
    (negative: outside), with 3-D world landmarks."""
    kp = _moved(figure(), left_knee=(-dx, 0.0), right_knee=(dx, 0.0))
    return viewed(sequence([figure()] * 4 + [kp] * 6))


def test_knee_valgus_from_the_front_and_not_from_the_side() -> None:
    assert measure("knee_valgus_max", _knees(0.1)).value == pytest.approx(0.1, abs=0.01)
    assert measure("knee_valgus_max_left", _knees(0.1)).value == pytest.approx(0.1, abs=0.01)
    assert measure("knee_valgus_max", _knees(-0.1)).value == pytest.approx(0.0, abs=0.01)
    varus = _knees(-0.1)
    assert measure("knee_valgus_max", viewed(sequence(list(varus.keypoints[4:])))
                   ).value == pytest.approx(-0.1, abs=0.01)
    assert compare_metric("knee_valgus_max", _knees(0.12), _knees(0.0)).label == "a"
    side = measure("knee_valgus_max", viewed(sequence(list(_knees(0.1).keypoints)), yaw=80.0))
    assert side.value is None and side.note and "front" in side.note
    flat = measure("knee_valgus_max", sequence(list(_knees(0.1).keypoints)))  # no 3-D pose
    assert flat.value is None and flat.note and "3-D" in flat.note


def _turned_out(degrees: float) -> PoseSequence:
    """A standing figure facing the camera whose feet point forward (towards the camera, -z),
    each turned ``degrees`` away from the midline."""
    pose = viewed(sequence([figure()] * 6))
    world = pose.world.copy()
    a = math.radians(degrees)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        ankle = world[:, LANDMARK_INDEX[f"{side}_ankle"]]
        world[:, LANDMARK_INDEX[f"{side}_heel"]] = ankle + np.array([0.0, 0.03, 0.04])
        world[:, LANDMARK_INDEX[f"{side}_foot_index"]] = (
            ankle + np.array([0.0, 0.03, 0.04]) + 0.2 * np.array([sign * math.sin(a), 0.0,
                                                                  -math.cos(a)]))
    return PoseSequence(keypoints=pose.keypoints, visibility=pose.visibility,
                        present=pose.present, timestamps=pose.timestamps, width=pose.width,
                        height=pose.height, world=world)


def test_foot_turn_out_in_the_ground_plane() -> None:
    assert measure("foot_turn_out", _turned_out(30.0)).value == pytest.approx(30.0, abs=1.0)
    assert measure("foot_turn_out_left", _turned_out(-10.0)).value == pytest.approx(-10.0,
                                                                                    abs=1.0)
    assert compare_metric("foot_turn_out", _turned_out(35.0), _turned_out(5.0)).label == "a"
    flat = measure("foot_turn_out", sequence([figure()] * 6))
    assert flat.value is None and flat.note and "3-D" in flat.note


def _hips_shifted(dx: float) -> np.ndarray:
    """The figure with its pelvis ``dx`` TL towards image +x (the figure's left)."""
    return _moved(figure(), left_hip=(dx, 0.0), right_hip=(dx, 0.0))


def test_hip_shift_is_signed_towards_the_persons_left() -> None:
    shifted = sequence([_hips_shifted(0.2)] * 6)
    for pose in (shifted, viewed(shifted)):
        assert measure("hip_shift_mean", pose).value == pytest.approx(0.2, abs=0.01)
        assert measure("hip_shift_max", pose).value == pytest.approx(0.2, abs=0.01)
    assert measure("hip_shift_mean", shifted.mirrored()).value == pytest.approx(-0.2, abs=0.01)
    centred = sequence([figure()] * 6)
    assert compare_metric("hip_shift_mean", shifted, centred).label == "a"
    assert compare_metric("hip_shift_mean", shifted.mirrored(), centred,
                          direction="lower").label == "a"  # "shifts more to the right"
    # seen edge-on in the image (hips on top of each other), 2-D gives nothing
    edge_on = sequence([figure(stance=0.0)] * 6)
    assert measure("hip_shift_mean", edge_on).value is None


def _head(forward_deg: float) -> np.ndarray:
    """Side-on head: the face points to +x, ears ``forward_deg`` forward of the shoulders."""
    kp = figure()
    sh = (kp[LANDMARK_INDEX["left_shoulder"]] + kp[LANDMARK_INDEX["right_shoulder"]]) / 2
    ear_mid = sh + 0.35 * TORSO * np.array([math.sin(math.radians(forward_deg)),
                                            -math.cos(math.radians(forward_deg))])
    for side in ("left", "right"):
        kp[LANDMARK_INDEX[f"{side}_ear"]] = ear_mid
    kp[LANDMARK_INDEX["nose"]] = ear_mid + np.array([0.1 * TORSO, 0.0])
    return kp


def test_head_forward_angle() -> None:
    assert measure("head_forward_mean", sequence([_head(20.0)] * 6)).value == pytest.approx(
        20.0, abs=0.5)
    assert measure("head_forward_mean", sequence([_head(-10.0)] * 6)).value == pytest.approx(
        -10.0, abs=0.5)
    m = compare_metric("head_forward_mean", sequence([_head(25.0)] * 6),
                       sequence([_head(0.0)] * 6))
    assert m.label == "a", m.statement


def _reach(top: float) -> PoseSequence:
    """Arms rise from the sides to ``top`` degrees from the trunk and come back down."""
    ramp = list(np.linspace(20.0, top, 8)) + [top] * 2 + list(np.linspace(top, 20.0, 8))
    return sequence([figure(arm=(a, a - 30.0)) for a in ramp])


def test_arm_height_at_the_top() -> None:
    assert measure("arm_height_at_top", _reach(150.0)).value == pytest.approx(150.0, abs=1.0)
    assert measure("arm_height_at_top_right", _reach(150.0)).value == pytest.approx(120.0,
                                                                                    abs=1.0)
    assert compare_metric("arm_height_at_top", _reach(160.0), _reach(110.0)).label == "a"
    assert compare_metric("arm_height_at_top", _reach(150.0), _reach(149.0)).label == "c"


def _reach_over_a_flat_top(fps: float, seed: int) -> PoseSequence:
    """Arms rise to a hand held at one height while the arm swings under it (shoulder from
    127° to 180° as the forearm leans from straight up to 127°: the wrist's height stays
    0.96 torso lengths above the shoulder, the shoulder-to-wrist angle turns by about 10°),
    then come back down; with half a pixel of tracker noise, so the wrist's highest frame is
    anywhere on the flat top."""
    def arm(e: float, fore: float) -> np.ndarray:  # elevations of the upper arm and forearm
        return figure(arm=(e, e), elbow=(180.0 + e - fore,) * 2)

    n = int(0.4 * fps)
    rise = [arm(e, e) for e in np.linspace(20.0, 127.0, n)]
    rise += [arm(127.0, f) for f in np.linspace(127.0, 180.0, n // 2)]
    top = [arm(e, math.degrees(math.acos(-1.6 - math.cos(math.radians(e)))))
           for e in np.linspace(127.0, 180.0, n)]
    frames = rise + top + [arm(180.0, f) for f in np.linspace(127.0, 60.0, n)]
    return sequence(frames, fps=fps, noise=0.5, seed=seed)


def test_a_value_at_a_peak_is_uncertain_by_how_the_pose_rate_moves_it() -> None:
    """Which frame of a flat top is the wrist's highest is chance, and a denser pose rate
    offers more frames to land on: the reading's uncertainty must cover how much it moves
    between 60 and 30 frames/s (every other frame), not only the frame's own noise."""
    for seed in range(6):
        dense = _reach_over_a_flat_top(60.0, seed)
        sparse = PoseSequence(keypoints=dense.keypoints[::2], visibility=dense.visibility[::2],
                              present=dense.present[::2], timestamps=dense.timestamps[::2],
                              width=dense.width, height=dense.height)
        a, b = measure("arm_height_at_top", dense), measure("arm_height_at_top", sparse)
        assert a.value is not None and b.value is not None
        assert abs(a.value - b.value) <= 2.0 * math.hypot(a.uncertainty, b.uncertainty)


@pytest.mark.real_clips
def test_new_metrics_on_real_views(clips_dir: object, tmp_path_factory: pytest.TempPathFactory
                                   ) -> None:
    """On the four real views: every new metric gives a value in a plausible range or None
    with a reason, and knee valgus is measured only where the body faces the camera."""
    from tests.test_pose import clip_path, load_pose, shared_pose_cache
    from viddiff.tools.kinematics.signals import frontal_view

    cache = shared_pose_cache(tmp_path_factory)
    # (the back heel of a lunge rises a lot)
    ranges = {"heel_lift_max": (-0.1, 1.5), "knee_valgus_max": (-0.5, 0.5),
              "foot_turn_out": (-60.0, 90.0), "hip_shift_mean": (-0.6, 0.6),
              "hip_shift_max": (0.0, 0.8), "head_forward_mean": (-40.0, 60.0),
              "arm_height_at_top": (0.0, 180.0)}
    frontal = 0
    for cam in (1, 2, 3, 4):
        pose = load_pose(clip_path(cam), cache)
        is_frontal, why = frontal_view(pose)
        frontal += is_frontal
        for name, (lo, hi) in ranges.items():
            v = measure(name, pose)
            if v.value is None:
                assert v.note or v.n_frames == 0, (cam, name)
                continue
            assert lo <= v.value <= hi, (cam, name, v.value)
        valgus = measure("knee_valgus_max", pose)
        assert (valgus.value is not None) == is_frontal, (cam, why)
    assert frontal < 4  # the four cameras stand around the person: not all face it
