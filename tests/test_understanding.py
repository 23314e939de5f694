"""The free-text reader (issue 22): statements to metric, direction, moment and side."""

from __future__ import annotations

import itertools

import pytest

from bench.bench_understanding import load, score
from tests.test_kinematics import squat_clip
from viddiff.graphs.measured_answers import answer_offline, query_for
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.understanding import (
    CLOSEST,
    NOT_YET_MEASURED,
    UNCLEAR,
    read_words,
    side_of,
    understand,
)

BASE_METRICS = [spec for spec in METRICS.values() if spec.side is None]

#: Dev-set figures (``python -m bench.bench_understanding --split dev``): 79.9% right, 3.3%
#: wrong on the 612 dev statements since the statistic cues and the clause-local direction
#: (73.4% / 6.7% before; it was 76.6% / 0.8% on the 367 written with the reader); 3.1% wrong
#: (19) since a direction word from another clause is refused; a change that loses ground
#: fails here. Held-out is reported, never tested. Stop 26: 83.3% right, 2.5% wrong (15) on
#: dev, 66.9% / 6.8% (22) on the second blind bank (dev3), which has its own floor.
DEV_RIGHT_FLOOR = 0.83
DEV_WRONG_CEILING = 0.0246
DEV3_RIGHT_FLOOR = 0.665
DEV3_WRONG_CEILING = 0.069
#: Opposite pairs of the dev bank that the reader maps to different metrics or the same
#: direction (16 of them, 18 before the statistic cues: mostly a statement and its opposite
#: worded about sibling metrics, "the hips sag" and "the hips stay up").
MAX_BROKEN_OPPOSITES = 16


def _read(text: str) -> tuple[str | None, str | None]:
    u = understand(text)
    return u.metric, u.direction


@pytest.mark.parametrize(("text", "metric", "direction"), [
    ("she squats lower", "hip_depth", "lower"),
    ("the person does not go as low", "hip_depth", "higher"),
    ("the squat is deeper", "hip_depth", "lower"),
    ("the squat is shallower", "hip_depth", "higher"),
    ("the heels stay planted", "heel_lift_max", "lower"),
    ("the heels don't lift", "heel_lift_max", "lower"),
    ("the person rises onto the toes", "heel_lift_max", "higher"),
    ("the chest stays up", "trunk_lean_max", "lower"),
    ("the back is more vertical at the bottom", "trunk_lean_max", "lower"),
    ("the knees lock out at the top", "knee_extension_top", "higher"),
    ("the legs stay straighter", "knee_angle_min", "higher"),
    ("knees are more bent", "knee_angle_min", "lower"),
    ("the person does more push-ups", "rep_count", "higher"),
    ("the feet stance is wider", "stance_width", "higher"),
    ("narrower stance", "stance_width", "lower"),
    ("the motion is faster", "motion_duration", "lower"),
    ("the motion is slower", "motion_duration", "higher"),
    ("there is no pause at the bottom, he goes straight back up", "longest_pause", "lower"),
    ("the knees cave in", "knee_valgus_max", "higher"),
    ("the knees track out over the toes", "knee_valgus_max", "lower"),
])
def test_statements_map_to_metric_and_direction(text: str, metric: str, direction: str) -> None:
    assert _read(text) == (metric, direction)


@pytest.mark.parametrize(("statement", "opposite"), [
    ("the squat is deeper", "the squat is shallower"),
    ("the squat is deeper", "the squat is not as deep"),
    ("she squats lower", "the person does not go as low"),
    ("the heels lift", "the heels stay planted"),
    ("the heels lift", "the heels don't lift"),
    ("the stance is wider", "the stance is narrower"),
    ("the motion is faster", "the motion is slower"),
    ("the knees bend more", "the knees bend less"),
    ("the arms are raised higher", "the arms are raised less high"),
    ("the pause is longer", "the pause is shorter"),
    ("the knees move through a larger range", "the knees move through a smaller range"),
    ("he does more reps", "he does fewer reps"),
])
def test_antonyms_and_negations_mirror(statement: str, opposite: str) -> None:
    (m1, d1), (m2, d2) = _read(statement), _read(opposite)
    assert m1 is not None and m1 == m2
    assert {d1, d2} == {"higher", "lower"}


