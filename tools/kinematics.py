"""Named body-motion metrics measured on pose, with uncertainties, and A-vs-B comparison.

Every metric is one entry of :data:`METRICS` (a :class:`MetricSpec`): a per-frame signal (a joint
angle, a normalised height or width, a speed; :mod:`viddiff.tools.kinematics_signals`) reduced
over a stage segment (or the whole clip) by an aggregate (min, max, mean, median, range) -- or a
timing rule (durations, pauses).

Fair comparison of different people and cameras:

* angles are in degrees and need no normalisation. They are read on MediaPipe's 3-D world
  landmarks when the clip has them, so that they depend far less on where the camera stands;
  "from vertical" angles against a vertical estimated from the clip's standing frames (world
  axes follow the camera, not gravity). Each description ends by saying what it is read on;
* positions, heights and widths stay image-based (2-D): they say where things are in the
  picture, which is what the report shows;
* lengths are divided by the performer's **torso length** (shoulder midpoint to hip midpoint, the
  median over the clip), unit ``TL``. The torso hardly changes length as a person bends knees,
  hips or arms, unlike standing height, and it scales with body size and camera distance alike;
* times are in seconds, read from the sampled frames' timestamps; speeds in ``TL/s``.

Uncertainty. Each per-frame signal carries frame-to-frame jitter from the pose model; 3-D
angles jitter up to about twice as much as 2-D ones (the model's depth is noisier), which needs
no special treatment because the jitter is measured on each signal as it is: the robust (MAD)
standard deviation of the high-pass residual ``x[t] - (x[t-1] + x[t+1]) / 2`` over consecutive
valid frames, weighted by landmark visibility, divided by ``sqrt(1.5)`` (the residual's
variance is 1.5 times the frame variance for white noise). Real curvature leaks into the
residual, so this errs on the large side. Aggregates turn it into a standard uncertainty of the
value:

* minima/maxima/ranges are read from the 3-frame running median (a one-frame glitch of the pose
  model cannot set them): ``sigma`` plus a sampling term (a quarter of the gap to the nearest
  neighbouring frame: the true extreme lies between samples) plus half of what the median
  filter shaved off the raw extreme; ranges combine both ends;
* means/medians: ``sqrt(sigma^2 + sd^2) / sqrt(n)`` with ``sd`` the spread within the segment,
  since which frames fall in a stage (and when they were sampled) is uncertain too;
* durations: one frame period for a whole clip, ``BOUNDARY_UNCERTAINTY_S`` (0.1 s) per stage
  boundary for segments placed by a localizer;
* torso-length normalisation adds the relative uncertainty of the scale; a floor per kind
  (1 degree, 0.01 TL, ...) keeps noise-free synthetic data from claiming infinite precision.

Each value also reports ``n_frames``, the number of valid frames it rests on (landmarks with
visibility below 0.5 are not used).

Comparison rule (:func:`compare_metric`): with ``delta = value_a - value_b`` and combined
uncertainty ``u = sqrt(u_a^2 + u_b^2)``, a label ``a``/``b`` is given only when
``|delta| > K_SIGMA * u`` **and** ``|delta| >= min_effect`` (the smallest difference that matters
in practice: 5 degrees, 0.1 torso lengths, 10-15% of a duration or speed ...). ``K_SIGMA = 3``:
an open-mode pass tests some fifty metrics per stage, and at 2 sigma a couple of them would
fire on noise alone. Otherwise the label is ``c``. Metrics that depend on which side is the
person's left give ``c`` when the pose model could not keep left and right apart (see
``PoseSequence.lr_agreement``).

Limits worth stating. Lengths and heights are 2-D projections, so comparing them assumes
similar camera viewpoints (as in the benchmark's pairs). 3-D angles come from one view: the
model guesses depth, and its guess has a per-view error that frame-to-frame jitter does not
reveal, so the uncertainty above does not contain it. On four synchronized views of one lunge
the angles of different views still differ by 5-11° RMS per frame (2-D: 7-17°), far above their
1-3.6° jitter; a knee bending towards the camera may read nearly straight in 3-D as in 2-D.
Different viewpoints can therefore still yield labels for angle differences of 10-30°
(bench/RESULTS.md, "Pose and offline engine", counts them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from viddiff.tools.kinematics_signals import (
    JUMP_WINDOW_S,
    VIS_THRESHOLD,
    ClipContext,
    SideFn,
    Signal,
    bilateral,
    foot_lift,
    head_tilt,
    height_above_hips,
    hip_height,
    hip_offset,
    joint_angle,
    joint_positions,
    knee_width_ratio,
    limb_landmarks,
    one_side,
    speed,
    speed_signal,
    stance_width,
    thigh_angle,
    trunk_lean,
    upper_arm_tilt,
    wrist_above_floor,
)
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment

__all__ = [
    "BOUNDARY_UNCERTAINTY_S", "JUMP_WINDOW_S", "K_SIGMA", "LR_AGREEMENT_MIN", "METRICS",
    "VIS_THRESHOLD", "Aggregate", "ClipContext", "Computer", "Direction", "Kind", "Label",
    "Measurement", "MetricSpec", "MetricValue", "SideFn", "Signal", "bilateral",
    "compare_metric", "compare_values", "format_value", "frame_noise", "get_metric",
    "height_above_hips", "hip_height", "joint_angle", "list_metrics", "measure", "trunk_lean",
]

Direction = Literal["higher", "lower"]
Label = Literal["a", "b", "c"]
Aggregate = Literal["min", "max", "mean", "median", "range"]
Kind = Literal["angle", "length", "ratio", "time", "speed"]
Space = Literal["3d", "3d_vertical", "image", "time"]

#: A difference must exceed this many combined standard uncertainties to get a label a/b.
K_SIGMA = 3.0
#: Standard uncertainty of one stage boundary placed by a localizer, in seconds (see durations).
BOUNDARY_UNCERTAINTY_S = 0.1
#: Below this left/right label agreement (see PoseSequence.lr_agreement) sided metrics give c.
LR_AGREEMENT_MIN = 0.8

_NOISE_FLOOR: dict[str, float] = {"angle": 1.0, "length": 0.01, "ratio": 0.02, "time": 0.0,
                                  "speed": 0.02}
_DEFAULT_NOISE: dict[str, float] = {"angle": 4.0, "length": 0.04, "ratio": 0.1, "time": 0.0,
                                    "speed": 0.2}
_UNIT_TEXT: dict[str, str] = {"deg": "°", "TL": " torso lengths", "TL/s": " torso lengths/s",
                              "s": " s", "ratio": ""}


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricValue:
    """One metric on one clip: value (None when it cannot be measured), standard uncertainty,
    and the number of valid frames it rests on."""

    value: float | None
    uncertainty: float
    n_frames: int
    unit: str


class Measurement(BaseModel):
    """A metric compared between video A and video B, with the verdict and a sentence."""

    metric: str
    stage: str | None = None
    value_a: float | None = None
    value_b: float | None = None
    unit: str = ""
    uncertainty: float = Field(0.0, description="Standard uncertainty of value_a - value_b.")
    label: Label = "c"
    statement: str = ""
    direction: Direction = "higher"
    uncertainty_a: float | None = None
    uncertainty_b: float | None = None
    n_frames_a: int = 0
    n_frames_b: int = 0
    threshold: float = Field(0.0, description="|value_a - value_b| needed for a label a/b.")

    @property
    def delta(self) -> float | None:
        if self.value_a is None or self.value_b is None:
            return None
        return self.value_a - self.value_b

    @property
    def score(self) -> float:
        """How far the difference clears its threshold (0 when it does not)."""
        d = self.delta
        if d is None or self.threshold <= 0:
            return 0.0
        return abs(d) / self.threshold



# --------------------------------------------------------------------------------------------
# Noise and aggregation
# --------------------------------------------------------------------------------------------


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    if cum[-1] <= 0:
        return float(np.median(values))
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])


def frame_noise(values: np.ndarray, weights: np.ndarray) -> float | None:
    """Robust per-frame noise (standard deviation) of a signal; None if too few frames.

    MAD of the high-pass residual ``x[t] - (x[t-1] + x[t+1]) / 2`` over triples of consecutive
    valid frames, each weighted by its least visible frame, scaled to a standard deviation and
    divided by ``sqrt(1.5)`` (residual variance of white noise).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size < 5:
        return None
    ok = np.isfinite(x)
    trip = ok[1:-1] & ok[:-2] & ok[2:]
    if trip.sum() < 3:
        return None
    resid = x[1:-1] - 0.5 * (x[:-2] + x[2:])
    w = np.minimum(np.minimum(weights[1:-1], weights[:-2]), weights[2:])
    return 1.4826 * _weighted_median(np.abs(resid[trip]), w[trip] + 1e-9) / math.sqrt(1.5)


