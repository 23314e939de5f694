"""Skeletons no body could have are not measurements: a collapsed first detection, a limb that
jumps for one frame, a bone far too long; a steady real motion is left alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_kinematics import TORSO, figure, sequence, squat_clip, viewed
from viddiff.tools.kinematics.registry import measure_metric
from viddiff.tools.pose.plausibility import check_skeletons, plausible
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence


def _collapsed(frame: np.ndarray) -> np.ndarray:
    """``frame`` with the shoulders pulled down onto the hips (torso a fifth as long) and the
    knees folded: what the model returns before tracking settles on a small figure."""
    out = frame.copy()
    for side in ("left", "right"):
        hip, sh = LANDMARK_INDEX[f"{side}_hip"], LANDMARK_INDEX[f"{side}_shoulder"]
        out[sh] = out[hip] + 0.2 * (out[sh] - out[hip])
    bent = figure(knee=(30.0, 30.0), thigh=(80.0, 80.0))
    for name in ("knee", "ankle", "heel", "foot_index"):
        for side in ("left", "right"):
            out[LANDMARK_INDEX[f"{side}_{name}"]] = bent[LANDMARK_INDEX[f"{side}_{name}"]]
    return out


def _squat(fps: float = 30.0, noise: float = 0.5) -> PoseSequence:
    frames = list(squat_clip(depth_knee=100.0, fps=fps).keypoints)
    return sequence(frames, fps=fps, noise=noise)


def test_steady_motion_is_not_flagged() -> None:
    for pose in (_squat(), _squat(fps=10.0), viewed(_squat(), yaw=60.0),
                 viewed(_squat(), yaw=90.0, pitch=20.0)):
        check = check_skeletons(pose)
        assert not check.landmarks.any()
        assert plausible(pose) is pose  # nothing rejected: the very same sequence


def test_a_collapsed_first_detection_is_not_measured() -> None:
    clean = _squat()
    kp = clean.keypoints.copy()
    for t in range(3):  # the first three detections, before tracking settles
        kp[t] = _collapsed(kp[t])
    for pose in (sequence(list(kp), fps=30.0), viewed(sequence(list(kp), fps=30.0), yaw=40.0)):
        check = check_skeletons(pose)
        assert list(np.flatnonzero(check.frames)) == [0, 1, 2]
        fixed = plausible(pose)
        assert not fixed.present[:3].any() and fixed.present[3:].all()
        assert np.isnan(fixed.keypoints[:3]).all() and (fixed.visibility[:3] == 0).all()
        assert (pose.visibility[:3] == 1).all()  # the raw sequence is left as it was
        truth = measure_metric("knee_angle_min", clean if not pose.has_world
                               else viewed(clean, yaw=40.0)).value
        assert truth is not None
        raw = measure_metric("knee_angle_min", pose)
        assert raw.value is not None and raw.value < truth - 5.0 and max(raw.rows) < 3  # glitch
        value = measure_metric("knee_angle_min", fixed)
        assert value.value == pytest.approx(truth, abs=2.0)
        assert min(value.rows) >= 3


def test_a_one_frame_limb_jump_loses_that_limb_in_that_frame() -> None:
    pose = _squat()
    kp = pose.keypoints.copy()
    for name in ("right_elbow", "right_wrist"):
        kp[20, LANDMARK_INDEX[name]] += (0.0, -1.2 * TORSO)  # the arm thrown up for a frame
    jumped = sequence(list(kp), fps=30.0)
    check = check_skeletons(jumped)
    assert not check.frames.any()
    hit = np.argwhere(check.landmarks)
    assert {int(t) for t, _ in hit} == {20}
    flagged = {int(k) for _, k in hit}
    assert {LANDMARK_INDEX["right_elbow"], LANDMARK_INDEX["right_wrist"]} <= flagged
    assert LANDMARK_INDEX["left_wrist"] not in flagged
    fixed = plausible(jumped)
    assert fixed.present.all() and fixed.vis("right_wrist")[20] == 0.0
    assert fixed.vis("left_wrist")[20] == 1.0


def test_legs_thrown_away_for_two_frames_are_caught() -> None:
    """A blurred picture threw both legs off for two frames (cam01 blurred, frames 23-24, by
    up to a torso length): every frame of such a run goes, and nothing else. Half a torso
    length sideways keeps every bone's length plausible, and each frame of the pair is only
    a quarter off the midpoint of its neighbours, so only the run's own check sees it."""
    pose = _squat()
    kp = pose.keypoints.copy()
    for part in ("knee", "ankle", "heel", "foot_index"):
        for side in ("left", "right"):
            kp[23:25, LANDMARK_INDEX[f"{side}_{part}"]] += (0.55 * TORSO, 0.0)
    check = check_skeletons(sequence(list(kp), fps=30.0))
    assert not check.frames.any()
    for name in ("left_knee", "right_ankle"):
        assert {int(t) for t in np.flatnonzero(check.landmarks[:, LANDMARK_INDEX[name]])} == \
            {23, 24}
    assert not check.landmarks[:, LANDMARK_INDEX["left_wrist"]].any()


def test_a_quick_real_punch_out_and_back_is_kept() -> None:
    """A fist thrown 0.8 torso lengths out and back in a quarter of a second (8 frames at 30
    frames/s) is motion, not a glitch: it passes through every point in between."""
    frames = []
    for t in range(30):
        pts = figure()
        reach = 0.8 * max(0.0, 1.0 - abs(t - 15) / 4.0)
        for name in ("right_elbow", "right_wrist"):
            pts[LANDMARK_INDEX[name], 0] -= reach * TORSO * (1.0 if name == "right_wrist" else 0.5)
        frames.append(pts)
    assert not check_skeletons(sequence(frames, fps=30.0, noise=0.5)).landmarks.any()