@pytest.mark.parametrize("spec", BASE_METRICS, ids=lambda s: s.name)
def test_every_metric_statement_and_its_opposite_mirror(spec) -> None:  # type: ignore[no-untyped-def]
    """For every metric: its phrases and its more/less wording, each against its negation,
    read the same metric with mirror directions (or are refused both); its own more and less
    wording, when both read as one metric, read it in mirror directions; and at least one of its
    phrases reads as the metric itself (the matcher uses the catalogue's description)."""
    statements = [spec.more, spec.less, *(p.lstrip("-") for p in spec.phrases)]
    for text in statements:
        a, b = understand(text), understand(f"it is not true that {text}")
        assert a.metric == b.metric, (text, a.metric, b.metric)
        if a.metric is not None:
            assert {a.direction, b.direction} == {"higher", "lower"}, text
    more, less = understand(spec.more), understand(spec.less)
    if more.metric is not None and more.metric == less.metric:
        assert {more.direction, less.direction} == {"higher", "lower"}, spec.name
    assert any(understand(p.lstrip("-")).metric == spec.name for p in spec.phrases), spec.name


def test_phrase_bank_opposites_mirror_on_dev() -> None:
    """The dev phrase bank's opposite_of pairs: both read, same metric, mirror directions --
    all but :data:`MAX_BROKEN_OPPOSITES` (three when the reader was written: "she shoots
    with stiffer legs and barely bends the knees" reads the flip against the first word)."""
    entries = {e["id"]: e for e in load("dev")}
    broken = []
    for e in entries.values():
        if not e["opposite_of"]:
            continue
        a, b = understand(e["text"]), understand(entries[e["opposite_of"]]["text"])
        if a.metric and b.metric and not (a.metric == b.metric and a.direction != b.direction):
            broken.append(e["text"])
    assert len(broken) <= MAX_BROKEN_OPPOSITES, broken


