"""The metrics issue 22 added to the catalogue, on synthetic bodies whose answer is known by
construction: the hip line of a plank (``hip_sag``, ``hip_pike``), the knees at the top of a
squat (``knee_extension_top`` and its sides), the chest at the bottom of a push-up
(``chest_depth_bottom``), and the time of the way down and the way up (``descent_time``,
``ascent_time``) -- each with a difference that must be found, a control that must not give
one, the refusal when the clip cuts the phase, and the reader's mirror directions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_kinematics import figure, sequence, viewed
from viddiff.graphs.measured_answers import answer_offline
from viddiff.tools.kinematics.comparison import compare_metric
from viddiff.tools.kinematics.movement import movement_of
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.registry import measure_metric as measure
from viddiff.tools.kinematics.rep_events import REST_WINDOW_S
from viddiff.tools.pose.sequence import LANDMARK_INDEX, N_LANDMARKS, PoseSequence
from viddiff.tools.understanding import understand

FPS = 30.0
TL = 100.0  # torso length of every synthetic body here, pixels
NEW = ("hip_sag", "hip_pike", "knee_extension_top", "knee_extension_top_left",
       "knee_extension_top_right", "chest_depth_bottom", "descent_time", "ascent_time")

# ------------------------------------------------------------------------------- bodies


def _lying(shoulder_height: float, offset: float, *, floor: float = 600.0,
           ankle_x: float = 520.0, wrist_x: float | None = None) -> np.ndarray:
    """(33, 2) keypoints of a body seen from the side in a plank or push-up: ankles on the
    floor at ``ankle_x``, shoulders ``shoulder_height`` px above the floor on the line three
    torso lengths long, hips one torso length from the shoulders and ``offset`` torso lengths
    off the shoulder-ankle line (+ towards the floor, measured along the vertical), wrists on
    the floor (under the shoulders unless ``wrist_x``), arms two 0.6 TL segments."""
    ankle = np.array([ankle_x, floor])
    theta = math.asin(shoulder_height / (3 * TL))  # the line's angle from horizontal
    along = np.array([-math.cos(theta), -math.sin(theta)])  # ankle -> shoulder
    shoulder = ankle + 3 * TL * along
    normal = np.array([math.sin(theta), -math.cos(theta)])  # perpendicular, pointing up
    o = offset * TL / math.cos(theta)  # a perpendicular offset whose vertical part is offset TL
    hip = shoulder - math.sqrt(TL**2 - o**2) * along - o * normal
    knee = (hip + ankle) / 2
    wrist = np.array([shoulder[0] if wrist_x is None else wrist_x, floor])
    half = max(float(np.linalg.norm(wrist - shoulder)) / 2, 1e-6)
    mid = (shoulder + wrist) / 2
    across = np.array([(wrist - shoulder)[1], -(wrist - shoulder)[0]]) / (2 * half)
    elbow = mid + across * math.sqrt(max(0.6**2 * TL**2 - half**2, 0.0)) * np.sign(across[0])
    head = shoulder + 0.35 * TL * np.array([-1.0, 0.0])
    pts = {"shoulder": shoulder, "hip": hip, "knee": knee, "ankle": ankle, "wrist": wrist,
           "elbow": elbow, "heel": ankle + np.array([-5.0, -5.0]),
           "foot_index": ankle + np.array([5.0, 0.0]), "ear": head, "pinky": wrist,
           "index": wrist, "thumb": wrist, "eye_inner": head, "eye": head, "eye_outer": head}
    out = np.zeros((N_LANDMARKS, 2))
    for name, idx in LANDMARK_INDEX.items():
        part = name.removeprefix("left_").removeprefix("right_").removeprefix("mouth_")
        out[idx] = pts.get(part, head)
    return out


def plank(offset: float, *, n: int = 60, noise: float = 0.3, seed: int = 0,
          shoulder_height: float = 30.0) -> PoseSequence:
    """A held plank whose hips sit ``offset`` torso lengths below (+) or above (-) the line."""
    return sequence([_lying(shoulder_height, offset)] * n, fps=FPS, noise=noise, seed=seed)


def _ramp(seconds: float) -> np.ndarray:
    return 0.5 * (1 - np.cos(np.linspace(0, np.pi, max(2, round(seconds * FPS)))))


def profile(reps: int = 1, *, down_s: float = 0.6, up_s: float = 0.6, hold_s: float = 0.0,
            rest_s: float = 0.6, lead_in_s: float = 0.6) -> np.ndarray:
    """0 at rest, 1 at the turnaround: a lead-in, then per repetition a cosine way down,
    ``hold_s`` at the turnaround, a cosine way up and ``rest_s`` at rest."""
    parts = [np.zeros(round(lead_in_s * FPS))]
    for _ in range(reps):
        parts += [_ramp(down_s), np.ones(round(hold_s * FPS)), _ramp(up_s)[::-1],
                  np.zeros(round(rest_s * FPS))]
    return np.concatenate(parts)


def pushups(bottom: float, *, reps: int = 2, offset: float = 0.0, noise: float = 0.3,
            seed: int = 0) -> PoseSequence:
    """Push-ups from shoulders 1.2 TL above the floor (arms straight) down to ``bottom`` TL,
    the body turning about the ankles, hands fixed on the floor."""
    top = 1.2 * TL
    top_x = 520.0 - 3 * TL * math.cos(math.asin(top / (3 * TL)))
    frames = [_lying(top - p * (top - bottom * TL), offset, wrist_x=top_x)
              for p in profile(reps)]
    return sequence(frames, fps=FPS, noise=noise, seed=seed)


def squats(*, top: tuple[float, float] = (180.0, 180.0), depth: float = 90.0, reps: int = 2,
           noise: float = 0.3, seed: int = 0, **timing: float) -> PoseSequence:
    """Squats whose knees stand at ``top`` (left, right interior angle) between repetitions
    and bend to ``depth``; ``timing`` goes to :func:`profile`."""
    frames = []
    for p in profile(reps, **timing):
        knees = (top[0] - p * (top[0] - depth), top[1] - p * (top[1] - depth))
        thigh = p * (180.0 - depth) * 0.9
        frames.append(figure(knee=knees, thigh=(thigh, thigh)))
    return sequence(frames, fps=FPS, noise=noise, seed=seed)


def _cut(pose: PoseSequence, start: int = 0, end: int | None = None) -> PoseSequence:
    sl = slice(start, end)
    return PoseSequence(keypoints=pose.keypoints[sl], visibility=pose.visibility[sl],
                        present=pose.present[sl], timestamps=pose.timestamps[sl] -
                        pose.timestamps[sl][0], width=pose.width, height=pose.height)


# ------------------------------------------------------------------------------- hip line


def test_the_synthetic_plank_is_what_it_says() -> None:
    kp = _lying(40.0, 0.2)
    mid = {p: (kp[LANDMARK_INDEX[f"left_{p}"]] + kp[LANDMARK_INDEX[f"right_{p}"]]) / 2
           for p in ("shoulder", "hip", "ankle")}
    assert np.linalg.norm(mid["shoulder"] - mid["hip"]) == pytest.approx(TL)
    assert np.linalg.norm(mid["shoulder"] - mid["ankle"]) == pytest.approx(3 * TL)


@pytest.mark.parametrize("incline", [0.0, 30.0, 90.0])
def test_hip_sag_and_pike_read_the_offset_from_the_line(incline: float) -> None:
    sagging, piked, straight = (plank(o, shoulder_height=incline) for o in (0.2, -0.15, 0.0))
    for name, pose, want in (("hip_sag", sagging, 0.2), ("hip_pike", sagging, 0.0),
                             ("hip_sag", piked, 0.0), ("hip_pike", piked, 0.15),
                             ("hip_sag", straight, 0.0), ("hip_pike", straight, 0.0)):
        v = measure(name, pose)
        assert v.value == pytest.approx(want, abs=0.02), (name, want)
        assert v.rows and v.uncertainty > 0  # evidence: the span's first and last frame


def test_a_standing_body_has_no_hip_line_offset() -> None:
    """The line from the shoulders to the ankles is vertical: a hip ahead of it is no sag."""
    pose = sequence([figure(lean=10.0)] * 30, fps=FPS, noise=0.3)
    assert measure("hip_sag", pose).value == pytest.approx(0.0, abs=0.02)
    assert measure("hip_pike", pose).value == pytest.approx(0.0, abs=0.02)


def test_hip_sag_in_3d_agrees_with_the_image() -> None:
    """With world landmarks (a side view seen a little from above) the line is read against
    the vertical in 3-D: the same sag."""
    pose = viewed(plank(0.2), yaw=20.0)
    assert pose.has_world
    assert measure("hip_sag", pose).value == pytest.approx(0.2, abs=0.03)


def test_hip_sag_difference_and_control() -> None:
    m = compare_metric("hip_sag", plank(0.2, seed=1), plank(0.0, seed=2))
    assert m.label == "a" and "sag more" in m.statement
    m = compare_metric("hip_pike", plank(0.2, seed=1), plank(0.0, seed=2))
    assert m.label == "c"
    control = compare_metric("hip_sag", plank(0.1, seed=3), plank(0.1, seed=4))
    assert control.label == "c"
    assert control.evidence_a and control.evidence_b


# ------------------------------------------------------------------------------ knees at the top


def test_knee_extension_top_reads_the_standing_knee_between_reps() -> None:
    pose = squats(top=(170.0, 170.0))
    v = measure("knee_extension_top", pose)
    assert v.value == pytest.approx(170.0, abs=1.5)
    assert v.reps == 2
    # the frames read are the standing frames next to the start and end events, not the
    # bottom, and never the knee at its most bent
    reps = movement_of(pose).reps
    reach = round(REST_WINDOW_S * FPS)
    for row in v.rows:
        assert any(r.start.row - reach <= row <= r.start.row or
                   r.end.row <= row <= r.end.row + reach for r in reps), row
    # knee_angle_min is the bottom: 90
    assert measure("knee_angle_min", pose).value == pytest.approx(90.0, abs=2.0)


def test_knee_extension_top_sides() -> None:
    pose = squats(top=(168.0, 180.0))
    left, right = measure("knee_extension_top_left", pose), measure("knee_extension_top_right",
                                                                    pose)
    assert left.value == pytest.approx(168.0, abs=1.5)
    assert right.value == pytest.approx(180.0, abs=1.5)
    assert METRICS["knee_extension_top_left"].side == "left"


def test_knee_extension_top_difference_and_control() -> None:
    bent, straight = squats(top=(165.0, 165.0), seed=1), squats(seed=2)
    m = compare_metric("knee_extension_top", bent, straight, direction="lower")
    assert m.label == "a" and "bent at the top" in m.statement
    control = compare_metric("knee_extension_top", squats(top=(172.0, 172.0), seed=3),
                             squats(top=(172.0, 172.0), seed=4, depth=80.0))
    assert control.label == "c"  # a deeper squat with the same top is no difference here
    assert control.evidence_a and control.evidence_b


def test_a_clip_without_a_repetition_has_no_top() -> None:
    still = sequence([figure()] * 40, fps=FPS, noise=0.3)
    v = measure("knee_extension_top", still)
    assert v.value is None and "no repetition" in v.note


# ---------------------------------------------------------------------------- chest at the bottom


def test_chest_depth_bottom_reads_the_shoulders_above_the_hands_at_the_bottom() -> None:
    deep, shallow = pushups(0.3), pushups(0.7)
    for pose, want in ((deep, 0.3), (shallow, 0.7)):
        assert movement_of(pose).direction == "lowers the hips"
        v = measure("chest_depth_bottom", pose)
        assert v.value == pytest.approx(want, abs=0.03)
        assert v.reps == 2
        turns = [r.turnaround.row for r in movement_of(pose).reps]
        assert all(min(abs(row - t) for t in turns) <= 3 for row in v.rows)


def test_chest_depth_difference_and_control() -> None:
    m = compare_metric("chest_depth_bottom", pushups(0.3, seed=1), pushups(0.7, seed=2),
                       direction="lower")
    assert m.label == "a" and "lower (deeper)" in m.statement
    control = compare_metric("chest_depth_bottom", pushups(0.4, seed=3),
                             pushups(0.4, seed=4, reps=3))
    assert control.label == "c"


def test_a_push_up_that_sags_reads_as_sagging() -> None:
    assert measure("hip_sag", pushups(0.4, offset=0.15)).value == pytest.approx(0.15, abs=0.03)
    assert measure("hip_sag", pushups(0.4)).value == pytest.approx(0.0, abs=0.02)


# ------------------------------------------------------------------------------- phase times


def test_descent_and_ascent_times_follow_the_phases() -> None:
    pose = squats(down_s=0.8, up_s=0.4, reps=1)
    (rep,) = movement_of(pose).reps
    down, up = measure("descent_time", pose), measure("ascent_time", pose)
    assert down.value is not None and up.value is not None
    # the turnaround is sharp (no hold); the start and end events are where the movement's
    # main signal has left rest by a tenth of its excursion, a fixed early part of each ramp
    # (a cosine ramp's first 20% of its time, more as the heights in the main signal grow
    # with the square of the angles): the same share of the 0.8 s way down and the 0.4 s
    # way up, so the two keep their 2:1 ratio
    for value, seconds in ((down.value, 0.8), (up.value, 0.4)):
        assert 0.6 * seconds <= value <= 0.85 * seconds, (value, seconds)
    assert down.value / up.value == pytest.approx(2.0, rel=0.15)
    # uncertain by the events' own timing uncertainty, evidenced by the events themselves
    assert down.uncertainty == pytest.approx(math.hypot(rep.start.uncertainty_s,
                                                        rep.turnaround.uncertainty_s))
    assert set(down.rows) == {rep.start.row, rep.turnaround.row}
    assert set(up.rows) == {rep.turnaround.row, rep.end.row}


def test_phase_times_average_the_repetitions() -> None:
    pose = squats(down_s=0.8, up_s=0.4, reps=3)
    one = measure("descent_time", squats(down_s=0.8, up_s=0.4, reps=1))
    three = measure("descent_time", pose)
    assert three.reps == 3 and three.value == pytest.approx(one.value, abs=2 / FPS)
    assert len(three.rows) == 6


def test_phase_time_difference_and_control() -> None:
    slow, quick = squats(down_s=1.2, up_s=0.5, seed=1), squats(down_s=0.6, up_s=0.5, seed=2)
    m = compare_metric("descent_time", slow, quick)
    assert m.label == "a" and "descent is slower" in m.statement
    assert compare_metric("ascent_time", slow, quick).label == "c"
    control = compare_metric("descent_time", squats(down_s=0.8, seed=3),
                             squats(down_s=0.8, seed=4, rest_s=1.0))
    assert control.label == "c"


def test_a_phase_the_clip_cuts_is_not_timed() -> None:
    whole = squats(down_s=0.8, up_s=0.4, reps=1)
    (rep,) = movement_of(whole).reps
    starts_mid = _cut(whole, start=rep.start.row + 6)
    ends_mid = _cut(whole, end=rep.end.row - 3)
    assert movement_of(starts_mid).coverage == (False, True)
    assert movement_of(ends_mid).coverage == (True, False)
    v = measure("descent_time", starts_mid)
    assert v.value is None and "starts mid-movement" in v.note
    assert measure("ascent_time", starts_mid).value is not None
    v = measure("ascent_time", ends_mid)
    assert v.value is None and "ends mid-movement" in v.note
    assert measure("descent_time", ends_mid).value is not None
    # the offline engine says so instead of a number
    ans = answer_offline("", "", "the descent is slower", starts_mid, whole, [], [])
    assert (ans.label, ans.measurable, ans.metric) == ("c", False, "descent_time")
    assert "starts mid-movement" in ans.reason
    # ... and still times the phase both clips show
    ans = answer_offline("", "", "the ascent is slower", starts_mid, whole, [], [])
    assert ans.measurable and ans.metric == "ascent_time"


# ------------------------------------------------------------------------------- registry, reader


def test_new_metrics_are_registered_and_not_proposed() -> None:
    for name in NEW:
        spec = METRICS[name]
        assert not spec.proposable, name  # capture safety not measured yet
        assert spec.phrases and len(spec.description) > 30, name
    assert METRICS["hip_sag"].family == METRICS["hip_pike"].family == "hip_line"
    assert METRICS["descent_time"].space == METRICS["ascent_time"].space == "time"


@pytest.mark.parametrize(("text", "metric", "direction", "stage"), [
    ("the descent is slower", "descent_time", "higher", "descent"),
    ("she lowers herself more slowly", "descent_time", "higher", None),
    ("the ascent is quicker", "ascent_time", "lower", "ascent"),
    ("she comes up more slowly", "ascent_time", "higher", None),
    ("at the top the left knee stays bent", "knee_extension_top_left", "lower", "top"),
    ("the knees lock out at the top", "knee_extension_top", "higher", "top"),
    ("the hips sag", "hip_sag", "higher", None),
    ("the butt sticks up in the air", "hip_pike", "higher", None),
    ("the chest gets closer to the floor at the bottom of the push-up", "chest_depth_bottom",
     "lower", "bottom"),
])
def test_statements_reach_the_new_metrics(text: str, metric: str, direction: str,
                                          stage: str | None) -> None:
    u = understand(text)
    assert (u.metric, u.direction) == (metric, direction), u.phrase
    assert u.query is not None and u.query.stage_hint == stage


@pytest.mark.parametrize(("statement", "opposite"), [
    ("the hips sag more", "the hips sag less"),
    ("the hips sag", "the body stays in one straight line"),
    ("the hips pike up", "the hips are not piked"),
    ("at the top the knees lock out", "at the top the knees stay bent"),
    ("at the top the left knee stays bent", "at the top the left knee is straight"),
    ("the chest gets closer to the floor at the bottom of the push-up",
     "the chest stays far from the floor at the bottom of the push-up"),
    ("the descent is slower", "the descent is faster"),
    ("the ascent is slower", "the way up is quicker"),
])
def test_opposites_give_mirror_directions(statement: str, opposite: str) -> None:
    a, b = understand(statement), understand(opposite)
    assert a.metric is not None and a.metric == b.metric, (a.phrase, b.phrase)
    assert {a.direction, b.direction} == {"higher", "lower"}


def test_hips_higher_alone_is_refused_as_unclear() -> None:
    """Against the floor (a squat's depth) or against the body line (a push-up's pike)?"""
    u = understand("the hips are higher")
    assert u.metric is None and "against what" in (u.refusal or "")
    assert u.suggestions[:2] == (METRICS["hip_depth"].more, METRICS["hip_pike"].more)
    assert understand(METRICS["hip_depth"].more).metric == "hip_depth"


def test_a_moment_hint_reads_every_repetition_for_a_metric_of_that_moment() -> None:
    """"The descent is slower" on two clips of eight squats times all eight descents: B's
    first descent is as quick as A's, the other seven twice as slow. Read on the "descent 1"
    stage the hint would name, it would find no difference."""
    quick = profile(8, down_s=0.6)
    first = profile(1, down_s=0.6)
    later = profile(7, down_s=1.2, lead_in_s=0.0)
    frames_a, frames_b = [], []
    for p in quick:
        frames_a.append(figure(knee=(180 - 90 * p,) * 2, thigh=(81 * p,) * 2))
    for p in np.concatenate([first, later]):
        frames_b.append(figure(knee=(180 - 90 * p,) * 2, thigh=(81 * p,) * 2))
    a = sequence(frames_a, fps=FPS, noise=0.3, seed=5)
    b = sequence(frames_b, fps=FPS, noise=0.3, seed=6)
    stages_a, stages_b = movement_of(a).stages, movement_of(b).stages
    assert {"descent 1", "descent 2", "descent 8"} <= {s.stage for s in stages_b}
    ans = answer_offline("", "", "the descent is slower", a, b, list(stages_a), list(stages_b))
    assert ans.metric == "descent_time" and ans.label == "b", ans.reason
    # the stage the hint names, on its own, shows no difference
    one_a = next(s for s in stages_a if s.stage == "descent 1")
    one_b = next(s for s in stages_b if s.stage == "descent 1")
    assert compare_metric("descent_time", a, b, one_a, one_b).label == "c"


def test_a_phase_hint_reads_that_phase_of_every_repetition() -> None:
    """"The trunk leans further forward on the way down" on two clips of eight squats: B's
    first squat leans as little as A's, the other seven lean much further. Every descent is
    read (averaged), not the first one's, which shows no difference."""
    lean_a = [5.0] * 8
    lean_b = [5.0] + [35.0] * 7

    def clip(leans: list[float], seed: int) -> PoseSequence:
        frames = []
        for lean in leans:
            for p in profile(1, down_s=0.6, lead_in_s=0.3, rest_s=0.3):
                frames.append(figure(knee=(180 - 90 * p,) * 2, thigh=(81 * p,) * 2,
                                     lean=lean * p))
        return sequence(frames, fps=FPS, noise=0.3, seed=seed)

    a, b = clip(lean_a, 7), clip(lean_b, 8)
    stages_a, stages_b = list(movement_of(a).stages), list(movement_of(b).stages)
    assert {"descent 1", "descent 8"} <= {s.stage for s in stages_a} & {s.stage for s in stages_b}
    ans = answer_offline("", "", "the trunk leans further forward on the way down", a, b,
                         stages_a, stages_b)
    assert ans.metric == "trunk_lean_max" and ans.label == "b", ans.reason
    assert "every repetition" in ans.reason and "8 reps" in ans.reason
    one_a = next(s for s in stages_a if s.stage == "descent 1")
    one_b = next(s for s in stages_b if s.stage == "descent 1")
    assert compare_metric("trunk_lean_max", a, b, one_a, one_b).label == "c"
