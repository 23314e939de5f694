"""Kinematic metrics on synthetic stick figures whose answers are known by construction.

Figures are flat (drawn in the image plane); :func:`viewed` gives one 3-D world landmarks and
shows it to another camera (turned about the vertical, tilted down), which is how the tests tell
view-invariant 3-D angles from 2-D projections.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pytest

from viddiff.tools.kinematics.comparison import K_SIGMA, compare_metric
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.registry import measure_metric as measure
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.kinematics.uncertainty import frame_noise
from viddiff.tools.pose.sequence import LANDMARK_INDEX, N_LANDMARKS, PoseSequence
from viddiff.tools.segments import Segment

TORSO = 100.0  # torso length of the synthetic figure, pixels


def _rot(angle_deg: float, side: float) -> np.ndarray:
    """Unit vector at ``angle_deg`` from straight down, turned towards +x (side=+1) or -x."""
    a = math.radians(angle_deg)
    return np.array([side * math.sin(a), math.cos(a)])


def figure(*, knee: tuple[float, float] = (180.0, 180.0), thigh: tuple[float, float] = (0.0, 0.0),
           stance: float = 0.6, lean: float = 0.0, arm: tuple[float, float] = (20.0, 20.0),
           elbow: tuple[float, float] = (180.0, 180.0), cx: float = 300.0, floor: float = 700.0,
           scale: float = 1.0, lift: float = 0.0) -> np.ndarray:
    """(33, 2) keypoints of a stick figure facing the camera (its left on image +x).

    ``knee``/``thigh``/``arm``/``elbow`` are (left, right) angles in degrees: interior knee
    angle, thigh angle from straight down (towards +x for both legs), arm elevation from the
    trunk, interior elbow angle. ``stance`` is the horizontal ankle distance in torso lengths
    for straight legs; ``lean`` the trunk angle from vertical towards +x; the lower ankle stands
    on ``floor`` (minus ``lift`` torso lengths: both feet in the air).
    """
    length = TORSO * scale
    pts: dict[str, np.ndarray] = {}
    legs = {}
    for i, (side, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        thigh_dir = _rot(thigh[i], 1.0)
        shin_dir = _rot(thigh[i] - (180.0 - knee[i]), 1.0)
        hip = np.array([sign * stance / 2 * length, 0.0])
        knee_pt = hip + length * thigh_dir
        ankle = knee_pt + length * shin_dir
        legs[side] = (hip, knee_pt, ankle)
    drop = max(legs["left"][2][1], legs["right"][2][1])
    origin = np.array([cx, floor - drop - lift * length])
    for side, (hip, knee_pt, ankle) in legs.items():
        pts[f"{side}_hip"], pts[f"{side}_knee"] = origin + hip, origin + knee_pt
        pts[f"{side}_ankle"] = origin + ankle
        pts[f"{side}_heel"] = origin + ankle + np.array([-0.05, 0.05]) * length
        pts[f"{side}_foot_index"] = origin + ankle + np.array([0.15, 0.05]) * length
    hip_mid = (pts["left_hip"] + pts["right_hip"]) / 2
    up = -_rot(lean, 1.0)  # trunk direction, hip to shoulder
    shoulder_mid = hip_mid + length * up
    across = np.array([-up[1], up[0]])  # perpendicular to the trunk, +x when upright
    trunk_down = -up
    for i, (side, sign) in enumerate((("left", 1.0), ("right", -1.0))):
        sh = shoulder_mid + sign * 0.3 * length * across
        upper = _turn(trunk_down, sign * arm[i])
        el = sh + 0.6 * length * upper
        fore = _turn(upper, sign * (180.0 - elbow[i]))
        wr = el + 0.6 * length * fore
        pts[f"{side}_shoulder"], pts[f"{side}_elbow"], pts[f"{side}_wrist"] = sh, el, wr
        for hand in ("pinky", "index", "thumb"):
            pts[f"{side}_{hand}"] = wr + 0.05 * length * fore
    ear_mid = shoulder_mid + 0.35 * length * up
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pts[f"{side}_ear"] = ear_mid + sign * 0.08 * length * across
        for eye in ("eye_inner", "eye", "eye_outer"):
            pts[f"{side}_{eye}"] = ear_mid + sign * 0.04 * length * across + 0.05 * length * up
        pts[f"mouth_{side}"] = ear_mid + sign * 0.03 * length * across - 0.05 * length * up
    pts["nose"] = ear_mid
    out = np.zeros((N_LANDMARKS, 2))
    for name, idx in LANDMARK_INDEX.items():
        out[idx] = pts[name]
    return out


def _turn(vec: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate ``vec`` by ``angle_deg``; positive turns straight-down towards +x."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([c * vec[0] + s * vec[1], -s * vec[0] + c * vec[1]])


def sequence(frames: Sequence[np.ndarray], fps: float = 10.0, noise: float = 0.0,
             seed: int = 0, width: int = 640, height: int = 800) -> PoseSequence:
    """A PoseSequence from per-frame keypoints, optionally with Gaussian pixel noise."""
    kp = np.stack(frames).astype(np.float64)
    if noise:
        kp = kp + np.random.default_rng(seed).normal(0.0, noise, kp.shape)
    t = kp.shape[0]
    return PoseSequence(keypoints=kp, visibility=np.ones((t, N_LANDMARKS)),
                        present=np.ones(t, dtype=bool), timestamps=np.arange(t) / fps,
                        width=width, height=height)


def squat_clip(depth_knee: float = 90.0, n_hold: int = 10, fps: float = 10.0,
               **kw: float) -> PoseSequence:
    """Stand 10 frames, bend over 10 to the given knee angle, hold, rise over 10, stand 10."""
    ramp = np.linspace(0, 1, 10)
    prof = np.concatenate([np.zeros(10), ramp, np.ones(n_hold), ramp[::-1], np.zeros(10)])
    frames = []
    for p in prof:
        knee = 180.0 - p * (180.0 - depth_knee)
        thigh = p * (180.0 - depth_knee) * 0.9
        frames.append(figure(knee=(knee, knee), thigh=(thigh, thigh), **kw))  # type: ignore[arg-type]
    return sequence(frames, fps=fps)


def viewed(pose: PoseSequence, yaw: float = 0.0, pitch: float = 0.0) -> PoseSequence:
    """The flat figure of ``pose`` with world landmarks, as another camera sees it.

    World landmarks: the figure in metres (torso 0.5 m), origin between the hips, lying in the
    plane of the original image, then turned by ``yaw`` degrees about the vertical (the camera
    walks around the person) and ``pitch`` degrees about the camera's x axis (the camera looks
    down). The image keypoints are the orthographic projection of that, so 2-D angles change
    with the view while every 3-D interior angle stays what the figure was built with.
    """
    kp = pose.keypoints.astype(np.float64)
    hips = (kp[:, LANDMARK_INDEX["left_hip"]] + kp[:, LANDMARK_INDEX["right_hip"]]) / 2
    metres = 0.5 / TORSO
    flat = (kp - hips[:, None]) * metres
    world = np.concatenate([flat, np.zeros((*flat.shape[:2], 1))], axis=2)
    a, b = math.radians(yaw), math.radians(pitch)
    turn = np.array([[math.cos(a), 0.0, math.sin(a)], [0.0, 1.0, 0.0],
                     [-math.sin(a), 0.0, math.cos(a)]])
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(b), -math.sin(b)],
                     [0.0, math.sin(b), math.cos(b)]])
    world = world @ (tilt @ turn).T
    return PoseSequence(keypoints=world[..., :2] / metres + hips[:, None],
                        visibility=pose.visibility, present=pose.present,
                        timestamps=pose.timestamps, width=pose.width, height=pose.height,
                        world=world)


def lunge_clip(n_stand: int = 5) -> PoseSequence:
    """Stand ``n_stand`` frames, then hold a lunge-like pose with known angles for 6 frames."""
    bent = figure(knee=(100.0, 150.0), thigh=(60.0, 10.0), arm=(80.0, 30.0),
                  elbow=(120.0, 160.0), lean=15.0)
    return sequence([figure()] * n_stand + [bent] * 6)


# ------------------------------------------------------------------------------------------


def test_figure_geometry_is_what_it_says() -> None:
    pose = sequence([figure(knee=(90.0, 150.0), thigh=(60.0, 10.0), arm=(90.0, 30.0),
                            elbow=(120.0, 180.0))] * 6)
    assert measure("knee_angle_min_left", pose).value == pytest.approx(90.0, abs=1e-3)
    assert measure("knee_angle_min_right", pose).value == pytest.approx(150.0, abs=1e-3)
    assert measure("knee_angle_min", pose).value == pytest.approx(120.0, abs=1e-3)
    assert measure("knee_raise_angle_max_left", pose).value == pytest.approx(60.0, abs=1e-3)
    assert measure("thigh_angle_max", pose).value == pytest.approx(10.0, abs=1e-3)
    assert measure("shoulder_angle_max_left", pose).value == pytest.approx(90.0, abs=1e-3)
    assert measure("shoulder_angle_max_right", pose).value == pytest.approx(30.0, abs=1e-3)
    assert measure("elbow_angle_max_left", pose).value == pytest.approx(120.0, abs=1e-3)
    assert measure("left_right_asymmetry_shoulder", pose).value == pytest.approx(60.0, abs=1e-3)
    assert measure("knee_raise_left_minus_right", pose).value == pytest.approx(50.0, abs=1e-3)
    leaning = sequence([figure(lean=20.0)] * 6)
    assert measure("trunk_lean_max", leaning).value == pytest.approx(20.0, abs=1e-3)
    assert measure("head_tilt_mean", leaning).value == pytest.approx(20.0, abs=1e-3)


def test_lengths_are_normalised_by_torso() -> None:
    small = sequence([figure(stance=0.8, scale=1.0)] * 8)
    big = sequence([figure(stance=0.8, scale=2.3, cx=900.0, floor=1900.0)] * 8,
                   width=2000, height=2000)
    for name in ("stance_width", "hip_depth", "hand_height_max", "knee_height_max"):
        a, b = measure(name, small).value, measure(name, big).value
        assert a is not None and b is not None
        assert a == pytest.approx(b, abs=1e-3), name
    assert measure("stance_width", small).value == pytest.approx(0.8, abs=1e-3)
    assert measure("hip_depth", small).value == pytest.approx(2.0, abs=1e-3)  # 2 leg segments


def test_squat_depth_metrics_and_stage_segments() -> None:
    pose = squat_clip(depth_knee=80.0)
    bottom = Segment(stage="bottom", start=20, end=29)
    start = Segment(stage="start", start=0, end=9)
    assert measure("knee_angle_min", pose, bottom).value == pytest.approx(80.0, abs=1e-3)
    assert measure("knee_angle_min", pose, start).value == pytest.approx(180.0, abs=1e-3)
    assert measure("thigh_angle_max", pose).value == pytest.approx(90.0, abs=1e-3)
    assert measure("range_of_motion_knee", pose).value == pytest.approx(100.0, abs=1e-3)
    hip = measure("hip_depth", pose)
    assert hip.value is not None and hip.value < 1.5
    assert measure("stage_duration", pose, bottom).value == pytest.approx(1.0)


def test_compare_labels_follow_direction_and_threshold() -> None:
    deep, shallow = squat_clip(depth_knee=70.0), squat_clip(depth_knee=110.0)
    m = compare_metric("knee_angle_min", deep, shallow, direction="lower")
    assert m.label == "a"
    assert "A 70°" in m.statement and "B 110°" in m.statement and "bend more in A" in m.statement
    assert compare_metric("knee_angle_min", deep, shallow, direction="higher").label == "b"
    assert compare_metric("thigh_angle_max", deep, shallow, direction="higher").label == "a"
    assert compare_metric("hip_depth", deep, shallow, direction="lower").label == "a"
    # below the practical minimum (5°) -> c even without noise
    near = squat_clip(depth_knee=72.0)
    m = compare_metric("knee_angle_min", deep, near, direction="lower")
    assert m.label == "c" and "No clear difference" in m.statement
    assert "the difference of 2°" in m.statement and "can resolve here" in m.statement
    assert m.threshold >= METRICS["knee_angle_min"].min_effect


def test_noise_blocks_labels_until_the_gap_is_clear() -> None:
    # 4 px noise on 100 px body parts -> a few degrees of angle noise per frame
    a = sequence([figure(knee=(100.0, 100.0), thigh=(40.0, 40.0))] * 30, noise=4.0, seed=1)
    b = sequence([figure(knee=(106.0, 106.0), thigh=(40.0, 40.0))] * 30, noise=4.0, seed=2)
    m = compare_metric("knee_angle_min", a, b, direction="lower")
    assert m.uncertainty > 1.0
    assert m.label == "c"  # 6° apart, inside the combined noise of the extremes
    c = sequence([figure(knee=(140.0, 140.0), thigh=(40.0, 40.0))] * 30, noise=4.0, seed=3)
    assert compare_metric("knee_angle_min", a, c, direction="lower").label == "a"


def test_frame_noise_estimates_white_noise() -> None:
    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 3, 400)) * 10 + rng.normal(0, 2.0, 400)
    sigma = frame_noise(x, np.ones(400))
    assert sigma is not None and sigma == pytest.approx(2.0, rel=0.15)
    assert frame_noise(np.array([1.0, 2.0]), np.ones(2)) is None


def test_invisible_landmarks_are_not_used() -> None:
    pose = sequence([figure(knee=(90.0, 90.0), thigh=(50.0, 50.0))] * 10)
    pose.visibility[:4, LANDMARK_INDEX["left_knee"]] = 0.1
    v = measure("knee_angle_min_left", pose)
    assert v.n_frames == 6
    pose.present[:] = False
    assert all(measure(name, pose).value is None for name in METRICS
               if name != "stage_duration")


def test_single_frame_glitch_does_not_set_an_extreme() -> None:
    frames = [figure(knee=(150.0, 150.0), thigh=(20.0, 20.0))] * 15
    frames[7] = figure(knee=(60.0, 60.0), thigh=(20.0, 20.0))
    v = measure("knee_angle_min", sequence(frames))
    assert v.value == pytest.approx(150.0, abs=1e-3)
    assert 7 not in v.rows  # the glitch is dropped, not shown as the evidence
    assert v.n_frames == 14  # only the glitch frame itself


def test_mirrored_pose_swaps_left_and_right() -> None:
    flat = sequence([figure()] * 3
                    + [figure(knee=(90.0, 150.0), thigh=(60.0, 10.0), arm=(100.0, 30.0))] * 6)
    for pose in (flat, viewed(flat, yaw=35.0, pitch=15.0)):  # 2-D, then 3-D
        mirror = pose.mirrored()
        assert ClipContext.of(mirror).world == pose.has_world
        for name, spec in METRICS.items():
            if spec.side == "left":
                twin = name.replace("_left", "_right")
                assert measure(name, pose).value == pytest.approx(measure(twin, mirror).value,
                                                                  abs=1e-3), name
        assert measure("knee_raise_left_minus_right", mirror).value == pytest.approx(-50.0,
                                                                                     abs=1e-3)


def test_world_angles_do_not_depend_on_the_view() -> None:
    flat = lunge_clip()
    # the flat figure's image angles are its true angles; a few are known by construction
    angles = [name for name, spec in METRICS.items() if spec.kind == "angle"]
    # (metrics that exist only in 3-D, such as the foot turn-out, have no flat reference)
    expected = {name: v for name in angles if (v := measure(name, flat).value) is not None}
    assert expected["knee_angle_min_left"] == pytest.approx(100.0, abs=1e-3)
    assert expected["knee_raise_left_minus_right"] == pytest.approx(50.0, abs=1e-3)
    assert expected["trunk_lean_max"] == pytest.approx(15.0, abs=1e-3)
    for yaw, pitch in ((0.0, 0.0), (55.0, 0.0), (-40.0, 25.0), (70.0, -20.0)):
        pose = viewed(flat, yaw, pitch)
        ctx = ClipContext.of(pose)
        assert ctx.world and ctx.up_frames == 5  # vertical read off the standing frames
        for name, value in expected.items():
            assert measure(name, pose).value == pytest.approx(value, abs=1e-3), (name, yaw)
    # the 2-D projection of the turned view does not keep them (which is the point of 3-D)
    side_on = viewed(flat, 55.0, 0.0)
    image = ClipContext.of(side_on, world=False)
    assert not image.world
    knee_2d = METRICS["knee_angle_min_left"].compute(side_on, image, None).value
    assert knee_2d is not None and abs(knee_2d - 100.0) > 15.0


def test_vertical_estimate_needs_standing_frames() -> None:
    # a camera tilted 25° down: against its own vertical the upright trunk would lean 25°
    tilted = viewed(lunge_clip(), pitch=25.0)
    assert measure("trunk_lean_max", tilted, Segment(stage="stand", start=0, end=4)).value == \
        pytest.approx(0.0, abs=1e-3)
    # no standing frame: the camera's vertical is all there is, and its tilt shows
    crouched = viewed(lunge_clip(n_stand=0), pitch=25.0)
    ctx = ClipContext.of(crouched)
    assert ctx.world and ctx.up_frames == 0 and ctx.up == (0.0, -1.0, 0.0)
    lean = measure("trunk_lean_max", crouched).value
    assert lean is not None and abs(lean - 15.0) > 5.0
    # a straight body far from the camera's vertical (lying down) is not taken for upright
    lying = viewed(lunge_clip(), pitch=80.0)
    assert ClipContext.of(lying).up_frames == 0


def test_timing_scales_with_time_and_not_with_size() -> None:
    base = squat_clip(depth_knee=90.0)
    slow = squat_clip(depth_knee=90.0, fps=10.0 / 1.5)
    small = squat_clip(depth_knee=90.0, scale=0.5)
    md = measure("motion_duration", base).value
    assert md is not None and 1.0 < md < 4.0
    assert measure("motion_duration", slow).value == pytest.approx(1.5 * md, rel=1e-4)
    assert measure("motion_duration", small).value == pytest.approx(md, rel=1e-4)
    assert measure("mean_speed", slow).value == pytest.approx(
        measure("mean_speed", base).value / 1.5, rel=1e-4)
    m = compare_metric("motion_duration", base, slow, direction="lower")
    assert m.label == "a" and "faster in A" in m.statement
    assert measure("stage_duration", slow).value == pytest.approx(1.5 * 5.0)


def test_pause_and_jump() -> None:
    pose = squat_clip(depth_knee=90.0, n_hold=15)
    pause = measure("longest_pause", pose, Segment(stage="bottom", start=15, end=38))
    assert pause.value == pytest.approx(1.5, abs=0.25)
    frames = [figure(lift=0.0)] * 10 + [figure(lift=0.4)] * 3 + [figure(lift=0.0)] * 10
    assert measure("jump_height_proxy", sequence(frames)).value == pytest.approx(0.4, abs=1e-3)
    # walking towards the camera: the feet sink in the image, but nobody jumps
    walk = [figure(floor=600.0 + 8 * i) for i in range(25)]
    assert measure("jump_height_proxy", sequence(walk)).value == pytest.approx(0.0, abs=1e-3)


def test_a_step_forward_and_back_is_no_jump() -> None:
    """A forward lunge and back filmed from in front and above: the stepping foot starts
    nearer the camera (lower in the image than the other), rises past the other foot as it
    steps away and comes back, while the other foot stays on the floor (cam04's lunge played
    down and back up). Read as the lower foot against a floor the other foot set, that was a
    jump of 0.4 torso lengths; each foot against its own floor, nobody leaves the ground."""
    step = np.concatenate([np.linspace(-0.4, 0.2, 8), np.full(6, 0.2), np.linspace(0.2, -0.4, 8)])
    frames = []
    for rise in step:
        pts = figure()
        for part in ("right_ankle", "right_heel", "right_foot_index"):
            pts[LANDMARK_INDEX[part], 1] -= rise * TORSO
        frames.append(pts)
    assert measure("jump_height_proxy", sequence(frames)).value == pytest.approx(0.0, abs=1e-3)


def test_a_pause_is_read_the_same_at_60_and_30_frames_per_second() -> None:
    """A 0.5 s hold at the bottom of a squat, with a pixel of tracker noise, filmed at 60
    frames/s and read again on every other frame: the pause is one length at both rates. A
    still body's speed over neighbouring frames is twice as noisy at 60 frames/s as at 30,
    and read that way its noise breaks the hold into short runs."""
    fps = 60.0
    down = 0.5 * (1 - np.cos(np.linspace(0, np.pi, int(0.5 * fps))))
    prof = np.concatenate([np.zeros(30), down, np.ones(30), down[::-1], np.zeros(30)])
    frames = [figure(knee=(180.0 - 90.0 * p,) * 2, thigh=(81.0 * p,) * 2) for p in prof]
    for seed in range(3):
        dense = sequence(frames, fps=fps, noise=1.0, seed=seed)
        sparse = PoseSequence(keypoints=dense.keypoints[::2], visibility=dense.visibility[::2],
                              present=dense.present[::2], timestamps=dense.timestamps[::2],
                              width=dense.width, height=dense.height)
        a, b = measure("longest_pause", dense).value, measure("longest_pause", sparse).value
        assert a is not None and b is not None
        assert a >= 0.4 and abs(a - b) <= 0.1, (seed, a, b)


def test_standing_still_before_or_after_the_movement_is_not_a_pause() -> None:
    """A squat without a hold, with a still lead-in of 1 s and a still lead-out of 0.7 s:
    waiting to start is not a pause, so the longest pause over the whole clip is the short
    turnaround's, as on the same squat filmed without the wait; a real hold at the bottom is
    still read whole."""
    fps = 30.0
    down = 0.5 * (1 - np.cos(np.linspace(0, np.pi, int(0.6 * fps))))
    rep = np.concatenate([down, down[::-1]])

    def clip(lead_in: int, lead_out: int, hold: int = 0) -> PoseSequence:
        prof = np.concatenate([np.zeros(lead_in), down, np.ones(hold), down[::-1],
                               np.zeros(lead_out)]) if hold else \
            np.concatenate([np.zeros(lead_in), rep, np.zeros(lead_out)])
        frames = [figure(knee=(180.0 - 90.0 * p,) * 2, thigh=(81.0 * p,) * 2) for p in prof]
        return sequence(frames, fps=fps, noise=0.5, seed=4)

    short = measure("longest_pause", clip(6, 6)).value
    waiting = measure("longest_pause", clip(30, 21)).value
    assert short is not None and waiting is not None
    assert waiting < 0.3 and abs(waiting - short) <= 0.1, (short, waiting)
    held = measure("longest_pause", clip(30, 21, hold=15)).value
    assert held is not None and held >= 0.4, held


def test_registry_is_documented_and_runs_everywhere() -> None:
    assert len(METRICS) >= 40
    pose = squat_clip(depth_knee=100.0, lean=10.0)
    rng = np.random.default_rng(3)
    noisy = PoseSequence(keypoints=pose.keypoints + rng.normal(0, 3, pose.keypoints.shape),
                         visibility=pose.visibility, present=pose.present,
                         timestamps=pose.timestamps, width=pose.width, height=pose.height)
    for name, spec in METRICS.items():
        assert spec.unit in {"deg", "TL", "TL/s", "s", "ratio", "reps"}, name
        assert len(spec.description) > 30 and spec.more and spec.less, name
        value = measure(name, noisy, Segment(stage="x", start=5, end=40))
        assert value.value is None or math.isfinite(value.value), name
        assert value.uncertainty >= 0 and math.isfinite(value.uncertainty), name
    with pytest.raises(KeyError, match="unknown metric"):
        measure("no_such_metric", pose)


def test_measurement_is_json_and_absent_video_gives_c() -> None:
    a = squat_clip()
    b = squat_clip()
    b.present[:] = False
    m = compare_metric("knee_angle_min", a, b)
    assert m.label == "c" and m.value_b is None and "not measurable in B" in m.statement
    again = Measurement.model_validate(json.loads(m.model_dump_json()))
    assert again == m
    assert K_SIGMA >= 2.0


def test_segment_past_the_end_is_clamped() -> None:
    pose = squat_clip()
    v = measure("knee_angle_min", pose, Segment(stage="late", start=45, end=400))
    assert v.value == pytest.approx(180.0, abs=1e-3)
    assert measure("stage_duration", pose, Segment(stage="x", start=0, end=0)).value == \
        pytest.approx(0.1)


def test_sided_metrics_need_trustworthy_left_right_labels() -> None:
    a = sequence([figure(knee=(90.0, 150.0), thigh=(60.0, 10.0))] * 8)
    b = a.mirrored()
    assert compare_metric("knee_raise_left_minus_right", a, b).label == "a"  # +50° vs -50°
    b.lr_agreement = 0.55  # the model flipped sides on almost half the frames
    m = compare_metric("knee_raise_left_minus_right", a, b)
    assert m.label == "c" and "left from right" in m.statement
    assert compare_metric("knee_angle_min_left", a, b).label == "c"
    # side-free metrics are unaffected
    assert compare_metric("left_right_asymmetry_knee", a, b).label == "c"
    assert compare_metric("knee_angle_min", a, b).value_a == pytest.approx(120.0, abs=1e-3)


def _dip_clip(fps: float, seed: int, width_s: float, noise: float = 1.5) -> PoseSequence:
    """Two seconds standing with one knee dip of 80° (a Gaussian ``width_s`` seconds wide at
    its base, centred at 1 s), sampled at ``fps`` with ``noise`` pixels of jitter."""
    frames = []
    for t in np.arange(0.0, 2.0, 1.0 / fps):
        p = math.exp(-0.5 * ((t - 1.0) / (width_s / 2.5)) ** 2)
        frames.append(figure(knee=(180 - 80 * p,) * 2, thigh=(72 * p,) * 2))  # type: ignore[arg-type]
    return sequence(frames, fps=fps, noise=noise, seed=seed)


def test_a_brief_extreme_read_at_30_and_60_fps_agrees_within_its_uncertainty() -> None:
    """A brief extreme is read differently at another pose rate: the quadratic fit spans the
    same 0.25 s but other frames, and a denser rate catches more of a dip that a sparser one
    steps over (here ~118° at 30 frames/s against ~104° at 60, with jitter of 1°). The
    extreme's uncertainty holds how much it changes when every other frame is left out, so
    the two readings of one movement are not told apart: without it, ten standard
    uncertainties apart."""
    spec = METRICS["knee_angle_min"]
    for seed in range(6):
        a, b = _dip_clip(30.0, seed, 0.12), _dip_clip(60.0, seed + 50, 0.12)
        va = spec.compute(a, ClipContext.of(a), None)
        vb = spec.compute(b, ClipContext.of(b), None)
        assert va.value is not None and vb.value is not None
        assert abs(va.value - vb.value) > 5  # the sampling really moves this extreme
        assert abs(va.value - vb.value) <= K_SIGMA * math.hypot(va.uncertainty, vb.uncertainty)
        m = compare_metric("knee_angle_min", a, b)
        assert m.label == "c", m.statement


def test_an_extreme_of_an_ordinary_movement_keeps_its_resolution_at_both_rates() -> None:
    """A movement that lasts longer than the fit's span reads the same extreme on every other
    frame, so nothing is added: a 20° deeper dip is still told apart at 30 and at 60 frames/s."""
    spec = METRICS["knee_angle_min"]
    for fps in (30.0, 60.0):
        pose = _dip_clip(fps, 1, 0.6)
        v = spec.compute(pose, ClipContext.of(pose), None)
        assert v.value == pytest.approx(100.0, abs=2.0) and v.uncertainty < 2.0
    deeper = sequence([np.asarray(figure(knee=(180 - 100 * p,) * 2, thigh=(90 * p,) * 2))
                       for p in (math.exp(-0.5 * ((t - 1.0) / 0.24) ** 2)
                                 for t in np.arange(0.0, 2.0, 1 / 60))],
                      fps=60.0, noise=1.5, seed=9)  # type: ignore[arg-type]
    m = compare_metric("knee_angle_min", _dip_clip(30.0, 2, 0.6), deeper)
    assert m.label == "a", m.statement  # A's most bent knee angle is the larger (100° vs 80°)


def _squat_raising_arms(hold_s: float, fps: float = 30.0) -> PoseSequence:
    """Stand 0.5 s, squat (0.5 s down, ``hold_s`` held at the bottom, 0.5 s up) raising the
    arms with the bend, stand 0.5 s; a pixel of tracker noise."""
    down = 0.5 * (1 - np.cos(np.linspace(0, np.pi, int(0.5 * fps))))
    prof = np.concatenate([np.zeros(int(0.5 * fps)), down, np.ones(int(hold_s * fps)),
                           down[::-1], np.zeros(int(0.5 * fps))])
    frames = [figure(knee=(180.0 - 90.0 * p,) * 2, thigh=(81.0 * p,) * 2,
                     arm=(20.0 + 90.0 * p,) * 2) for p in prof]
    return sequence(frames, fps=fps, noise=1.0, seed=2)


def test_a_hold_weighs_in_an_average_as_a_brief_stop() -> None:
    """An average over time says where the body is during the movement: a 0.7 s hold at the
    bottom moves it no further than its uncertainty says (the pause says the rest), while
    the pause itself is read whole; an average of speed still counts the stop."""
    brief, held = _squat_raising_arms(0.1), _squat_raising_arms(0.7)
    for name in ("upper_arm_tilt_mean", "hand_height_mean"):
        a, b = measure(name, brief), measure(name, held)
        assert a.value is not None and b.value is not None
        assert abs(a.value - b.value) <= 3 * math.hypot(a.uncertainty, b.uncertainty), \
            (name, a, b)
        assert compare_metric(name, brief, held).label == "c"
    pause = measure("longest_pause", held).value
    assert pause is not None and pause >= 0.6
    assert measure("mean_speed", held).value < measure("mean_speed", brief).value * 0.9


def test_a_median_between_two_places_is_uncertain() -> None:
    """Feet together for half the clip and wide apart for the other half: the median lies in
    the gap, where a little more time on one side moves it far, and its uncertainty says so;
    a stance that stays put is known to its jitter."""
    together = [figure(stance=0.3)] * 30
    wide = [figure(stance=1.1)] * 30
    split = measure("stance_width", sequence(together + wide, fps=30.0, noise=1.0, seed=1))
    steady = measure("stance_width", sequence(together * 2, fps=30.0, noise=1.0, seed=1))
    assert split.uncertainty >= 0.25 and steady.uncertainty <= 0.05, (split, steady)


def test_capture_causes_name_how_two_clips_were_filmed_differently() -> None:
    """The size of the picture or of the person in it is one cause, the pose rate another,
    each with its own measured error; a clip read at uneven steps (48 frames/s at 30 poses
    a second) is read at its mean rate."""
    from viddiff.tools.kinematics.comparison import capture_causes, capture_error, compare_values

    base = squat_clip(depth_knee=90.0, fps=30.0)
    assert capture_causes(base, base) == frozenset()
    assert capture_causes(base, squat_clip(depth_knee=90.0, fps=30.0, scale=0.5)) == {"size"}
    assert capture_causes(base, squat_clip(depth_knee=90.0, fps=24.0)) == {"rate"}
    uneven = PoseSequence(keypoints=base.keypoints, visibility=base.visibility,
                          present=base.present, width=base.width, height=base.height,
                          timestamps=np.cumsum(np.tile([1 / 48, 2 / 48], base.n_frames)
                                               )[:base.n_frames])
    assert uneven.frame_period == pytest.approx(1 / 24)  # the median step: 24 a second
    assert capture_causes(base, uneven) == frozenset()  # its mean rate is 32 a second
    spec = METRICS["longest_pause"]
    size, rate = (capture_error(spec, frozenset({c})) for c in ("size", "rate"))
    assert size > 0 and rate > 0 and size != rate
    assert capture_error(spec, frozenset({"size", "rate"})) == pytest.approx(math.hypot(size, rate))
    from viddiff.tools.kinematics.results import MetricValue

    m = compare_values(spec, MetricValue(0.5, 0.03, 30, "s"), MetricValue(0.1, 0.03, 30, "s"),
                       "higher", capture_differs=frozenset({"rate"}))
    assert "another frame rate" in m.statement and "size" not in m.statement
    assert m.uncertainty == pytest.approx(math.hypot(0.03, 0.03, rate))


def test_a_blurrier_clip_is_filmed_differently() -> None:
    """One clip's picture clearly blurrier (its sharpness ratio beyond SHARPNESS_RATIO) is a
    capture cause of its own, with its own measured error and words; a small difference, or a
    clip whose sharpness was not read, is not."""
    from dataclasses import replace

    from viddiff.tools.kinematics.comparison import (
        SHARPNESS_RATIO,
        capture_causes,
        capture_error,
        compare_values,
    )
    from viddiff.tools.kinematics.results import MetricValue

    base = replace(squat_clip(depth_knee=90.0, fps=30.0), sharpness=1.3)
    assert capture_causes(base, replace(base, sharpness=1.3 / (SHARPNESS_RATIO * 1.2))) == \
        {"sharpness"}
    assert capture_causes(base, replace(base, sharpness=1.3 / (SHARPNESS_RATIO * 0.9))) == \
        frozenset()
    assert capture_causes(base, replace(base, sharpness=float("nan"))) == frozenset()
    spec = METRICS["trunk_lean_max"]
    blur = capture_error(spec, frozenset({"sharpness"}))
    assert blur > 0 and blur != capture_error(spec, frozenset({"size"}))
    m = compare_values(spec, MetricValue(40.0, 1.0, 30, "deg"), MetricValue(50.0, 1.0, 30, "deg"),
                       "higher", capture_differs=frozenset({"sharpness"}))
    assert "sharper or blurrier" in m.statement
    from viddiff.tools.kinematics.comparison import EXPOSURE_RATIO

    lit = replace(base, contrast=50.0)
    assert capture_causes(lit, replace(lit, contrast=50.0 / (EXPOSURE_RATIO * 1.2))) == \
        {"exposure"}
    assert capture_causes(lit, replace(lit, contrast=50.0 / (EXPOSURE_RATIO * 0.8))) == \
        frozenset()
    dim = compare_values(spec, MetricValue(40.0, 1.0, 30, "deg"),
                         MetricValue(50.0, 1.0, 30, "deg"), "higher",
                         capture_differs=frozenset({"exposure"}))
    assert "in other light" in dim.statement


def test_a_clip_that_cuts_the_feet_off_is_framed_differently() -> None:
    """Feet below the picture's edge on most frames of one clip and none of the other is a
    capture cause of its own; both cut alike is not. A metric the framing copies never
    measured (what needs the feet) takes its kind's pooled error instead of none."""
    from viddiff.tools.kinematics.comparison import (
        _measured_capture,
        capture_causes,
        capture_error,
        cut_off_share,
    )

    frames = [figure(stance=0.8)] * 20
    whole = sequence(frames, fps=30.0, noise=0.3)
    cut = sequence(frames, fps=30.0, noise=0.3, height=702)  # heels and toes below the edge
    assert cut_off_share(whole) == 0.0 and cut_off_share(cut) == 1.0
    assert capture_causes(whole, cut) == {"framing"}
    assert capture_causes(cut, cut) == frozenset()
    assert "knee_angle_min" not in _measured_capture("framing")  # measured on no pair
    assert capture_error(METRICS["knee_angle_min"], frozenset({"framing"})) > 5.0