#: The rules of issue 22's second pass, each as a statement of our own (none is in the phrase
#: bank) and its opposite: (statement, metric, direction, opposite).
RULES = [
    # a person who leans leans the trunk; the thighs' horizontal is a squat's parallel
    ("she leans further forward", "trunk_lean_max", "higher",
     "she does not lean as far forward"),
    ("the athlete tips forward more", "trunk_lean_max", "higher", "the athlete tips forward less"),
    ("the thighs get closer to horizontal", "thigh_angle_max", "higher",
     "the thighs stay further above horizontal"),
    # statistic cues: a reach, a peak, the moment of impact, a jump out name the extreme sibling
    ("her hands reach up further", "hand_height_max", "higher",
     "her hands do not reach up as far"),
    ("his hands are carried higher", "hand_height_mean", "higher", "his hands are carried lower"),
    ("the ankle is quicker at impact", "peak_speed_ankle", "higher",
     "the ankle is slower at impact"),
    ("the ankles move quicker", "mean_speed_ankle", "higher", "the ankles move slower"),
    ("the wrists reach a higher top speed", "peak_speed_wrist", "higher",
     "the wrists reach a lower top speed"),
    ("his feet hop out wider", "stance_width_max", "higher", "his feet hop out narrower"),
    ("his feet are placed wider", "stance_width", "higher", "his feet are placed narrower"),
    # direction: one clause's own reading, a hinge's depth, softeners, a brief stop
    ("the squat is shallow, her knees barely bend", "knee_angle_min", "higher",
     "the squat is deep, her knees bend a lot"),
    ("his hip hinge is deeper", "hip_angle_min", "lower", "his hip hinge is shallower"),
    ("her follow through is cut short", "elbow_angle_max", "lower",
     "her follow through is complete"),
    ("she halts momentarily at the top", "longest_pause", "higher",
     "she does not halt at the top"),
    # an arm said bent or straight is its extension; an elbow said to bend, its deepest bend
    ("her arms stay bent", "elbow_angle_max", "lower", "her arms stay straight"),
    ("he keeps his arms straighter", "elbow_angle_max", "higher",
     "he keeps his arms more bent"),
    ("her elbows bend further", "elbow_angle_min", "lower", "her elbows bend less far"),
    ("his elbows flex unevenly", "left_right_asymmetry_elbow", "higher",
     "his elbows flex evenly"),
    ("the knees stay bent", "knee_angle_min", "lower", "the knees stay straight"),
    # a joint's own name with its movement's size; a jump's height said as a noun
    ("the elbow movement is bigger", "range_of_motion_elbow", "higher",
     "the elbow movement is smaller"),
    ("his jumps get more air", "jump_height_proxy", "higher", "his jumps get less air"),
    # vocabulary
    ("his elbows never fully straighten", "elbow_angle_max", "lower",
     "his elbows straighten fully"),
    ("she keeps a slight bend in her elbows", "elbow_angle_max", "lower",
     "she does not keep a slight bend in her elbows"),
    ("his knees open and close through a smaller range", "range_of_motion_knee", "lower",
     "his knees open and close through a larger range"),
    ("the band of hip bend is wider", "range_of_motion_hip", "higher",
     "the band of hip bend is narrower"),
    ("he settles into his knees more", "knee_angle_min", "lower",
     "he settles into his knees less"),
    ("he stretches further down", "hand_floor_height_min", "lower",
     "he does not stretch as far down"),
    ("her hands finish below the ankles", "hand_floor_height_min", "lower",
     "her hands finish above the ankles"),
    ("he presses back up more slowly", "ascent_time", "higher",
     "he presses back up more quickly"),
    ("she stands taller through the set", "trunk_lean_max", "lower",
     "she does not stand as tall through the set"),
    ("he punts the ball more powerfully", "peak_speed_ankle", "higher",
     "he punts the ball less powerfully"),
    ("she favours her left leg", "left_right_asymmetry_knee", "higher",
     "she does not favour either leg"),
    ("his shoulders hardly move", "range_of_motion_shoulder", "lower",
     "his shoulders move a lot"),
    ("the pelvis hikes up in the plank", "hip_pike", "higher",
     "the pelvis does not hike up in the plank"),
    ("his head droops more", "head_tilt_mean", "higher", "his head droops less"),
    ("it looks more like a squat with straight legs", "knee_angle_min", "higher",
     "it looks more like a squat with bent legs"),
    ("he stays up on one foot for longer", "stage_duration", "higher",
     "he stays up on one foot for less time"),
    # a dimension said as a noun, a brief pause, posture, a leg's bend and straightening
    ("his peak hand height is greater", "hand_height_max", "higher",
     "his peak hand height is smaller"),
    ("a greater jump height", "jump_height_proxy", "higher", "a smaller jump height"),
    ("there is a short pause at the bottom", "longest_pause", "higher",
     "there is no pause at the bottom"),
    ("he is more upright", "trunk_lean_max", "lower", "he is less upright"),
    ("her knees hardly bend or straighten", "range_of_motion_knee", "lower",
     "her knees bend and straighten a lot"),
    ("his legs are spread wider", "stance_width", "higher", "his legs are spread less wide"),
    # the weight onto one leg, side to side, a step's size, toes flaring, an arm's swing
    ("more of her weight goes onto the left foot", "hip_shift_mean", "higher",
     "more of her weight goes onto the right foot"),
    ("his hips wander from side to side more", "hip_sway", "higher",
     "his hips wander from side to side less"),
    ("her toes flare outward more", "foot_turn_out", "higher", "her toes flare outward less"),
    ("his arms swing through more", "range_of_motion_shoulder", "higher",
     "his arms swing through less"),
    # hips too high or above the shoulders pike, too low sag; stopping short of a position
    ("during the hold his hips ride too high", "hip_pike", "higher",
     "during the hold his hips do not ride too high"),
    ("her pelvis sits above the shoulders in the plank", "hip_pike", "higher",
     "her pelvis does not sit above the shoulders in the plank"),
    ("his hips drop too low during the hold", "hip_sag", "higher",
     "his hips do not drop too low during the hold"),
    ("her arms come short of overhead", "shoulder_angle_max", "lower",
     "her arms go all the way overhead"),
    # what a clause says of its subject, not words pieced from a later clause ("pushes up")
    ("her hips sag as she pushes back up", "hip_sag", "higher",
     "her hips do not sag as she pushes back up"),
    ("his knees cave in while he drives up", "knee_valgus_max", "higher",
     "his knees do not cave in while he drives up"),
    # in one clause the body part named first is the subject; a later one is a place
    ("his hands stay up near his chest", "hand_height_mean", "higher",
     "his hands stay down near his chest"),
    ("the hands sit higher against the chest", "hand_height_mean", "higher",
     "the hands sit lower against the chest"),
    # getting or bringing a body part to a level is going there
    ("he brings his chest lower", "chest_depth_bottom", "lower",
     "he does not bring his chest as low"),
    ("he gets his chest down further", "chest_depth_bottom", "lower",
     "he does not get his chest down as far"),
    # matching is even
    ("her knees bend to matching depths", "left_right_asymmetry_knee", "lower",
     "her knees bend to uneven depths"),
    # issue 22 on the blind bank: words coaches use for parts, properties and directions
    # ('-kneed', extra, an imbalance, centred, towards his left, to one side, diving in, tiny,
    # stiller, fidgeting, hesitating, pitching forward, bending over, back and forth, level
    # with the ground, taking one's time, sitting down deeper, hip circles, knees wider,
    # elbows below the shoulders, the chest rocking, the kicking leg, the lower back, a chin
    # tuck, standing up fully, a push-up to the floor, vertical at the top, waiting, longer
    # in the hole, the chest dropping further, an arc, straight up, leading up to, forefoot)
    ("he finishes soft-kneed at the top", "knee_extension_top", "lower",
     "he finishes stiff-kneed at the top"),
    ("she squeezes out extra reps", "rep_count", "higher", "she squeezes out fewer reps"),
    ("there is a bigger imbalance between the knees", "left_right_asymmetry_knee", "higher",
     "the knees are balanced"),
    ("the elbows are mismatched", "left_right_asymmetry_elbow", "higher", "the elbows are matched"),
    ("her hips stay centered", "hip_shift_max", "lower", "her hips do not stay centered"),
    ("his pelvis stays centred over his feet", "hip_shift_max", "lower",
     "his pelvis does not stay centred over his feet"),
    ("the hips shift towards his left", "hip_shift_mean", "higher",
     "the hips shift towards his right"),
    ("his pelvis moves off to one side more", "hip_shift_max", "higher",
     "his pelvis moves off to one side less"),
    ("he drifts to the side more", "hip_shift_max", "higher", "he drifts to the side less"),
    ("her knees dive in on the landing", "knee_valgus_max", "higher",
     "her knees do not dive in on the landing"),
    ("the hip circles are tiny", "hip_sway", "lower", "the hip circles are big"),
    ("the body is stiller", "mean_speed", "lower", "the body is less still"),
    ("he fidgets more", "mean_speed", "higher", "he fidgets less"),
    ("he hesitates at the bottom", "longest_pause", "higher", "he does not hesitate at the bottom"),
    ("she pitches forward more in the squat", "trunk_lean_max", "higher",
     "she pitches forward less in the squat"),
    ("he bends over further", "trunk_lean_max", "higher", "he bends over less"),
    ("his torso moves back and forth more", "range_of_motion_trunk", "higher",
     "his torso moves back and forth less"),
    ("her upper arms stay level with the ground", "upper_arm_tilt_mean", "lower",
     "her upper arms do not stay level with the ground"),
    ("she takes her time on each rep", "stage_duration", "higher",
     "she does not take her time on each rep"),
    ("she sits down deeper", "hip_depth", "lower", "she sits down shallower"),
    ("her knees stay wider", "knee_width_ratio_min", "higher", "her knees stay narrower"),
    ("his elbows sink below his shoulders", "upper_arm_tilt_mean", "higher",
     "his elbows rise to his shoulders"),
    ("her chest rocks more", "range_of_motion_trunk", "higher", "her chest rocks less"),
    ("his kicking leg swings through faster", "peak_speed_ankle", "higher",
     "his kicking leg swings through slower"),
    ("her lower back sags more in the plank", "hip_sag", "higher",
     "her lower back sags less in the plank"),
    ("his lower back drops towards the mat", "hip_sag", "higher", "his lower back stays up"),
    ("she tucks her chin", "head_forward_mean", "lower", "she does not tuck her chin"),
    ("he never fully stands up", "knee_extension_top", "lower", "he fully stands up"),
    ("she stands all the way up each rep", "knee_extension_top", "higher",
     "she does not stand all the way up each rep"),
    ("her push-ups go to the floor", "chest_depth_bottom", "lower",
     "her push-ups stop short of the floor"),
    ("his arms are more vertical at the top", "arm_height_at_top", "higher",
     "his arms are less vertical at the top"),
    ("she waits longer at the bottom", "longest_pause", "higher", "she waits less at the bottom"),
    ("he spends longer in the hole", "longest_pause", "higher",
     "he spends a shorter time in the hole"),
    ("his chest drops further", "chest_depth_bottom", "lower", "his chest does not drop as far"),
    ("her arms trace a bigger arc", "range_of_motion_shoulder", "higher",
     "her arms trace a smaller arc"),
    ("her arms finish straight up", "arm_height_at_top", "higher",
     "her arms do not finish straight up"),
    ("the head drops leading up to the kick", "head_tilt_mean", "higher",
     "the head stays up leading up to the kick"),
    ("she rises onto her forefoot more", "heel_lift_max", "higher",
     "she rises onto her forefoot less"),
    # stacked over is in line, catching one's breath a rest, a few more is more
    ("her ears stay stacked above her shoulders", "head_forward_mean", "lower",
     "her ears do not stay stacked above her shoulders"),
    ("he pauses to catch his breath", "longest_pause", "higher",
     "he never stops to catch his breath"),
    ("she manages a few more reps", "rep_count", "higher", "she manages a few fewer reps"),
    # "as he pushes up" says when; below or above the body line is a sag or a pike
    ("her knees cave in as she drives up", "knee_valgus_max", "higher",
     "her knees do not cave in as she drives up"),
    ("his pelvis sags as he pushes back up", "hip_sag", "higher",
     "his pelvis does not sag as he pushes back up"),
    ("her hips drop below the body line", "hip_sag", "higher",
     "her hips do not drop below the body line"),
    ("his hips sit above the line", "hip_pike", "higher", "his hips do not sit above the line"),
    # a sharper angle is a deeper bend; the belly, the core: the midsection, as the lower back
    ("his knees make a sharper angle", "knee_angle_min", "lower",
     "his knees make a less sharp angle"),
    ("her tummy sags in the plank", "hip_sag", "higher", "her tummy does not sag in the plank"),
    ("his belly dips towards the mat", "hip_sag", "higher", "his belly stays up"),
    # holding the spine angle keeps the trunk's angle; coming out of posture changes it
    ("she maintains her torso angle through the swing", "range_of_motion_trunk", "lower",
     "she does not maintain her torso angle through the swing"),
    ("he comes out of his posture", "range_of_motion_trunk", "higher",
     "he does not come out of his posture"),
    # up and down, either order, is the hands' travel
    ("her hands move down and up a lot more", "range_of_motion_hand", "higher",
     "her hands move down and up a lot less"),
    ("his wrists go up and back down further", "range_of_motion_hand", "higher",
     "his wrists do not go up and back down as far"),
    # by the chest is the chest's level, not the chest
    ("he carries his hands up near his chest", "hand_height_mean", "higher",
     "he carries his hands down near his chest"),
    # in and out is a travel, not a direction
    ("his feet move in and out faster", "mean_speed_ankle", "higher",
     "his feet move in and out slower"),
    # an exercise's name said with a pace word and no body part is the movement's own pace
    ("her burpees are quicker", "motion_duration", "lower", "her burpees are slower"),
    ("he deadlifts faster", "motion_duration", "lower", "he deadlifts more slowly"),
    ("the curls are rushed", "motion_duration", "lower", "the curls are not rushed"),
    # a part said only to move, more or less, moves through a range; a jump said only more or
    # less goes higher or lower
    ("her knees hardly move", "range_of_motion_knee", "lower", "her knees move a lot"),
    ("his hips move much more than hers", "range_of_motion_hip", "higher",
     "his hips move much less than hers"),
    ("the trunk barely moves during the set", "range_of_motion_trunk", "lower",
     "the trunk moves a lot during the set"),
    ("she barely hops at all", "jump_height_proxy", "lower", "she hops a lot more"),
    # the body part a verb of going down lowers is its object: the way down's pace
    ("he quickly lowers his torso", "descent_time", "lower", "he slowly lowers his torso"),
]


