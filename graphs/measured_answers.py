"""The offline comparison engine: answer and propose differences from pose measurements alone.

Used by the graph when no LLM/VLM endpoint is configured. Nothing here guesses: a difference is
answered only when a metric covers it (the taxonomy's explicit table, or the free-text reader
:mod:`viddiff.tools.understanding` for anything else), and the label follows the measurement's
decision rule (:func:`viddiff.tools.kinematics.comparison.compare_values`). Everything else is
reported as "not measurable offline" with label ``c``, with the reason and, for free text, the
three closest statements that can be measured.

Where a metric is read (the stage): the query's stage hint is resolved to a segment name by the
one stage-name rule (:func:`viddiff.tools.stage_names.resolve_stage_name`); failing that,
positional words pick a part of the clip -- "start"/"setup" the first segment,
"end"/"lockout"/"follow through"/"landing" the last, "bottom"/"squat"/"descent" the middle one,
"first ..."/"second ..." the first or second half of the clip; with no hint the whole clip is
used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from statistics import NormalDist
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from viddiff.tools.kinematics.comparison import (
    K_SIGMA,
    CaptureCause,
    at_moment,
    capture_causes,
    compare_metric,
    compare_over_repetitions,
    compare_values,
    measure_value,
    views_may_differ,
)
from viddiff.tools.kinematics.movement import PHASE_NAMES, Movement, movement_pair
from viddiff.tools.kinematics.registry import METRICS, MetricSpec, reads_its_own_moment
from viddiff.tools.kinematics.results import Direction, Label, Measurement, MetricValue
from viddiff.tools.kinematics.sides import choose_sides
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.pose.quality import person_problem
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.stage_names import resolve_stage_name
from viddiff.tools.taxonomy import (
    MetricQuery,
    get_difference,
    load_differences,
    metric_query_for,
    unmeasurable_for,
)
from viddiff.tools.understanding import Understanding, understand

#: Metrics reported beside the deciding one, for context (metric -> (other metric, direction)).
SUPPORTING: dict[str, tuple[tuple[str, Literal["higher", "lower"]], ...]] = {
    "motion_duration": (("mean_speed", "higher"),),
    "thigh_angle_max": (("hip_depth", "lower"),),
    "knee_raise_angle_max": (("knee_height_max", "higher"),),
}


class OfflineAnswer(BaseModel):
    """The offline verdict on one difference."""

    label: Label
    reason: str
    measurable: bool
    measurements: list[Measurement] = Field(default_factory=list)
    metric: str | None = Field(default=None, description="The deciding metric, if any.")
    rule: str | None = Field(default=None, description="Why that metric: the taxonomy mapping "
                             "or the keyword rule that matched.")


class OfflineProposal(BaseModel):
    """A difference found by measuring (open mode), phrased without naming a video."""

    name: str
    description: str
    query_string: str
    num_frames: Literal["1", "gt_1"]
    label: Label
    measurements: list[Measurement]
    score: float = Field(description="|Δ| over the labelling threshold (≥ 1 for a/b).")


# --------------------------------------------------------------------------------------------
# Stage resolution
# --------------------------------------------------------------------------------------------

_FIRST_WORDS = r"\b(start|starting|beginning|setup|set up|initial|before)\b"
_LAST_WORDS = r"\b(end|finish|lockout|lock out|top|landing|follow through|release|recovery)\b"
_MIDDLE_WORDS = r"\b(bottom|middle|squat|descent|lowest|deepest|jump)\b"


def _whole(n_frames: int) -> Segment:
    return Segment(stage="whole clip", start=0, end=max(n_frames - 1, 0))


def _positional(hint: str, segments: Sequence[Segment], n_frames: int) -> Segment | None:
    h = hint.lower()
    if n_frames <= 0:
        return None
    half = max(n_frames // 2, 1)
    if re.search(r"\b(first|1st)\b", h):
        return Segment(stage="first half", start=0, end=half - 1)
    if re.search(r"\b(second|2nd)\b", h):
        return Segment(stage="second half", start=min(half, n_frames - 1), end=n_frames - 1)
    if not segments:
        return None
    if re.search(_FIRST_WORDS, h):
        return segments[0]
    if re.search(_LAST_WORDS, h):
        return segments[-1]
    if re.search(_MIDDLE_WORDS, h):
        return segments[len(segments) // 2]
    return None


_TURNAROUNDS = ("bottom", "top", "turnaround")


def _numbered(segments: Sequence[Segment], names: Sequence[str]) -> list[Segment]:
    """The stages named one of ``names`` with a repetition's number ("bottom 2", "descent 1"),
    in order: the stages a movement with several repetitions has."""
    pattern = re.compile(rf"({'|'.join(re.escape(n) for n in names)}) \d+")
    return [s for s in segments if pattern.fullmatch(s.stage)]


def _every_turnaround(hint: str, segments_a: Sequence[Segment],
                      segments_b: Sequence[Segment]) -> bool:
    """Whether ``hint`` asks for the turnaround ("at the bottom") of clips that both show
    several repetitions: then it means every repetition's bottom, not the first one's."""
    words = set(re.findall(r"[a-z]+", hint.lower()))
    if not words & set(_TURNAROUNDS):
        return False
    return all(len(_numbered(segs, _TURNAROUNDS)) >= 2 for segs in (segments_a, segments_b))


def every_phase(hint: str | None, segments_a: Sequence[Segment], segments_b: Sequence[Segment]
                ) -> tuple[list[Segment], list[Segment], str] | None:
    """The same phase of every repetition when ``hint`` names a phase ("on the way down")
    and both clips show it at least twice ("descent 1", "descent 2" …): A's and B's spans,
    paired in order (as many as the clip with fewer has), and the stage's name for the
    sentence; None otherwise (one stage, or the whole clip, is read). Reading only the first
    repetition's would answer for one of several."""
    names_a = [s.stage for s in segments_a]
    if not hint or not names_a or not segments_b:
        return None
    k = resolve_stage_name(hint, names_a).index
    numbered = re.fullmatch(r"(.+) (\d+)", names_a[k]) if k is not None else None
    if numbered is None or numbered.group(1) not in PHASE_NAMES:
        return None
    phase = numbered.group(1)
    spans_a, spans_b = _numbered(segments_a, (phase,)), _numbered(segments_b, (phase,))
    n = min(len(spans_a), len(spans_b))
    if n < 2:
        return None
    return spans_a[:n], spans_b[:n], f"{phase} (every repetition)"


