"""The offline engine: closed answers, open proposals, and the real-clip validation cases.

Real-clip cases (four synchronized views of one lunge take, 60 fps, sampled at 15 fps):
(a) two views of the same take: no timing, speed or duration difference is reported;
(b) a clip against a copy slowed to 1.5x: "the motion is faster" goes to the original and the
    measured durations are 1.5x within 10%;
(c) a clip against itself: every label is c;
(d) a clip against its mirror image: left and right metrics swap;
(e) two views of the same take: the angles that the 3-D pose makes view-independent agree.
"""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

from tests.support.snapshots import assert_matches_snapshot
from tests.support.validation import left_right_swap_agreement
from tests.support.videos import write_variant
from tests.test_kinematics import figure, sequence, squat_clip
from tests.test_pose import clip_path, load_pose, shared_pose_cache
from viddiff.graphs.measured_answers import (
    OfflineAnswer,
    OfflineProposal,
    answer_offline,
    over_movement,
    propose_offline,
    resolve_stage,
)
from viddiff.graphs.offline import build_offline_graph
from viddiff.tools.kinematics.comparison import (
    at_moment,
    compare_metric,
    compare_values,
    views_differ,
)
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.pose_phases import align_dtw, localize_pair, time_pairs
from viddiff.tools.segments import Segment
from viddiff.tools.taxonomy import load_differences

TIME_FAMILIES = {"duration", "tempo", "pause", "speed", "speed_wrist", "speed_ankle",
                 "speed_hip", "peak_speed_wrist", "peak_speed_ankle"}
SQUAT_STAGES = [Segment(stage="stand", start=0, end=9), Segment(stage="squat", start=10, end=39),
                Segment(stage="finish", start=40, end=49)]


def _stance_clip(width: float) -> PoseSequence:
    return sequence([figure(stance=width, knee=(170.0, 170.0), thigh=(5.0, 5.0))] * 20)


def test_graph_shape_matches_snapshot() -> None:
    mermaid = build_offline_graph().compile().get_graph().draw_mermaid()
    assert_matches_snapshot(mermaid, "offline_graph.mmd")


def test_unmapped_taxonomy_difference_is_not_guessed() -> None:
    pose = squat_clip()
    ans = answer_offline("gaze forward at start", "the gaze is forward at the start",
                         "the gaze is forward at the start of the motion", pose, pose, [], [],
                         action_key="fitness_2", diff_key="2")
    assert (ans.label, ans.measurable) == ("c", False)
    assert ans.reason.startswith("not measurable offline: no pose metric covers")
    assert "gaze" in ans.reason.split("covers", 1)[1]  # the taxonomy's reason is given
    # a metric that exists but cannot be read on this clip says why
    ans = answer_offline("toes pointed out", "the toes are more pointed out",
                         "the toes are more pointed out", pose, pose, [], [],
                         action_key="fitness_0", diff_key="1")
    assert (ans.label, ans.measurable, ans.metric) == ("c", False, "foot_turn_out")
    assert "3-D pose" in ans.reason
    # a known taxonomy difference without a mapping is not rescued by the keyword rules
    ans = answer_offline("Speed", "The speed of playing is faster", "higher speed of playing",
                         pose, pose, [], [], action_key="music_0", diff_key="3")
    assert not ans.measurable


def test_free_text_without_metric_is_not_measurable() -> None:
    pose = squat_clip()
    ans = answer_offline("spin", "the ball spins more", "the ball spins more", pose, pose, [], [])
    assert (ans.label, ans.measurable, ans.measurements) == ("c", False, [])


def test_mapped_difference_uses_the_stage_and_gets_the_label() -> None:
    deep, shallow = squat_clip(depth_knee=70.0), squat_clip(depth_knee=110.0)
    ans = answer_offline("deeper squat", "the squat is deeper", "the squat is deeper", deep,
                         shallow, SQUAT_STAGES, SQUAT_STAGES, action_key="fitness_4",
                         diff_key="2")
    assert ans.measurable and ans.label == "a" and ans.metric == "thigh_angle_max"
    main = ans.measurements[0]
    assert main.stage == "squat" and main.value_a is not None and main.value_a > main.value_b
    assert "°" in ans.reason and "in A" in ans.reason
    flipped = answer_offline("deeper squat", "", "the squat is deeper", shallow, deep,
                             SQUAT_STAGES, SQUAT_STAGES, action_key="fitness_4", diff_key="2")
    assert flipped.label == "b"
    OfflineAnswer.model_validate(json.loads(ans.model_dump_json()))