def _held_squat(blip: Sequence[np.ndarray] = (), hold: int = 21) -> PoseSequence:
    """A squat at 30 frames/s whose bottom is held ``hold`` frames, with ``blip`` frames put
    in the middle of the hold in place of as many held ones."""
    fps = 30.0
    down = 0.5 * (1 - np.cos(np.linspace(0, np.pi, int(0.6 * fps))))
    frames = [figure(knee=(180.0 - 90.0 * p,) * 2, thigh=(81.0 * p,) * 2) for p in down]
    bottom = figure(knee=(90.0, 90.0), thigh=(81.0, 81.0))
    held = [bottom] * hold
    mid = hold // 2
    held[mid:mid + len(blip)] = list(blip)
    return sequence(frames + held + frames[::-1], fps=fps, noise=0.3, seed=2)


def test_a_flicker_inside_a_hold_does_not_cut_the_pause() -> None:
    """A held bottom read through a compressed video flickers: two frames 5 degrees off
    in the middle of a 0.7 s hold are still the hold, so the pause is read whole, not as its
    longest flicker-free half. A real movement between two holds is no flicker: a knee that
    straightens 30 degrees in two frames and holds there splits the holds."""
    flicker = [figure(knee=(95.0, 95.0), thigh=(78.5, 78.5))] * 2
    whole = measure("longest_pause", _held_squat()).value
    flickered = measure("longest_pause", _held_squat(flicker)).value
    assert whole is not None and flickered is not None
    assert whole >= 0.6 and abs(flickered - whole) <= 0.1, (whole, flickered)
    moved = [figure(knee=(105.0, 105.0), thigh=(70.0, 70.0)),
             figure(knee=(120.0, 120.0), thigh=(60.0, 60.0))]
    rest = [figure(knee=(120.0, 120.0), thigh=(60.0, 60.0))] * 9
    split = measure("longest_pause", _held_squat([*moved, *rest])).value
    assert split is not None and split <= 0.45, split