def _segment_slice(pose: PoseSequence, segment: Segment | None) -> slice:
    if segment is None:
        return slice(0, pose.n_frames)
    start = min(segment.start, max(pose.n_frames - 1, 0))
    return slice(start, min(segment.end, pose.n_frames - 1) + 1)


def _median3(x: np.ndarray) -> np.ndarray:
    """Median of each valid frame and its valid neighbours (removes one-frame spikes)."""
    padded = np.concatenate([[np.nan], x, [np.nan]])
    stack = np.sort(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)  # NaNs last
    count = np.isfinite(stack).sum(axis=0)
    out = np.where(count == 3, stack[1], np.where(count == 2, 0.5 * (stack[0] + stack[1]),
                                                  stack[0]))
    return np.where(np.isfinite(x), out, np.nan)


def _aggregate(x: np.ndarray, w: np.ndarray, sl: slice, agg: Aggregate,
               sigma: float) -> tuple[float | None, float, int]:
    """Reduce the signal over the slice; returns value, standard uncertainty, valid frames.

    Extremes (min, max, range) are read from the 3-frame running median, so a single-frame
    glitch of the pose model cannot set them; half of what that filter shaved off the raw
    extreme is added to the uncertainty (a real one-frame peak is then merely less certain).
    Means and medians count the spread of the signal within the segment as well as the noise
    (``sqrt(sigma^2 + sd^2) / sqrt(n)``): which frames fall in a stage, and at which instants
    they were sampled, is itself uncertain.
    """
    seg = x[sl]
    ok = np.isfinite(seg)
    n = int(ok.sum())
    if n == 0:
        return None, 0.0, 0
    vals = seg[ok]
    if agg in ("mean", "median"):
        spread = float(np.std(vals)) if n > 1 else 0.0
        base = math.hypot(sigma, spread) / math.sqrt(n)
        if agg == "median":
            return float(np.median(vals)), 1.2533 * base, n
        wts = w[sl][ok]
        mean = float(np.average(vals, weights=wts)) if wts.sum() > 0 else float(vals.mean())
        return mean, base, n
    filt = _median3(x)
    fseg = filt[sl]
    i_max = sl.start + int(np.nanargmax(fseg))
    i_min = sl.start + int(np.nanargmin(fseg))
    hi = (float(filt[i_max]), math.hypot(_sampling_term(filt, i_max),
                                         0.5 * (float(np.nanmax(seg)) - float(filt[i_max]))))
    lo = (float(filt[i_min]), math.hypot(_sampling_term(filt, i_min),
                                         0.5 * (float(filt[i_min]) - float(np.nanmin(seg)))))
    if agg == "max":
        return hi[0], math.hypot(sigma, hi[1]), n
    if agg == "min":
        return lo[0], math.hypot(sigma, lo[1]), n
    return hi[0] - lo[0], math.sqrt(2 * sigma**2 + hi[1] ** 2 + lo[1] ** 2), n