def test_free_text_difference_is_measured() -> None:
    wide, narrow = _stance_clip(1.2), _stance_clip(0.5)
    ans = answer_offline("stance", "wider stance", "the feet stance is wider", wide, narrow,
                         [], [])
    assert ans.label == "a" and ans.metric == "stance_width"
    assert answer_offline("stance", "", "narrower stance", wide, narrow, [], []).label == "b"


def test_person_missing_in_one_video() -> None:
    a, b = squat_clip(), squat_clip()
    b.present[:] = False
    ans = answer_offline("knees", "", "knees are more bent", a, b, [], [])
    assert (ans.label, ans.measurable) == ("c", False)
    assert "not measurable in B" in ans.reason


def test_resolve_stage() -> None:
    segs = SQUAT_STAGES
    phases = [Segment(stage=f"phase {k + 1}", start=10 * k, end=10 * k + 9) for k in range(5)]
    assert resolve_stage(None, segs, segs, 50, 50) == (None, None)
    a, b = resolve_stage("Squat", segs, segs, 50, 50)
    assert a is not None and b is not None and a.stage == b.stage == "squat"
    assert resolve_stage("start", phases, phases, 50, 50)[0] == phases[0]
    assert resolve_stage("lockout", phases, phases, 50, 50)[0] == phases[-1]
    assert resolve_stage("bottom", phases, phases, 50, 50)[0] == phases[2]
    first, second = resolve_stage("first shot", phases, phases, 50, 40)
    assert (first.start, first.end, second.end) == (0, 24, 19)  # type: ignore[union-attr]
    assert resolve_stage("second step", [], [], 50, 50)[0].start == 25  # type: ignore[union-attr]
    assert resolve_stage("wobble", phases, phases, 50, 50) == (None, None)


def test_propose_finds_the_real_difference_and_phrases_it_neutrally() -> None:
    wide, narrow = _stance_clip(1.2), _stance_clip(0.5)
    props = propose_offline(wide, narrow, [], [], n=3)
    assert props and props[0].measurements[0].metric.startswith("stance_width")
    assert props[0].label == "a" and "wider" in props[0].description
    for p in props:
        assert not re.search(r"\b(A|B|video)\b", p.description + p.query_string), p
        OfflineProposal.model_validate(json.loads(p.model_dump_json()))
    assert len({METRICS[p.measurements[0].metric].family for p in props}) == len(props)
    assert len(propose_offline(wide, narrow, [], [], n=1)) == 1
    assert propose_offline(wide, narrow, [], [], n=0) == []
    assert propose_offline(wide, wide, [], [], n=5) == []


def test_a_body_value_read_over_part_of_the_movement_carries_that_in_its_uncertainty() -> None:
    """Open mode reads a body value over each clip's movement span; where that span covers only
    part of the movement (a short, poorly tracked clip), half the difference from the whole
    clip's value is added, and where it only trims still frames nothing is."""
    pose = squat_clip(depth_knee=90.0, fps=30.0, n_hold=10)  # still 0-9, movement 10-49
    spec = METRICS["knee_angle_min"]
    whole = over_movement(spec, pose, None, None, 0)
    trimmed = over_movement(spec, pose, Segment(stage="m", start=8, end=pose.n_frames - 8),
                            None, 0)
    assert trimmed.value == pytest.approx(whole.value, abs=0.5)
    assert trimmed.uncertainty == pytest.approx(whole.uncertainty, rel=0.05)
    part = over_movement(spec, pose, Segment(stage="m", start=8, end=15), None, 0)
    assert part.value is not None and whole.value is not None
    assert part.value - whole.value > 30  # the first frames of the descent only
    assert part.uncertainty >= (part.value - whole.value) / 2
    duration = METRICS["motion_duration"]  # timing keeps its span
    assert over_movement(duration, pose, Segment(stage="m", start=8, end=15), None, 0) == \
        at_moment(duration, pose, Segment(stage="m", start=8, end=15), None, 0)


def test_open_mode_still_finds_a_deeper_squat_behind_still_lead_ins() -> None:
    """The movement span trims still lead-ins, which move no extreme: a real difference in depth
    is still stated (sensitivity kept)."""
    deep, shallow = squat_clip(depth_knee=80.0, fps=30.0), squat_clip(depth_knee=130.0, fps=30.0)
    props = propose_offline(deep, shallow, [], [], n=5)
    knee = [p for p in props if METRICS[p.measurements[0].metric].family.startswith("knee")]
    assert knee and knee[0].label == "b", [p.measurements[0].statement for p in props]


# --------------------------------------------------------------------------------------------
# Real clips
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PoseSequence]:
    cache = shared_pose_cache(tmp_path_factory)
    base = tmp_path_factory.getbasetemp()
    poses = {f"cam{c}": load_pose(clip_path(c), cache) for c in (1, 2, 3, 4)}
    slow = base / "cam01_slow1.5.mp4"
    if not slow.exists():
        write_variant(clip_path(1), slow, slow=1.5)
    mirror = base / "cam01_mirror.mp4"
    if not mirror.exists():
        write_variant(clip_path(1), mirror, mirror=True)
    poses["slow"] = load_pose(slow, cache)
    poses["mirror"] = load_pose(mirror, cache)
    return poses