def resolve_stage(hint: str | None, segments_a: Sequence[Segment], segments_b: Sequence[Segment],
                  n_frames_a: int, n_frames_b: int) -> tuple[Segment | None, Segment | None]:
    """The segments of A and B where a metric with this stage hint is read (None = whole clip)."""
    if not hint:
        return None, None
    if _every_turnaround(hint, segments_a, segments_b):
        return None, None  # each repetition's extreme, averaged (the registry reads per rep)
    names_a = [s.stage for s in segments_a]
    if names_a and segments_b:
        k = resolve_stage_name(hint, names_a).index
        if k is not None:
            seg_b = next((s for s in segments_b if s.stage == names_a[k]), None)
            if seg_b is None and len(segments_b) == len(segments_a):
                seg_b = segments_b[k]
            if seg_b is not None:
                return segments_a[k], seg_b
    seg_a = _positional(hint, segments_a, n_frames_a)
    seg_b = _positional(hint, segments_b, n_frames_b)
    if seg_a is None or seg_b is None:
        return None, None
    return seg_a, seg_b


# --------------------------------------------------------------------------------------------
# Closed mode
# --------------------------------------------------------------------------------------------


def _unmeasurable(what: str, detail: str = "") -> OfflineAnswer:
    return OfflineAnswer(label="c", measurable=False,
                         reason=f"not measurable offline: no pose metric covers {what!r}{detail}")


StatementReader = Callable[[str], Understanding]
"""Maps a statement to a metric: the phrase reader :func:`~viddiff.tools.understanding.understand`
(the default), or a model-backed one (:class:`viddiff.graphs.understanding_model.ModelReader`)."""


