"""The VidDiffBench actions and difference taxonomy, and which pose metric answers which difference.

Two explicit tables, kept small enough to read and review:

* :data:`METRIC_MAP` -- ``(action_key, diff_key) -> MetricQuery`` for every taxonomy difference
  that a pose metric can honestly answer (body geometry or timing).
* :data:`NOT_MEASURABLE` -- every other taxonomy difference, with a machine-readable
  :data:`Reason` and a sentence: objects (ball, basket, water, splash), instruments, fingers,
  gaze, the camera's view hiding it, a pose model that loses the body (divers), a body
  property the engine has no metric for, or a judgement rather than a quantity. The offline
  engine reports these as "not measurable offline" instead of guessing. Each row is in exactly
  one of the two tables (tests/test_taxonomy.py); ``docs/measurable.md`` is generated from them
  by ``bench/measurable_table.py``.
* :data:`FREE_TEXT_RULES` -- ordered keyword rules for differences written in free text
  ("the squat is deeper", "wider stance", "faster"); the first rule that matches wins, so the
  specific and negated forms ("less knee bend") come before the general ones. The offline
  engine now reads free text with :mod:`viddiff.tools.understanding` (a grammar over the
  catalogue's phrases); these rules remain for callers of :func:`match_rule` and as the
  baseline that reader is compared with (bench/RESULTS.md).

A :class:`MetricQuery`'s ``direction`` says which video the statement is truer of: ``higher``
means the one with the larger metric value. "The squat is deeper" is ``thigh_angle_max`` /
``higher`` (thighs closer to level) or ``hip_depth`` / ``lower`` (hips lower).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz, process


class Action(BaseModel):
    """One benchmark action (row of ``actions.csv``)."""

    key: str
    split: str
    name: str
    description: str
    domain: str
    source_dataset: str


class TaxonomyDifference(BaseModel):
    """One benchmark difference (row of ``difference_taxonomy.csv``)."""

    action: str
    diff_key: str
    name: str
    num_frames: Literal["1", "gt_1"]
    description: str
    query_string: str


class MetricQuery(BaseModel):
    """Which metric answers a difference, where (stage hint), and which way round."""

    model_config = ConfigDict(frozen=True)

    metric: str
    stage_hint: str | None = None
    direction: Literal["higher", "lower"] = "higher"


#: Why a taxonomy difference is not measured from pose.
Reason = Literal["object", "instrument", "fingers", "gaze", "view", "pose_unreliable",
                 "no_metric", "judgement"]

REASON_TEXT: dict[str, str] = {
    "object": "about an object or the scene (ball, basket, net, water), which pose does not see",
    "instrument": "about surgical instruments, needle, thread or tissue; no body in view",
    "fingers": "about fingers or the instrument played; the body pose model has no finger "
               "joints on the strings or keys",
    "gaze": "about gaze or where the eyes look; pose gives no gaze direction",
    "view": "the body property exists but this action's camera view hides it",
    "pose_unreliable": "the pose model loses the body here (inverted, spinning, far away)",
    "no_metric": "a body property the kinematic engine has no metric for yet",
    "judgement": "a judgement of quality (balance, fluency, control), not a single quantity",
}


class Unmeasurable(BaseModel):
    """Why a taxonomy difference has no metric: a reason code and a sentence."""

    model_config = ConfigDict(frozen=True)

    reason: Reason
    detail: str


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("viddiff.tools").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def load_actions() -> dict[str, Action]:
    """The 18 benchmark actions by key (``fitness_4``, ...)."""
    return {
        row["action"]: Action(key=row["action"], split=row["split"], name=row["action_name"],
                              description=row["action_description"], domain=row["domain"],
                              source_dataset=row["source_dataset"])
        for row in _read_csv("actions.csv")
    }


@lru_cache(maxsize=1)
def load_differences() -> tuple[TaxonomyDifference, ...]:
    """The 148 benchmark differences."""
    return tuple(TaxonomyDifference.model_validate(row)
                 for row in _read_csv("difference_taxonomy.csv"))


def get_difference(action_key: str, diff_key: str) -> TaxonomyDifference | None:
    for diff in load_differences():
        if diff.action == action_key and diff.diff_key == str(diff_key):
            return diff
    return None


def find_action(text_or_key: str) -> Action | None:
    """An action by exact key, or the closest by name/description (None if nothing is close)."""
    actions = load_actions()
    key = text_or_key.strip()
    if key in actions:
        return actions[key]
    if not key:
        return None
    choices = {k: f"{a.name.replace('_', ' ')} | {a.description}" for k, a in actions.items()}
    by_name = process.extractOne(key.replace("_", " "), {k: a.name.replace("_", " ")
                                                         for k, a in actions.items()},
                                 scorer=fuzz.WRatio, score_cutoff=85)
    if by_name is not None:
        return actions[by_name[2]]
    best = process.extractOne(key, choices, scorer=fuzz.token_set_ratio, score_cutoff=60)
    return actions[best[2]] if best is not None else None


# --------------------------------------------------------------------------------------------
# The explicit mapping table
# --------------------------------------------------------------------------------------------


def _q(metric: str, stage: str | None, direction: Literal["higher", "lower"]) -> MetricQuery:
    return MetricQuery(metric=metric, stage_hint=stage, direction=direction)


def _step_actions(action: str) -> dict[tuple[str, str], MetricQuery]:
    """Opening-and-closing step (fitness_1, fitness_7): front view, two steps out."""
    out: dict[tuple[str, str], MetricQuery] = {}
    steps = (("first step", ("0", "2", "4", "9")), ("second step", ("1", "3", "5", "10")))
    for step, (arms, uneven, wide, torso) in steps:
        out[(action, arms)] = _q("shoulder_angle_max", step, "higher")
        out[(action, uneven)] = _q("left_right_asymmetry_shoulder", step, "higher")
        out[(action, wide)] = _q("stance_width_max", step, "higher")
        out[(action, torso)] = _q("trunk_lean_max", step, "higher")
    out[(action, "6")] = _q("foot_turn_out", "first step", "higher")
    out[(action, "7")] = _q("foot_turn_out", "second step", "higher")
    out[(action, "8")] = _q("motion_duration", None, "lower")
    return out


def _hip_circle(action: str) -> dict[tuple[str, str], MetricQuery]:
    """Standing hip circle (fitness_0, fitness_6), hands on hips."""
    return {
        (action, "0"): _q("stance_width", None, "higher"),
        (action, "1"): _q("foot_turn_out", None, "higher"),
        (action, "2"): _q("motion_duration", None, "lower"),  # one rotation: faster = shorter
        (action, "3"): _q("hip_sway", None, "higher"),
        (action, "4"): _q("head_tilt_mean", None, "lower"),
        (action, "5"): _q("hand_height_mean", None, "higher"),
        (action, "6"): _q("range_of_motion_trunk", None, "higher"),
    }


METRIC_MAP: dict[tuple[str, str], MetricQuery] = {
    # basketball jump shot
    ("ballsports_0", "0"): _q("knee_angle_min", "before shot", "lower"),
    ("ballsports_0", "1"): _q("stance_width", "start", "higher"),
    ("ballsports_0", "7"): _q("elbow_angle_max", "follow through", "higher"),
    # Mikan layup drill: two shots
    ("ballsports_1", "2"): _q("knee_height_max", "first shot", "higher"),
    ("ballsports_1", "3"): _q("knee_height_max", "second shot", "higher"),
    ("ballsports_1", "4"): _q("elbow_angle_max", "first shot", "higher"),
    ("ballsports_1", "5"): _q("elbow_angle_max", "second shot", "higher"),
    ("ballsports_1", "8"): _q("jump_height_proxy", "first shot", "higher"),
    ("ballsports_1", "9"): _q("jump_height_proxy", "second shot", "higher"),
    ("ballsports_1", "10"): _q("hand_height_max", "first catch", "higher"),
    # reverse layup
    ("ballsports_2", "3"): _q("knee_angle_min", "before jump", "lower"),
    ("ballsports_2", "6"): _q("arm_height_at_top", "release", "higher"),
    ("ballsports_2", "7"): _q("elbow_angle_max", "follow through", "higher"),
    ("ballsports_2", "8"): _q("knee_height_max", "jump", "higher"),
    # car deadlift
    ("fitness_2", "0"): _q("stance_width", "start", "higher"),
    ("fitness_2", "1"): _q("foot_turn_out", "start", "higher"),
    ("fitness_2", "5"): _q("longest_pause", "bottom", "higher"),
    ("fitness_2", "6"): _q("knee_angle_min", "bottom", "higher"),
    ("fitness_2", "7"): _q("hip_angle_max", "lockout", "higher"),
    ("fitness_2", "8"): _q("motion_duration", None, "lower"),
    ("fitness_2", "9"): _q("hand_floor_height_min", "bottom", "lower"),
    # lucky cat
    ("fitness_3", "0"): _q("stance_width", None, "higher"),
    ("fitness_3", "1"): _q("foot_turn_out", None, "higher"),
    ("fitness_3", "2"): _q("upper_arm_tilt_mean", "start", "lower"),
    ("fitness_3", "3"): _q("range_of_motion_shoulder", None, "lower"),
    ("fitness_3", "4"): _q("range_of_motion_hand", None, "higher"),
    ("fitness_3", "5"): _q("motion_duration", None, "lower"),
    # squat + knee raise, side view (no stance width: the feet overlap from the side)
    ("fitness_4", "2"): _q("thigh_angle_max", "squat", "higher"),
    ("fitness_4", "3"): _q("knee_raise_angle_max", "knee raise", "higher"),
    ("fitness_4", "4"): _q("motion_duration", None, "lower"),
    # squat + knee raise, diagonal view
    ("fitness_5", "0"): _q("stance_width", None, "higher"),
    ("fitness_5", "1"): _q("knee_width_ratio_min", "descent", "lower"),
    ("fitness_5", "2"): _q("thigh_angle_max", "squat", "higher"),
    ("fitness_5", "3"): _q("motion_duration", None, "lower"),
    ("fitness_5", "4"): _q("knee_raise_left_minus_right", "knee raise", "higher"),
    **_hip_circle("fitness_0"),
    **_hip_circle("fitness_6"),
    **_step_actions("fitness_1"),
    **_step_actions("fitness_7"),
}


def _no(reason: Reason, detail: str) -> Unmeasurable:
    return Unmeasurable(reason=reason, detail=detail)


def _all(action: str, keys: str, reason: Reason, detail: str
         ) -> dict[tuple[str, str], Unmeasurable]:
    return {(action, k): _no(reason, detail) for k in keys.split()}


_GUIDE = "whether the guide hand touches the ball: needs the ball"
_BALANCE = "balance on landing is a judgement over the whole landing"

NOT_MEASURABLE: dict[tuple[str, str], Unmeasurable] = {
    ("ballsports_0", "2"): _no("object", "staggered means at different distances from the "
                                         "basket, whose direction is not known"),
    ("ballsports_0", "3"): _no("object", "square to the basket: the basket is not located"),
    ("ballsports_0", "4"): _no("object", "the ball's position is not tracked"),
    ("ballsports_0", "5"): _no("object", _GUIDE),
    ("ballsports_0", "6"): _no("object", "forward means towards the basket, which is not "
                                         "located; the camera may also follow the player"),
    ("ballsports_1", "0"): _no("no_metric", "which feet push off: no take-off contact metric"),
    ("ballsports_1", "1"): _no("no_metric", "which foot pushes off: no take-off contact metric"),
    ("ballsports_1", "6"): _no("object", _GUIDE),
    ("ballsports_1", "7"): _no("object", _GUIDE),
    ("ballsports_1", "11"): _no("object", "forward means towards the basket, which is not "
                                          "located"),
    ("ballsports_1", "12"): _no("object", "forward means towards the basket, which is not "
                                          "located"),
    ("ballsports_1", "13"): _no("judgement", _BALANCE),
    ("ballsports_1", "14"): _no("judgement", _BALANCE),
    ("ballsports_1", "15"): _no("judgement", "fluency of the whole motion"),
    ("ballsports_2", "0"): _no("gaze", "where the eyes look on the last steps"),
    ("ballsports_2", "1"): _no("object", "the ball's side relative to the hip"),
    ("ballsports_2", "2"): _no("object", "gathering the ball with both hands needs the ball"),
    ("ballsports_2", "4"): _no("object", _GUIDE),
    ("ballsports_2", "5"): _no("gaze", "whether the eyes are on the rim"),
    ("ballsports_2", "9"): _no("object", "where the ball hits the backboard"),
    ("ballsports_2", "10"): _no("no_metric", "landing on two feet: no ground-contact metric"),
    ("ballsports_3", "0"): _no("object", "square to the net: the net is not located"),
    ("ballsports_3", "1"): _no("object", "where the plant foot lands relative to the ball"),
    ("ballsports_3", "2"): _no("object", "plant foot distance to the ball"),
    ("ballsports_3", "3"): _no("gaze", "whether the head faces the ball"),
    ("ballsports_3", "4"): _no("object", "kick power shows in the ball's speed"),
    ("ballsports_3", "5"): _no("no_metric", "hip rotation about the vertical: no pelvis-yaw "
                                            "metric yet"),
    **_all("diving_0", "0 3 4 5 6", "pose_unreliable",
           "the diver is small, inverted and spinning: the pose model loses the body"),
    ("diving_0", "1"): _no("object", "splash size is about the water"),
    ("diving_0", "2"): _no("pose_unreliable", "time in the air needs take-off and water entry, "
                                              "which pose on a spinning diver does not give"),
    ("fitness_2", "2"): _no("gaze", "gaze direction at the start"),
    ("fitness_2", "3"): _no("gaze", "gaze direction at the bottom"),
    ("fitness_2", "4"): _no("no_metric", "arms in front of the body: no arm-forward metric"),
    ("fitness_4", "0"): _no("view", "side view: the feet overlap, stance width is not visible"),
    ("fitness_4", "1"): _no("view", "side view: the foot's turn-out lies along the camera's "
                                    "depth axis"),
    **_all("music_0", "1 2 3 4 5 6", "fingers",
           "piano playing: notes, fingers and wrists on the keys are below the pose model's "
           "resolution"),
    **_all("music_1", "0 1 2 3 4 5 6", "fingers",
           "guitar playing: fingers, plectrum and strings are not pose landmarks"),
    **_all("surgery_0", "1 2 3 4 6 7 8", "instrument",
           "knot tying seen through the surgical camera: instruments and thread only"),
    **_all("surgery_1", "0 1 2 3 4 5 7 8 9 10", "instrument",
           "suturing seen through the surgical camera: instruments, needle and tissue only"),
    **_all("surgery_2", "0 1 2 3 4 5 6 7", "instrument",
           "needle passing seen through the surgical camera: instruments and needle only"),
}


def unmeasurable_for(action_key: str | None, diff_key: str | None) -> Unmeasurable | None:
    """Why a taxonomy difference has no metric, or None when it has one (or is unknown)."""
    if action_key is None or diff_key is None:
        return None
    return NOT_MEASURABLE.get((action_key, str(diff_key)))


def metric_query_for(action_key: str | None, diff_key: str | None) -> MetricQuery | None:
    """The mapped metric of a taxonomy difference, or None when it has none."""
    if action_key is None or diff_key is None:
        return None
    return METRIC_MAP.get((action_key, str(diff_key)))


# --------------------------------------------------------------------------------------------
# Free-text keyword rules
# --------------------------------------------------------------------------------------------


class KeywordRule(BaseModel):
    """A regular expression (searched case-insensitively) and the query it stands for."""

    model_config = ConfigDict(frozen=True)

    pattern: str
    query: MetricQuery
    why: str


def _rule(pattern: str, metric: str, direction: Literal["higher", "lower"],
          why: str) -> KeywordRule:
    return KeywordRule(pattern=pattern, query=_q(metric, None, direction), why=why)


_JOINT_WORDS = (("knee", "knee"), ("hip", "hip"), ("elbow", "elbow"), ("shoulder", "shoulder"),
                ("arm", "shoulder"), ("leg", "knee"))

FREE_TEXT_RULES: tuple[KeywordRule, ...] = (
    _rule(r"\bleft (knee|leg)\b.*\binstead of\b.*\bright\b", "knee_raise_left_minus_right",
          "higher", "which knee is raised: left minus right thigh angle"),
    _rule(r"\bright (knee|leg)\b.*\binstead of\b.*\bleft\b", "knee_raise_left_minus_right",
          "lower", "which knee is raised: left minus right thigh angle"),
    _rule(r"\bknees?\b.*\b(raise|raised|lift|lifted|elevated)\b.*\b(higher|more)\b|"
          r"\bmore elevated knee\b|\b(higher|more)\b.*\bknee (raise|lift)|"
          r"\bknees? (are |is )?higher\b", "knee_raise_angle_max", "higher",
          "knee raise height as thigh angle"),
    _rule(r"\bvalgus\b", "knee_valgus_max", "higher", "knee inside the hip-ankle line"),
    _rule(r"\bvarus\b|\bbow-?legged\b", "knee_valgus_max", "lower",
          "knee outside the hip-ankle line"),
    _rule(r"\bknees?\b.*\b(cave|caving|collapse|buckle)", "knee_width_ratio_min",
          "lower", "knee separation relative to the feet"),
    _rule(r"\bheels?\b.*\b(stay|stays|remain|remains|kept|keep|keeps) (down|flat|on the "
          r"(ground|floor))", "heel_lift_max", "lower", "heel rise above its flat level"),
    _rule(r"\bheels?\b.*\b(lift|lifts|lifted|rise|rises|raised|come up|comes up|off the "
          r"(ground|floor))\b|\bon (the|their) toes\b|\bheel (lift|raise)",
          "heel_lift_max", "higher", "heel rise above its flat level"),
    _rule(r"\b(toes?|feet|foot)\b.*\b(pointed|point|points|turned|turns?)\b.*\bout(wards?)?\b|"
          r"\bturn-?out\b", "foot_turn_out", "higher", "foot angle from straight ahead"),
    _rule(r"\bhips?\b.*\bshift\w*\b.*\bleft\b|\bshift\w*\b.*\bhips?\b.*\bleft\b",
          "hip_shift_mean", "higher", "pelvis sideways of the feet (+ left)"),
    _rule(r"\bhips?\b.*\bshift\w*\b.*\bright\b|\bshift\w*\b.*\bhips?\b.*\bright\b",
          "hip_shift_mean", "lower", "pelvis sideways of the feet (+ left)"),
    _rule(r"\bhips?\b.*\bshift\w*|\b(pelvis|hips?) (drifts?|moves?) (sideways|to the side)",
          "hip_shift_max", "higher", "largest sideways pelvis offset"),
    _rule(r"\bhead\b.*\b(forward|jut|juts|juts out|protrud\w*)\b|\bforward head\b|"
          r"\bneck\b.*\bforward\b", "head_forward_mean", "higher",
          "head forward of the shoulders"),
    _rule(r"\bhigher release\b|\brelease\b.*\bhigher\b|\barm\b.*\bhigher position\b",
          "arm_height_at_top", "higher", "arm angle at the wrist's highest point"),
    *(_rule(rf"\b(uneven|asymmetr\w*|lopsided)\b.*\b{word}s?\b|\b{word}s?\b.*\b(uneven|asymmetr\w*)",
            f"left_right_asymmetry_{joint}", "higher", f"left/right {joint} difference")
      for word, joint in _JOINT_WORDS),
    *(_rule(rf"\b(range of motion|full range|\brom)\b.*\b{word}s?\b|\b{word}s?\b.*"
            rf"\b(range of motion|full range)\b", f"range_of_motion_{joint}", "higher",
            f"{joint} angle range") for word, joint in _JOINT_WORDS),
    _rule(r"\bhands?\b.*\blower\b|\blower hands?\b|\bdeeper hands\b", "hand_floor_height_min",
          "lower", "lowest wrist height"),
    _rule(r"\b(shallower|less deep)\b", "hip_depth", "higher", "lowest hip height"),
    _rule(r"\bsquat\b.*\b(deeper|depth)\b|\b(deeper|depth)\b.*\bsquat\b|\bthighs?\b.*\bparallel\b",
          "thigh_angle_max", "higher", "squat depth as thigh angle"),
    _rule(r"\b(less|not as much|smaller) knee bend\b|\bknees? (bend|are bent) less\b|"
          r"\bstraighter (legs|knees)\b", "knee_angle_min", "higher", "smallest knee angle"),
    _rule(r"\b(more|deeper|bigger) knee bend\b|\bknees? (are |is )?more bent\b|"
          r"\bknees? bends? more\b|\bdeepe?r? knee bend\b", "knee_angle_min", "lower",
          "smallest knee angle"),
    _rule(r"\b(deeper|lower hips?|hips? (are |go |drop )?lower|sinks? lower)\b|\bdepth\b",
          "hip_depth", "lower", "lowest hip height"),
    _rule(r"\bnarrower\b.*\b(stance|feet|step)\b|\b(stance|feet|step)\b.*\bnarrower\b",
          "stance_width", "lower", "ankle separation"),
    _rule(r"\bwider\b.*\bstep\b|\bstep\b.*\bwider\b", "stance_width_max", "higher",
          "widest ankle separation"),
    _rule(r"\b(wider|broader)\b.*\b(stance|feet)\b|\b(stance|feet)\b.*\b(wider|broader)\b",
          "stance_width", "higher", "ankle separation"),
    _rule(r"\bslower\b|\bmore slowly\b|\btakes? longer\b", "motion_duration", "higher",
          "movement time"),
    _rule(r"\bfaster\b|\bquicker\b|\bmore quickly\b|\bhigher speed\b|\bspeed\b",
          "motion_duration", "lower", "movement time (shorter = faster)"),
    _rule(r"\bpause[sd]?\b|\bholds? (still|the)\b", "longest_pause", "higher",
          "longest near-still run"),
    _rule(r"\b(longer|more) time\b|\blonger duration\b", "stage_duration", "higher",
          "duration"),
    _rule(r"\bjumps? higher\b|\bhigher (jump|vertical)\b", "jump_height_proxy", "higher",
          "lift of the lower foot"),
    _rule(r"\block ?out\b|\bhips? (are )?(fully )?extended\b", "hip_angle_max", "higher",
          "largest hip angle"),
    _rule(r"\bhips? (flex|hinge)|\bbends? (forward )?at the hips?\b", "hip_angle_min", "lower",
          "smallest hip angle"),
    _rule(r"\bupper arms?\b.*\bparallel\b", "upper_arm_tilt_mean", "lower",
          "upper-arm angle from horizontal"),
    _rule(r"\bupper arms?\b.*\b(stable|steady|steadier)\b", "range_of_motion_shoulder", "lower",
          "shoulder-angle range"),
    _rule(r"\barms?\b.*\b(more )?(extended|straight(er)?)\b|\bfollow(s)? through\b|"
          r"\bextends? (the )?arms?\b", "elbow_angle_max", "higher", "largest elbow angle"),
    _rule(r"\belbows?\b.*\bmore bent\b|\bmore elbow bend\b", "elbow_angle_min", "lower",
          "smallest elbow angle"),
    _rule(r"\bhands?\b.*\bhigher on the body\b", "hand_height_mean", "higher",
          "mean wrist height above the hips"),
    _rule(r"\barms?\b.*\b(higher|raised|reach)\b|\b(raise|raises|lift|lifts)\b.*\barms?\b",
          "shoulder_angle_max", "higher", "arm elevation"),
    _rule(r"\bhands?\b.*\b(higher|raised|reach)\b|\brelease\b.*\bhigher\b",
          "hand_height_max", "higher", "highest wrist position"),
    _rule(r"\b(upper body|torso|trunk)\b.*\b(rocks?|sways?)\b|\b(rocks?|sways?)\b.*"
          r"\b(upper body|torso|trunk)\b", "range_of_motion_trunk", "higher", "trunk-lean range"),
    _rule(r"\bmore upright\b", "trunk_lean_max", "lower", "largest trunk lean"),
    _rule(r"\b(lean|leans|leaning)\b|\b(upper body|torso|trunk)\b.*\b(further|moves? out|tilts?)\b",
          "trunk_lean_max", "higher", "largest trunk lean"),
    _rule(r"\bhead\b.*\b(vertical|upright)\b", "head_tilt_mean", "lower", "neck-line tilt"),
    _rule(r"\bhips?\b.*\b(sway|sways|travel|travels)\b", "hip_sway", "higher",
          "hip travel relative to the feet"),
)


def match_free_text(text: str) -> MetricQuery | None:
    """The query of the first keyword rule that matches ``text``; None when none does."""
    rule = match_rule(text)
    return rule.query if rule is not None else None


def match_rule(text: str) -> KeywordRule | None:
    """Like :func:`match_free_text` but returns the rule (with its explanation).

    A statement about one side ("the left knee bends more": "left" or "right" but not both)
    gets that side's variant of the rule's metric when the metric has one
    (``knee_angle_min_left``), so left/right statements are not answered with both sides.
    """
    for rule in FREE_TEXT_RULES:
        if re.search(rule.pattern, text, flags=re.IGNORECASE):
            return _one_side(rule, text)
    return None


def _one_side(rule: KeywordRule, text: str) -> KeywordRule:
    from viddiff.tools.kinematics.registry import METRICS  # the catalogue loads on first use

    sides = {s for s in ("left", "right") if re.search(rf"\b{s}\b", text, re.IGNORECASE)}
    if len(sides) != 1:
        return rule
    side = sides.pop()
    sided = f"{rule.query.metric}_{side}"
    if METRICS.get(sided) is None or METRICS[sided].side != side:
        return rule
    query = rule.query.model_copy(update={"metric": sided})
    return rule.model_copy(update={"query": query, "why": f"{rule.why}, {side} side only"})