def _sampling_term(x: np.ndarray, i: int) -> float:
    """A quarter of the smallest gap to a valid neighbouring frame: the continuous extreme lies
    between samples, at most about that far from the sampled one."""
    gaps = [abs(x[i] - x[j]) for j in (i - 1, i + 1) if 0 <= j < x.size and np.isfinite(x[j])]
    return 0.25 * min(gaps) if gaps else 0.0


# --------------------------------------------------------------------------------------------
# Metric registry
# --------------------------------------------------------------------------------------------

Computer = Callable[[PoseSequence, ClipContext, Segment | None], MetricValue]


@dataclass(frozen=True)
class MetricSpec:
    """A named metric: what it measures, in which unit, how to phrase a difference in it.

    ``more``/``less`` complete "... in A" for the video with the higher/lower value, e.g.
    ``knee_angle_min``: more = "the knees stay straighter", less = "the knees bend more".
    ``min_effect`` is the smallest difference that matters in practice (absolute, or a fraction
    of the larger value when ``relative``). ``family`` groups metrics that say the same thing
    (sided variants, ...), so open mode proposes one per family. ``side`` marks left/right
    variants and ``proposable`` whether open mode may propose it at all. ``space`` says what
    the value is read on (see :mod:`viddiff.tools.kinematics_signals`): ``3d`` the world
    landmarks, ``3d_vertical`` the world landmarks against the estimated vertical, ``image``
    the 2-D keypoints, ``time`` the timestamps; the description ends with a sentence saying so.
    """

    name: str
    unit: str
    kind: Kind
    label: str
    description: str
    more: str
    less: str
    min_effect: float
    family: str
    compute: Computer
    relative: bool = False
    num_frames: Literal["1", "gt_1"] = "1"
    side: Literal["left", "right"] | None = None
    proposable: bool = True
    lateral: bool = False
    space: Space = "image"

    @property
    def needs_sides(self) -> bool:
        """Whether the value depends on which side is the person's left (not just |L - R|)."""
        return self.side is not None or self.lateral

    def threshold(self, uncertainty: float, va: float, vb: float) -> float:
        effect = self.min_effect * max(abs(va), abs(vb)) if self.relative else self.min_effect
        return max(K_SIGMA * uncertainty, effect)