def test_a_movement_said_somewhere_is_not_a_range() -> None:
    """Moving higher or forward says where a part goes, not how far it moves; an exercise's
    name with a body part stays about that part; a subject that rises faster is its speed."""
    assert _read("the hands move higher") == ("hand_height_mean", "higher")
    assert _read("the squat is quicker at the hips")[0] == "mean_speed_hip"
    assert _read("the hips rise faster") == ("mean_speed_hip", "higher")
    assert _read("the squat is deeper") == ("hip_depth", "lower")


def test_knees_past_the_toes_are_refused_with_help() -> None:
    """The knees' travel over the toes has no metric: refused, not read as the knee's range."""
    u = understand("her knees shoot forward past her toes")
    assert u.metric is None and "not measured" in (u.refusal or "") and len(u.suggestions) == 3
    assert _read("the hands hardly rise above the shoulders")[0] != "chest_depth_bottom"


def test_a_longer_step_is_not_a_longer_time() -> None:
    """"Takes longer steps" is the step's size, which nothing measures: refused, not timed."""
    assert _read("he takes longer strides") == (None, None)
    assert _read("he takes longer") == ("stage_duration", "higher")
    # so is a shorter backswing or a longer run-up: the thing's size, which is not timed
    assert _read("he takes a shorter backswing") == (None, None)
    assert _read("she takes a longer run-up") == (None, None)
    assert _read("he takes longer at the bottom") == ("stage_duration", "higher")
    assert _read("she takes a longer rest at the top") == ("longest_pause", "higher")