def query_for(name: str, description: str, query_string: str, action_key: str | None = None,
              diff_key: str | None = None,
              reader: StatementReader = understand) -> tuple[MetricQuery | None, str]:
    """The metric query for a difference and where it came from: "taxonomy", the free-text
    reader's explanation (:func:`viddiff.tools.understanding.understand`: which catalogue
    phrase matched; or which model mapped it, with ``reader`` a model-backed one), or -- with
    no query -- why nothing was understood and the three closest measurable statements (""
    when there was no text). A known taxonomy difference without a mapping stays unmapped:
    free text is not used to second-guess the table. Each distinct text is read once."""
    if action_key is not None and diff_key is not None \
            and get_difference(action_key, str(diff_key)) is not None:
        return metric_query_for(action_key, str(diff_key)), "taxonomy"
    refusal = ""
    for text in dict.fromkeys((query_string, description, name)):
        if not text:
            continue
        reading = reader(text)
        if reading.query is not None:
            return reading.query, reading.why
        refusal = refusal or reading.help_text()
    return None, refusal


def partial_movement(pose_a: PoseSequence, pose_b: PoseSequence) -> str:
    """Why the two videos' timing must not be compared ("" when it may): one shows no
    movement, or the two show different parts of it (one the whole movement, the other a clip
    that starts or ends mid-movement, such as a fragment of it)."""
    movement_a, movement_b = movement_pair(pose_a, pose_b)
    cover_a, cover_b = movement_a.coverage, movement_b.coverage
    if cover_a is None or cover_b is None:
        missing = " and ".join(k for k, c in (("A", cover_a), ("B", cover_b)) if c is None)
        return f"no movement was found in {missing}"
    if movement_a.shows_same_part(movement_b):
        return ""
    parts = []
    for key, (starts, ends) in (("A", cover_a), ("B", cover_b)):
        cut = [w for w, inside in (("starts", starts), ("ends", ends)) if not inside]
        parts.append(f"{key} {' and '.join(cut)} mid-movement" if cut else
                     f"{key} shows the whole movement")
    return f"the videos show different parts of the movement ({', '.join(parts)})"


#: Timing metrics that may be compared when the videos show different parts of the movement:
#: a pause is a pause in any part of it, and a phase's time is read only on the repetitions
#: whose phase the clip shows whole (each says why when none is left).
TIMED_WHERE_SHOWN = frozenset(("longest_pause", "descent_time", "ascent_time"))


def _incomplete_timing(metric: str, pose_a: PoseSequence, pose_b: PoseSequence) -> str:
    """Why a timing metric must not be compared here ("" when it may): see
    :func:`partial_movement` and :data:`TIMED_WHERE_SHOWN`."""
    if METRICS[metric].space != "time" or metric in TIMED_WHERE_SHOWN:
        return ""
    why = partial_movement(pose_a, pose_b)
    return f"{why}, so their timing says nothing about how fast the performances are" \
        if why else ""


def _moment_rows(pose_a: PoseSequence, pose_b: PoseSequence, which: int) -> int:
    """How many pose frames a stage boundary of video ``which`` (0: A, 1: B) may be off: the
    median timing uncertainty of its movement's events, in frames (0: no movement)."""
    movement = movement_pair(pose_a, pose_b)[which]
    pose = (pose_a, pose_b)[which]
    times = [e.uncertainty_s for rep in movement.reps for e in rep.events]
    if not times or pose.frame_period <= 0:
        return 0
    return max(1, round(float(np.median(times)) / pose.frame_period))