METRICS: dict[str, MetricSpec] = {}


def _register(spec: MetricSpec) -> None:
    if spec.name in METRICS:  # pragma: no cover - registry bug
        raise ValueError(f"metric {spec.name!r} registered twice")
    METRICS[spec.name] = spec


def _signal_metric(signal: Callable[[PoseSequence, ClipContext], Signal], agg: Aggregate,
                   kind: Kind) -> Computer:
    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        x, w = signal(pose, ctx)
        sigma = frame_noise(x, w)
        sigma = _DEFAULT_NOISE[kind] if sigma is None else sigma
        sigma = max(sigma, _NOISE_FLOOR[kind])
        value, unc, n = _aggregate(x, w, _segment_slice(pose, segment), agg, sigma)
        if value is not None and kind in ("length", "speed"):
            unc = math.hypot(unc, value * ctx.scale_rel_unc)
        return MetricValue(value, unc, n, _UNIT[kind])

    return compute


_UNIT: dict[str, str] = {"angle": "deg", "length": "TL", "ratio": "ratio", "time": "s",
                         "speed": "TL/s"}
_MIN_EFFECT: dict[str, float] = {"angle": 5.0, "length": 0.1, "ratio": 0.1, "time": 0.1,
                                 "speed": 0.1}


#: The sentence each description ends with, saying what the value is read on (LLMs choosing a
#: metric and people reading the report should know which values the camera angle can sway).
_SPACE_NOTE: dict[str, str] = {
    "3d": "Read on the 3-D pose (little view dependence; 2-D image if the clip has none).",
    "3d_vertical": "Read on the 3-D pose against the vertical estimated from standing frames "
                   "(else the camera's; 2-D image if the clip has no 3-D pose).",
    "image": "Read in the image (2-D), so it depends on the viewpoint.",
    "time": "",
}


def _described(description: str, space: Space) -> str:
    note = _SPACE_NOTE[space]
    return f"{description} {note}" if note else description


def _add(name: str, signal: Callable[[PoseSequence, ClipContext], Signal], agg: Aggregate,
         kind: Kind, label: str, description: str, more: str, less: str, family: str,
         side: Literal["left", "right"] | None = None, num_frames: Literal["1", "gt_1"] = "1",
         min_effect: float | None = None, relative: bool = False,
         proposable: bool = True, vertical: bool = False) -> None:
    """Register a signal metric; angles are read in 3-D (``vertical``: against the estimated
    vertical), everything else in the image."""
    space: Space = ("3d_vertical" if vertical else "3d") if kind == "angle" else "image"
    _register(MetricSpec(
        name=name, unit=_UNIT[kind], kind=kind, label=label,
        description=_described(description, space), more=more, less=less, family=family,
        compute=_signal_metric(signal, agg, kind),
        min_effect=_MIN_EFFECT[kind] if min_effect is None else min_effect, relative=relative,
        num_frames=num_frames, side=side, proposable=proposable, space=space))


