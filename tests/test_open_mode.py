"""Open mode end to end on the shipped example clips (always present): a control that must
state nothing, and a constructed difference that must be stated, first, and alone.

The example pair is two camera views of one take, so any statement about it is false; the
copy of A played 1.25x slower differs only in tempo, so the slower movement is the one true
statement. Both run the real offline engine (MediaPipe pose), as `viddiff compare --open 5`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.videos import write_variant
from viddiff import VidDiffContext, compare

CLIPS = Path(__file__).resolve().parents[1] / "examples" / "clips"

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> VidDiffContext:
    pytest.importorskip("mediapipe", reason="open mode needs the 'pose' extra (mediapipe)")
    return VidDiffContext(cache_dir=tmp_path_factory.mktemp("cache"))


def test_two_views_of_one_take_state_nothing(context: VidDiffContext) -> None:
    result = compare(str(CLIPS / "A.mp4"), str(CLIPS / "B.mp4"), action="a lunge",
                     n_differences=5, engine="offline", context=context)
    assert result.differences == [], [d.reason for d in result.differences]
    assert any("no measured difference cleared" in n for n in result.notes)
    names = [s.stage for s in result.segments_a]
    assert names[:4] == ["standing", "descent", "bottom", "ascent"]
    assert [s.stage for s in result.segments_b][:4] == names[:4]
    assert [e.name for e in result.events] == ["start", "bottom", "end"]


def test_a_slower_copy_is_stated_first_and_alone(context: VidDiffContext,
                                                 tmp_path: Path) -> None:
    slow = write_variant(CLIPS / "A.mp4", tmp_path / "slow.mp4", slow=1.25)
    result = compare(str(CLIPS / "A.mp4"), str(slow), action="a lunge", n_differences=5,
                     engine="offline", context=context)
    assert [d.measurements[0].metric for d in result.differences] == ["motion_duration"]
    (diff,) = result.differences
    assert diff.label == "b" and "slower" in diff.description
    bottom = next(e for e in result.events if e.name == "bottom")
    assert bottom.t_b == pytest.approx(1.25 * bottom.t_a, abs=0.1)


def _held_squat(hold_frames: int, fps: float = 30.0, stretch: float = 1.0, seed: int = 0):
    """A squat (stand, down, hold, up, stand) at ``fps``, its timestamps stretched by
    ``stretch`` (the same squat, slower)."""
    import dataclasses

    import numpy as np

    from tests.test_kinematics import figure, sequence

    ramp = np.linspace(0, 1, 12)
    prof = np.concatenate([np.zeros(12), ramp, np.ones(hold_frames), ramp[::-1], np.zeros(12)])
    frames = [figure(knee=(180 - 90 * p,) * 2, thigh=(81 * p,) * 2) for p in prof]
    pose = sequence(frames, fps=fps, noise=0.4, seed=seed)
    return dataclasses.replace(pose, timestamps=pose.timestamps * stretch)


def test_a_longer_pause_is_stated_as_the_pause_not_as_a_slower_motion() -> None:
    """A pause held at the bottom makes the whole movement take longer too; the fact to state
    is the pause (issue 19: the pause copies stated "the motion is slower" instead)."""
    from viddiff.graphs.measured_answers import propose_offline
    from viddiff.tools.kinematics.movement import movement_of

    quick, held = _held_squat(2, seed=1), _held_squat(26, seed=2)
    proposals = propose_offline(quick, held, list(movement_of(quick).stages),
                                list(movement_of(held).stages), 3)
    metrics = [p.measurements[0].metric for p in proposals]
    assert metrics and metrics[0] == "longest_pause" and proposals[0].label == "b", metrics
    assert "motion_duration" not in metrics


def test_a_slower_squat_is_still_stated_as_slower() -> None:
    """The control of the rule above: the same squat, slower throughout, with no pause added,
    is "the motion is slower", not a pause."""
    from viddiff.graphs.measured_answers import propose_offline
    from viddiff.tools.kinematics.movement import movement_of

    quick, slow = _held_squat(2, seed=1), _held_squat(2, stretch=1.8, seed=2)
    proposals = propose_offline(quick, slow, list(movement_of(quick).stages),
                                list(movement_of(slow).stages), 3)
    metrics = [p.measurements[0].metric for p in proposals]
    assert "motion_duration" in metrics, metrics


def test_one_statement_per_fact_not_per_body_part() -> None:
    """Depth read at the knee, the thigh or the hips is one fact (stated once); how low the
    hips go and how far they shift sideways are two (the shift, larger on a lunge turned
    early, hid its shallower depth when both were "the hips")."""
    from viddiff.graphs.measured_answers import FACT_OF_FAMILY, PART_OF_FAMILY
    from viddiff.tools.kinematics.registry import METRICS

    fact = {name: FACT_OF_FAMILY.get(spec.family, spec.family) for name, spec in METRICS.items()}
    assert fact["knee_angle_min"] == fact["thigh_angle_max"] == fact["hip_depth"] == "depth"
    assert fact["hip_depth"] != fact["hip_shift_max"]
    assert PART_OF_FAMILY[METRICS["hip_depth"].family] == \
        PART_OF_FAMILY[METRICS["hip_shift_max"].family] == "hip"
    assert fact["knee_valgus_max"] != fact["knee_angle_min"]
    assert fact["motion_duration"] == fact["longest_pause"] == "timing"
    # every family open mode may propose belongs to a part (its motion gate) and to a fact
    for spec in METRICS.values():
        if spec.proposable and spec.side is None and spec.family in PART_OF_FAMILY:
            assert fact[spec.name]


def test_angles_are_read_as_from_two_views_when_the_views_cannot_be_compared(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When the two clips' facing cannot be read (the cam02 mirror's left and right agree on
    56 % of frames), a body angle is compared with its cross-view error, as if the views may
    differ: open mode does not state a difference within it, and closed mode answers c."""
    import numpy as np

    import viddiff.tools.viewpoint as viewpoint
    from tests.test_kinematics import figure, sequence, viewed
    from viddiff.graphs.measured_answers import propose_offline
    from viddiff.tools.kinematics.movement import movement_of

    def squat(knee: float, seed: int):
        ramp = np.linspace(0, 1, 12)
        prof = np.concatenate([np.zeros(12), ramp, np.ones(6), ramp[::-1], np.zeros(12)])
        frames = [figure(knee=(180 - (180 - knee) * p,) * 2, thigh=(0.9 * (180 - knee) * p,) * 2)
                  for p in prof]
        return viewed(sequence(frames, fps=30.0, noise=0.4, seed=seed), yaw=10.0)

    a, b = squat(110.0, 1), squat(100.0, 2)  # B bends its knees 10° deeper
    stages = (list(movement_of(a).stages), list(movement_of(b).stages))

    def stated(pose_a, pose_b) -> list[str]:
        return [p.measurements[0].metric for p in propose_offline(pose_a, pose_b, *stages, 5)]

    known = stated(a, b)
    assert any(m in known for m in ("knee_angle_min", "thigh_angle_max", "range_of_motion_knee",
                                    "hip_depth")), known
    from viddiff.tools.kinematics.comparison import compare_metric

    asked = compare_metric("knee_angle_min", a, b, direction="lower")
    assert asked.label == "b" and asked.viewpoint_error == 0.0, asked.statement
    monkeypatch.setattr(viewpoint, "view_difference", lambda pa, pb: None)
    unknown = stated(a, b)
    assert not any(m in unknown for m in ("knee_angle_min", "range_of_motion_knee")), unknown
    # asked, the same: "the knees bend more" is read with the cross-view error too
    asked = compare_metric("knee_angle_min", a, b, direction="lower")
    assert asked.viewpoint_error > 0 and asked.label == "c", asked.statement