@pytest.mark.real_clips
@pytest.mark.parametrize(("cam_a", "cam_b"), list(itertools.combinations((1, 2, 3, 4), 2)))
def test_a_two_views_show_no_timing_difference(real: dict[str, PoseSequence], cam_a: int,
                                               cam_b: int) -> None:
    a, b = real[f"cam{cam_a}"], real[f"cam{cam_b}"]
    segs_a, segs_b = localize_pair(a, b, 4)
    for props in (propose_offline(a, b, segs_a, segs_b, n=100),
                  propose_offline(b, a, segs_b, segs_a, n=100)):
        timing = [p for p in props if METRICS[p.measurements[0].metric].family in TIME_FAMILIES]
        assert timing == [], [p.measurements[0].statement for p in timing]
    for key, text in (("8", "the entire motion is faster"), (None, "the motion is faster"),
                      (None, "the motion is slower")):
        ans = answer_offline("speed", text, text, a, b, segs_a, segs_b,
                             action_key="fitness_2" if key else None, diff_key=key)
        assert ans.measurable and ans.label == "c", ans.reason
    for seg_a, seg_b in zip(segs_a, segs_b, strict=True):
        assert compare_metric("stage_duration", a, b, seg_a, seg_b).label == "c"


@pytest.mark.real_clips
def test_b_slowed_copy_is_slower_by_the_right_amount(real: dict[str, PoseSequence]) -> None:
    orig, slow = real["cam1"], real["slow"]
    segs_o, segs_s = localize_pair(orig, slow, 4)
    ans = answer_offline("speed", "the motion is faster", "the motion is faster", orig, slow,
                         segs_o, segs_s)
    assert ans.label == "a", ans.reason
    ans = answer_offline("speed", "", "the motion is faster", slow, orig, segs_s, segs_o,
                         action_key="fitness_1", diff_key="8")
    assert ans.label == "b", ans.reason
    for metric in ("stage_duration", "motion_duration"):
        m = compare_metric(metric, orig, slow)
        assert m.value_a and m.value_b
        assert m.value_b / m.value_a == pytest.approx(1.5, rel=0.10), (metric, m.statement)
    ctx_o, ctx_s = ClipContext.of(orig), ClipContext.of(slow)
    for seg_o, seg_s in zip(segs_o, segs_s, strict=True):  # phases also last 1.5x as long
        d_o = METRICS["stage_duration"].compute(orig, ctx_o, seg_o).value
        d_s = METRICS["stage_duration"].compute(slow, ctx_s, seg_s).value
        assert d_o and d_s and d_s / d_o == pytest.approx(1.5, abs=0.35)
    props = propose_offline(orig, slow, segs_o, segs_s, n=5)
    assert props and props[0].measurements[0].metric == "motion_duration"
    assert props[0].label == "b" and "slower" in props[0].description


@pytest.mark.real_clips
def test_c_clip_against_itself_is_all_c(real: dict[str, PoseSequence]) -> None:
    a = real["cam1"]
    segs = localize_pair(a, a, 4)[0]
    for diff in load_differences():
        ans = answer_offline(diff.name, diff.description, diff.query_string, a, a, segs, segs,
                             action_key=diff.action, diff_key=diff.diff_key)
        assert ans.label == "c", (diff.action, diff.diff_key, ans.reason)
    for spec in METRICS.values():
        assert compare_metric(spec.name, a, a).label == "c"
    assert propose_offline(a, a, segs, segs, n=20) == []


@pytest.mark.real_clips
def test_d_mirror_swaps_left_and_right(real: dict[str, PoseSequence]) -> None:
    orig, mirror = real["cam1"], real["mirror"]
    agree, total = left_right_swap_agreement(orig, mirror)
    assert agree / total >= 0.8, f"only {agree}/{total} left/right pairs swap cleanly"
    lr = compare_metric("knee_raise_left_minus_right", orig, mirror)
    assert lr.value_a is not None and lr.value_b is not None
    # the sign swaps; the label is what the measured cross-view error allows (a mirror is
    # read as another viewpoint: tools/data/cross_view_error.csv has 26.5 degrees for this
    # metric since it was re-measured on the current engine), and never the wrong way round
    assert lr.value_a < -10 < 10 < lr.value_b and lr.label != "a"
    assert lr.viewpoint_error > 0
    ans = answer_offline("side", "", "they raise the left knee instead of the right knee",
                         orig, mirror, [], [], action_key="fitness_5", diff_key="4")
    assert ans.label == lr.label, ans.reason
    unsided = [s for s in METRICS.values() if not s.needs_sides]  # lateral ones flip sign
    same = sum(compare_metric(s.name, orig, mirror).label == "c" for s in unsided)
    assert same / len(unsided) >= 0.9