def test_a_burst_before_a_still_lead_in_is_not_the_movement() -> None:
    """A squat with a still second in front of it whose first frames jump about (the pose
    model settling on its first detection, or a fidget): the movement's time is the squat's,
    as without the burst. A hold inside the movement is no such rest: a squat held 0.7 s at
    the bottom still takes its whole time."""
    fps = 30.0
    down = 0.5 * (1 - np.cos(np.linspace(0, np.pi, int(0.6 * fps))))

    def clip(burst: bool, hold: int = 0) -> PoseSequence:
        prof = np.concatenate([np.zeros(30), down, np.ones(hold), down[::-1], np.zeros(6)])
        frames = [figure(knee=(180.0 - 90.0 * p,) * 2, thigh=(81.0 * p,) * 2) for p in prof]
        if burst:
            frames[:4] = [figure(arm=(a, a), cx=300.0 + 8 * i)
                          for i, a in enumerate((60.0, 20.0, 70.0, 25.0))]
        return sequence(frames, fps=fps, noise=0.5, seed=5)

    plain = measure("motion_duration", clip(False)).value
    bursty = measure("motion_duration", clip(True)).value
    assert plain is not None and bursty is not None
    assert abs(bursty - plain) <= 0.1, (plain, bursty)
    held = measure("motion_duration", clip(False, hold=21)).value
    assert held is not None and held >= plain + 0.5, (plain, held)