def test_a_one_frame_leg_swap_is_caught() -> None:
    frames = [figure(stance=1.0, knee=(170.0, 170.0))] * 30
    kp = sequence(frames, fps=30.0, noise=0.5).keypoints.copy()
    for part in ("knee", "ankle", "heel", "foot_index"):
        left, right = LANDMARK_INDEX[f"left_{part}"], LANDMARK_INDEX[f"right_{part}"]
        kp[12, [left, right]] = kp[12, [right, left]]  # the legs' labels swapped for a frame
    check = check_skeletons(sequence(list(kp), fps=30.0))
    assert not check.frames.any()
    assert check.landmarks[12, LANDMARK_INDEX["left_knee"]]
    assert check.landmarks[12, LANDMARK_INDEX["right_ankle"]]
    assert not np.delete(check.landmarks, 12, axis=0).any()


def test_a_bone_far_too_long_loses_its_far_end() -> None:
    frames = [figure(knee=(170.0, 170.0))] * 10
    kp = sequence(frames).keypoints.copy()  # 10 frames/s: no spike test at this rate
    kp[4:6, LANDMARK_INDEX["left_ankle"]] += (0.0, 1.5 * TORSO)  # a shin 2.5x its length
    check = check_skeletons(sequence(list(kp)))
    assert not check.frames.any()
    rows = {int(t) for t in np.flatnonzero(check.landmarks[:, LANDMARK_INDEX["left_ankle"]])}
    assert rows == {4, 5}
    assert check.landmarks[4, LANDMARK_INDEX["left_heel"]]
    assert not check.landmarks[4, LANDMARK_INDEX["left_knee"]]


@pytest.mark.real_clips
@pytest.mark.slow
def test_real_clip_small_inside_a_black_frame_reads_no_extreme_at_its_start(
        clips_dir: Path, tmp_path: Path) -> None:
    """Issue 19: the shared lunge scaled to 60% inside a black frame gave "knee angle at its
    most bent: A 143°, B 51°", read at B's first detection (a collapsed skeleton)."""
    from tests.support.videos import write_variant
    from viddiff.tools.kinematics.comparison import compare_metric
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.pose.quality import person_problem
    from viddiff.tools.video import plan_sampling

    src = clips_dir / "Demo_SinglePerson_cam01.mp4"
    framed = write_variant(src, tmp_path / "framed.mp4", scale=0.6, pad=(0, 0, 0))
    a = extract_video_pose(plan_sampling(src, 30.0, 1800, 448))
    b = extract_video_pose(plan_sampling(framed, 30.0, 1800, 448))
    assert person_problem(b) is None  # the unsettled detections no longer read as a switch
    assert not b.present[:3].any()
    for name in ("knee_angle_min", "trunk_lean_max", "hip_angle_min"):
        m = compare_metric(name, a, b)
        assert m.label == "c", m.statement
        assert m.value_a is not None and m.value_b is not None
        assert abs(m.value_a - m.value_b) < 10.0, m.statement
        assert all(e.timestamp_s > 0.1 for e in m.evidence_b)


def test_a_joint_outside_the_picture_is_not_seen() -> None:
    """Feet below the frame's bottom edge are the model's guess whatever visibility it gives:
    not seen, and neither is an ankle whose heel or toes are out of the picture; the stance
    is then not measured, while the sides still count as seen (the knees, elbows and wrists
    are in the picture) and the arms are measured."""
    from viddiff.tools.kinematics.sides import hidden_sides
    from viddiff.tools.pose.plausibility import outside_picture

    frames = [figure(stance=0.8, arm=(60.0, 60.0))] * 20
    whole = sequence(frames, fps=30.0, noise=0.3)
    cut = sequence(frames, fps=30.0, noise=0.3, height=702)  # the heels and toes below it
    assert not outside_picture(whole).any()
    out = outside_picture(cut)
    for side in ("left", "right"):
        assert out[:, LANDMARK_INDEX[f"{side}_heel"]].all()
        assert out[:, LANDMARK_INDEX[f"{side}_ankle"]].all()  # its foot is cut off
        assert not out[:, LANDMARK_INDEX[f"{side}_knee"]].any()
    seen = plausible(cut)
    assert measure_metric("stance_width", plausible(whole)).value is not None
    assert measure_metric("stance_width", seen).value is None
    assert hidden_sides(seen) == {}
    # an ankle out of the picture on most frames is not seen on the others either: where the
    # framing cuts the feet off, the model's placing of them inside is a guess as well
    some = cut.keypoints.copy()
    some[:3, LANDMARK_INDEX["left_heel"], 1] = 600.0  # three frames show the left foot
    some[:3, LANDMARK_INDEX["left_foot_index"], 1] = 600.0
    partly = PoseSequence(keypoints=some, visibility=cut.visibility, present=cut.present,
                          timestamps=cut.timestamps, width=cut.width, height=cut.height)
    assert outside_picture(partly)[:, LANDMARK_INDEX["left_ankle"]].all()
    assert measure_metric("shoulder_angle_max", seen).value == pytest.approx(
        measure_metric("shoulder_angle_max", plausible(whole)).value, abs=1.0)
