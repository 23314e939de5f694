"""Per-frame body signals for :mod:`viddiff.tools.kinematics`: joint angles, heights, widths,
speeds, each with a per-frame weight (landmark visibility), and the per-clip constants
(:class:`ClipContext`) they share.

Which reading of the pose each signal uses, and why:

* **Angles read the 3-D world landmarks** when the clip has them (:attr:`ClipContext.world`):
  interior joint angles (knee, hip, elbow, shoulder), the thigh angle, the upper-arm tilt, the
  trunk lean and the head tilt. A 2-D angle is the angle of a projection: a knee bent towards
  the camera looks straight, a trunk leaning sideways looks upright from the side. MediaPipe's
  world landmarks (metres, hip-centred) are its own 3-D estimate from the same inference, so an
  interior angle measured on them is, up to the model's depth error, the same from every view.
  That error is not small: depth is guessed from one image, and on four views of one take the
  3-D angles still differ by 5-11° RMS per frame (2-D: 7-17°; bench/RESULTS.md).
* **"From vertical" angles need gravity's direction**, which the world landmarks do not know:
  MediaPipe aligns the world axes with the camera (x right, y down, z away from the camera).
  The camera's vertical is gravity's only for a level camera; one that looks down or is rolled
  by some angle tilts every upright body by that angle (the four demo cameras are 15-25° off
  level). So :func:`estimate_up` reads "up" off the clip itself, as the body axis (ankles to
  shoulders) in the frames where the person stands straight, and falls back to the camera's
  vertical when no frame qualifies. Trunk lean, head tilt, thigh angle and upper-arm tilt are
  measured against it; interior joint angles need no reference direction at all.
* **Lengths, heights, widths and speeds stay in the image** (2-D pixels over the image torso
  length): "hands higher", "hips lower", "wider stance" are read where the viewer sees them,
  and the report draws them on the frames. They are view-dependent and documented as such.
* Sequences without world landmarks (2-D data only: synthetic figures, old files) fall back to
  image angles for the whole clip; one clip never mixes 3-D and 2-D frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from viddiff.tools.pose.cuts import continuous_runs
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.viewpoint import MAX_SPREAD_DEG, facing_angle

#: Landmarks below this visibility are treated as not seen.
VIS_THRESHOLD = 0.5
#: Longest flight a jump is assumed to have (seconds), for the jump height's local floor.
JUMP_WINDOW_S = 1.0

_LIMB_JOINTS = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
#: "Up" in image coordinates (y points down) and in MediaPipe world coordinates (y down too).
_IMAGE_UP = (0.0, -1.0)
_WORLD_UP = (0.0, -1.0, 0.0)
#: Standing frames for :func:`estimate_up`: all four image knee and hip angles at least this...
STANDING_MIN_DEG = 150.0
#: ...and the frame's straightest one within this of the clip's straightest frame.
STANDING_SLACK_DEG = 5.0
#: A body axis further than this from the camera's vertical is not taken for gravity's.
MAX_CAMERA_TILT_DEG = 45.0


Signal = tuple[np.ndarray, np.ndarray]  # per-frame values (NaN = not measurable), weights


@dataclass(frozen=True)
class ClipContext:
    """Per-clip constants every metric shares: body scale (median torso length in pixels) with
    its relative uncertainty, the frame period in seconds, and whether angles are read in 3-D
    (``world``: the clip has world landmarks on every present frame). ``up`` is the vertical
    that "from vertical" angles use: the image's in 2-D, :func:`estimate_up`'s in 3-D, which
    rests on ``up_frames`` standing frames (0: the camera's vertical, nothing better found).
    ``sides`` are the sides of the body a bilateral signal combines: both by default; a
    comparison keeps only those both clips see (:func:`viddiff.tools.kinematics.sides.
    choose_sides`), so A and B are read on the same side. (A clip's repetitions are its
    movement's structure: :func:`viddiff.tools.kinematics.movement.repetition_slices`.)"""

    scale: float | None
    scale_rel_unc: float
    frame_period: float
    world: bool = False
    up: tuple[float, ...] = _IMAGE_UP
    up_frames: int = 0
    sides: tuple[str, ...] = ("left", "right")

    @classmethod
    def of(cls, pose: PoseSequence, *, world: bool | None = None) -> ClipContext:
        """Context of ``pose``; ``world`` forces 3-D (True) or image (False) angles, by default
        3-D whenever the clip has world landmarks. Computed once per pose and setting (every
        metric of a comparison asks for it)."""
        use_world = pose.has_world if world is None else (world and pose.has_world)
        return pose.derived(("clip_context", use_world), lambda: cls._build(pose, use_world))

    @classmethod
    def _build(cls, pose: PoseSequence, use_world: bool) -> ClipContext:
        torso = _torso_length(pose)
        ok = np.isfinite(torso)
        scale: float | None = None
        rel = 0.0
        if ok.any():
            scale = float(np.median(torso[ok]))
            mad = 1.4826 * float(np.median(np.abs(torso[ok] - scale)))
            rel = mad / scale / math.sqrt(ok.sum()) if scale > 0 else 0.0
            if scale <= 1e-6:
                scale = None
        up, up_frames = estimate_up(pose) if use_world else (_IMAGE_UP, 0)
        return cls(scale=scale, scale_rel_unc=rel, frame_period=pose.frame_period or 1.0,
                   world=use_world, up=up, up_frames=up_frames)


def segment_slice(pose: PoseSequence, segment: Segment | None) -> slice:
    """The frames of ``pose`` that ``segment`` covers, clipped to the clip (all when None)."""
    if segment is None:
        return slice(0, pose.n_frames)
    start = min(segment.start, max(pose.n_frames - 1, 0))
    return slice(start, min(segment.end, pose.n_frames - 1) + 1)


SideFn = Callable[[PoseSequence, ClipContext, str], Signal]


def _pt(pose: PoseSequence, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(T,2) positions of a landmark, NaN where absent or poorly visible; (T,) visibility."""
    idx = LANDMARK_INDEX[name]
    xy = pose.keypoints[:, idx].astype(np.float64)
    vis = pose.visibility[:, idx].astype(np.float64)
    bad = ~pose.present | (vis < VIS_THRESHOLD) | ~np.isfinite(xy).all(axis=1)
    xy = xy.copy()
    xy[bad] = np.nan
    return xy, np.where(bad, 0.0, vis)


def _mid(pose: PoseSequence, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint of the left and right landmark of ``part`` (both must be seen)."""
    left, wl = _pt(pose, f"left_{part}")
    right, wr = _pt(pose, f"right_{part}")
    return (left + right) / 2.0, np.minimum(wl, wr)


def _world_pt(pose: PoseSequence, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(T,3) world position of a landmark in metres, NaN where absent or poorly visible (the
    image landmark's visibility applies: it is the same detection); (T,) visibility."""
    idx = LANDMARK_INDEX[name]
    xyz = pose.world[:, idx].astype(np.float64)
    vis = pose.visibility[:, idx].astype(np.float64)
    bad = ~pose.present | (vis < VIS_THRESHOLD) | ~np.isfinite(xyz).all(axis=1)
    xyz[bad] = np.nan
    return xyz, np.where(bad, 0.0, vis)


def _apt(pose: PoseSequence, ctx: ClipContext, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A landmark as angle metrics read it: world 3-D when ``ctx.world``, else image 2-D."""
    return _world_pt(pose, name) if ctx.world else _pt(pose, name)


def _amid(pose: PoseSequence, ctx: ClipContext, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Midpoint of the left and right ``part`` in the space angle metrics read (see _apt)."""
    left, wl = _apt(pose, ctx, f"left_{part}")
    right, wr = _apt(pose, ctx, f"right_{part}")
    return (left + right) / 2.0, np.minimum(wl, wr)


def estimate_up(pose: PoseSequence) -> tuple[tuple[float, ...], int]:
    """Gravity's "up" in the clip's world coordinates, read off the frames where the person
    stands straight; returns the unit vector and how many frames it rests on, or the camera's
    vertical and 0 when no estimate can be trusted.

    Why it works: someone standing on straight legs with the hips extended balances with the
    shoulders above the feet, so the axis from the ankle midpoint to the shoulder midpoint is
    vertical within a few degrees, whatever the camera's tilt. Standing frames are recognised by
    the *image* knee and hip angles: a straight limb projects straight from every viewpoint
    (collinear points stay collinear), whereas MediaPipe's 3-D angle of a straight knee can
    read 150°. A frame qualifies when all four angles are at least ``STANDING_MIN_DEG`` and its
    least straight one is within ``STANDING_SLACK_DEG`` of the clip's best; the axis is the
    mean direction over those frames.

    Limits: a knee bent straight towards the camera also projects straight (such a frame's
    axis still points roughly up, shoulders over feet); a clip with no standing frame (seated,
    lying, hands only) gets the camera's vertical, and so does an axis more than
    ``MAX_CAMERA_TILT_DEG`` from it (a straight-bodied plank is not upright).
    """
    image = ClipContext(scale=None, scale_rel_unc=0.0, frame_period=1.0)
    world = ClipContext(scale=None, scale_rel_unc=0.0, frame_period=1.0, world=True)
    knee, hip = joint_angle("hip", "knee", "ankle"), joint_angle("shoulder", "hip", "knee")
    angles = np.stack([fn(pose, image, side)[0] for fn in (knee, hip)
                       for side in ("left", "right")])
    with np.errstate(invalid="ignore"):
        straight = np.where(np.isfinite(angles).all(axis=0), angles.min(axis=0), np.nan)
    axis = _amid(pose, world, "shoulder")[0] - _amid(pose, world, "ankle")[0]
    ok = np.isfinite(straight) & np.isfinite(axis).all(axis=1)
    if not ok.any():
        return _WORLD_UP, 0
    best = float(np.max(straight[ok]))
    pick = ok & (straight >= max(STANDING_MIN_DEG, best - STANDING_SLACK_DEG))
    if not pick.any():
        return _WORLD_UP, 0
    dirs = axis[pick] / np.linalg.norm(axis[pick], axis=1, keepdims=True)
    mean = dirs.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm < 1e-6:
        return _WORLD_UP, 0
    up = mean / norm
    if math.degrees(math.acos(float(np.clip(-up[1], -1.0, 1.0)))) > MAX_CAMERA_TILT_DEG:
        return _WORLD_UP, 0
    return tuple(float(c) for c in up), int(pick.sum())


def _torso_length(pose: PoseSequence) -> np.ndarray:
    shoulders, _ = _mid(pose, "shoulder")
    hips, _ = _mid(pose, "hip")
    return np.linalg.norm(shoulders - hips, axis=1)


def _lower_foot_y(pose: PoseSequence) -> np.ndarray:
    """Image y of the lower ankle (larger y = nearer the floor), NaN when neither is seen."""
    left, _ = _pt(pose, "left_ankle")
    right, _ = _pt(pose, "right_ankle")
    ys = np.stack([left[:, 1], right[:, 1]])
    out = np.full(pose.n_frames, np.nan)
    ok = np.isfinite(ys).any(axis=0)
    out[ok] = np.nanmax(ys[:, ok], axis=0)
    return out


def _angle_at(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Interior angle ABC in degrees, per frame (NaN where a point is missing)."""
    u = a - b
    v = c - b
    nu = np.linalg.norm(u, axis=1)
    nv = np.linalg.norm(v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("ij,ij->i", u, v) / (nu * nv)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _angle_from(vec: np.ndarray, ref: tuple[float, ...]) -> np.ndarray:
    """Angle in degrees between each row of ``vec`` and the fixed unit direction ``ref``
    (2-D or 3-D alike)."""
    r = np.asarray(ref, dtype=np.float64)
    n = np.linalg.norm(vec, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (vec @ r) / n
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _down(ctx: ClipContext) -> tuple[float, ...]:
    return tuple(-c for c in ctx.up)


def joint_angle(first: str, vertex: str, last: str) -> SideFn:
    """Interior angle first-vertex-last on one side (e.g. hip-knee-ankle), in degrees.

    3-D (world landmarks) when the clip has them: no reference direction is involved, so the
    value does not depend on where the camera stands, only on the model's depth estimate.
    """

    def fn(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
        a, wa = _apt(pose, ctx, f"{side}_{first}")
        b, wb = _apt(pose, ctx, f"{side}_{vertex}")
        c, wc = _apt(pose, ctx, f"{side}_{last}")
        return _angle_at(a, b, c), np.minimum(np.minimum(wa, wb), wc)

    return fn


def thigh_angle(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Thigh (hip to knee) angle from straight down: 0 standing, 90 thigh level, >90 knee up.

    3-D when available, against ``ctx.up`` (the vertical estimated from standing frames)."""
    hip, wh = _apt(pose, ctx, f"{side}_hip")
    knee, wk = _apt(pose, ctx, f"{side}_knee")
    return _angle_from(knee - hip, _down(ctx)), np.minimum(wh, wk)


def upper_arm_tilt(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Upper arm angle from horizontal, 0 = parallel to the ground, 90 = vertical.

    Elevation of the shoulder-to-elbow vector above or below the horizontal plane: the
    vertical component against the horizontal one (in 3-D both horizontal axes count, so an
    arm pointing at the camera is level, whatever its short 2-D projection suggests)."""
    sh, ws = _apt(pose, ctx, f"{side}_shoulder")
    el, we = _apt(pose, ctx, f"{side}_elbow")
    d = el - sh
    up = np.asarray(ctx.up, dtype=np.float64)
    vertical = d @ up
    horizontal = np.linalg.norm(d - vertical[:, None] * up, axis=1)
    return np.degrees(np.arctan2(np.abs(vertical), horizontal)), np.minimum(ws, we)


def height_above_hips(part: str) -> SideFn:
    def fn(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
        p, wp = _pt(pose, f"{side}_{part}")
        hips, wh = _mid(pose, "hip")
        return _per_scale((hips[:, 1] - p[:, 1]), ctx), np.minimum(wp, wh)

    return fn


def wrist_above_floor(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    p, wp = _pt(pose, f"{side}_wrist")
    foot = _lower_foot_y(pose)
    return _per_scale(foot - p[:, 1], ctx), wp


def _per_scale(values: np.ndarray, ctx: ClipContext) -> np.ndarray:
    if ctx.scale is None:
        return np.full_like(values, np.nan, dtype=np.float64)
    return values / ctx.scale


def _combine(left: Signal, right: Signal, how: str) -> Signal:
    """Merge left and right per frame: ``mean``/``min``/``max`` of the sides that are seen."""
    vals = np.stack([left[0], right[0]])
    wts = np.stack([left[1], right[1]])
    ok = np.isfinite(vals)
    out = np.full(vals.shape[1], np.nan)
    any_ok = ok.any(axis=0)
    sub = vals[:, any_ok]
    if how == "mean":
        out[any_ok] = np.nanmean(sub, axis=0)
    elif how == "min":
        out[any_ok] = np.nanmin(sub, axis=0)
    elif how == "max":
        out[any_ok] = np.nanmax(sub, axis=0)
    elif how == "absdiff":
        both = ok.all(axis=0)
        out = np.where(both, np.abs(vals[0] - vals[1]), np.nan)
        return out, np.where(both, wts.min(axis=0), 0.0)
    else:  # pragma: no cover - registry bug
        raise ValueError(how)
    w = np.where(ok, wts, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1)
    return out, w


def bilateral(fn: SideFn, how: str) -> Callable[[PoseSequence, ClipContext], Signal]:
    """Both sides of ``fn`` combined per frame by ``how`` (see :func:`_combine`), on the sides
    ``ctx.sides`` allows: one side alone is that side's signal; a left/right difference
    (``absdiff``) needs both, and with fewer there is nothing to measure."""
    def signal(pose: PoseSequence, ctx: ClipContext) -> Signal:
        sides = [s for s in ("left", "right") if s in ctx.sides]
        if len(sides) == 2:
            return _combine(fn(pose, ctx, "left"), fn(pose, ctx, "right"), how)
        if how == "absdiff" or not sides:
            return np.full(pose.n_frames, np.nan), np.zeros(pose.n_frames)
        return fn(pose, ctx, sides[0])

    return signal


def one_side(fn: SideFn, side: str) -> Callable[[PoseSequence, ClipContext], Signal]:
    def signal(pose: PoseSequence, ctx: ClipContext) -> Signal:
        return fn(pose, ctx, side)

    return signal


def trunk_lean(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Angle of the trunk (hip midpoint to shoulder midpoint) from vertical, in degrees.

    3-D when available, so a sideways lean seen from the side counts in full; "vertical" is
    ``ctx.up`` (estimated from standing frames, see the module docstring)."""
    sh, ws = _amid(pose, ctx, "shoulder")
    hp, wh = _amid(pose, ctx, "hip")
    return _angle_from(sh - hp, ctx.up), np.minimum(ws, wh)


def head_tilt(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Angle of the neck line (shoulder midpoint to ear midpoint) from vertical, in degrees
    (3-D when available, against ``ctx.up``)."""
    sh, ws = _amid(pose, ctx, "shoulder")
    ear, we = _amid(pose, ctx, "ear")
    return _angle_from(ear - sh, ctx.up), np.minimum(ws, we)


def stance_width(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Horizontal distance between the ankles, in torso lengths."""
    left, wl = _pt(pose, "left_ankle")
    right, wr = _pt(pose, "right_ankle")
    return _per_scale(np.abs(left[:, 0] - right[:, 0]), ctx), np.minimum(wl, wr)


def hip_height(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Height of the hip midpoint above the lower (standing) ankle, in torso lengths."""
    hips, wh = _mid(pose, "hip")
    return _per_scale(_lower_foot_y(pose) - hips[:, 1], ctx), wh


def hip_offset(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Horizontal position of the hip midpoint relative to the ankle midpoint, torso lengths."""
    hips, wh = _mid(pose, "hip")
    ankles, wa = _mid(pose, "ankle")
    return _per_scale(hips[:, 0] - ankles[:, 0], ctx), np.minimum(wh, wa)


def knee_width_ratio(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Horizontal knee separation over ankle separation (< 1: knees inside the feet)."""
    lk, w1 = _pt(pose, "left_knee")
    rk, w2 = _pt(pose, "right_knee")
    la, w3 = _pt(pose, "left_ankle")
    ra, w4 = _pt(pose, "right_ankle")
    knees = np.abs(lk[:, 0] - rk[:, 0])
    ankles = np.abs(la[:, 0] - ra[:, 0])
    min_sep = 0.1 * ctx.scale if ctx.scale else np.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(ankles >= min_sep, knees / ankles, np.nan)
    return ratio, np.minimum(np.minimum(w1, w2), np.minimum(w3, w4))


def foot_lift(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """How far both feet are off the ground: per frame, the smaller of the two ankles' heights
    above their own local floors.

    Each foot's floor is local in time: the lower of (its lowest position in the second
    before) and (its lowest position in the second after). A jump leaves the floor and comes
    back, so it shows; a person walking towards the camera, whose feet sink in the image, does
    not. Each foot is read against its own floor, and both must be up: a forward lunge and
    back, filmed from the front, lifts the stepping foot in the image while the other stays
    put, and read as the lower foot against a floor the other foot set earlier it made a
    "jump" of half a torso length that nobody made. A frame that does not see both ankles
    says nothing.
    """
    lifts = [_own_floor_lift(pose, _pt(pose, f"{side}_ankle")[0][:, 1])
             for side in ("left", "right")]
    both = np.isfinite(lifts[0]) & np.isfinite(lifts[1])
    lift = np.full(pose.n_frames, np.nan)
    lift[both] = np.minimum(lifts[0][both], lifts[1][both])
    return _per_scale(lift, ctx), both.astype(np.float64)


def _own_floor_lift(pose: PoseSequence, foot: np.ndarray) -> np.ndarray:
    """Height (pixels) of one foot's image ``y`` above its own local floor, NaN where unseen."""
    lift = np.full(pose.n_frames, np.nan)
    ok = np.isfinite(foot)
    ts = pose.timestamps
    runs = continuous_runs(pose)  # a floor from the other side of a cut is another take's
    for i in np.flatnonzero(ok):
        near = ok & (runs == runs[i])
        before = near & (ts >= ts[i] - JUMP_WINDOW_S) & (ts <= ts[i])
        after = near & (ts >= ts[i]) & (ts <= ts[i] + JUMP_WINDOW_S)
        floor = min(float(foot[before].max()), float(foot[after].max()))
        lift[i] = floor - foot[i]
    return lift


def joint_positions(pose: PoseSequence, joints: tuple[str, ...]) -> np.ndarray:
    """(T, J, 2) positions of named landmarks, NaN where not seen."""
    return np.stack([_pt(pose, j)[0] for j in joints], axis=1)


def limb_landmarks(part: str | None) -> tuple[str, ...]:
    parts = _LIMB_JOINTS if part is None else (part,)
    return tuple(f"{side}_{p}" for p in parts for side in ("left", "right"))


def speed(part: str | None) -> Callable[[PoseSequence, ClipContext], Signal]:
    """Mean speed of the limb landmarks (or of one part, both sides) in torso lengths/s.

    Central differences over the sampled timestamps, so the value does not depend on the
    sampling rate except through noise.
    """

    def signal(pose: PoseSequence, ctx: ClipContext) -> Signal:
        return speed_signal(pose, ctx, limb_landmarks(part))

    return signal


def speed_step(span_s: float, frame_period: float) -> int:
    """How many frames either side :func:`speed_signal` differences over for a speed read
    over about ``span_s``: the nearest to ``span_s / 2``, at least one."""
    return max(1, round(span_s / 2 / frame_period))


def speed_signal(pose: PoseSequence, ctx: ClipContext, joints: tuple[str, ...],
                 span_s: float | None = None) -> Signal:
    """Mean speed of ``joints`` (torso lengths per second): central differences over the
    neighbouring frames, or over the frames about ``span_s`` apart (the nearest to
    ``span_s / 2`` either side, at least one), so that the speed's jitter -- noise over the
    time between the two frames -- is the same at every pose rate."""
    t = pose.n_frames
    if t < 2 or ctx.scale is None:
        return np.full(t, np.nan), np.zeros(t)
    pos = joint_positions(pose, joints) / ctx.scale
    ts = pose.timestamps
    step = 1 if span_s is None or ctx.frame_period <= 0 else \
        speed_step(span_s, ctx.frame_period)
    lo = np.clip(np.arange(t) - step, 0, t - 1)
    hi = np.clip(np.arange(t) + step, 0, t - 1)
    runs = continuous_runs(pose)  # no difference across a cut: that speed is the editor's
    lo = np.where(runs[lo] == runs, lo, np.arange(t))
    hi = np.where(runs[hi] == runs, hi, np.arange(t))
    dt = ts[hi] - ts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        vel = (pos[hi] - pos[lo]) / dt[:, None, None]
        speed = np.linalg.norm(vel, axis=2)
        seen = np.isfinite(speed)
        count = seen.sum(axis=1)
        values = np.where(count > 0, np.where(seen, speed, 0.0).sum(axis=1)
                          / np.maximum(count, 1), np.nan)
    valid = count >= max(1, len(joints) // 2)
    values = np.where(valid & (dt > 0), values, np.nan)
    return values, valid.astype(np.float64)



# --------------------------------------------------------------------------------------------
# Feet, knees in the frontal plane, pelvis and head: the body parts beyond the limb angles
# --------------------------------------------------------------------------------------------

#: A body whose hip line is within this of the image plane is seen from the front (or back).
FRONTAL_VIEW_MAX_DEG = 35.0
#: Image hip width below this many torso lengths: the pelvis is seen edge-on (side view).
MIN_HIP_WIDTH_TL = 0.25
#: Nose this far (torso lengths, horizontally) in front of the ears shows where the face points.
MIN_FACE_DEPTH_TL = 0.05
#: Percentile of a clip's heel-above-toe heights taken as the foot's standing (flat) level.
HEEL_STANDING_PERCENTILE = 10.0


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-9, v / n, np.nan)


def _horizontal(v: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``v`` (T, D) with its component along ``up`` removed."""
    return v - (v @ up)[:, None] * up


def heel_lift(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Heel above its standing level, in foot lengths (0 = foot flat, 0.3 = heel raised by
    30% of the foot's length), per frame.

    Reads the heel's height above the toe (``foot_index``) along the vertical, so a jump or a
    camera that moves lifts both and does not count, and subtracts the foot's standing level:
    the clip's flattest frames (the ``HEEL_STANDING_PERCENTILE`` percentile), which absorbs a
    camera looking down on the feet. Divided by the foot length (median heel-to-toe distance).
    3-D world landmarks against ``ctx.up`` when the clip has them, else the image.

    Limits: the clip must contain some frames with the foot flat (a clip on tiptoe throughout
    reads 0); MediaPipe's heel and toe points are small and often poorly visible from the
    front (the heel is hidden behind the foot), so such frames drop out by visibility.
    """
    heel, wh = _apt(pose, ctx, f"{side}_heel")
    toe, wt = _apt(pose, ctx, f"{side}_foot_index")
    d = heel - toe
    up = np.asarray(ctx.up, dtype=np.float64)
    rise = d @ up
    length = np.linalg.norm(d, axis=1)
    ok = np.isfinite(rise) & np.isfinite(length)
    out = np.full(pose.n_frames, np.nan)
    if ok.sum() < 2:
        return out, np.zeros(pose.n_frames)
    foot = float(np.median(length[ok]))
    if foot <= 1e-9:
        return out, np.zeros(pose.n_frames)
    base = float(np.percentile(rise[ok], HEEL_STANDING_PERCENTILE))
    out[ok] = (rise[ok] - base) / foot
    return out, np.minimum(wh, wt)


def frontal_view(pose: PoseSequence) -> tuple[bool, str]:
    """Whether the body faces the camera (or turns its back to it) squarely enough for
    frontal-plane measurements (knees in or out, hips shifting sideways), and why not.

    Uses :func:`viddiff.tools.viewpoint.facing_angle` (3-D world landmarks): the hip and
    shoulder lines must lie within ``FRONTAL_VIEW_MAX_DEG`` of the image plane. Front and back
    both qualify: the frontal plane is seen either way, and "inward" is read towards the body's
    own midline. Without 3-D landmarks the view cannot be told, so nothing is claimed.
    """
    facing = facing_angle(pose)
    if facing is None:
        return False, "the body's orientation to the camera is unknown (no 3-D pose)"
    angle, spread = facing
    if spread > MAX_SPREAD_DEG:
        return False, (f"the body turns too much during the clip (facing angle spread "
                       f"{spread:.0f}°) to read the frontal plane")
    off = abs((angle + 90.0) % 180.0 - 90.0)  # 0 = hip line parallel to the image plane
    if off > FRONTAL_VIEW_MAX_DEG:
        return False, (f"knees and hips are seen {off:.0f}° from the front; frontal-plane "
                       f"positions need a front or back view (within "
                       f"{FRONTAL_VIEW_MAX_DEG:.0f}°)")
    return True, ""


def knee_inward(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """How far the knee sits inside (+, valgus, "caving in") or outside (-, varus) the straight
    line from hip to ankle, in torso lengths, read in the image.

    The line's position at the knee's height is compared with the knee; "inside" is towards
    the hip midpoint, so the sign holds from the front, from behind and in a mirrored video.
    Only a front or back view shows this (:func:`frontal_view`; the metric checks it): from
    the side a bent knee sticks out of the hip-ankle line forwards, which is not valgus.
    Limits: a knee pointing at the camera on a rotated thigh can look inward; small values
    (a few hundredths of a torso length) are within the pose model's jitter.
    """
    hip, wh = _pt(pose, f"{side}_hip")
    knee, wk = _pt(pose, f"{side}_knee")
    ankle, wa = _pt(pose, f"{side}_ankle")
    mid, wm = _mid(pose, "hip")
    span = ankle[:, 1] - hip[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(np.abs(span) > 1e-6, (knee[:, 1] - hip[:, 1]) / span, np.nan)
    line_x = hip[:, 0] + frac * (ankle[:, 0] - hip[:, 0])
    inward = np.sign(mid[:, 0] - hip[:, 0])
    offset = (knee[:, 0] - line_x) * inward
    offset = np.where(inward != 0, offset, np.nan)
    w = np.minimum(np.minimum(wh, wk), np.minimum(wa, wm))
    return _per_scale(offset, ctx), w


def foot_turn_out(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Angle of the foot (heel to toe) from straight ahead, in degrees, in the ground plane:
    positive turned out (toes pointing away from the body's midline), negative turned in.

    3-D only: "ahead" is the horizontal direction perpendicular to the hip line, signed so
    that the two feet point forward on average (MediaPipe's left/right and front/back need
    not be trusted for it); both read in the plane perpendicular to ``ctx.up``. An image-only
    clip gives nothing: a foot pointing at the camera projects to a dot. Limits: the toe and
    heel points are small, and their depth comes from one image, so expect ±10° per frame.
    """
    n = pose.n_frames
    if not ctx.world:
        return np.full(n, np.nan), np.zeros(n)
    up = np.asarray(ctx.up, dtype=np.float64)
    lh, w1 = _world_pt(pose, "left_hip")
    rh, w2 = _world_pt(pose, "right_hip")
    across = _unit(_horizontal(lh - rh, up))  # towards the body's left
    ahead = np.cross(up, across) if up.shape[0] == 3 else np.full_like(across, np.nan)
    feet = {}
    for s in ("left", "right"):
        heel, wh = _world_pt(pose, f"{s}_heel")
        toe, wt = _world_pt(pose, f"{s}_foot_index")
        feet[s] = (_unit(_horizontal(toe - heel, up)), np.minimum(wh, wt))
    both = feet["left"][0] + feet["right"][0]
    forward = np.nanmedian(np.einsum("ij,ij->i", both, ahead)) if np.isfinite(
        np.einsum("ij,ij->i", both, ahead)).any() else np.nan
    if not np.isfinite(forward):
        return np.full(n, np.nan), np.zeros(n)
    ahead = ahead * (1.0 if forward >= 0 else -1.0)
    out_dir = across if side == "left" else -across
    foot, wf = feet[side]
    angle = np.degrees(np.arctan2(np.einsum("ij,ij->i", foot, out_dir),
                                  np.einsum("ij,ij->i", foot, ahead)))
    return angle, np.minimum(wf, np.minimum(w1, w2))


def hip_shift(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Sideways position of the pelvis (hip midpoint) relative to the midpoint of the feet,
    in torso lengths, along the body's own left-right axis: positive towards the person's
    left, negative towards the right, 0 centred over the feet.

    Read in the image, where a sideways shift is seen only from the front or back (the metric
    checks :func:`frontal_view` when the clip has a 3-D pose; without one, an image pelvis
    narrower than ``MIN_HIP_WIDTH_TL`` -- seen edge-on from the side -- gives nothing). Why not
    the 3-D pose, which exists from every view: its sideways hip offset is a depth guess that
    moves by 0.1-0.2 torso lengths when the same clip is mirrored (bench/RESULTS.md), more than
    the shifts it should find. Limits: depends on trusting which hip is left (sided metric); a
    staggered stance puts the feet midpoint off the body's line by itself.
    """
    lh, w1 = _pt(pose, "left_hip")
    rh, w2 = _pt(pose, "right_hip")
    feet, wf = _mid(pose, "ankle")
    width = lh[:, 0] - rh[:, 0]
    with np.errstate(invalid="ignore"):
        wide = np.abs(width) >= MIN_HIP_WIDTH_TL * (ctx.scale or np.inf)
    shift = ((lh[:, 0] + rh[:, 0]) / 2.0 - feet[:, 0]) * np.sign(width)
    return _per_scale(np.where(wide, shift, np.nan), ctx), np.minimum(np.minimum(w1, w2), wf)


def head_forward(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """Signed angle of the neck line (shoulder midpoint to ear midpoint) from vertical, in
    degrees: positive when the head sits forward of the shoulders (the way the face points),
    negative when it is held back.

    "Forward" is the direction from the ear midpoint to the nose, made horizontal; the angle
    is read in the plane of the vertical and that direction (3-D against ``ctx.up`` when the
    clip has world landmarks, else the image, where it is only meaningful from the side).
    Frames where the nose is not clearly in front of the ears (``MIN_FACE_DEPTH_TL``; in 2-D
    a face seen from the front) give nothing. Limits: ears are often poorly visible from
    behind; a head turned sideways moves the nose and so the "forward" direction.
    """
    sh, ws = _amid(pose, ctx, "shoulder")
    ear, we = _amid(pose, ctx, "ear")
    nose, wn = _apt(pose, ctx, "nose")
    hips, _ = _amid(pose, ctx, "hip")
    up = np.asarray(ctx.up, dtype=np.float64)
    face = _horizontal(nose - ear, up)
    torso = np.linalg.norm(sh - hips, axis=1)
    with np.errstate(invalid="ignore"):  # nose over the ears (face towards the camera/away)
        clear = np.linalg.norm(face, axis=1) >= MIN_FACE_DEPTH_TL * torso
    ahead = np.where(clear[:, None], _unit(face), np.nan)
    neck = ear - sh
    angle = np.degrees(np.arctan2(np.einsum("ij,ij->i", neck, ahead), neck @ up))
    return angle, np.minimum(np.minimum(ws, we), wn)


def arm_elevation(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Angle of the whole arm (shoulder to wrist) from straight down, in degrees: 0 hanging,
    90 level, 180 straight overhead (3-D against ``ctx.up`` when available)."""
    sh, ws = _apt(pose, ctx, f"{side}_shoulder")
    wr, ww = _apt(pose, ctx, f"{side}_wrist")
    return _angle_from(wr - sh, _down(ctx)), np.minimum(ws, ww)


def wrist_height(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Image height of the wrist above the hip midpoint in torso lengths (finds the top)."""
    return height_above_hips("wrist")(pose, ctx, side)


# --------------------------------------------------------------------------------------------
# The body's line in a plank or push-up, and the chest above the hands
# --------------------------------------------------------------------------------------------


def _vertical_frame(pose: PoseSequence, ctx: ClipContext
                    ) -> tuple[Callable[[str], tuple[np.ndarray, np.ndarray]], np.ndarray,
                               float | None]:
    """How a height is read: the midpoint of a left/right pair, "down" and the torso length in
    the same space -- the world landmarks against ``ctx.up`` (their own torso length, in
    metres) when the clip has them, else the image (y down, the image torso length)."""
    if ctx.world:
        def mid(part: str) -> tuple[np.ndarray, np.ndarray]:
            return _amid(pose, ctx, part)

        torso = np.linalg.norm(mid("shoulder")[0] - mid("hip")[0], axis=1)
        ok = np.isfinite(torso)
        scale = float(np.median(torso[ok])) if ok.any() else None
        return mid, -np.asarray(ctx.up, dtype=np.float64), \
            scale if scale is not None and scale > 1e-9 else None

    def image_mid(part: str) -> tuple[np.ndarray, np.ndarray]:
        return _mid(pose, part)

    return image_mid, np.array([0.0, 1.0]), ctx.scale


def hip_line_offset(pose: PoseSequence, ctx: ClipContext) -> Signal:
    """How far the hip midpoint sits below (+) or above (-) the straight line from the shoulder
    midpoint to the ankle midpoint, in torso lengths, per frame.

    The hips' perpendicular offset from that line, its part along the vertical: in a plank or
    a push-up (a line near horizontal) that is the whole offset, + a sagging, - a piked body;
    for a standing body (a vertical line) it is 0, since a forward or backward hip is no sag.
    3-D world landmarks against ``ctx.up`` when the clip has them (a plank has no standing
    frame, so that is usually the camera's vertical), else the image with y down. Limits:
    MediaPipe places the hip joint a few centimetres off under loose clothing, and a camera
    far from level tilts "down"."""
    mid, down, scale = _vertical_frame(pose, ctx)
    sh, ws = mid("shoulder")
    hp, wh = mid("hip")
    an, wa = mid("ankle")
    line = an - sh
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.einsum("ij,ij->i", hp - sh, line) / np.einsum("ij,ij->i", line, line)
    offset = (hp - (sh + t[:, None] * line)) @ down
    w = np.minimum(np.minimum(ws, wh), wa)
    if scale is None:
        return np.full(pose.n_frames, np.nan), np.zeros(pose.n_frames)
    return offset / scale, w


def shoulder_above_wrist(pose: PoseSequence, ctx: ClipContext, side: str) -> Signal:
    """Height of the shoulder midpoint above one wrist (the hand on the floor in a push-up),
    in torso lengths, along the vertical (3-D against ``ctx.up`` when the clip has world
    landmarks, else the image with y down): the chest's distance from the floor, up to the
    hand's thickness."""
    mid, down, scale = _vertical_frame(pose, ctx)
    sh, ws = mid("shoulder")
    wrist, ww = (_world_pt if ctx.world else _pt)(pose, f"{side}_wrist")
    if scale is None:
        return np.full(pose.n_frames, np.nan), np.zeros(pose.n_frames)
    return ((wrist - sh) @ down) / scale, np.minimum(ws, ww)


def positive_part(signal: Callable[[PoseSequence, ClipContext], Signal], sign: float = 1.0
                  ) -> Callable[[PoseSequence, ClipContext], Signal]:
    """``max(0, sign * signal)`` per frame: one side of a signed signal (the sag of the hip
    line, or its pike with ``sign=-1``)."""
    def fn(pose: PoseSequence, ctx: ClipContext) -> Signal:
        x, w = signal(pose, ctx)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(x), np.maximum(0.0, sign * x), np.nan), w

    return fn