def answer_offline(name: str, description: str, query_string: str,
                   pose_a: PoseSequence, pose_b: PoseSequence,
                   segments_a: Sequence[Segment], segments_b: Sequence[Segment],
                   action_key: str | None = None, diff_key: str | None = None,
                   capture_differs: frozenset[CaptureCause] | None = None,
                   reader: StatementReader = understand) -> OfflineAnswer:
    """Answer one difference (a / b / c) from pose measurements, or say it is not measurable
    (``reader`` maps free text to a metric: see :func:`query_for`)."""
    query, source = query_for(name, description, query_string, action_key, diff_key, reader)
    what = query_string or description or name
    if query is None:
        detail = ""
        if source == "taxonomy":
            unmeasurable = unmeasurable_for(action_key, diff_key)
            detail = f" ({action_key} difference {diff_key}" + (
                f": {unmeasurable.detail} [{unmeasurable.reason}])"
                if unmeasurable is not None else ")")
        elif source:
            detail = f" ({source})"
        return _unmeasurable(what, detail)
    rule = "taxonomy mapping" if source == "taxonomy" else source
    incomplete = _incomplete_timing(query.metric, pose_a, pose_b)
    if incomplete:
        return OfflineAnswer(label="c", measurable=False, metric=query.metric, rule=rule,
                             reason=f"not compared: {incomplete}")
    hint = None if reads_its_own_moment(query.metric, query.stage_hint) else query.stage_hint
    seg_a, seg_b = resolve_stage(hint, segments_a, segments_b, pose_a.n_frames,
                                 pose_b.n_frames)
    moments = (_moment_rows(pose_a, pose_b, 0), _moment_rows(pose_a, pose_b, 1))
    phases = every_phase(hint, segments_a, segments_b)

    def compared(metric: str, direction: Direction) -> Measurement:
        if phases is not None:  # the same phase of every repetition, averaged
            return compare_over_repetitions(metric, pose_a, pose_b, phases[0], phases[1],
                                            direction, phases[2], moments, capture_differs)
        return compare_metric(metric, pose_a, pose_b, seg_a, seg_b, direction,
                              moment_rows=moments, capture_differs=capture_differs)

    main = compared(query.metric, query.direction)
    extra = [compared(m, d) for m, d in SUPPORTING.get(query.metric, ())]
    if main.value_a is None or main.value_b is None:
        return OfflineAnswer(label="c", measurable=False, metric=query.metric, rule=rule,
                             reason=f"not measurable offline: {main.statement}",
                             measurements=[main, *extra])
    # the metric and the rule that chose it are in the JSON (``metric``, ``measurements``);
    # the reason is the sentence a person reads
    return OfflineAnswer(label=main.label, measurable=True, metric=query.metric,
                         reason=main.statement, measurements=[main, *extra], rule=rule)


# --------------------------------------------------------------------------------------------
# Open mode
# --------------------------------------------------------------------------------------------


#: Body part of each metric family, for two things: a family is a candidate only when its part
#: moves (an unknown action), and one part gives at most one statement (knee range and knee
#: straightness are one fact about the knee).
PART_OF_FAMILY: dict[str, str] = {
    **dict.fromkeys(("knee_bend", "knee_extension", "rom_knee", "asym_knee", "squat_depth",
                     "knee_raise", "knee_raise_side", "knee_high", "knee_valgus",
                     "knee_valgus_line"), "knee"),
    **dict.fromkeys(("hip_flexion", "hip_extension", "rom_hip", "asym_hip", "hip_depth",
                     "hip_sway", "hip_shift", "hip_shift_size"), "hip"),
    **dict.fromkeys(("arm_extension", "elbow_flexion", "rom_elbow", "asym_elbow"), "elbow"),
    **dict.fromkeys(("arm_raise", "upper_arm_level", "rom_shoulder", "asym_shoulder",
                     "arm_top"), "shoulder"),
    **dict.fromkeys(("trunk_lean", "rom_trunk", "head_tilt", "head_forward"), "trunk"),
    **dict.fromkeys(("hand_high", "hand_pos", "hand_low", "rom_hand"), "hand"),
    **dict.fromkeys(("stance", "stance_step", "jump", "heel_lift", "foot_turn_out"), "feet"),
    **dict.fromkeys(("tempo", "pause"), "timing"),
    "reps": "repetitions",
}
#: The fact each metric family states, for "one statement per fact": families that describe
#: the same thing about the movement share one (the knees' deepest bend, the thighs' tilt and
#: the hips' lowest point are all its depth; knee range and knee straightness one fact about
#: the knee), while different things about one body part stay apart (how low the hips go and
#: how far they shift sideways are two facts: merged, the larger hid the depth of a shallower
#: lunge). Families not listed are their own fact.
FACT_OF_FAMILY: dict[str, str] = {
    **dict.fromkeys(("knee_bend", "squat_depth", "hip_depth", "hip_flexion", "rom_knee",
                     "rom_hip"), "depth"),
    **dict.fromkeys(("knee_raise", "knee_raise_side", "knee_high"), "knee raise"),
    **dict.fromkeys(("knee_valgus", "knee_valgus_line"), "knees in or out"),
    **dict.fromkeys(("hip_sway", "hip_shift", "hip_shift_size"), "hips sideways"),
    **dict.fromkeys(("arm_extension", "elbow_flexion", "rom_elbow"), "elbow bend"),
    **dict.fromkeys(("arm_raise", "upper_arm_level", "rom_shoulder", "arm_top"), "arm raise"),
    **dict.fromkeys(("trunk_lean", "rom_trunk"), "trunk lean"),
    **dict.fromkeys(("head_tilt", "head_forward"), "head"),
    **dict.fromkeys(("hand_high", "hand_pos", "hand_low", "rom_hand"), "hand height"),
    **dict.fromkeys(("stance", "stance_step"), "stance"),
    **dict.fromkeys(("tempo", "pause"), "timing"),
}
#: How a part's motion is read (its range of motion over the movement) and how much makes it
#: move: a part that stays still in both videos has nothing to differ in but its posture.
MOTION_GATES: dict[str, tuple[str, float]] = {
    "knee": ("range_of_motion_knee", 15.0), "hip": ("range_of_motion_hip", 15.0),
    "elbow": ("range_of_motion_elbow", 15.0), "shoulder": ("range_of_motion_shoulder", 15.0),
    "trunk": ("range_of_motion_trunk", 10.0), "hand": ("range_of_motion_hand", 0.2),
}
#: The feet count as moving when the legs do.
_FEET_WITH = ("knee", "hip")