def test_how_low_a_lowering_movement_goes_is_stated_before_its_consequences() -> None:
    """Two squats, B shallower and with a much wider stance (its stance differs by more of its
    threshold than its depth does): depth is what the movement is, so it comes first; ranked
    by score alone it came after the stance (the cam01 lunge turned early lost its depth from
    the five slots to the narrower step, hip shift, hand height and lean that follow from it).
    """
    import numpy as np

    from tests.test_kinematics import figure, sequence
    from viddiff.graphs.measured_answers import amplitude_fact, propose_offline
    from viddiff.tools.kinematics.movement import movement_of

    def squat(knee: float, stance: float, seed: int):
        ramp = np.linspace(0, 1, 12)
        prof = np.concatenate([np.zeros(12), ramp, np.ones(4), ramp[::-1], np.zeros(12)])
        frames = [figure(knee=(180 - (180 - knee) * p,) * 2,
                         thigh=(0.9 * (180 - knee) * p,) * 2, stance=stance) for p in prof]
        return sequence(frames, fps=30.0, noise=0.4, seed=seed)

    deep, shallow = squat(90.0, 0.5, 1), squat(125.0, 1.6, 2)
    moves = movement_of(deep), movement_of(shallow)
    assert amplitude_fact(*moves) == "depth"
    proposals = propose_offline(deep, shallow, list(moves[0].stages), list(moves[1].stages), 5)
    metrics = [p.measurements[0].metric for p in proposals]
    facts = {"knee_angle_min", "thigh_angle_max", "hip_depth", "hip_angle_min",
             "range_of_motion_knee", "range_of_motion_hip"}
    assert metrics and metrics[0] in facts, metrics
    assert any(m.startswith("stance") for m in metrics[1:]), metrics
    scores = {p.measurements[0].metric: p.score for p in proposals}
    stance = max(v for k, v in scores.items() if k.startswith("stance"))
    assert stance > scores[metrics[0]], scores  # the stance clears by more, and comes later


def test_a_further_lean_over_the_same_legs_is_the_lean_not_a_deeper_squat() -> None:
    """Two squats alike in the legs, B leaning 25 degrees further: the hip angle (trunk to
    thigh) flexes more too, but that is the lean again. Open mode states the lean, not "the
    hips flex more" ranked first as the squat's depth; with the legs bending less as well,
    depth is stated on the legs."""
    import numpy as np

    from tests.test_kinematics import figure, sequence
    from viddiff.graphs.measured_answers import propose_offline
    from viddiff.tools.kinematics.movement import movement_of

    def squat(knee: float, lean: float, seed: int):
        ramp = np.linspace(0, 1, 12)
        prof = np.concatenate([np.zeros(12), ramp, np.ones(4), ramp[::-1], np.zeros(12)])
        frames = [figure(knee=(180 - (180 - knee) * p,) * 2,
                         thigh=(0.9 * (180 - knee) * p,) * 2, lean=lean * p) for p in prof]
        return sequence(frames, fps=30.0, noise=0.8, seed=seed)

    def stated(b) -> list[str]:
        a = squat(90.0, 5.0, 1)
        ps = propose_offline(a, b, list(movement_of(a).stages), list(movement_of(b).stages), 5)
        return [p.measurements[0].metric for p in ps]

    leaning = stated(squat(90.0, 30.0, 2))
    assert leaning and leaning[0] == "trunk_lean_max", leaning
    assert "hip_angle_min" not in leaning and "range_of_motion_hip" not in leaning, leaning
    both = stated(squat(120.0, 30.0, 2))
    assert both[0] == "knee_angle_min" and "trunk_lean_max" in both, both