@pytest.mark.parametrize(("text", "metric", "direction", "opposite"), RULES,
                         ids=[r[0] for r in RULES])
def test_rules_read_a_statement_and_its_opposite(text: str, metric: str, direction: str,
                                                 opposite: str) -> None:
    assert _read(text) == (metric, direction)
    assert _read(opposite) == (metric, {"higher": "lower", "lower": "higher"}[direction])


def test_rule_statements_are_not_in_the_phrase_bank() -> None:
    """The rules are tested on wording of their own, not on the bank they were tuned on."""
    bank = {e["text"].lower() for e in load("dev")}
    assert not bank.intersection(t.lower() for r in RULES for t in (r[0], r[3]))


@pytest.mark.parametrize(("text", "moment", "stage"), [
    ("at the bottom the hips are lower", "bottom", "bottom"),
    ("on the way down the knees fall in", "descent", "descent"),
    ("the knees stay out on the way up", "ascent", "ascent"),
    ("at the top the elbows stay bent", "top", "top"),
    ("the torso stays upright throughout the set", "throughout", None),
])
def test_moments_become_stage_hints(text: str, moment: str, stage: str | None) -> None:
    u = understand(text)
    assert u.moment == moment and u.query is not None and u.query.stage_hint == stage


def test_sides() -> None:
    assert _read("the left knee stays straighter") == ("knee_angle_min_left", "higher")
    assert _read("the right arm doesn't go as high") == ("shoulder_angle_max_right", "lower")
    assert understand("the left knee stays straighter").side == "left"
    # a comparison of the two sides is the sign of a left-minus-right metric, not one side
    u = understand("the left knee comes up higher than the right")
    assert (u.metric, u.direction, u.side) == ("knee_raise_left_minus_right", "higher", None)
    assert _read("the right knee comes up higher than the left") == \
        ("knee_raise_left_minus_right", "lower")
    assert _read("his hips drift to the left") == ("hip_shift_mean", "higher")
    assert _read("he leans his hips over to the right") == ("hip_shift_mean", "lower")