#: Family-wise error of an open-mode pass: the chance that it states any difference at all
#: between two identical performances (from the pose jitter alone).
OPEN_FAMILY_ALPHA = 0.05
#: Open mode states a difference only when it clears its (corrected) threshold by this
#: factor: nobody asked about it, so it must not rest on a value near the noise.
OPEN_MIN_SCORE = 1.5
#: ... and on at least this many valid pose frames in each video.
OPEN_MIN_FRAMES = 5


def open_k_sigma(n_tests: int) -> float:
    """The uncertainty multiple a difference must exceed when ``n_tests`` are made at once,
    so that all of them together state a noise difference with probability at most
    :data:`OPEN_FAMILY_ALPHA` (Bonferroni, two-sided normal); never below the single-test
    ``K_SIGMA``."""
    tail = OPEN_FAMILY_ALPHA / (2 * max(n_tests, 1))
    return max(K_SIGMA, NormalDist().inv_cdf(1 - tail))


def _clear_enough(m: Measurement, spec: MetricSpec) -> bool:
    """A count is discrete: its smallest difference (one repetition) is the margin itself."""
    margin = 1.0 if spec.kind == "count" else OPEN_MIN_SCORE
    return (m.label != "c" and math.isfinite(m.score) and m.score >= margin
            and min(m.n_frames_a, m.n_frames_b) >= OPEN_MIN_FRAMES)


def _movement_scope(movement: Movement, pose: PoseSequence) -> Segment | None:
    """Where a clip's movement is read: the span of its one repetition (leaving out a still
    lead-in and lead-out); None (the whole clip, per repetition) for several repetitions or
    no movement found."""
    span = movement.span()
    if span is None or len(movement.reps) > 1:
        return None
    return Segment(stage="the movement", start=span[0], end=min(span[1], pose.n_frames - 1))


def over_movement(spec: MetricSpec, pose: PoseSequence, scope: Segment | None,
                  sides: tuple[str, ...] | None, shift: int) -> MetricValue:
    """``spec`` over a clip's movement (:func:`_movement_scope`), with what depends on where
    the movement was found in its uncertainty: a body value is read over the whole clip too,
    and half the difference of the two readings is added in quadrature (as
    :func:`~viddiff.tools.kinematics.comparison.at_moment` does for a boundary's timing).

    The movement's span is itself a reading of the pose, and on a short or poorly tracked
    clip it can land on a few frames of one video and the whole of the other, for one
    performance filmed twice; a knee's deepest bend or a trunk's furthest lean over a fifth
    of the movement is then a different quantity from the same over all of it. Where the
    span only trims a still lead-in and lead-out, the two readings agree (an extreme is not
    moved by still frames) and nothing is added. Timing keeps its own span (it needs one)."""
    value = at_moment(spec, pose, scope, sides, shift)
    if scope is None or spec.space == "time" or value.value is None:
        return value
    whole = measure_value(spec, pose, None, sides)
    if whole.value is None:
        return value
    spread = abs(value.value - whole.value) / 2
    return replace(value, uncertainty=math.hypot(value.uncertainty, spread))