def _add_bilateral(name: str, fn: SideFn, how: str, agg: Aggregate, kind: Kind, label: str,
                   description: str, more: str, less: str, family: str, sided: bool = True,
                   num_frames: Literal["1", "gt_1"] = "1", vertical: bool = False) -> None:
    """Register the two-sided metric and, when ``sided``, its ``_left``/``_right`` variants."""
    _add(name, bilateral(fn, how), agg, kind, label, description, more, less, family,
         num_frames=num_frames, vertical=vertical)
    if not sided:
        return
    sides: tuple[Literal["left", "right"], ...] = ("left", "right")
    for side in sides:
        _add(f"{name}_{side}", one_side(fn, side), agg, kind, f"{side} {label}",
             f"{description} Only the {side} side.", f"{more} on the {side} side",
             f"{less} on the {side} side", family, side=side, num_frames=num_frames,
             vertical=vertical)


def _build_registry() -> None:
    knee = joint_angle("hip", "knee", "ankle")
    hip = joint_angle("shoulder", "hip", "knee")
    elbow = joint_angle("shoulder", "elbow", "wrist")
    shoulder = joint_angle("hip", "shoulder", "elbow")
    mean_note = "Per frame, the mean of the sides that are visible."

    _add_bilateral(
        "knee_angle_min", knee, "mean", "min", "angle", "knee angle at its most bent",
        f"Smallest interior knee angle (hip-knee-ankle; 180° = straight). {mean_note}",
        "the knees stay straighter", "the knees bend more", "knee_bend")
    _add_bilateral(
        "knee_angle_max", knee, "mean", "max", "angle", "knee angle at its straightest",
        f"Largest interior knee angle (180° = locked straight). {mean_note}",
        "the legs straighten more", "the legs stay more bent", "knee_extension", sided=False)
    _add_bilateral(
        "hip_angle_min", hip, "mean", "min", "angle", "hip angle at its most flexed",
        f"Smallest shoulder-hip-knee angle (180° = upright, smaller = hip hinge). {mean_note}",
        "the hips flex less", "the hips flex more", "hip_flexion")
    _add_bilateral(
        "hip_angle_max", hip, "mean", "max", "angle", "hip angle at its most extended",
        f"Largest shoulder-hip-knee angle: a lockout reaches about 180°. {mean_note}",
        "the hips extend more (fuller lockout)", "the hips stay more flexed", "hip_extension",
        sided=False)
    _add_bilateral(
        "elbow_angle_max", elbow, "mean", "max", "angle", "elbow angle at full extension",
        f"Largest shoulder-elbow-wrist angle (180° = arm straight). {mean_note}",
        "the arms extend more", "the arms stay more bent", "arm_extension")
    _add_bilateral(
        "elbow_angle_min", elbow, "mean", "min", "angle", "elbow angle at its most bent",
        f"Smallest shoulder-elbow-wrist angle. {mean_note}",
        "the elbows bend less", "the elbows bend more", "elbow_flexion", sided=False)
    _add_bilateral(
        "shoulder_angle_max", shoulder, "mean", "max", "angle", "arm elevation",
        f"Largest hip-shoulder-elbow angle: 0° arm down by the side, 90° level, 180° "
        f"overhead. {mean_note}",
        "the arms are raised higher", "the arms are raised less", "arm_raise")
    _add_bilateral(
        "upper_arm_tilt_mean", upper_arm_tilt, "mean", "mean", "angle",
        "upper-arm tilt from horizontal",
        f"Mean angle of the upper arm (shoulder to elbow) from horizontal; 0° = parallel to "
        f"the ground. {mean_note}",
        "the upper arms are tilted further from horizontal",
        "the upper arms are closer to parallel with the ground", "upper_arm_level", sided=False,
        vertical=True)
    _add_bilateral(
        "thigh_angle_max", thigh_angle, "min", "max", "angle", "squat depth (thigh angle)",
        "Largest thigh angle from vertical (hip to knee; 0° standing, 90° thigh parallel to "
        "the ground), per frame the LESS raised thigh, so a one-leg knee raise does not count "
        "as squat depth.",
        "the squat is deeper", "the squat is shallower", "squat_depth", sided=False,
        vertical=True)
    _add_bilateral(
        "knee_raise_angle_max", thigh_angle, "max", "max", "angle", "knee raise (thigh angle)",
        "Largest thigh angle from vertical of the MORE raised thigh (90° = thigh level).",
        "the knee is raised higher", "the knee is raised less", "knee_raise", vertical=True)
    _register(MetricSpec(
        name="knee_raise_left_minus_right", unit="deg", kind="angle",
        label="left minus right knee raise",
        description=_described("Highest left thigh angle minus highest right thigh angle: "
                               "positive when the left knee is raised more.", "3d_vertical"),
        more="the left knee is raised more than the right",
        less="the right knee is raised more than the left", min_effect=10.0,
        family="knee_raise_side", compute=_difference_metric("knee_raise_angle_max"),
        lateral=True, space="3d_vertical"))
    _add("trunk_lean_max", trunk_lean, "max", "angle", "trunk lean",
         "Largest angle of the trunk (hip midpoint to shoulder midpoint) from vertical.",
         "the upper body leans further", "the upper body stays more upright", "trunk_lean",
         vertical=True)
    _add("head_tilt_mean", head_tilt, "mean", "angle", "head tilt",
         "Mean angle of the neck line (shoulder midpoint to ear midpoint) from vertical.",
         "the head tilts more", "the head stays more vertical", "head_tilt", num_frames="gt_1",
         vertical=True)
    for joint, fn in (("knee", knee), ("hip", hip), ("elbow", elbow), ("shoulder", shoulder)):
        _add_bilateral(
            f"range_of_motion_{joint}", fn, "mean", "range", "angle",
            f"{joint} range of motion",
            f"Largest minus smallest {joint} angle over the stage. {mean_note}",
            f"the {joint}s move through a larger range", f"the {joint}s move through a smaller "
            "range", f"rom_{joint}", sided=False, num_frames="gt_1")
        _add_bilateral(
            f"left_right_asymmetry_{joint}", fn, "absdiff", "mean", "angle",
            f"left/right {joint} asymmetry",
            f"Mean absolute difference between the left and right {joint} angle.",
            f"the left and right {joint}s differ more", f"the left and right {joint}s move more "
            "alike", f"asym_{joint}", sided=False)
    _add("range_of_motion_trunk", trunk_lean, "range", "angle", "trunk sway",
         "Largest minus smallest trunk lean over the stage.",
         "the upper body sways more", "the upper body stays steadier", "rom_trunk",
         num_frames="gt_1", vertical=True)

    _add("stance_width", stance_width, "median", "length", "stance width",
         "Median horizontal distance between the ankles, in torso lengths.",
         "the feet stance is wider", "the feet stance is narrower", "stance")
    _add("stance_width_max", stance_width, "max", "length", "widest step",
         "Largest horizontal distance between the ankles, in torso lengths.",
         "the feet step out wider", "the feet step out less", "stance_step")
    _add("hip_depth", hip_height, "min", "length", "lowest hip height",
         "Lowest height of the hip midpoint above the standing ankle, in torso lengths "
         "(smaller = deeper).",
         "the hips stay higher", "the hips drop lower (deeper)", "hip_depth")
    _add_bilateral(
        "hand_height_max", height_above_hips("wrist"), "max", "max", "length",
        "highest hand position",
        "Highest wrist height above the hip midpoint, in torso lengths (1 ≈ shoulder level).",
        "the hands reach higher", "the hands stay lower", "hand_high")
    _add_bilateral(
        "hand_height_mean", height_above_hips("wrist"), "mean", "mean", "length",
        "hand height on the body",
        "Mean wrist height above the hip midpoint, in torso lengths.",
        "the hands are held higher on the body", "the hands are held lower on the body",
        "hand_pos", sided=False)
    _add_bilateral(
        "hand_floor_height_min", wrist_above_floor, "min", "min", "length",
        "lowest hand position",
        "Lowest wrist height above the standing ankle, in torso lengths.",
        "the hands stay higher", "the hands go lower", "hand_low", sided=False)
    _add_bilateral(
        "range_of_motion_hand", height_above_hips("wrist"), "mean", "range", "length",
        "vertical hand travel",
        "Largest minus smallest wrist height (mean of both hands), in torso lengths.",
        "the hands travel through a larger range", "the hands travel through a smaller range",
        "rom_hand", sided=False, num_frames="gt_1")
    _add_bilateral(
        "knee_height_max", height_above_hips("knee"), "max", "max", "length",
        "highest knee position",
        "Highest knee height relative to the hip midpoint, in torso lengths (0 = hip level).",
        "the knee is lifted higher", "the knee is lifted less", "knee_high")
    _add("hip_sway", hip_offset, "range", "length", "side-to-side hip travel",
         "Range of the hip midpoint's horizontal position relative to the feet, torso lengths.",
         "the hips travel further", "the hips travel less", "hip_sway", num_frames="gt_1")
    _add("knee_width_ratio_min", knee_width_ratio, "min", "ratio", "knee-to-ankle width ratio",
         "Smallest ratio of knee separation to ankle separation (horizontal): below 1 the knees "
         "are inside the feet (caving in).",
         "the knees track further out", "the knees cave in more", "knee_valgus")
    _add("jump_height_proxy", foot_lift, "max", "length", "jump height",
         "Highest lift of the LOWER foot above the local floor (both feet in the air; floor = "
         f"lowest foot position within {JUMP_WINDOW_S:g} s before and after), in torso lengths; "
         "about 0 without a jump.",
         "the jump is higher", "the jump is lower", "jump", num_frames="gt_1")

    for part, label in ((None, "mean body speed"), ("wrist", "mean hand speed"),
                        ("ankle", "mean foot speed"), ("hip", "mean hip speed")):
        suffix = "" if part is None else f"_{part}"
        what = "limb landmarks" if part is None else f"{part}s"
        _add(f"mean_speed{suffix}", speed(part), "mean", "speed", label,
             f"Mean speed of the {what} in torso lengths per second (timing metrics do not "
             "depend on the view; this does).",
             "the body moves faster" if part is None else f"the {part}s move faster",
             "the body moves slower" if part is None else f"the {part}s move slower",
             f"speed{suffix}", num_frames="gt_1", min_effect=0.15, relative=True,
             proposable=False)
    for part in ("wrist", "ankle"):
        _add(f"peak_speed_{part}", speed(part), "max", "speed", f"peak {part} speed",
             f"Highest speed of the {part}s in torso lengths per second.",
             f"the {part}s reach a higher top speed", f"the {part}s stay slower",
             f"peak_speed_{part}", num_frames="gt_1", min_effect=0.15, relative=True,
             proposable=False)
    _register(MetricSpec(
        name="stage_duration", unit="s", kind="time", label="duration",
        description="Time from the first to the last frame of the stage (or clip), in seconds; "
                    f"each boundary is taken as uncertain by {BOUNDARY_UNCERTAINTY_S} s or one "
                    "frame, whichever is larger.",
        more="it takes longer", less="it is quicker", min_effect=0.15, relative=True,
        family="duration", compute=_stage_duration, num_frames="gt_1", space="time"))
    _register(MetricSpec(
        name="motion_duration", unit="s", kind="time", label="movement time",
        description="Time to cover the middle 80% (10% to 90%) of the body's accumulated path "
                    "(limb landmarks, torso-normalised); independent of the movement's size and "
                    "largely of the view, so it compares tempo fairly.",
        more="the motion is slower", less="the motion is faster", min_effect=0.1,
        relative=True, family="tempo", compute=_motion_duration, num_frames="gt_1",
        space="time"))
    _register(MetricSpec(
        name="longest_pause", unit="s", kind="time", label="longest pause",
        description="Longest run of frames whose body speed stays below 15% of the clip's "
                    "90th-percentile speed, in seconds.",
        more="there is a longer pause", less="there is less pausing", min_effect=0.2,
        family="pause", compute=_longest_pause, num_frames="gt_1", space="time"))


