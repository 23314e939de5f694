"""The benchmark taxonomy, the explicit difference -> metric table, and the keyword rules."""

from __future__ import annotations

import re

import pytest

from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.taxonomy import (
    FREE_TEXT_RULES,
    METRIC_MAP,
    NOT_MEASURABLE,
    REASON_TEXT,
    find_action,
    get_difference,
    load_actions,
    load_differences,
    match_free_text,
    metric_query_for,
    unmeasurable_for,
)


def test_package_data_loads() -> None:
    actions = load_actions()
    diffs = load_differences()
    assert len(actions) == 18 and len(diffs) == 148
    assert len({(d.action, d.diff_key) for d in diffs}) == 148
    assert {d.action for d in diffs} <= set(actions)
    assert actions["fitness_4"].name == "Squat Knee Raise side view"


def test_every_mapping_points_at_real_things() -> None:
    for (action, diff_key), query in METRIC_MAP.items():
        assert query.metric in METRICS, (action, diff_key, query.metric)
        assert get_difference(action, diff_key) is not None, (action, diff_key)
        assert query.direction in ("higher", "lower")
    assert len(METRIC_MAP) >= 55


def test_mapping_leaves_out_what_pose_cannot_see() -> None:
    domains = {k: a.domain for k, a in load_actions().items()}
    assert not [key for key in METRIC_MAP if domains[key[0]] in ("music", "surgery", "diving")]
    for diff in load_differences():  # toes, gaze, balls and needles: never guessed
        text = f"{diff.name} {diff.query_string}".lower()
        if "catch" in text:  # where the hands catch the ball is a hand position: mapped
            continue
        if re.search(r"\bgaze\b|\beyes?\b|\bball\b|\bneedle\b|\bthread\b", text):
            assert metric_query_for(diff.action, diff.diff_key) is None, (diff.action, diff.name)
        if re.search(r"\btoes?\b", text):  # toe direction: the 3-D foot turn-out, or a reason
            query = metric_query_for(diff.action, diff.diff_key)
            assert query is None or query.metric == "foot_turn_out", (diff.action, diff.name)
    # side view: the feet overlap, stance width is not visible
    assert metric_query_for("fitness_4", "0") is None
    assert unmeasurable_for("fitness_4", "0").reason == "view"  # type: ignore[union-attr]


def test_every_difference_is_mapped_or_has_a_reason() -> None:
    """Each of the 148 rows is answered by a metric or says why not -- never both, never
    neither -- and both tables name only real rows."""
    rows = {(d.action, d.diff_key) for d in load_differences()}
    mapped, unmeasurable = set(METRIC_MAP), set(NOT_MEASURABLE)
    assert not mapped & unmeasurable, sorted(mapped & unmeasurable)
    assert mapped | unmeasurable == rows, sorted(rows - mapped - unmeasurable)
    for why in NOT_MEASURABLE.values():
        assert why.reason in REASON_TEXT and why.detail
    # body geometry and timing of the fitness actions are all measured, except what the view hides
    fitness = [r for r in unmeasurable if r[0].startswith("fitness")]
    assert {NOT_MEASURABLE[r].reason for r in fitness} <= {"gaze", "view", "no_metric"}


def test_measurable_doc_is_up_to_date() -> None:
    from bench.measurable_table import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/measurable.md is out of date: python -m bench.measurable_table")


@pytest.mark.parametrize(("action", "diff_key", "metric", "direction"), [
    ("fitness_4", "2", "thigh_angle_max", "higher"),     # deeper squat
    ("fitness_2", "6", "knee_angle_min", "higher"),      # knees bend LESS
    ("ballsports_0", "0", "knee_angle_min", "lower"),    # knees bend MORE
    ("fitness_2", "9", "hand_floor_height_min", "lower"),
    ("fitness_1", "8", "motion_duration", "lower"),      # faster = shorter
    ("fitness_3", "3", "range_of_motion_shoulder", "lower"),  # more stable
])
def test_directions_of_key_entries(action: str, diff_key: str, metric: str,
                                   direction: str) -> None:
    query = metric_query_for(action, diff_key)
    assert query is not None and (query.metric, query.direction) == (metric, direction)