def _moving_parts(pose_a: PoseSequence, pose_b: PoseSequence,
                  scopes: tuple[Segment | None, Segment | None]) -> set[str]:
    parts = {"timing", "repetitions"}
    for part, (metric, gate) in MOTION_GATES.items():
        spec = METRICS[metric]
        values = [spec.compute(pose, ClipContext.of(pose), scope).value
                  for pose, scope in ((pose_a, scopes[0]), (pose_b, scopes[1]))]
        if any(v is not None and v >= gate for v in values):
            parts.add(part)
    if parts & set(_FEET_WITH):
        parts.add("feet")
    if parts == {"timing", "repetitions"}:  # a held position (a plank, a stance):
        parts |= set(PART_OF_FAMILY.values())  # its posture is the action
    return parts


def open_candidates(pose_a: PoseSequence, pose_b: PoseSequence,
                    scopes: tuple[Segment | None, Segment | None],
                    action_key: str | None = None) -> list[MetricSpec]:
    """The metrics an open-mode pass tests: those the benchmark's checklist maps for a
    benchmark action; otherwise one two-sided metric per family whose body part moves in
    either video, or of every part when nothing moves (a held position); timing is left to the
    caller (it needs complete movements)."""
    if action_key is not None:
        queries = [metric_query_for(action_key, d.diff_key) for d in load_differences()
                   if d.action == action_key]
        names = list(dict.fromkeys(q.metric for q in queries if q is not None))
        if names:
            return [METRICS[n] for n in names if n in METRICS]
    parts = _moving_parts(pose_a, pose_b, scopes)
    return [spec for spec in METRICS.values()
            if spec.proposable and spec.side is None and spec.name != "stage_duration"
            and PART_OF_FAMILY.get(spec.family) in parts]


#: A longer pause explains a longer movement time when it makes up at least this share of it.
PAUSE_EXPLAINS = 0.5


def _one_fact(items: list[tuple[float, MetricSpec, Measurement]]
              ) -> tuple[float, MetricSpec, Measurement]:
    """The one statement kept for a body part: the clearest, except that a longer pause which
    makes up most of a longer movement time is the fact to state (the movement is not slower,
    it stops: "there is a longer pause", not "the motion is slower")."""
    top = max(items, key=lambda item: item[0])
    pause = next((item for item in items if item[1].name == "longest_pause"), None)
    if pause is None or top[1].name not in ("motion_duration", "movement_span"):
        return top
    (_, _, tempo), (_, _, held) = top, pause
    if None in (tempo.value_a, tempo.value_b, held.value_a, held.value_b):
        return top
    slower = float(tempo.value_b) - float(tempo.value_a)  # type: ignore[arg-type]
    longer = float(held.value_b) - float(held.value_a)  # type: ignore[arg-type]
    return pause if slower * longer > 0 and abs(longer) >= PAUSE_EXPLAINS * abs(slower) \
        else top


#: Depth read at the hip angle (trunk to thigh) changes with the trunk's lean as much as with
#: the thighs' angle; depth read on the legs does not. A body that leans further over the
#: same legs reads "the hips flex more": the lean again, and ranked as the movement's depth
#: (:func:`amplitude_fact`) it came before the lean.
HIP_ANGLE_FAMILIES = frozenset(("hip_flexion", "rom_hip"))


def amplitude_fact(movement_a: Movement, movement_b: Movement) -> str | None:
    """The fact that is the movement's own amplitude, when both clips show the same kind of
    movement: "depth" when both lower the hips to their turnaround (a squat, a lunge: the
    stage naming's "lowers the hips", read towards the standing foot). Why it ranks first
    after the count: how low a lowering movement goes is what the movement is, and the other
    body differences of a shallower one are largely its consequences -- a lunge turned early
    also steps narrower, shifts the hips less and leans less, each by more of its own
    threshold, and ranked by score alone the depth fell out of the five slots."""
    if movement_a.direction == movement_b.direction == "lowers the hips":
        return "depth"
    return None


