"""The comparison rule: when a measured difference between video A and video B gets a label.

With ``delta = value_a - value_b`` and combined uncertainty ``u = sqrt(u_a^2 + u_b^2)``, a label
``a``/``b`` is given only when ``|delta| > K_SIGMA * u`` **and** ``|delta| >= min_effect`` (the
smallest difference that matters in practice: 5 degrees, 0.1 torso lengths, 10-15% of a
duration or speed ...; see :func:`decision_threshold`). ``K_SIGMA = 3``: an open-mode pass tests
some fifty metrics per stage, and at 2 sigma a couple of them would fire on noise alone.
Otherwise the label is ``c``. Metrics that depend on which side is the person's left give ``c``
when the pose model could not keep left and right apart (see ``PoseSequence.lr_agreement``).
The uncertainties themselves come from :mod:`viddiff.tools.kinematics.uncertainty`.
"""

from __future__ import annotations

import math

from viddiff.tools.kinematics.registry import MetricSpec, get_metric
from viddiff.tools.kinematics.results import Direction, Label, Measurement, MetricValue
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment

#: A difference must exceed this many combined standard uncertainties to get a label a/b.
K_SIGMA = 3.0
#: Below this left/right label agreement (see PoseSequence.lr_agreement) sided metrics give c.
LR_AGREEMENT_MIN = 0.8
_UNIT_TEXT: dict[str, str] = {"deg": "°", "TL": " torso lengths", "TL/s": " torso lengths/s",
                              "s": " s", "ratio": ""}


def decision_threshold(spec: MetricSpec, uncertainty: float, va: float, vb: float) -> float:
    """``|value_a - value_b|`` needed for a label a/b: ``K_SIGMA`` combined uncertainties, and
    at least the metric's smallest effect that matters (a fraction of the larger value when the
    metric's ``min_effect`` is relative)."""
    effect = spec.min_effect * max(abs(va), abs(vb)) if spec.relative else spec.min_effect
    return max(K_SIGMA * uncertainty, effect)


def format_value(value: float | None, unit: str) -> str:
    """``value`` with its unit as a statement shows it ("71°", "0.45 torso lengths", "n/a")."""
    if value is None:
        return "n/a"
    digits = 0 if unit == "deg" else 2
    return f"{value:.{digits}f}{_UNIT_TEXT.get(unit, ' ' + unit)}"


def compare_values(spec: MetricSpec, va: MetricValue, vb: MetricValue, direction: Direction,
                   stage: str | None = None,
                   lr_agreement: tuple[float, float] = (1.0, 1.0)) -> Measurement:
    """Apply the decision rule to two measured values (see the module docstring).

    ``lr_agreement`` are the two poses' left/right label agreements: a metric that depends on
    which side is left gives ``c`` when either is below :data:`LR_AGREEMENT_MIN`.
    """
    where = f" ({stage})" if stage else ""
    base = dict(metric=spec.name, stage=stage, value_a=va.value, value_b=vb.value, unit=spec.unit,
                direction=direction, uncertainty_a=va.uncertainty, uncertainty_b=vb.uncertainty,
                n_frames_a=va.n_frames, n_frames_b=vb.n_frames)
    if va.value is None or vb.value is None:
        missing = " and ".join(v for v, m in (("A", va), ("B", vb)) if m.value is None)
        return Measurement(**base, label="c",  # type: ignore[arg-type]
                           statement=f"{spec.label}{where}: not measurable in {missing} "
                                     "(person or landmarks not visible)")
    unc = math.hypot(va.uncertainty, vb.uncertainty)
    threshold = decision_threshold(spec, unc, va.value, vb.value)
    delta = va.value - vb.value
    numbers = (f"{spec.label}{where}: A {format_value(va.value, spec.unit)}, "
               f"B {format_value(vb.value, spec.unit)}")
    unsure = [v for v, agree in zip("AB", lr_agreement, strict=True)
              if agree < LR_AGREEMENT_MIN]
    if spec.needs_sides and unsure:
        return Measurement(**base, uncertainty=unc, threshold=threshold,  # type: ignore[arg-type]
                           label="c", statement=f"{numbers} → not decided: the pose model "
                           f"could not tell left from right reliably in {' and '.join(unsure)} "
                           f"(labels agreed on {min(lr_agreement):.0%} of frames)")
    if abs(delta) <= threshold or delta == 0:
        return Measurement(**base, uncertainty=unc, threshold=threshold,  # type: ignore[arg-type]
                           label="c", statement=f"{numbers} → no clear difference "
                           f"(|Δ| {format_value(abs(delta), spec.unit)} ≤ "
                           f"{format_value(threshold, spec.unit)})")
    higher: Label = "a" if delta > 0 else "b"
    lower: Label = "b" if higher == "a" else "a"
    # name the video the statement is true of, in the words of the asked direction
    label, phrase = (higher, spec.more) if direction == "higher" else (lower, spec.less)
    return Measurement(**base, uncertainty=unc, threshold=threshold,  # type: ignore[arg-type]
                       label=label, statement=f"{numbers} → {phrase} in {label.upper()}")


def compare_metric(name: str, pose_a: PoseSequence, pose_b: PoseSequence,
                   segment_a: Segment | None = None, segment_b: Segment | None = None,
                   direction: Direction = "higher") -> Measurement:
    """Measure ``name`` on both videos and label which one the statement is more true of.

    ``direction`` says which sign of ``value_a - value_b`` makes the statement truer: "the
    squat is deeper" with ``thigh_angle_max`` is ``higher``; with ``hip_depth`` it is ``lower``.
    """
    spec = get_metric(name)
    va = spec.compute(pose_a, ClipContext.of(pose_a), segment_a)
    vb = spec.compute(pose_b, ClipContext.of(pose_b), segment_b)
    stage = segment_a.stage if segment_a is not None else None
    return compare_values(spec, va, vb, direction, stage,
                          (pose_a.lr_agreement, pose_b.lr_agreement))