def test_find_action() -> None:
    assert find_action("fitness_4").key == "fitness_4"  # type: ignore[union-attr]
    assert find_action("basketball jump shot").key == "ballsports_0"  # type: ignore[union-attr]
    assert find_action("soccer penalty kick").key == "ballsports_3"  # type: ignore[union-attr]
    assert find_action("deadlift").key == "fitness_2"  # type: ignore[union-attr]
    assert find_action("xq zzv plonk") is None
    assert find_action("") is None


@pytest.mark.parametrize(("text", "metric", "direction"), [
    ("the squat is deeper", "thigh_angle_max", "higher"),
    ("the hips go lower", "hip_depth", "lower"),
    ("the squat is shallower", "hip_depth", "higher"),
    ("deeper", "hip_depth", "lower"),
    ("knees are more bent", "knee_angle_min", "lower"),
    ("the knees bend less at the bottom", "knee_angle_min", "higher"),
    ("wider feet stance", "stance_width", "higher"),
    ("a narrower stance", "stance_width", "lower"),
    ("the second step out is wider", "stance_width_max", "higher"),
    ("the motion is faster", "motion_duration", "lower"),
    ("the speed of hip rotation is faster", "motion_duration", "lower"),
    ("the movement is slower", "motion_duration", "higher"),
    ("there is a pause at the bottom", "longest_pause", "higher"),
    ("they jump higher", "jump_height_proxy", "higher"),
    ("the arms reach higher", "shoulder_angle_max", "higher"),
    ("the arms are elevated in a more uneven way", "left_right_asymmetry_shoulder", "higher"),
    ("the arm is more fully extended", "elbow_angle_max", "higher"),
    ("they raise the left knee instead of the right knee", "knee_raise_left_minus_right",
     "higher"),
    ("the knees are higher at the knee raise", "knee_raise_angle_max", "higher"),
    ("the knees cave inwards", "knee_width_ratio_min", "lower"),
    ("the torso leans further forward", "trunk_lean_max", "higher"),
    ("the head remains more vertical", "head_tilt_mean", "lower"),
    ("the upper body rocks more", "range_of_motion_trunk", "higher"),
    ("larger range of motion in the knees", "range_of_motion_knee", "higher"),
    ("the heels lift off the ground", "heel_lift_max", "higher"),
    ("the heels stay flat on the floor", "heel_lift_max", "lower"),
    ("the toes are more pointed out", "foot_turn_out", "higher"),
    ("the knees show more valgus", "knee_valgus_max", "higher"),
    ("the hips shift to the left", "hip_shift_mean", "higher"),
    ("the hips shift more to the right", "hip_shift_mean", "lower"),
    ("the head juts forward", "head_forward_mean", "higher"),
    ("higher release", "arm_height_at_top", "higher"),
    ("the left knee bends more", "knee_angle_min_left", "lower"),
    ("the right heel lifts off the ground", "heel_lift_max_right", "higher"),
    ("the right arm is raised higher", "shoulder_angle_max_right", "higher"),
    ("the hips shift to the left", "hip_shift_mean", "higher"),  # no sided variant
])
def test_free_text_rules(text: str, metric: str, direction: str) -> None:
    query = match_free_text(text)
    assert query is not None, text
    assert (query.metric, query.direction) == (metric, direction), text


@pytest.mark.parametrize("text", ["the ball spins more", "better balance when landing",
                                  "the gaze is forward",
                                  "more accurate finger placement", ""])
def test_free_text_without_a_metric(text: str) -> None:
    assert match_free_text(text) is None


def test_rules_reference_real_metrics_and_compile() -> None:
    for rule in FREE_TEXT_RULES:
        assert rule.query.metric in METRICS, rule.pattern
        re.compile(rule.pattern)
        assert rule.why