def propose_offline(pose_a: PoseSequence, pose_b: PoseSequence, segments_a: Sequence[Segment],
                    segments_b: Sequence[Segment], n: int,
                    action_key: str | None = None,
                    capture_differs: frozenset[CaptureCause] | None = None
                    ) -> list[OfflineProposal]:
    """The ``n`` clearest measured differences (label a/b only), at most one per fact
    (:data:`FACT_OF_FAMILY`), tested as ONE family of tests.

    The candidates (:func:`open_candidates`) are each measured once, over the movement (its
    repetition, leaving out still lead-in and lead-out) in both videos, with the threshold
    raised for the number of candidates (:func:`open_k_sigma`) so the pass as a whole states a
    noise difference with probability at most :data:`OPEN_FAMILY_ALPHA`; timing is tested only
    when both videos show the same part of the movement (:func:`partial_movement`). What
    clears it by :data:`OPEN_MIN_SCORE`, on at least :data:`OPEN_MIN_FRAMES` frames, is ranked
    by how far it clears it (a count first, then the movement's amplitude:
    :func:`amplitude_fact`), and one statement is kept per fact. Each is phrased for the
    video with the higher value, so the label says which video that is. Nothing cleared:
    nothing is stated.
    """
    if n <= 0 or person_problem(pose_a) is not None or person_problem(pose_b) is not None:
        return []
    movement_a, movement_b = movement_pair(pose_a, pose_b)
    scopes = (_movement_scope(movement_a, pose_a), _movement_scope(movement_b, pose_b))
    comparable_timing = not partial_movement(pose_a, pose_b)
    candidates = [spec for spec in open_candidates(pose_a, pose_b, scopes, action_key)
                  if comparable_timing or spec.space != "time"]
    k_sigma = open_k_sigma(len(candidates))
    # when the viewpoints cannot be compared, body angles are read as from two views (their
    # cross-view error), not as from one (the cam02 mirror stated an elbow)
    differ = views_may_differ(pose_a, pose_b)
    capture = capture_causes(pose_a, pose_b) if capture_differs is None else capture_differs
    cleared: dict[str, list[tuple[float, MetricSpec, Measurement]]] = {}
    sides = choose_sides(pose_a, pose_b)
    shifts = (_moment_rows(pose_a, pose_b, 0), _moment_rows(pose_a, pose_b, 1))
    for spec in candidates:
        timing_whole = spec.name == "motion_duration"  # its own 10-90 % rule finds the motion
        va = over_movement(spec, pose_a, None if timing_whole else scopes[0], sides, shifts[0])
        vb = over_movement(spec, pose_b, None if timing_whole else scopes[1], sides, shifts[1])
        m = compare_values(spec, va, vb, "higher", None,
                           (pose_a.lr_agreement, pose_b.lr_agreement),
                           poses=(pose_a, pose_b), views_differ=differ,
                           capture_differs=capture, k_sigma=k_sigma)
        if not _clear_enough(m, spec):
            continue
        fact = FACT_OF_FAMILY.get(spec.family, spec.family)
        cleared.setdefault(fact, []).append((m.score, spec, m))
    if "trunk lean" in cleared and "depth" in cleared:
        # the hip angle is the trunk's angle to the thigh: with the lean stated apart, depth
        # is said on the legs; when only the hip angle cleared and the thighs did not move
        # differently either, it is the lean again
        legs = [item for item in cleared["depth"] if item[1].family not in HIP_ANGLE_FAMILIES]
        if legs:
            cleared["depth"] = legs
        elif "knee raise" not in cleared:
            del cleared["depth"]
    best = {fact: _one_fact(items) for fact, items in cleared.items()}
    # a different number of repetitions is the movement's structure, so it leads; then how
    # far the movement itself goes (:func:`amplitude_fact`); the rest by how far they clear
    # their threshold
    lead = amplitude_fact(movement_a, movement_b)
    order = sorted(best, key=lambda fact: (best[fact][1].kind != "count", fact != lead,
                                           -best[fact][0]))
    ranked = [best[fact] for fact in order[:n]]
    return [OfflineProposal(name=spec.label, description=spec.more, query_string=spec.more,
                            num_frames=spec.num_frames, label=m.label, measurements=[m],
                            score=round(score, 3))
            for score, spec, m in ranked]