@pytest.mark.parametrize(("text", "why"), [
    ("she smiles more", "pose does not see"),
    ("the bar path is straighter", "no measured property"),
    ("the grip is wider", "pose does not see"),
    ("the eyes are on the rim during the shot", "pose does not see"),
    ("the hips are higher", "does not say against what"),
    ("the hips drop lower", "does not say against what"),
])
def test_refusals_say_why_and_offer_three_statements(text: str, why: str) -> None:
    u = understand(text)
    assert u.metric is None and u.query is None
    assert why in (u.refusal or "")
    mores = {spec.more for spec in BASE_METRICS}
    assert len(u.suggestions) == 3 and set(u.suggestions) <= mores
    assert all(s in u.help_text() for s in u.suggestions)


def test_suggestions_are_close() -> None:
    assert any("knee" in s for s in understand("the knees wobble about").suggestions)


def test_refused_properties_are_not_catalogue_metrics() -> None:
    assert not (set(NOT_YET_MEASURED) | set(UNCLEAR)) & set(METRICS)
    assert set(CLOSEST) == set(NOT_YET_MEASURED) | set(UNCLEAR)
    assert all(m in METRICS for names in CLOSEST.values() for m in names)
    u = understand("the hips are higher")
    assert u.suggestions[0] == METRICS["hip_depth"].more
    # the properties issue 22 named are measured now
    for text in ("the descent is slower", "the hips sag in the plank",
                 "the butt sticks up in the air", "the chest goes all the way to the floor"):
        assert understand(text).metric is not None, text


@pytest.mark.parametrize("action", ["a lunge with a balance hold", "bodyweight squats",
                                    "a box jump"])
def test_the_action_settles_what_the_words_leave_unclear(action: str) -> None:
    """"The hips go lower" alone may be depth or the body line; in a squat, a lunge or a jump
    it is the hips' height over the floor, and its opposite reads the same metric the other
    way; the result says the action settled it."""
    for text, direction in (("the hips sink lower", "lower"),
                            ("the hips do not get as low", "higher"),
                            ("his hips are higher", "higher")):
        u = understand(text, action)
        assert (u.metric, u.direction) == ("hip_depth", direction), (text, u)
        assert u.settled_by == action and repr(action) in u.why
        assert understand(text).metric is None  # without the action it stays refused


@pytest.mark.parametrize("action", ["push-ups", "a forearm plank", ""])
def test_an_action_with_two_meanings_keeps_the_refusal(action: str) -> None:
    u = understand("the hips are higher", action)
    assert u.metric is None and "does not say against what" in (u.refusal or "")
    assert u.settled_by is None


def test_query_for_uses_the_reader_and_the_taxonomy_first() -> None:
    query, why = query_for("", "", "she squats lower")
    assert query is not None and (query.metric, query.direction) == ("hip_depth", "lower")
    assert "hip_depth" in why
    query, why = query_for("deeper squat", "the squat is deeper", "the squat is deeper",
                           "fitness_4", "2")
    assert why == "taxonomy" and query is not None and query.metric == "thigh_angle_max"
    query, why = query_for("", "", "she smiles more")
    assert query is None and "measurable statements close to it" in why