def test_a_tracking_glitch_widens_the_movement_time_it_moves() -> None:
    """Two steps of a movement's path where the tracker throws the limbs across the picture
    (a left/right swap through a blended frame: cam02's mirror) add path the body never
    travelled and move the 10 % mark; the time's uncertainty grows to cover the change, and
    a clean path keeps the frame period's."""
    from viddiff.tools.kinematics.timing import _path_time

    fps, n = 30.0, 50
    pose = sequence([figure()] * n, fps=fps)
    clean = np.concatenate([[0.0], np.sin(np.linspace(0, np.pi, n - 1)) ** 2 * 0.05])
    glitched = clean.copy()
    glitched[12:14] += 0.6  # 18 torso lengths a second for two frames
    a = _path_time(pose, clean, 0.0, slice(0, n), 1 / fps)
    b = _path_time(pose, glitched, 0.0, slice(0, n), 1 / fps)
    assert a.value is not None and b.value is not None
    assert a.uncertainty == pytest.approx(1 / fps)
    assert abs(b.value - a.value) > 2 * a.uncertainty  # the glitch moves the time ...
    assert abs(b.value - a.value) <= math.hypot(a.uncertainty, b.uncertainty), (a, b)  # ... as said


def _jacks_then_drift(fps: float, drift_px_s: float, seed: int = 0) -> PoseSequence:
    """Two quick arm swings up and down (1.2 s each), then 1.2 s of the arms down while the
    body drifts sideways at ``drift_px_s``: the slow turn after a set of jumping jacks."""
    frames = []
    for t in np.arange(0, 3.6, 1 / fps):
        if t < 2.4:
            arm = 170.0 * 0.5 * (1 - math.cos(2 * math.pi * (t % 1.2) / 1.2))
            frames.append(figure(arm=(arm, arm)))
        else:
            frames.append(figure(arm=(0.0, 0.0), cx=300.0 + drift_px_s * (t - 2.4)))
    return sequence(frames, fps=fps, noise=1.0, seed=seed)


