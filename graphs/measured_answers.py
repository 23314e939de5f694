"""The offline comparison engine: answer and propose differences from pose measurements alone.

Used by the graph when no LLM/VLM endpoint is configured. Nothing here guesses: a difference is
answered only when a metric covers it (the taxonomy's explicit table, or the keyword rules for
free text), and the label follows the measurement's decision rule
(:func:`viddiff.tools.kinematics.comparison.compare_values`). Everything else is reported as
"not measurable offline" with label ``c``.

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
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from viddiff.tools.kinematics.comparison import compare_metric, compare_values, views_differ
from viddiff.tools.kinematics.registry import METRICS, MetricSpec
from viddiff.tools.kinematics.results import Label, Measurement
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.pose.quality import person_problem
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.stage_names import resolve_stage_name
from viddiff.tools.taxonomy import (
    MetricQuery,
    get_difference,
    match_rule,
    metric_query_for,
    unmeasurable_for,
)

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


def resolve_stage(hint: str | None, segments_a: Sequence[Segment], segments_b: Sequence[Segment],
                  n_frames_a: int, n_frames_b: int) -> tuple[Segment | None, Segment | None]:
    """The segments of A and B where a metric with this stage hint is read (None = whole clip)."""
    if not hint:
        return None, None
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


def query_for(name: str, description: str, query_string: str, action_key: str | None = None,
              diff_key: str | None = None) -> tuple[MetricQuery | None, str]:
    """The metric query for a difference and where it came from ("taxonomy", a keyword rule's
    explanation, or "" when none). A known taxonomy difference without a mapping stays
    unmapped: the keyword rules are not used to second-guess the table."""
    if action_key is not None and diff_key is not None \
            and get_difference(action_key, str(diff_key)) is not None:
        return metric_query_for(action_key, str(diff_key)), "taxonomy"
    for text in (query_string, description, name):
        rule = match_rule(text) if text else None
        if rule is not None:
            return rule.query, rule.why
    return None, ""


def answer_offline(name: str, description: str, query_string: str,
                   pose_a: PoseSequence, pose_b: PoseSequence,
                   segments_a: Sequence[Segment], segments_b: Sequence[Segment],
                   action_key: str | None = None, diff_key: str | None = None) -> OfflineAnswer:
    """Answer one difference (a / b / c) from pose measurements, or say it is not measurable."""
    query, source = query_for(name, description, query_string, action_key, diff_key)
    what = query_string or description or name
    if query is None:
        detail = ""
        if source == "taxonomy":
            unmeasurable = unmeasurable_for(action_key, diff_key)
            detail = f" ({action_key} difference {diff_key}" + (
                f": {unmeasurable.detail} [{unmeasurable.reason}])"
                if unmeasurable is not None else ")")
        return _unmeasurable(what, detail)
    seg_a, seg_b = resolve_stage(query.stage_hint, segments_a, segments_b,
                                 pose_a.n_frames, pose_b.n_frames)
    main = compare_metric(query.metric, pose_a, pose_b, seg_a, seg_b, query.direction)
    extra = [compare_metric(m, pose_a, pose_b, seg_a, seg_b, d)
             for m, d in SUPPORTING.get(query.metric, ())]
    if main.value_a is None or main.value_b is None:
        return OfflineAnswer(label="c", measurable=False, metric=query.metric,
                             reason=f"not measurable offline: {main.statement}",
                             measurements=[main, *extra])
    # the metric and the rule that chose it are in the JSON (``metric``, ``measurements``);
    # the reason is the sentence a person reads
    return OfflineAnswer(label=main.label, measurable=True, metric=query.metric,
                         reason=main.statement, measurements=[main, *extra],
                         rule="taxonomy mapping" if source == "taxonomy" else source)


# --------------------------------------------------------------------------------------------
# Open mode
# --------------------------------------------------------------------------------------------


def _scopes(segments_a: Sequence[Segment], segments_b: Sequence[Segment]
            ) -> list[tuple[Segment | None, Segment | None]]:
    """Whole clip, plus each stage present in both videos (by name, else by position)."""
    scopes: list[tuple[Segment | None, Segment | None]] = [(None, None)]
    by_name = {s.stage: s for s in segments_b}
    for k, seg in enumerate(segments_a):
        other = by_name.get(seg.stage)
        if other is None and len(segments_a) == len(segments_b):
            other = segments_b[k]
        if other is not None:
            scopes.append((seg, other))
    return scopes


_STAGE_PREPOSITIONS = {"start": "at the start", "beginning": "at the beginning",
                       "end": "at the end", "finish": "at the finish",
                       "middle": "in the middle"}


def _phrase(spec: MetricSpec, stage: str | None) -> str:
    """The metric's wording for the higher value, placed in the stage ("... at the end")."""
    if stage is None:
        return spec.more
    where = _STAGE_PREPOSITIONS.get(stage.lower())
    if where is None:
        article = "" if re.match(r"(phase|stage)\b", stage.lower()) else "the "
        where = f"during {article}{stage}"
    return f"{spec.more} {where}"