def test_unmapped_answer_gives_the_reason_and_three_statements() -> None:
    pose = squat_clip()
    ans = answer_offline("spin", "", "the ball spins more", pose, pose, [], [])
    assert (ans.label, ans.measurable) == ("c", False)
    assert ans.reason.startswith("not measurable offline: no pose metric covers")
    assert "no measured property matches" in ans.reason
    assert "measurable statements close to it" in ans.reason


def test_dev_score_stays_above_its_floor() -> None:
    result, _ = score(load("dev"))
    assert result.right / result.n >= DEV_RIGHT_FLOOR, result
    assert result.wrong / result.n <= DEV_WRONG_CEILING, result
    assert result.refused_with_help == result.refused
    second, _ = score(load("dev3"))
    assert second.right / second.n >= DEV3_RIGHT_FLOOR, second
    assert second.wrong / second.n <= DEV3_WRONG_CEILING, second


def test_every_reader_shows_the_catalogues_one_description() -> None:
    """Issue 22: each metric is described in words once (``MetricSpec.in_words``), and the
    measure tool, the chat's ``measure_pose``, the model reader's prompt and
    docs/measurable.md all show those same words."""
    from pathlib import Path

    from viddiff.agent.chat.video_tools import make_measure_pose_tool
    from viddiff.graphs.nodes.measure_tool import measure_tool
    from viddiff.graphs.understanding_model import catalogue_text

    measure = measure_tool()["function"]["description"]
    chat = make_measure_pose_tool().description
    prompt = catalogue_text()
    doc = (Path(__file__).resolve().parents[1] / "docs" / "measurable.md").read_text()
    for spec in BASE_METRICS:
        words = spec.in_words
        assert spec.description in words and spec.more in words and spec.less in words
        for where, text in (("measure tool", measure), ("chat tool", chat), ("prompt", prompt),
                            ("docs/measurable.md", doc.replace("/", "|"))):
            assert words.replace("/", "|") in text.replace("/", "|"), (where, spec.name)


@pytest.mark.parametrize(("statement", "opposite"), [
    ("the elbows don’t lock out at the top", "the elbows lock out at the top"),
    ("her heels don’t come off the floor", "her heels come off the floor"),
    ("he doesn’t sink as deep into the squat", "he sinks deeper into the squat"),
])
def test_typographic_apostrophe_negates_like_the_plain_one(statement: str, opposite: str) -> None:
    """Issue 22: "don’t" (typographic apostrophe, as phones type it) is a negation like
    "don't": the statement reads the mirror direction of its positive."""
    (m1, d1), (m2, d2) = _read(statement), _read(opposite)
    assert m1 is not None and m1 == m2 and d1 != d2
    assert _read(statement) == _read(statement.replace("’", "'"))


@pytest.mark.parametrize(("statement", "opposite"), [
    ("the elbows flare wider, the arm range is the same",
     "the elbows tuck narrower, the arm range is the same"),
    ("the knees, compared with the feet, end up wider",
     "the knees, compared with the feet, end up narrower"),
])
def test_a_direction_from_another_clause_is_refused_both_ways(statement: str,
                                                              opposite: str) -> None:
    """Issue 22: a reading pieced together across clauses whose direction word sits in a
    clause naming nothing else of the phrase ("wider" said of the elbows, "arm range" in the
    next clause) is a guess: the statement and its opposite are both refused, with the
    hesitated reading first among the three suggestions."""
    for text in (statement, opposite):
        u = understand(text)
        assert u.metric is None and u.phrase is not None, u
        assert "another part of the sentence" in (u.refusal or "")
        assert len(u.suggestions) == 3 and u.suggestions[0] in (u.refusal or "")


def test_a_direction_in_its_own_clause_still_reads() -> None:
    """The clause rule leaves alone a clause that names the property with its direction."""
    assert _read("the feet stay flat, but the knees drift wider") == \
        ("knee_width_ratio_min", "higher")
    assert _read("the feet stay flat, but the knees drift narrower") == \
        ("knee_width_ratio_min", "lower")


#: Subjects (plural or not), level verbs and antonym pairs of the mirror property test: every
#: statement built from them and its antonym read alike (issue 22's mirror check on generated
#: statements, not the bank's).
_MIRROR_SUBJECTS = (("the hands", True), ("the hips", True), ("the knees", True),
                    ("the feet", True), ("the arms", True), ("the chest", False),
                    ("her elbows", True), ("the heels", True), ("his head", False),
                    ("the shoulders", True))
_MIRROR_VERBS = (("go", "goes"), ("get", "gets"), ("come", "comes"), ("sit", "sits"),
                 ("stay", "stays"), ("are", "is"), ("end up", "ends up"))