#: Angle metrics that get no a/b label between any two of the four views once read on the 3-D
#: pose (bench/RESULTS.md has the per-metric counts). With 2-D angles thigh_angle_max alone gave
#: three spurious labels (cam04's rolled camera: 57° against 9-15°); in 3-D its closest pair
#: is at 0.9 of the threshold. knee_angle_min, hip_angle_min and trunk_lean_max are NOT here:
#: single-view 3-D does not make them agree on this take (the model's 3-D knee barely bends
#: where the knee bends towards cam01; cam03 reads the hips 20-30° more flexed in 2-D and 3-D
#: alike; the per-view vertical estimates leave trunk leans 7-8° apart).
VIEW_INDEPENDENT = ("knee_angle_max", "thigh_angle_max", "upper_arm_tilt_mean",
                    "left_right_asymmetry_knee")
#: Further angles that agree between cam01 and cam02, the pair shipped as examples/clips A/B.
EXAMPLE_PAIR_AGREE = ("hip_angle_min", "hip_angle_max", "head_tilt_mean")


@pytest.mark.real_clips
def test_e_views_agree_on_3d_angles(real: dict[str, PoseSequence]) -> None:
    cams = {c: real[f"cam{c}"] for c in (1, 2, 3, 4)}
    assert all(p.has_world for p in cams.values())
    angle_metrics = [s for s in METRICS.values() if s.kind == "angle"]
    labelled = {False: 0, True: 0}
    for world in (False, True):
        ctx = {c: ClipContext.of(p, world=world) for c, p in cams.items()}
        for spec in angle_metrics:
            values = {c: spec.compute(p, ctx[c], None) for c, p in cams.items()}
            for ca, cb in itertools.combinations(cams, 2):
                m = compare_values(spec, values[ca], values[cb], "higher", None,
                                   (cams[ca].lr_agreement, cams[cb].lr_agreement),
                                   views_differ=views_differ(cams[ca], cams[cb]))
                labelled[world] += m.label != "c"
                if world and (spec.name in VIEW_INDEPENDENT
                              or (spec.name in EXAMPLE_PAIR_AGREE and (ca, cb) == (1, 2))):
                    assert m.label == "c", (ca, cb, m.statement)
    # fewer spurious labels overall: 79 -> 58 of 192 when this was written
    assert labelled[True] <= 0.8 * labelled[False], labelled


@pytest.mark.real_clips
def test_f_alignment_pairs_follow_a_known_time_map(real: dict[str, PoseSequence]) -> None:
    """The result's ``alignment``: monotone pairs from both clips' first frames to their last;
    on a copy slowed 1.5x the moving part maps t_a to about 1.5 t_a."""
    orig, slow = real["cam1"], real["slow"]
    pairs = np.asarray(time_pairs(align_dtw(orig, slow), orig, slow))
    assert (np.diff(pairs, axis=0) >= 0).all()
    assert tuple(pairs[0]) == (orig.timestamps[0], slow.timestamps[0])
    assert tuple(pairs[-1]) == (round(float(orig.timestamps[-1]), 4),
                                round(float(slow.timestamps[-1]), 4))
    t_a = np.linspace(0.2 * orig.timestamps[-1], 0.8 * orig.timestamps[-1], 25)
    t_b = np.interp(t_a, pairs[:, 0], pairs[:, 1])
    err = np.abs(t_b - 1.5 * t_a)
    assert np.median(err) < 2 / 30, err  # within two frames at 30 fps


def test_at_the_bottom_of_several_repetitions_means_every_bottom() -> None:
    """With repetitions in both videos, "at the bottom" is read on each repetition (the
    registry averages per repetition), not on the first bottom only."""
    names = ["standing", "descent 1", "bottom 1", "ascent 1", "standing after 1", "descent 2",
             "bottom 2", "ascent 2"]
    reps = [Segment(stage=n, start=5 * i, end=5 * i + 4) for i, n in enumerate(names)]
    assert resolve_stage("at the bottom", reps, reps, 40, 40) == (None, None)
    assert resolve_stage("descent", reps, reps, 40, 40)[0] == reps[1]
    one = [Segment(stage=n, start=5 * i, end=5 * i + 4)
           for i, n in enumerate(["standing", "descent", "bottom", "ascent"])]
    assert resolve_stage("at the bottom", one, one, 20, 20)[0] == one[2]