def test_an_average_near_the_stillness_threshold_is_as_uncertain_as_it_is() -> None:
    """The hands' average height weighs holds less. A drift at about the stillness threshold's
    speed is a hold at one frame rate and movement at another, which moved the average of one
    performance filmed at 30 and at 24 frames/s by 0.23 torso lengths against an uncertainty
    of 0.003; the average now carries what the threshold's own spread does to it, so the two
    recordings are not told apart. Where nothing is near the threshold (a faster drift) the
    uncertainty stays the jitter's."""
    at_30, at_24 = _jacks_then_drift(30.0, 30.0), _jacks_then_drift(24.0, 30.0)
    m = compare_metric("hand_height_mean", at_30, at_24)
    assert abs(m.value_a - m.value_b) > 0.15  # the knife edge is real ...
    assert m.label == "c", m.statement  # ... and within the stated uncertainty
    clear = compare_metric("hand_height_mean", _jacks_then_drift(30.0, 45.0),
                           _jacks_then_drift(24.0, 45.0))
    assert clear.label == "c" and clear.uncertainty < 0.1, clear.statement


def test_a_time_per_repetition_is_not_compared_with_a_movement_whose_reps_are_not_whole() -> None:
    """Three squats are timed per repetition; a clip that stops at the bottom of its squat is
    timed as one movement, and is no repetition: the two times are not one quantity (a walk
    filmed smaller was timed as one movement of 2.77 s against the original's 0.38 s per
    step). One whole squat, timed as one movement, is a repetition and is compared."""
    from viddiff.tools.kinematics.comparison import compare_values
    from viddiff.tools.kinematics.results import MetricValue

    spec = METRICS["motion_duration"]
    three = MetricValue(0.9, 0.02, 90, "s", reps=3)
    cut = squat_clip(n_hold=0, fps=30.0)
    cut = PoseSequence(keypoints=cut.keypoints[:20], visibility=cut.visibility[:20],
                       present=cut.present[:20], timestamps=cut.timestamps[:20],
                       width=cut.width, height=cut.height)
    one_movement = MetricValue(0.3, 0.02, 20, "s")
    m = compare_values(spec, three, one_movement, "higher", poses=(None, cut))
    assert m.label == "c" and "Not compared" in m.statement, m.statement
    whole = squat_clip(n_hold=0, fps=30.0)
    m = compare_values(spec, three, one_movement, "higher", poses=(None, whole))
    assert m.label == "a" and "Not compared" not in m.statement, m.statement
