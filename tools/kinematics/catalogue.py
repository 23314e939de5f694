"""Every metric the kinematic engine knows: its signal, aggregate, unit, words and family.

To add a metric, register it here with :func:`~viddiff.tools.kinematics.registry.add` (a signal
reduced by an aggregate), :func:`~viddiff.tools.kinematics.registry.add_bilateral` (a per-side
signal, with optional ``_left``/``_right`` variants) or
:func:`~viddiff.tools.kinematics.registry.register` (any other computer, e.g. a timing rule from
:mod:`viddiff.tools.kinematics.timing`). Arguments are passed by keyword so that each
definition reads on its own. Its ``more``/``less`` phrases complete "... in A"; its ``family``
groups metrics that say the same thing, so open mode proposes one per family.

This module is imported by the registry on the first read of ``METRICS`` (see
:mod:`viddiff.tools.kinematics.registry`); nothing else needs to import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from viddiff.tools.kinematics.movement import movement_span, rep_count
from viddiff.tools.kinematics.registry import (
    Computer,
    MetricSpec,
    _signal_metric,
    add,
    add_bilateral,
    described,
    difference_metric,
    register,
)
from viddiff.tools.kinematics.rep_events import REST_WINDOW_S, at_events, phase_time
from viddiff.tools.kinematics.results import Aggregate, Kind, MetricValue, Space
from viddiff.tools.kinematics.signals import (
    JUMP_WINDOW_S,
    ClipContext,
    SideFn,
    Signal,
    arm_elevation,
    bilateral,
    foot_lift,
    foot_turn_out,
    frontal_view,
    head_forward,
    head_tilt,
    heel_lift,
    height_above_hips,
    hip_height,
    hip_line_offset,
    hip_offset,
    hip_shift,
    joint_angle,
    knee_inward,
    knee_width_ratio,
    one_side,
    positive_part,
    segment_slice,
    shoulder_above_wrist,
    speed,
    stance_width,
    thigh_angle,
    trunk_lean,
    upper_arm_tilt,
    wrist_above_floor,
    wrist_height,
)
from viddiff.tools.kinematics.timing import longest_pause, motion_duration, stage_duration
from viddiff.tools.kinematics.uncertainty import (
    BOUNDARY_UNCERTAINTY_S,
    DEFAULT_NOISE,
    MAX_HALF_SPAN_RATIO,
    MIN_WINDOW,
    NOISE_FLOOR,
    frame_noise,
    window_frames,
)
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.segments import Segment

_UNITS: dict[str, str] = {"angle": "deg", "length": "TL", "ratio": "ratio", "time": "s",
                          "speed": "TL/s"}


def _frontal_only(compute: Computer, unit: str) -> Computer:
    """``compute`` on front or back views only; elsewhere no value, with the reason."""

    def gated(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        ok, why = frontal_view(pose)
        if not ok:
            return MetricValue(None, 0.0, 0, unit, note=why)
        return compute(pose, ctx, segment)

    return gated


def _frontal_if_3d(compute: Computer, unit: str) -> Computer:
    """Like :func:`_frontal_only` on clips with a 3-D pose (which tells the view); on 2-D-only
    clips the signal's own check applies."""
    gated_compute = _frontal_only(compute, unit)

    def gated(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        return (gated_compute if pose.has_world else compute)(pose, ctx, segment)

    return gated


def _needs_world(compute: Computer, unit: str) -> Computer:
    """``compute`` on clips with a 3-D pose only; elsewhere no value, with the reason."""

    def gated(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        if not ctx.world:
            return MetricValue(None, 0.0, 0, unit,
                               note="needs the 3-D pose, which this clip does not have")
        return compute(pose, ctx, segment)

    return gated


def _peak_row(peak: np.ndarray, ok: np.ndarray, sl: slice) -> int | None:
    """The row of ``sl`` where ``peak`` is highest among the ``ok`` rows, after a 3-frame
    running median (a one-frame glitch cannot pick the frame); None when no row is ok."""
    if not ok[sl].any():
        return None
    smooth = peak.copy()
    for i in range(1, len(peak) - 1):
        window = peak[i - 1: i + 2]
        if np.isfinite(window).all():
            smooth[i] = float(np.median(window))
    seg = np.where(ok[sl], smooth[sl], -np.inf)
    return sl.start + int(np.argmax(seg))


def _peak_sampling_spread(x: np.ndarray, peak: np.ndarray, ok: np.ndarray, sl: slice,
                          value: float, frame_period: float) -> float:
    """How much a value read at another signal's peak depends on which frames were sampled:
    half the spread of the reading on every frame and on every other frame (both phases), as
    :func:`~viddiff.tools.kinematics.uncertainty.sampling_spread` does for an extreme. A
    denser pose rate offers the peak more frames to land on, and the value there is one raw
    frame's; a reading that moves when every other frame is left out is not known better than
    that move, whatever the rate it was read at. Only where the halves' 3-frame median spans
    about the time of the whole's (:data:`MAX_HALF_SPAN_RATIO` of a fit's window: from about
    30 frames/s up), as there."""
    span, half_span = (window_frames(p) * p for p in (frame_period, 2 * frame_period))
    if half_span > MAX_HALF_SPAN_RATIO * span or sl.stop - sl.start < 4 * MIN_WINDOW:
        return 0.0
    out = [value]
    for phase in (0, 1):  # row r of the series is row (r - phase) / 2 of a phase
        half = slice((sl.start - phase + 1) // 2, (sl.stop - phase + 1) // 2)
        i = _peak_row(peak[phase::2], ok[phase::2], half)
        if i is not None:
            out.append(float(x[phase::2][i]))
    return (max(out) - min(out)) / 2


def _at_peak(value_of: Callable[[PoseSequence, ClipContext], Signal],
             peak_of: Callable[[PoseSequence, ClipContext], Signal]) -> Computer:
    """``value_of`` read at the frame where ``peak_of`` is highest within the segment
    (:func:`_peak_row`); the uncertainty is the value signal's per-frame noise, plus half its
    change to the neighbouring frames (the peak could as well be one frame earlier or later),
    plus how much the reading depends on the pose rate (:func:`_peak_sampling_spread`)."""

    def compute(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
        x, w = value_of(pose, ctx)
        peak, _ = peak_of(pose, ctx)
        sl = segment_slice(pose, segment)
        both = np.isfinite(x) & np.isfinite(peak)
        i = _peak_row(peak, both, sl)
        if i is None:
            return MetricValue(None, 0.0, 0, "deg")
        sigma = frame_noise(x, w, ctx.frame_period)
        sigma = max(DEFAULT_NOISE["angle"] if sigma is None else sigma, NOISE_FLOOR["angle"])
        near = [abs(float(x[j]) - float(x[i])) for j in (i - 1, i + 1)
                if 0 <= j < len(x) and np.isfinite(x[j])]
        spread = _peak_sampling_spread(x, peak, both, sl, float(x[i]), ctx.frame_period)
        unc = math.hypot(sigma, 0.5 * max(near, default=0.0), spread)
        return MetricValue(float(x[i]), unc, int(both[sl].sum()), "deg", rows=(i,))

    return compute


def _add_gated(*, name: str, signal: Callable[[PoseSequence, ClipContext], Signal],
               agg: Aggregate, kind: Kind, gate: Callable[[Computer, str], Computer],
               space: Space, label: str, description: str, more: str, less: str, family: str,
               side: Literal["left", "right"] | None = None, lateral: bool = False,
               num_frames: Literal["1", "gt_1"] = "1", min_effect: float,
               phrases: tuple[str, ...] = (), proposable: bool = True) -> None:
    """Register a signal metric that is measurable only where ``gate`` allows it."""
    unit = _UNITS[kind]
    register(MetricSpec(
        name=name, unit=unit, kind=kind, label=label,
        description=described(description, space), more=more, less=less, family=family,
        compute=gate(_signal_metric(signal, agg, kind), unit), min_effect=min_effect,
        side=side, lateral=lateral, num_frames=num_frames, space=space, phrases=phrases,
        proposable=proposable))


def _add_gated_sided(*, name: str, signal: SideFn, combine: str, agg: Aggregate, kind: Kind,
                     gate: Callable[[Computer, str], Computer], space: Space, label: str,
                     description: str, more: str, less: str, family: str,
                     min_effect: float, phrases: tuple[str, ...] = ()) -> None:
    """:func:`_add_gated` for a per-side signal: both sides combined, then each side."""
    _add_gated(name=name, signal=bilateral(signal, combine), agg=agg, kind=kind, gate=gate,
               space=space, label=label, description=description, more=more, less=less,
               family=family, min_effect=min_effect, phrases=phrases)
    sides: tuple[Literal["left", "right"], ...] = ("left", "right")
    for side in sides:
        _add_gated(name=f"{name}_{side}", signal=one_side(signal, side), agg=agg, kind=kind,
                   gate=gate, space=space, label=f"{side} {label}",
                   description=f"{description} Only the {side} side.",
                   more=f"{more} on the {side} side", less=f"{less} on the {side} side",
                   family=family, side=side, min_effect=min_effect, phrases=phrases)


#: How people name each speed (``MetricSpec.phrases``), by body part (None: the whole body).
_SPEED_PHRASES: dict[str | None, tuple[str, ...]] = {
    None: ("body move fast", "move fast", "-body still", "fidget"),
    "wrist": ("arm fast", "hand fast"),
    "ankle": ("foot move fast", "footwork fast"), "hip": ("hip fast",)}
_PEAK_SPEED_PHRASES: dict[str, tuple[str, ...]] = {
    "wrist": ("hand fast release", "hand snap", "hand top speed high", "hand fast peak",
              "arm fast peak", "throw hard", "punch hard"),
    "ankle": ("foot out fast", "foot fast jump", "foot top speed high", "ankle top speed high",
              "foot fast peak", "leg fast peak", "kick fast", "kick hard", "strike hard",
              "kick leg fast")}


def _ungated(compute: Computer, unit: str) -> Computer:
    return compute


def _build_registry() -> None:
    """Register every metric (in a function so that its shorthands stay local)."""
    knee = joint_angle("hip", "knee", "ankle")
    hip = joint_angle("shoulder", "hip", "knee")
    elbow = joint_angle("shoulder", "elbow", "wrist")
    shoulder = joint_angle("hip", "shoulder", "elbow")
    mean_note = "Per frame, the mean of the sides that are visible."

    add_bilateral(
        name="knee_angle_min", signal=knee, combine="mean", agg="min", kind="angle",
        label="knee angle at its most bent",
        description=f"Smallest interior knee angle (hip-knee-ankle; 180° = straight). {mean_note}",
        more="the knees stay straighter", less="the knees bend more",
        phrases=("knee straight", "leg straight", "knee angle straight", "-knee bent deep"),
        family="knee_bend")
    add_bilateral(
        name="knee_angle_max", signal=knee, combine="mean", agg="max", kind="angle",
        label="knee angle at its straightest",
        description=f"Largest interior knee angle (180° = locked straight). {mean_note}",
        more="the legs straighten more", less="the legs stay more bent",
        phrases=("kick leg straight", "knee straight stand", "leg straight stand",
                 "stand knee straight", "stand leg straight", "leg extend", "knee extend",
                 "leg straight extend", "knee straight extend"),
        family="knee_extension", sided=False)
    add_bilateral(
        name="hip_angle_min", signal=hip, combine="mean", agg="min", kind="angle",
        label="hip angle at its most flexed",
        description="Smallest shoulder-hip-knee angle (180° = upright, smaller = hip hinge). "
                    f"{mean_note}",
        more="the hips flex less", less="the hips flex more",
        phrases=("hip straight", "angle chest thigh wide", "-hip bent deep"),
        family="hip_flexion")
    add_bilateral(
        name="hip_angle_max", signal=hip, combine="mean", agg="max", kind="angle",
        label="hip angle at its most extended",
        description=f"Largest shoulder-hip-knee angle: a lockout reaches about 180°. {mean_note}",
        more="the hips extend more (fuller lockout)", less="the hips stay more flexed",
        phrases=("hip straight top", "finish hip top", "finish straight", "full hip extension",
                 "deadlift straight top", "hip extend", "hip open extend"),
        family="hip_extension", sided=False)
    add_bilateral(
        name="elbow_angle_max", signal=elbow, combine="mean", agg="max", kind="angle",
        label="elbow angle at full extension",
        description=f"Largest shoulder-elbow-wrist angle (180° = arm straight). {mean_note}",
        more="the arms extend more", less="the arms stay more bent",
        phrases=("elbow straight top", "arm straight top", "arm fully straight",
                 "arm straight overhead", "elbow straight overhead", "arm straight reach",
                 "arm straight layup", "plank arm straight", "plank elbow straight",
                 "follow through", "arm extend", "elbow extend", "arm straight extend",
                 "elbow straight extend", "arm straight", "elbow straight"),
        family="arm_extension")
    add_bilateral(
        name="elbow_angle_min", signal=elbow, combine="mean", agg="min", kind="angle",
        label="elbow angle at its most bent",
        description=f"Smallest shoulder-elbow-wrist angle. {mean_note}",
        more="the elbows bend less", less="the elbows bend more",
        phrases=("elbow straight flexverb", "arm straight flexverb", "elbow straight bottom",
                 "arm straight bottom", "-curl high", "curl elbow straight"),
        family="elbow_flexion", sided=False)
    add_bilateral(
        name="shoulder_angle_max", signal=shoulder, combine="mean", agg="max", kind="angle",
        label="arm elevation",
        description="Largest hip-shoulder-elbow angle: 0° arm down by the side, 90° level, 180° "
                    f"overhead. {mean_note}",
        more="the arms are raised higher", less="the arms are raised less",
        phrases=("arm high", "arm overhead", "hand clap above head", "-arm shoulder level"),
        family="arm_raise")
    add_bilateral(
        name="upper_arm_tilt_mean", signal=upper_arm_tilt, combine="mean", agg="mean",
        kind="angle",
        label="upper-arm tilt from horizontal",
        description="Mean angle of the upper arm (shoulder to elbow) from horizontal; 0° = "
                    f"parallel to the ground. {mean_note}",
        more="the upper arms are tilted further from horizontal",
        less="the upper arms are closer to parallel with the ground",
        phrases=("-upper arm horizontal", "upper arm slope", "-upper arm flat", "upper arm tilt",
                 "-upper arm parallel",
                 "-elbow high shoulder"),
        family="upper_arm_level", sided=False, vertical=True)
    add_bilateral(
        name="thigh_angle_max", signal=thigh_angle, combine="min", agg="max", kind="angle",
        label="squat depth (thigh angle)",
        description="Largest thigh angle from vertical (hip to knee; 0° standing, 90° thigh "
                    "parallel to the ground), per frame the LESS raised thigh, so a one-leg knee "
                    "raise does not count as squat depth.",
        more="the squat is deeper", less="the squat is shallower",
        phrases=("thigh parallel", "-thigh above parallel", "break parallel", "thigh tilt",
                 "-hip above parallel"),
        family="squat_depth", sided=False, vertical=True)
    add_bilateral(
        name="knee_raise_angle_max", signal=thigh_angle, combine="max", agg="max", kind="angle",
        label="knee raise (thigh angle)",
        description="Largest thigh angle from vertical of the MORE raised thigh (90° = thigh "
                    "level).",
        more="the knee is raised higher", less="the knee is raised less",
        phrases=("knee high", "kneeraise high", "thigh high", "knee drive"),
        family="knee_raise", vertical=True)
    register(MetricSpec(
        name="knee_raise_left_minus_right", unit="deg", kind="angle",
        label="left minus right knee raise",
        description=described("Highest left thigh angle minus highest right thigh angle: "
                               "positive when the left knee is raised more.", "3d_vertical"),
        more="the left knee is raised more than the right",
        less="the right knee is raised more than the left", min_effect=10.0,
        phrases=("knee high toleft", "kneeraise toleft"),
        family="knee_raise_side", compute=difference_metric("knee_raise_angle_max"),
        lateral=True, space="3d_vertical"))
    add(
        name="trunk_lean_max", signal=trunk_lean, agg="max", kind="angle",
        label="trunk lean",
        description="Largest angle of the trunk (hip midpoint to shoulder midpoint) from "
                    "vertical.",
        more="the upper body leans further", less="the upper body stays more upright",
        # "she stays upright", the posture (understanding.py): the trunk's upright line
        phrases=("trunk lean", "-trunk upright", "-chest high", "-chest upright", "chest forward",
                 "-posture upright"),
        family="trunk_lean", vertical=True)
    add(
        name="head_tilt_mean", signal=head_tilt, agg="mean", kind="angle",
        label="head tilt",
        description="Mean angle of the neck line (shoulder midpoint to ear midpoint) from "
                    "vertical.",
        more="the head tilts more", less="the head stays more vertical",
        phrases=("-head upright", "head tilt", "-head high"),
        family="head_tilt", num_frames="gt_1", vertical=True)
    for joint, fn, word, even in (("knee", knee, "knee", "knee"), ("hip", hip, "hip", "hip"),
                                  ("elbow", elbow, "arm", "elbow"),
                                  ("shoulder", shoulder, "shoulder", "arm")):
        add_bilateral(
            name=f"range_of_motion_{joint}", signal=fn, combine="mean", agg="range", kind="angle",
            label=f"{joint} range of motion",
            description=f"Largest minus smallest {joint} angle over the stage. {mean_note}",
            more=f"the {joint}s move through a larger range",
            less=f"the {joint}s move through a smaller range",
            family=f"rom_{joint}", sided=False, num_frames="gt_1",
            phrases=(f"{word} range big", f"{word} motion big", f"{word} travel big",
                     f"{word} move big", f"{joint} move big", f"{word} motion long",
                     f"{word} range", f"{word} travel", f"{word} range wide")
            # an arc is what a swinging limb traces: the arm's at the shoulder, not the elbow
            + ((f"{word} swing", f"{word} arc big") if joint != "elbow" else ())
            + ((f"{joint} range", f"{joint} range big", f"{joint} motion big")
               if word != joint else ())
            # the upper arm turns at the shoulder: "the shoulders barely move", "the upper arms
            # stay still"; an arm swings at the shoulder, not at the elbow
            + (("arm range shoulder", "arm shoulder big", "shoulder move", "upper arm move",
                "upper arm sway", "arm swing", "arm arc big") if joint == "shoulder" else ()))
        add_bilateral(
            name=f"left_right_asymmetry_{joint}", signal=fn, combine="absdiff", agg="mean",
            kind="angle",
            label=f"left/right {joint} asymmetry",
            description=f"Mean absolute difference between the left and right {joint} angle.",
            more=f"the left and right {joint}s differ more",
            less=f"the left and right {joint}s move more alike",
            family=f"asym_{joint}", sided=False,
            # "the elbows bend unevenly": a bend said uneven is the asymmetry, not the bend
            phrases=(f"{even} asym", f"{even} bend asym")
            + (("leg asym",) if joint == "knee" else ()))
    add(
        name="range_of_motion_trunk", signal=trunk_lean, agg="range", kind="angle",
        label="trunk sway",
        description="Largest minus smallest trunk lean over the stage.",
        more="the upper body sways more", less="the upper body stays steadier",
        phrases=("trunk angle change", "-trunk angle same", "trunk sway", "chest sway",
                 "trunk move big"),
        family="rom_trunk", num_frames="gt_1", vertical=True)

    add(
        name="stance_width", signal=stance_width, agg="median", kind="length",
        label="stance width",
        description="Median horizontal distance between the ankles, in torso lengths.",
        more="the feet stance is wider", less="the feet stance is narrower",
        phrases=("foot wide", "stance wide", "-foot closer", "leg wide"),
        family="stance")
    add(
        name="stance_width_max", signal=stance_width, agg="max", kind="length",
        label="widest step",
        description="Largest horizontal distance between the ankles, in torso lengths.",
        more="the feet step out wider", less="the feet step out less",
        phrases=("step wide", "step big", "-step inward", "foot wide peak", "leg wide peak",
                 "stance wide peak"),
        family="stance_step")
    add(
        name="hip_depth", signal=hip_height, agg="min", kind="length",
        label="lowest hip height",
        description="Lowest height of the hip midpoint above the standing ankle, in torso "
                    "lengths (smaller = deeper).",
        more="the hips stay higher at the bottom", less="the hips drop lower (deeper)",
        phrases=("hip high bottom", "hip high squat", "hip high floor", "squat high",
                 "-squat deep", "sinkdown high", "-sinkdown deep", "-deep bottom", "dip high",
                 "-countermovement deep"),
        family="hip_depth")
    add_bilateral(
        name="hand_height_max", signal=height_above_hips("wrist"), combine="max", agg="max",
        kind="length",
        label="highest hand position",
        description="Highest wrist height above the hip midpoint, in torso lengths (1 ≈ shoulder "
                    "level).",
        more="the hands reach higher", less="the hands stay lower",
        phrases=("hand high head", "hand further high", "-hand head height", "reach high",
                 "hand high peak"),
        family="hand_high")
    add_bilateral(
        name="hand_height_mean", signal=height_above_hips("wrist"), combine="mean", agg="mean",
        kind="length",
        label="hand height on the body",
        description="Mean wrist height above the hip midpoint, in torso lengths.",
        more="the hands are held higher on the body", less="the hands are held lower on the body",
        phrases=("hand high", "guard high"),
        family="hand_pos", sided=False)
    add_bilateral(
        name="hand_floor_height_min", signal=wrist_above_floor, combine="min", agg="min",
        kind="length",
        label="lowest hand position",
        description="Lowest wrist height above the standing ankle, in torso lengths.",
        more="the hands stay higher", less="the hands go lower",
        phrases=("hand high bottom", "hand high floor", "hand sinkdown high", "reach high floor"),
        family="hand_low", sided=False)
    add_bilateral(
        name="range_of_motion_hand", signal=height_above_hips("wrist"), combine="mean",
        agg="range", kind="length",
        label="vertical hand travel",
        description="Largest minus smallest wrist height (mean of both hands), in torso lengths.",
        more="the hands travel through a larger range",
        less="the hands travel through a smaller range",
        phrases=("hand travel long", "hand travel big", "hand cover height", "hand updown",
                 "hand move big"),
        family="rom_hand", sided=False, num_frames="gt_1")
    add_bilateral(
        name="knee_height_max", signal=height_above_hips("knee"), combine="max", agg="max",
        kind="length",
        label="highest knee position",
        description="Highest knee height relative to the hip midpoint, in torso lengths (0 = hip "
                    "level).",
        more="the knee is lifted higher", less="the knee is lifted less",
        phrases=("knee chest", "knee high hip"),
        family="knee_high")
    add(
        name="hip_sway", signal=hip_offset, agg="range", kind="length",
        label="side-to-side hip travel",
        description="Range of the hip midpoint's horizontal position relative to the feet, torso "
                    "lengths.",
        more="the hips travel further", less="the hips travel less",
        phrases=("hip sway", "hip circle big"),
        family="hip_sway", num_frames="gt_1")
    add(
        name="knee_width_ratio_min", signal=knee_width_ratio, agg="min", kind="ratio",
        label="knee-to-ankle width ratio",
        description="Smallest ratio of knee separation to ankle separation (horizontal): below 1 "
                    "the knees are inside the feet (caving in).",
        more="the knees track further out", less="the knees cave in more",
        phrases=("knee wide foot", "knee wide ankl", "knee wide"),
        family="knee_valgus")
    add(
        name="jump_height_proxy", signal=foot_lift, agg="max", kind="length",
        label="jump height",
        description="Highest point at which both feet are off the ground: per frame the lower "
                    "of the two ankles' lifts, each above its own local floor (that foot's "
                    f"lowest position within {JUMP_WINDOW_S:g} s before and after), in torso "
                    "lengths; about 0 without a jump, and a step is no jump.",
        more="the jump is higher", less="the jump is lower",
        phrases=("jump high", "foot high floor", "elevate jump", "more air",
                 "high floor", "jump big"),
        family="jump", num_frames="gt_1")

    _register_body_parts()
    _register_rep_events()

    for part, label in ((None, "mean body speed"), ("wrist", "mean hand speed"),
                        ("ankle", "mean foot speed"), ("hip", "mean hip speed")):
        suffix = "" if part is None else f"_{part}"
        what = "limb landmarks" if part is None else f"{part}s"
        add(
            name=f"mean_speed{suffix}", signal=speed(part), agg="mean", kind="speed",
            label=label,
            description=f"Mean speed of the {what} in torso lengths per second (timing metrics do "
                        "not depend on the view; this does).",
            more="the body moves faster" if part is None else f"the {part}s move faster",
            less="the body moves slower" if part is None else f"the {part}s move slower",
            family=f"speed{suffix}", num_frames="gt_1", min_effect=0.15, relative=True,
            proposable=False, phrases=_SPEED_PHRASES[part])
    for part in ("wrist", "ankle"):
        add(
            name=f"peak_speed_{part}", signal=speed(part), agg="max", kind="speed",
            label=f"peak {part} speed",
            description=f"Highest speed of the {part}s in torso lengths per second.",
            more=f"the {part}s reach a higher top speed", less=f"the {part}s stay slower",
            family=f"peak_speed_{part}", num_frames="gt_1", min_effect=0.15, relative=True,
            proposable=False, phrases=_PEAK_SPEED_PHRASES[part])
    register(MetricSpec(
        name="stage_duration", unit="s", kind="time", label="duration",
        description="Time from the first to the last frame of the stage (or clip), in seconds; "
                    f"each boundary is taken as uncertain by {BOUNDARY_UNCERTAINTY_S} s or one "
                    "frame, whichever is larger.",
        more="it takes longer", less="it is quicker", min_effect=0.15, relative=True,
        phrases=("plank long", "hold long", "set long", "take long", "-set fast", "balance long"),
        family="duration", compute=stage_duration, num_frames="gt_1", space="time"))
    register(MetricSpec(
        name="motion_duration", unit="s", kind="time", label="movement time",
        description="Time to cover the middle 80% (10% to 90%) of the body's accumulated path "
                    "(limb landmarks, torso-normalised); independent of the movement's size and "
                    "largely of the view, so it compares tempo fairly.",
        more="the motion is slower", less="the motion is faster", min_effect=0.1,
        relative=True, phrases=("-motion fast", "-tempo fast", "-speed motion fast", "-rep fast",
                                "motion time", "motion take long"),
        family="tempo", compute=motion_duration, num_frames="gt_1",
        space="time"))
    register(MetricSpec(
        name="movement_span", unit="s", kind="time", label="whole movement's time",
        description="Time from the first repetition's start to the last one's end, in seconds "
                    "(viddiff.tools.kinematics.movement); a still lead-in or lead-out is not "
                    "in it.",
        more="the whole sequence takes longer", less="the whole sequence is quicker",
        min_effect=0.1, relative=True, phrases=("sequence long", "-sequence fast"),
        family="tempo", compute=movement_span,
        num_frames="gt_1", space="time"))
    register(MetricSpec(
        name="longest_pause", unit="s", kind="time", label="longest pause",
        description="Longest run of frames whose body speed stays below 15% of the clip's "
                    "90th-percentile speed, in seconds.",
        more="there is a longer pause", less="there is less pausing", min_effect=0.2,
        phrases=("pause", "pause long", "hold bottom", "-bounce", "-touch bottom",
                 "more time bottom", "bottom long"),
        family="pause", compute=longest_pause, num_frames="gt_1", space="time"))
    register(MetricSpec(
        name="rep_count", unit="reps", kind="count", label="number of repetitions",
        description="How many complete repetitions the clip shows: excursions of the "
                    "movement's main signal away from rest and back "
                    "(viddiff.tools.kinematics.movement).",
        more="there are more repetitions", less="there are fewer repetitions", min_effect=1.0,
        phrases=("number rep high", "rep count high", "more rep", "more pushup", "more squat",
                 "more lunge", "more jack"),
        family="reps", compute=rep_count, num_frames="gt_1", space="time"))


def _register_body_parts() -> None:
    """Feet, knees seen from the front, pelvis, head and arm at the top (signals.py says what
    each reads and where it fails)."""
    _add_gated_sided(
        name="heel_lift_max", signal=heel_lift, combine="max", agg="max", kind="ratio",
        gate=_ungated, space="3d_vertical",
        label="heel lift",
        description="Highest rise of the heel above its standing (foot-flat) level relative to "
                    "the toes, in foot lengths (0 = flat; per frame the higher heel).",
        more="the heels lift more off the ground", less="the heels stay down more",
        # a fifth of the foot (about 5 cm): MediaPipe's heel and toe points are small, and on
        # the validation set's 60%-scaled copy of a clip (the same take, smaller in the frame)
        # the heel read 0.13 foot lengths higher with no change in the movement
        phrases=("heel high", "toe high", "shift toe", "-heel planted", "-heel flat",
                 "-foot flat", "-whole foot ground", "weight toe", "-whole foot planted"),
        family="heel_lift", min_effect=0.2)
    _add_gated_sided(
        name="knee_valgus_max", signal=knee_inward, combine="max", agg="max", kind="length",
        gate=_frontal_only, space="image",
        label="knee cave-in (valgus)",
        description="Largest inward offset of the knee from the straight hip-ankle line, in "
                    "torso lengths (+ inside = valgus, - outside = varus; per frame the more "
                    "inward knee). Front or back views only: elsewhere not measurable.",
        more="the knees cave inward more", less="the knees track further out",
        phrases=("knee inward", "knee cave", "knee collapse", "knee buckle", "knee valgus",
                 "knee knock", "-knee align"),
        family="knee_valgus_line", min_effect=0.05)
    _add_gated_sided(
        name="foot_turn_out", signal=foot_turn_out, combine="mean", agg="median", kind="angle",
        gate=_needs_world, space="3d_vertical",
        label="foot turn-out",
        description="Median angle of the foot (heel to toe) from straight ahead in the ground "
                    "plane, in degrees (+ toes out, - toes in; per frame the mean of both feet).",
        more="the feet are turned out more", less="the feet point more straight ahead",
        phrases=("foot turn out", "toe turn out", "toe point out", "foot flare", "toe flare",
                 "duck", "-foot point straight", "-foot point forward", "-foot parallel",
                 "toe angle out", "foot angle out"),
        family="foot_turn_out", min_effect=8.0)
    _add_gated(
        name="hip_shift_mean", signal=hip_shift, agg="mean", kind="length",
        gate=_frontal_if_3d, space="image",
        label="sideways hip shift",
        description="Mean sideways position of the hip midpoint relative to the midpoint of "
                    "the feet, along the body's left-right axis, in torso lengths (+ towards "
                    "the person's left, - towards the right). Front or back views only.",
        more="the hips shift more to the left", less="the hips shift more to the right",
        phrases=("hip toleft", "weight toleft"),
        family="hip_shift", lateral=True, num_frames="gt_1", min_effect=0.05)
    _add_gated(
        name="hip_shift_max", signal=bilateral_abs(hip_shift), agg="max", kind="length",
        gate=_frontal_if_3d, space="image",
        label="largest sideways hip shift",
        description="Largest sideways offset of the hip midpoint from the midpoint of the "
                    "feet, either way, in torso lengths. Front or back views only.",
        more="the hips shift further sideways", less="the hips stay more centred over the feet",
        phrases=("hip sideways", "hip slide", "-hip middle", "-body middle", "-middle foot",
                 "drift sideways", "body follow foot", "trunk out foot"),
        family="hip_shift_size", min_effect=0.05)
    _add_gated(
        name="head_forward_mean", signal=head_forward, agg="mean", kind="angle",
        gate=_ungated, space="3d_vertical",
        label="head forward of the shoulders",
        description="Mean signed angle of the neck line (shoulder midpoint to ear midpoint) "
                    "from vertical, towards where the face points (+ head forward of the "
                    "shoulders, - held back).",
        more="the head juts further forward", less="the head is held further back",
        phrases=("head forward", "head poke", "head jut", "head stick out",
                 "-head align shoulder"),
        family="head_forward", num_frames="1", min_effect=5.0)
    for side in (None, "left", "right"):
        sides = ("left", "right") if side is None else (side,)
        suffix = "" if side is None else f"_{side}"

        def elevation(pose: PoseSequence, ctx: ClipContext,
                      sides: tuple[str, ...] = sides) -> Signal:
            return _highest_arm(pose, ctx, sides, arm_elevation)

        def height(pose: PoseSequence, ctx: ClipContext,
                   sides: tuple[str, ...] = sides) -> Signal:
            return _highest_arm(pose, ctx, sides, wrist_height)

        register(MetricSpec(
            name=f"arm_height_at_top{suffix}", unit="deg", kind="angle",
            label=f"{side + ' ' if side else ''}arm height at the top",
            description=described(
                "Angle of the arm (shoulder to wrist) from straight down at the frame where "
                "the wrist is highest in the stage (a release or the top of a reach): 90° "
                "level, 180° straight overhead; the higher hand"
                f"{'' if side is None else f', only the {side} side'}.", "3d_vertical"),
            more="the arm is higher at the top" + ("" if side is None else f" on the {side} "
                                                   "side"),
            less="the arm is lower at the top" + ("" if side is None else f" on the {side} "
                                                  "side"),
            min_effect=8.0, family="arm_top",
            phrases=("release high", "release point high", "arm high release",
                     "arm upright peak", "arm upright top", "arm upright finish"),
            compute=_at_peak(elevation, height),
            side=side, space="3d_vertical"))


def _register_rep_events() -> None:
    """The body's line in a plank or push-up, and the metrics read at each repetition's events
    (:mod:`viddiff.tools.kinematics.rep_events`): the knees at the top, the chest at the
    bottom, the time of the way down and of the way up.

    None of them is ``proposable``: open mode states a difference nobody asked about, and
    event-read values rest on a few frames each and the hip line on the hip landmark. Their
    capture error is measured (``bench/bench_capture_error.py``, rows in
    ``tools/data/capture_error.csv``), but open mode has not been validated with them on the
    constructed copies (``bench/bench_open_mode.py``), so they are asked about, not offered.
    """
    line_note = ("Per frame, the hips' perpendicular offset from the shoulder-ankle line along "
                 "the vertical (a standing body reads 0), its positive part averaged over the "
                 "stage's frames.")
    # The positive part is taken per frame, so a body that sags in some frames and pikes in
    # others reads both, not their cancelling mean; its price is a small positive bias on a
    # straight body (about 0.4 of the frame jitter, a few thousandths of a torso length).
    # A tenth of a torso length (about 5 cm on a 50 cm torso) is a sag or pike a coach points
    # out; MediaPipe places the hip joint a few cm off under clothing, so less would be the
    # landmark, not the form
    for name, sign, label, more, less, phrases in (
            ("hip_sag", 1.0, "hip sag below the body line",
             "the hips sag more below the shoulder-ankle line",
             "the body stays straighter",
             ("hip sag", "banana", "arch down", "trunk arch down", "hip line out",
              "hip touch down", "midsection sag", "midsection arch",
              "-midsection high", "-hip high plank", "-hip high pushup", "-body straight line",
              "-body straight heel", "-body straight plank", "-hip held high chest",
              "-plank straight")),
            ("hip_pike", -1.0, "hip pike above the body line",
             "the hips pike higher above the shoulder-ankle line",
             "the hips stay more in line with the body",
             ("hip pike", "butt stick up", "upside v", "-hip level shoulder",
              "hip poke high", "hip push high", "hip hike high", "hip stick high",
              "-hip align body", "body v"))):
        _add_gated(
            name=name, signal=positive_part(hip_line_offset, sign), agg="mean", kind="length",
            gate=_ungated, space="3d_vertical", label=label,
            description=("How far the hip midpoint sits " + ("below" if sign > 0 else "above")
                         + " the straight line from the shoulder midpoint to the ankle "
                         "midpoint, in torso lengths (0 = in line or on the other side). "
                         + line_note),
            more=more, less=less, family="hip_line", num_frames="gt_1", min_effect=0.1,
            phrases=phrases, proposable=False)
    knee = joint_angle("hip", "knee", "ankle")
    variants: tuple[tuple[Literal["left", "right"] | None, Callable[
        [PoseSequence, ClipContext], Signal]], ...] = (
        (None, bilateral(knee, "mean")), ("left", one_side(knee, "left")),
        ("right", one_side(knee, "right")))
    for side, signal in variants:
        suffix, only = (("", " Per frame, the mean of the sides that are visible.")
                        if side is None else (f"_{side}", f" Only the {side} side."))
        on = "" if side is None else f" on the {side} side"
        register(MetricSpec(
            name=f"knee_extension_top{suffix}", unit="deg", kind="angle",
            label=f"{side + ' ' if side else ''}knee angle at the top",
            description=described(
                "Interior knee angle (hip-knee-ankle; 180° = straight) at the top of each "
                "repetition, averaged over repetitions: for a movement that lowers the hips "
                "the straightest knee in the rest (up to "
                f"{REST_WINDOW_S:g} s) next to its start and end (the standing moments of a "
                "squat), for one that raises them the straightest over its turnaround."
                + only, "3d"),
            more="the knees are straighter at the top" + on,
            less="the knees stay more bent at the top" + on,
            # 5°, as for every knee angle: the smallest change in a lockout a coach sees; a
            # reading at one moment is noisier, and its uncertainty says so
            min_effect=5.0, family="knee_extension_top", side=side,
            phrases=("knee straight top", "leg straight top", "knee straight standup",
                     "leg straight standup", "finish knee straight", "knee lock top",
                     "knee straight lock", "extend standup", "full standup"),
            compute=at_events(signal, "top", "max", "angle"), space="3d", proposable=False,
            moment="top"))
    # torso lengths, the engine's one body scale (the median over the clip, so steady), rather
    # than upper-arm lengths: the upper arm is short, foreshortened at the bottom of a push-up
    # and hung on the elbow, the noisiest arm landmark. A tenth (about 5 cm) is a fist's
    # depth, the difference between touching the floor and stopping above it
    register(MetricSpec(
        name="chest_depth_bottom", unit="TL", kind="length",
        label="chest height at the bottom",
        description=described(
            "Height of the shoulder midpoint above the wrists (the hands on the floor in a "
            "push-up) at the bottom of each repetition (its lowest over the turnaround stage "
            "for a movement that lowers the hips), in torso lengths, averaged over "
            "repetitions; smaller = deeper. "
            "Per frame, the mean of the wrists that are visible.", "3d_vertical"),
        more="the chest stays higher at the bottom (shallower)",
        less="the chest goes lower (deeper) at the bottom",
        min_effect=0.1, family="chest_depth",
        # the chest's height is the shoulders' above the hands at the bottom ("at the bottom the
        # shoulders are lower"; not "the hands rise above the shoulders")
        phrases=("chest high bottom", "chest high floor", "-chest floor", "chest far floor",
                 "shoulder high bottom",
                 "-pushup deep", "-pushup floor", "pushup sinkdown high", "half rep", "-chest low",
                 "chest sinkdown high", "-chest sinkdown deep", "pushup shallow", "-chest touch",
                 "-chest low further"),
        compute=at_events(bilateral(shoulder_above_wrist, "mean"), "bottom", "min",
                          "length"),
        space="3d_vertical", proposable=False, moment="bottom"))
    # 15% of the phase, as for a stage's duration: both are bounded by events with a timing
    # uncertainty, and a tempo cue ("slow the descent") changes it by more
    phases: tuple[tuple[Literal["descent", "ascent"], str, tuple[str, ...]], ...] = (
        ("descent", "way down", ("descent long", "-descent fast", "descent control",
                                 "-dropinto", "-dive bomb", "down second", "-sinkdown fast",
                                 "eccentric long", "eccentric slow", "descent take long")),
        ("ascent", "way up", ("ascent long", "-ascent fast", "ascent take long", "-stand fast",
                              "concentric long", "concentric slow", "up second")))
    for phase, word, said in phases:
        other = {"descent": "turnaround", "ascent": "end"}[phase]
        first = {"descent": "start", "ascent": "turnaround"}[phase]
        register(MetricSpec(
            name=f"{phase}_time", unit="s", kind="time", label=f"{phase} time",
            description=f"Seconds of each repetition's {word}: from its {first} event to its "
                        f"{other} (the other way round for a movement that raises the hips), "
                        "averaged over repetitions, uncertain by the two events' own timing "
                        "uncertainty. A repetition the clip cuts into there is not timed.",
            more=f"the {phase} is slower (takes longer)",
            less=f"the {phase} is faster (quicker)", min_effect=0.15, relative=True,
            family=f"{phase}_time", num_frames="gt_1", space="time", phrases=said,
            compute=phase_time(phase), proposable=False, moment=phase))


def bilateral_abs(signal: Callable[[PoseSequence, ClipContext], Signal]
                  ) -> Callable[[PoseSequence, ClipContext], Signal]:
    """|signal| per frame."""

    def fn(pose: PoseSequence, ctx: ClipContext) -> Signal:
        x, w = signal(pose, ctx)
        return np.abs(x), w

    return fn


def _highest_arm(pose: PoseSequence, ctx: ClipContext, sides: tuple[str, ...],
                 fn: SideFn) -> Signal:
    """``fn`` per frame of the arm whose wrist is higher (of ``sides``)."""
    if len(sides) == 1:
        return fn(pose, ctx, sides[0])
    hl, _ = wrist_height(pose, ctx, "left")
    hr, _ = wrist_height(pose, ctx, "right")
    vl, wl = fn(pose, ctx, "left")
    vr, wr = fn(pose, ctx, "right")
    pick_left = np.where(np.isfinite(hr), np.nan_to_num(hl, nan=-np.inf) >= hr, True)
    return np.where(pick_left, vl, vr), np.where(pick_left, wl, wr)


_build_registry()