def _difference_metric(base: str) -> Computer:
    """``<base>_left - <base>_right`` with the two uncertainties combined."""

    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        left = METRICS[f"{base}_left"].compute(pose, ctx, segment)
        right = METRICS[f"{base}_right"].compute(pose, ctx, segment)
        if left.value is None or right.value is None:
            return MetricValue(None, 0.0, 0, left.unit)
        return MetricValue(left.value - right.value, math.hypot(left.uncertainty,
                           right.uncertainty), min(left.n_frames, right.n_frames), left.unit)

    return compute


def _stage_duration(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    sl = _segment_slice(pose, segment)
    n = sl.stop - sl.start
    if n <= 0:
        return MetricValue(None, 0.0, 0, "s")
    dt = ctx.frame_period
    ts = pose.timestamps
    duration = float(ts[sl.stop - 1] - ts[sl.start]) + dt
    if segment is None:  # the clip's own ends: only frame quantisation
        return MetricValue(duration, dt, n, "s")
    boundary = max(BOUNDARY_UNCERTAINTY_S, dt)
    return MetricValue(duration, math.sqrt(2) * boundary, n, "s")


def _path_steps(pose: PoseSequence, ctx: ClipContext) -> np.ndarray:
    """(T,) torso-normalised distance the limb landmarks moved since the previous frame
    (mean over landmarks seen in both frames; 0 at the first frame or when unknown)."""
    steps = np.zeros(pose.n_frames)
    if pose.n_frames < 2 or ctx.scale is None:
        return steps
    pos = joint_positions(pose, limb_landmarks(None)) / ctx.scale
    d = np.linalg.norm(np.diff(pos, axis=0), axis=2)
    ok = np.isfinite(d).sum(axis=1) >= 3
    with np.errstate(invalid="ignore"):
        mean = np.where(ok, np.nanmean(np.where(np.isfinite(d), d, np.nan), axis=1), 0.0)
    steps[1:] = np.nan_to_num(mean)
    return steps


def _motion_duration(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    sl = _segment_slice(pose, segment)
    steps = _path_steps(pose, ctx)
    seg_steps = steps[sl.start + 1:sl.stop]  # movement between frames of the segment
    n = sl.stop - sl.start
    if n < 3 or seg_steps.sum() <= 0:
        return MetricValue(None, 0.0, n, "s")
    # jitter moves landmarks even when the body is still; remove that floor so still frames
    # do not stretch the movement time
    floor = _jitter_step(pose, ctx)
    excess = np.maximum(seg_steps - floor, 0.0)
    if excess.sum() <= 0:
        return MetricValue(None, 0.0, n, "s")
    cum = np.concatenate([[0.0], np.cumsum(excess)]) / excess.sum()
    ts = pose.timestamps[sl]
    t10 = float(np.interp(0.1, cum, ts))
    t90 = float(np.interp(0.9, cum, ts))
    return MetricValue(t90 - t10, ctx.frame_period, n, "s")


def _jitter_step(pose: PoseSequence, ctx: ClipContext) -> float:
    """Mean step length that pose jitter alone produces between two frames (torso lengths).

    The robust per-coordinate noise ``sigma`` of the limb landmarks (median over landmarks and
    axes); the distance between two independent noisy 2-D points is Rayleigh distributed with
    mean ``sigma * sqrt(pi)``.
    """
    if ctx.scale is None or pose.n_frames < 5:
        return 0.0
    pos = joint_positions(pose, limb_landmarks(None)) / ctx.scale
    ones = np.ones(pose.n_frames)
    sig = [s for j in range(pos.shape[1]) for c in range(2)
           if (s := frame_noise(pos[:, j, c], ones)) is not None]
    if not sig:
        return 0.0
    return float(np.median(sig)) * math.sqrt(math.pi)


def _longest_pause(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    speed, _ = speed_signal(pose, ctx, limb_landmarks(None))
    ok = np.isfinite(speed)
    sl = _segment_slice(pose, segment)
    n = int(ok[sl].sum())
    if ok.sum() < 3 or n == 0:
        return MetricValue(None, 0.0, n, "s")
    threshold = 0.15 * float(np.percentile(speed[ok], 90))
    still = ok[sl] & (speed[sl] < threshold)
    best = run = 0
    for s in still:
        run = run + 1 if s else 0
        best = max(best, run)
    dt = ctx.frame_period
    return MetricValue(best * dt, dt, n, "s")


_build_registry()


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def list_metrics() -> list[str]:
    """Names of all registered metrics."""
    return list(METRICS)


def get_metric(name: str) -> MetricSpec:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None


def measure(name: str, pose: PoseSequence, segment: Segment | None = None,
            context: ClipContext | None = None) -> MetricValue:
    """Value of metric ``name`` on ``pose`` over ``segment`` (whole clip when None)."""
    spec = get_metric(name)
    return spec.compute(pose, context or ClipContext.of(pose), segment)


def format_value(value: float | None, unit: str) -> str:
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
    threshold = spec.threshold(unc, va.value, vb.value)
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