#: Open mode states a difference only when it clears its threshold by this factor: nobody
#: asked about it, so it must not rest on a value near the noise.
OPEN_MIN_SCORE = 1.5
#: ... and on at least this many valid pose frames in each video.
OPEN_MIN_FRAMES = 5


def _clear_enough(m: Measurement) -> bool:
    return (m.label != "c" and math.isfinite(m.score) and m.score >= OPEN_MIN_SCORE
            and min(m.n_frames_a, m.n_frames_b) >= OPEN_MIN_FRAMES)


def propose_offline(pose_a: PoseSequence, pose_b: PoseSequence, segments_a: Sequence[Segment],
                    segments_b: Sequence[Segment], n: int) -> list[OfflineProposal]:
    """The ``n`` clearest measured differences (label a/b only), at most one per metric family.

    Every proposable metric is measured on the whole clip and on every stage pair; results that
    clear the decision rule by :data:`OPEN_MIN_SCORE`, on at least :data:`OPEN_MIN_FRAMES`
    frames, are ranked by how far they clear it (|Δ| / threshold). Each is
    phrased for the video with the higher value ("the knees bend more" style wording from the
    metric's registry entry), so the label says which video that is.
    """
    if n <= 0 or person_problem(pose_a) is not None or person_problem(pose_b) is not None:
        return []
    ctx_a, ctx_b = ClipContext.of(pose_a), ClipContext.of(pose_b)
    differ = views_differ(pose_a, pose_b)
    best: dict[str, tuple[float, MetricSpec, Measurement]] = {}
    for spec in METRICS.values():
        if not spec.proposable:
            continue
        for seg_a, seg_b in _scopes(segments_a, segments_b):
            if spec.name == "stage_duration" and seg_a is None:
                continue  # a clip's length says how it was trimmed, not how the action went
            va = spec.compute(pose_a, ctx_a, seg_a)
            vb = spec.compute(pose_b, ctx_b, seg_b)
            stage = seg_a.stage if seg_a is not None else None
            m = compare_values(spec, va, vb, "higher", stage,
                               (pose_a.lr_agreement, pose_b.lr_agreement),
                               poses=(pose_a, pose_b), views_differ=differ)
            if not _clear_enough(m):
                continue
            if spec.family not in best or m.score > best[spec.family][0]:
                best[spec.family] = (m.score, spec, m)
    ranked = sorted(best.values(), key=lambda item: -item[0])[:n]
    out = []
    for score, spec, m in ranked:
        phrase = _phrase(spec, m.stage)
        name = spec.label if m.stage is None else f"{spec.label} ({m.stage})"
        out.append(OfflineProposal(name=name, description=phrase, query_string=phrase,
                                   num_frames=spec.num_frames, label=m.label, measurements=[m],
                                   score=round(score, 3)))
    return out