_MIRROR_PAIRS = (("higher", "lower"), ("wider", "narrower"), ("deeper", "shallower"),
                 ("faster", "slower"), ("further forward", "further back"),
                 ("straighter", "more bent"), ("wider apart", "closer together"),
                 ("more upright", "less upright"), ("longer", "shorter"))
_MIRROR_TAILS = ("", ", while her stance changes", " at the bottom", " in the plank")


def _mirror_pairs() -> list[tuple[str, str]]:
    """Each generated statement with its antonym; a verb of dropping with its negation."""
    pairs = []
    for (subject, plural), verbs, (word, antonym), tail in itertools.product(
            _MIRROR_SUBJECTS, _MIRROR_VERBS, _MIRROR_PAIRS, _MIRROR_TAILS):
        verb = verbs[0] if plural else verbs[1]
        pairs.append((f"{subject} {verb} {word}{tail}", f"{subject} {verb} {antonym}{tail}"))
    for (subject, plural), (word, negated), tail in itertools.product(
            _MIRROR_SUBJECTS, (("lower", "as low"), ("deeper", "as deep"),
                               ("further", "as far")), _MIRROR_TAILS):
        drop, do = ("drop", "do") if plural else ("drops", "does")
        pairs.append((f"{subject} {drop} {word}{tail}", f"{subject} {do} not drop {negated}{tail}"))
    return pairs


def test_generated_statements_and_their_antonyms_mirror() -> None:
    """Both refused, or the same metric in opposite directions: "the hands get lower" is the
    mirror of "the hands get higher", not another metric."""
    broken = []
    for statement, antonym in _mirror_pairs():
        a, b = understand(statement), understand(antonym)
        if (a.metric, b.metric) == (None, None):
            continue
        if a.metric != b.metric or a.direction == b.direction:
            broken.append(f"{statement!r}: {a.metric} {a.direction} / {antonym!r}: "
                          f"{b.metric} {b.direction}")
    assert not broken, f"{len(broken)} of {len(_mirror_pairs())} pairs: " + "; ".join(broken[:5])


def test_the_other_term_of_a_comparison_is_not_the_property() -> None:
    """Direction words after "than" say what the movement is not ("more forward than straight
    up"): they do not name the elbow's straightness or the knee's caving; a level after "than"
    ("lower than parallel") still counts."""
    assert _read("his arms finish more forward than straight up") == (None, None)
    assert _read("the knees bend more forward than inward")[0] != "knee_valgus_max"
    assert _read("her elbows end up wider than straight")[0] != "elbow_angle_min"
    assert _read("the thighs go lower than parallel") == ("thigh_angle_max", "higher")


def test_a_trailing_time_clause_says_when_not_what() -> None:
    """"Leading up to the shot" and "between squats" say when: their words ("up", "squats")
    are not read as the property (the head's height, the squat's depth)."""
    assert _read("the head faces the hoop leading up to the shot") == (None, None)
    assert _read("he comes all the way up between squats") == (None, None)
    assert _read("he rests longer between reps") == ("longest_pause", "higher")
    assert _read("his knees straighten fully between jumps") == ("knee_angle_max", "higher")
    assert "knee" in read_words("the weight is shared unevenly between the knees").concepts


def test_down_and_back_up_is_a_travel_not_a_height() -> None:
    """"All the way down and back up" names both ends of a travel: it is not read as "up" (the
    hands held higher), and a phrase about the travel still reads."""
    assert _read("her hands move all the way down and back up")[0] != "hand_height_mean"
    assert _read("the arms swing all the way down and back up") == \
        ("range_of_motion_shoulder", "higher")


def test_right_as_an_adverb_names_no_side() -> None:
    """"Starts right away" and "right down to the floor" say when and how far, not which
    side; "the right knee" and "on the right" still do."""
    assert side_of("at the top there's no rest, the next rep starts right away") is None
    assert side_of("she goes right down to the floor") is None
    assert side_of("the right knee bends more right at the bottom") == "right"
    assert side_of("the right elbow stays in") == "right"
    assert side_of("all right, the left knee caves") == "left"


def test_a_side_the_metric_cannot_read_alone_is_said_not_dropped() -> None:
    """A statement about one side mapped to a metric with no one-sided reading is answered
    about both sides, and its reason says so, instead of silently dropping the side."""
    u = understand("the left hand stays lower")
    assert u.metric is not None and not u.metric.endswith("_left")
    assert u.side is None and u.side_not_read == "left"
    assert "left side" in u.why and "both sides" in u.why
    sided = understand("the left knee bends more")
    assert sided.metric == "knee_angle_min_left" and sided.side_not_read is None
