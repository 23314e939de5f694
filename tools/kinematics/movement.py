"""The structure of a movement: repetitions, the events within each, and stages named for
what the body does.

Why: a comparison is only fair at corresponding moments. "At the bottom" must mean the bottom
of each repetition in both videos, not the middle third of each clip; a still lead-in, a clip
played twice or a pause must not shift what is compared with what. So before anything is
measured, each clip's movement is read as:

* the **main moving signal**: the torso-normalised limb landmark positions projected on their
  main direction of change over the clip (first principal component), filled across gaps and
  smoothed over :data:`SMOOTH_S`. Its jitter ``sigma`` is measured on the residual of that
  smoothing (MAD), so every threshold below is relative to how noisy this clip is. Of a pair,
  each clip keeps its own direction when the two show the same motion
  (:data:`SAME_MOTION_COS2`), so its structure does not depend on its partner; only two clips
  whose main motions differ are read on one pooled direction;
* the **rest level**: where the body is when it is not moving, i.e. the level of the still
  frames (speed below :data:`STILL_SPEED` of the clip's high speeds) at the clip's ends -- the
  longer still end when the two disagree, so a clip that starts mid-repetition still finds it;
* **repetitions**: excursions away from rest that reach at least :data:`MIN_PROMINENCE` of the
  largest one, at least :data:`MIN_REP_S` apart, with a return towards rest (below
  :data:`MAX_RETURN`) between them; a turnaround a few frames before the clip ends (or after
  it starts) stands out by its other side only, since the clip does not show how far it
  comes back (at 60 frames/s a played-twice clip's second bottom is two frames from its end);
* **events** per repetition: ``start`` (the excursion first exceeds :data:`EVENT_LEVEL` of the
  repetition's peak), ``turnaround`` (its peak: the bottom of a squat, the top of a jump) and
  ``end`` (back below :data:`EVENT_LEVEL`). The movement's outer ends are the rest the clip
  starts and ends in: the first repetition starts where the body leaves the rest it holds
  from the clip's first frame, the last ends where it comes back to the rest it holds to the
  clip's last frame (a frame or two above the level within half a smoothing window, at the
  clip's edge or in a fidget, do not break that rest); a return near rest in between that
  more motion follows (a lunge flowing into a balance hold, a pause) stays inside the
  movement, since whether it dips below the level is a matter of a few percent of pose
  noise. Each event has a timing uncertainty: the signal's noise over its speed at a
  crossing (a slow start is less certain than a sharp one), and for the turnaround the
  half-width of the span within two noise levels of the peak (a long flat bottom is an
  uncertain moment). A repetition is *complete* when both its start and
  its end lie inside the clip: it leaves rest (or a still start position) and comes back to
  rest (or ends in a still hold of at least :data:`MIN_STILL_S`, such as a balance hold);
* **stages** between events, named for what happens: ``standing`` (or ``start position``)
  before the first start, then per repetition ``descent`` / ``bottom`` / ``ascent`` when the
  movement lowers the hips, ``rise`` / ``top`` / ``return`` when it raises them, and
  ``out`` / ``turnaround`` / ``back`` otherwise; ``bottom`` is the span where the excursion
  stays above :data:`HOLD_LEVEL` of the peak (at least the turnaround frame). Stages are
  contiguous, ordered and cover the clip, so they drop into every place a localizer's
  segments go. With several repetitions each stage name gets its number ("descent 2").
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Literal

import numpy as np

from viddiff.tools.kinematics.filters import find_peaks, savgol_filter, true_runs
from viddiff.tools.kinematics.results import MetricValue
from viddiff.tools.kinematics.signals import (
    ClipContext,
    height_above_hips,
    hip_height,
    joint_angle,
    trunk_lean,
)
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence
from viddiff.tools.segments import Segment

__all__ = [
    "PHASE_NAMES",
    "Event",
    "Movement",
    "Repetition",
    "movement_features",
    "movement_of",
    "movement_pair",
    "paired_events",
    "rep_count",
    "repetition_slices",
]

#: Smoothing span of the main signal, seconds.
SMOOTH_S = 0.25
#: A frame is still when its speed is below this share of the clip's 90th-percentile speed.
STILL_SPEED = 0.15
#: A repetition's excursion reaches at least this share of the clip's largest.
MIN_PROMINENCE = 0.5
#: A clip cut at a turnaround: its first or last frame is that far from rest (this share of the
#: largest excursion); a lower edge is a clip ending on the way somewhere, not at a turnaround.
EDGE_LEVEL = 0.8
#: Shortest time between two repetitions' turnarounds, seconds.
MIN_REP_S = 0.4
#: Between two repetitions the body comes back towards rest, below this share of the lower peak.
MAX_RETURN = 0.4
#: Start and end of a repetition: where its excursion crosses this share of its peak.
EVENT_LEVEL = 0.1
#: The turnaround stage (bottom / top): where the excursion stays above this share of the peak.
HOLD_LEVEL = 0.9
#: A clip whose first frames move faster than this share of its high speeds starts
#: mid-movement (its rest is where it ends).
START_SPEED = 0.5
#: A movement that does not return to rest still ends inside the clip when the body then holds
#: still for at least this long (a balance hold, a finish position), seconds.
MIN_STILL_S = 0.15
#: Two clips cut at the same point of the movement show the same part of it: where one
#: clip's movement is found to end (or start) inside it and the other's is not, the two still
#: show the same part when their last (first) frames are this close, as shares of their
#: repetition's excursion. Whether a body settling into a hold has settled by the clip's last
#: frame is a matter of a frame or two: a slowed copy of a clip that ends 0.13 s into a hold
#: ends 0.17 s into it, across the 0.15 s that makes a hold (:data:`MIN_STILL_S`).
SAME_EDGE = 0.2
#: Fewest valid frames a clip needs for a structure.
MIN_FRAMES = 8
#: An excursion smaller than this many noise levels is no movement at all.
MIN_EXCURSION_SIGMAS = 6.0
#: Two clips show the same main motion when their own main directions are less than 45°
#: apart (squared cosine at least a half: each direction lies more along the other than
#: across it); each is then read on its own.
SAME_MOTION_COS2 = 0.5

EventName = Literal["start", "turnaround", "end"]
Direction = Literal["lowers the hips", "raises the hips", "moves"]

_STAGE_NAMES: dict[str, tuple[str, str, str, str]] = {
    # direction -> (rest, towards the turnaround, the turnaround, back)
    "lowers the hips": ("standing", "descent", "bottom", "ascent"),
    "raises the hips": ("start position", "rise", "top", "return"),
    "moves": ("start position", "out", "turnaround", "back"),
}

#: The names of the stages on the way to and back from each turnaround, whatever the
#: direction ("descent", "ascent", "rise", "return", "out", "back"): a repetition's phases.
PHASE_NAMES: frozenset[str] = frozenset(
    name for _, towards, _, back in _STAGE_NAMES.values() for name in (towards, back))


@dataclass(frozen=True)
class Event:
    """A moment of a repetition: which one, its pose frame (row) and time, and how uncertain
    that time is (standard uncertainty, seconds)."""

    name: EventName
    row: int
    t: float
    uncertainty_s: float


@dataclass(frozen=True)
class Repetition:
    """One repetition: its events, the span of its turnaround stage (rows, inclusive), and
    whether it starts and ends inside the clip (else the clip cuts into it there)."""

    start: Event
    turnaround: Event
    end: Event
    hold: tuple[int, int]
    starts_inside: bool
    ends_inside: bool

    @property
    def complete(self) -> bool:
        """Whether the clip shows the whole repetition: it starts and ends inside the clip."""
        return self.starts_inside and self.ends_inside

    @property
    def events(self) -> tuple[Event, Event, Event]:
        return (self.start, self.turnaround, self.end)

    @property
    def duration_s(self) -> float:
        return self.end.t - self.start.t


@dataclass(frozen=True)
class Movement:
    """A clip's movement structure (see the module docstring). ``reps`` is empty when the
    clip shows no movement that clears its noise; ``stages`` then is the whole clip as one
    ``still`` stage."""

    direction: Direction
    reps: tuple[Repetition, ...]
    stages: tuple[Segment, ...]
    n_frames: int
    sigma: float
    #: How far from rest the clip's first and last frames are, as shares of the first and the
    #: last repetition's excursion (0: at rest, 1: at the turnaround); None with no movement.
    edge_levels: tuple[float, float] | None = None

    @property
    def complete_reps(self) -> tuple[Repetition, ...]:
        return tuple(r for r in self.reps if r.complete)

    @property
    def turnaround_name(self) -> str:
        return _STAGE_NAMES[self.direction][2]

    @property
    def coverage(self) -> tuple[bool, bool] | None:
        """Whether the clip shows the movement's beginning and its end (None: no movement):
        two clips whose coverage differs show different parts of the movement."""
        if not self.reps:
            return None
        return self.reps[0].starts_inside, self.reps[-1].ends_inside

    def shows_same_part(self, other: Movement) -> bool:
        """Whether this clip and ``other`` show the same part of the movement: the same
        coverage, or, at an edge where one is cut and the other is not, their edge frames at
        the same point of the movement (:data:`SAME_EDGE`). False when either shows none."""
        if self.coverage is None or other.coverage is None:
            return False
        if self.coverage == other.coverage:
            return True
        if self.edge_levels is None or other.edge_levels is None:
            return False
        return all(mine == theirs or abs(lm - lt) <= SAME_EDGE
                   for mine, theirs, lm, lt in zip(self.coverage, other.coverage,
                                                   self.edge_levels, other.edge_levels,
                                                   strict=True))

    def span(self) -> tuple[int, int] | None:
        """Rows from the first repetition's start to the last one's end (None: no movement)."""
        if not self.reps:
            return None
        return self.reps[0].start.row, self.reps[-1].end.row


_ANGLES = (("hip", "knee", "ankle"), ("shoulder", "hip", "knee"),
           ("shoulder", "elbow", "wrist"), ("hip", "shoulder", "elbow"))


def movement_features(pose: PoseSequence) -> np.ndarray | None:
    """(T, D) features the main signal is made of, chosen so that a different camera, a
    different size in the frame or a mirror image changes them little: joint angles (3-D when
    the clip has world landmarks) as the mean and the absolute difference of the two sides,
    divided by 90°; trunk lean / 90°; hip, hand and knee heights in torso lengths. Gaps are
    filled by interpolation; None when too few frames have a person. Two-sided features are
    read on the sides seen through the clip (:func:`_two_sided`)."""
    ctx = ClipContext.of(pose)
    cols: list[np.ndarray] = []
    for a, b, c in _ANGLES:
        fn = joint_angle(a, b, c)
        cols += [col / 90.0 for col in _two_sided(fn(pose, ctx, "left")[0],
                                                 fn(pose, ctx, "right")[0], "mean")]
    cols.append(trunk_lean(pose, ctx)[0] / 90.0)
    cols.append(hip_height(pose, ctx)[0])
    wrist, knee = height_above_hips("wrist"), height_above_hips("knee")
    cols.append(_two_sided(wrist(pose, ctx, "left")[0], wrist(pose, ctx, "right")[0],
                           "mean")[0])
    cols.append(_two_sided(knee(pose, ctx, "left")[0], knee(pose, ctx, "right")[0], "max")[0])
    out = [filled for col in cols if (filled := _filled(col)) is not None]
    if len(out) < 3:
        return None
    return np.stack(out, axis=1)


#: A side of the body enters a two-sided movement feature when the pose model sees it in at
#: least this share of the frames it sees the other side in.
SIDE_SEEN = 0.8


def _filled(col: np.ndarray) -> np.ndarray | None:
    """``col`` with its gaps interpolated (held at the ends), or None when it has fewer than
    :data:`MIN_FRAMES` values."""
    ok = np.isfinite(col)
    if ok.sum() < MIN_FRAMES:
        return None
    rows = np.flatnonzero(ok)
    return np.interp(np.arange(col.size), rows, col[rows])


def _two_sided(left: np.ndarray, right: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """A two-sided feature -- the sides' mean (or max) and their absolute difference -- from
    each side's gaps filled on its own, and from one side alone when the other is seen in far
    fewer frames (:data:`SIDE_SEEN`; the difference is then a constant, which no main
    direction uses). Combined frame by frame on whichever sides are seen, the feature would
    jump whenever a hidden side appeared: a right wrist seen raised for 27 of 50 frames
    switched the hands' mean height by 0.8 torso lengths from one frame to the next, and the
    step split one lunge into two repetitions in one copy and not in another."""
    seen = [int(np.isfinite(v).sum()) for v in (left, right)]
    sides = [filled for v, k in zip((left, right), seen, strict=True)
             if k >= SIDE_SEEN * max(seen) and (filled := _filled(v)) is not None]
    if not sides:
        return np.full(left.size, np.nan), np.full(left.size, np.nan)
    if len(sides) == 1:
        return sides[0], np.zeros(left.size)
    pair = np.stack(sides)
    combined = pair.mean(axis=0) if how == "mean" else pair.max(axis=0)
    return combined, np.abs(pair[0] - pair[1])


def _main_direction(*feats: np.ndarray) -> np.ndarray:
    """The first principal direction of the pooled, per-clip centred features."""
    pooled = np.concatenate([f - f.mean(axis=0) for f in feats])
    _, _, vt = np.linalg.svd(pooled, full_matrices=False)
    return np.asarray(vt[0])


def _pair_directions(fa: np.ndarray, fb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The main directions two clips are read on. When their own main directions show the
    same motion (:data:`SAME_MOTION_COS2`), each clip keeps its own, so a clip's structure
    does not depend on what it is paired with (a pooled direction only a few degrees off its
    own moves every threshold crossing a little, and a crossing near its threshold moves a
    whole event); when they show different motions, both are read on one pooled direction,
    so that their turnarounds are the same kind of moment."""
    da, db = _main_direction(fa), _main_direction(fb)
    if float(da @ db) ** 2 >= SAME_MOTION_COS2:
        return da, db
    shared = _main_direction(fa, fb)
    return shared, shared


def _smooth(x: np.ndarray, period: float) -> tuple[np.ndarray, float]:
    """Smoothed signal and its per-frame jitter (robust sd of the residual)."""
    window = _smooth_window(period)
    if x.size <= window:
        return x.copy(), 0.0
    fit = savgol_filter(x, window, 2)
    resid = x - fit
    sigma = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    return fit, sigma


def _speed(x: np.ndarray, period: float) -> tuple[np.ndarray, float]:
    """The main signal's speed per frame and the clip's high speed (its 90th percentile)."""
    speed = np.abs(np.gradient(x)) / max(period, 1e-9)
    return speed, float(np.percentile(speed, 90)) if speed.size else 0.0


def _still(speed: np.ndarray, high: float) -> np.ndarray:
    return speed <= STILL_SPEED * high if high > 0 else np.ones_like(speed, dtype=bool)


def _still_run(still: np.ndarray) -> int:
    """How many frames the clip stays still from its first frame."""
    return int(np.argmin(still)) if not still.all() else still.size


def _rest_level(x: np.ndarray, high: float, still: np.ndarray, min_still: int,
                period: float) -> float:
    """The level the body rests at. A clip is taken to start at rest (the level of its first
    frames, pooled with a still end at the same level) unless it starts in fast motion with a
    still end: then it started mid-movement, and the end is the rest."""
    head = x[:min_still]
    tail_n = _still_run(still[::-1])
    tail = x[x.size - tail_n:] if tail_n >= min_still else x[:0]
    # fast by how far the first frames go, not by how much they shake: the smoothing fits its
    # first window with one polynomial, so pose jitter there reads as speed back and forth (a
    # start that shook 0.51 -> 0.42 -> 0.51 was taken for mid-movement, and the clip's still
    # end for its rest, on one CPU's pose numerics and not on another's)
    travel = abs(float(x[head.size - 1] - x[0])) / max((head.size - 1) * period, 1e-9) \
        if head.size > 1 else 0.0
    starts_fast = high > 0 and travel > START_SPEED * high
    if starts_fast and tail.size:
        return float(np.median(tail))
    span = float(np.ptp(x)) or 1.0
    if tail.size and abs(float(np.median(head)) - float(np.median(tail))) <= 0.1 * span:
        return float(np.median(np.concatenate([head, tail])))
    return float(np.median(head))


def _smooth_window(period: float) -> int:
    """Frames of the main signal's smoothing window (odd, about :data:`SMOOTH_S`)."""
    return max(5, round(SMOOTH_S / period) | 1) if period > 0 else 5


def _rest_ends(low: np.ndarray, edge: int) -> np.ndarray:
    """Of the frames near rest (``low``), those of the rest the clip starts and ends in: the
    runs of them from its first frame on, and back from its last, each within ``edge``
    frames of the one before (the smoothing's half window: a frame or two may stray above
    the level at the clip's edges, where one polynomial fits the first or last window, or
    in a fidget before the movement). The movement runs from leaving the one to coming back
    to the other; a return near rest in between that more motion follows (a lunge flowing
    into a balance hold, a pause) is part of it. Whether such a return dips below the event
    level depends on a few percent of pose noise -- another camera, a smaller person, a
    partner clip's main direction -- and a start or end that hung on it would jump by a
    whole motion."""
    out = np.zeros_like(low)
    runs = true_runs(low)  # [a, b)
    reach = 0
    for a, b in runs:
        if a - reach > edge:
            break
        out[a:b], reach = True, b
    reach = low.size
    for a, b in reversed(runs):
        if reach - b > edge:
            break
        out[a:b], reach = True, a
    return out


def _crossing_uncertainty(x: np.ndarray, row: int, sigma: float, period: float) -> float:
    """Timing uncertainty of a level crossing: noise over the signal's speed there."""
    lo, hi = max(row - 1, 0), min(row + 1, x.size - 1)
    slope = abs(float(x[hi] - x[lo])) / max((hi - lo) * period, 1e-9)
    if slope <= 0:
        return max(period, SMOOTH_S)
    return max(period, min(sigma / slope, SMOOTH_S * 4))


@dataclass(frozen=True)
class HipDrop:
    """How far the hips are lower at the turnarounds than at rest, in torso lengths
    (negative: higher), read two ways: against the lower foot, and in the picture.

    Against the foot is what the body does, whatever the camera: a lunge towards or away
    from a camera above or below the person moves the whole body up or down the picture
    (cam03 and cam04 of the shared take see the hips *rise* 0.2-0.3 torso lengths in the
    picture while they drop 0.1-0.2 towards the standing foot). In the picture is how a
    body that leaves the floor or rises onto the toes shows: its feet rise with it, so
    against the foot nothing changes."""

    against_foot: float | None
    in_picture: float | None


def _hip_drop(pose: PoseSequence, turns: list[int], rest_rows: np.ndarray) -> HipDrop:
    """The hips' drop at the turnarounds against rest (:class:`HipDrop`; image y grows
    downwards); a reading that cannot be made is None."""
    def y_of(*names: str) -> np.ndarray:
        return pose.keypoints[:, [LANDMARK_INDEX[n] for n in names], 1].astype(np.float64)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames: no hips seen
        hip_y = np.nanmean(y_of("left_hip", "right_hip"), axis=1)
        torso = np.nanmedian(np.abs(np.nanmean(y_of("left_shoulder", "right_shoulder"), axis=1)
                                    - hip_y))
        if not turns or rest_rows.size == 0 or not np.isfinite(torso) or torso <= 0:
            return HipDrop(None, None)
        below_foot = hip_y - np.nanmax(y_of("left_ankle", "right_ankle"), axis=1)

        def drop(y: np.ndarray) -> float | None:
            at_turn, at_rest = np.nanmedian(y[turns]), np.nanmedian(y[rest_rows])
            if not (np.isfinite(at_turn) and np.isfinite(at_rest)):
                return None
            return float((at_turn - at_rest) / torso)

        return HipDrop(drop(below_foot), drop(hip_y))


#: A drop (or rise) of the hips that names the stages: a tenth of the torso.
NAMING_DROP = 0.1


def _naming(*drops: HipDrop) -> Direction:
    """The stage names' direction from the hips' drop at the turnaround (of one clip, or of
    both clips of a pair together, so that both get the same names). The hips lower when they
    come more than :data:`NAMING_DROP` nearer the standing foot; they rise when, without
    that, they rise more than it in the picture (a jump, a rise onto the toes); else the
    movement just moves."""
    def agreed(values: list[float | None], sign: float) -> bool:
        known = [v for v in values if v is not None]
        return bool(known) and sign * float(np.mean(known)) > NAMING_DROP and \
            all(sign * v > 0 for v in known)

    if agreed([d.against_foot for d in drops], 1.0):
        return "lowers the hips"
    if agreed([d.in_picture for d in drops], -1.0):
        return "raises the hips"
    return "moves"


def movement_of(pose: PoseSequence) -> Movement:
    """The movement structure of ``pose`` alone (memoised per pose; see the module
    docstring)."""
    def build() -> Movement:
        feats = _features(pose)
        draft = _draft(pose, feats, _main_direction(feats) if feats is not None else None)
        return _finish(pose, draft, _naming(draft.drop))

    return pose.derived(("movement",), build)


def movement_pair(pose_a: PoseSequence, pose_b: PoseSequence) -> tuple[Movement, Movement]:
    """The movement structures of two clips, with one naming. When both clips' main
    directions show the same motion, each is read on its own, so each clip's repetitions and
    events are those of :func:`movement_of` whatever it is paired with; when they differ (one
    clip shows a second, smaller motion more strongly), both are read on ONE main signal (the
    principal direction of both clips' features together), so the turnaround of A and of B
    are the same kind of moment (memoised per pair)."""
    def build() -> tuple[PoseSequence, tuple[Movement, Movement]]:
        fa, fb = _features(pose_a), _features(pose_b)
        if fa is None or fb is None or fa.shape[1] != fb.shape[1]:
            return pose_b, (movement_of(pose_a), movement_of(pose_b))
        dir_a, dir_b = _pair_directions(fa, fb)
        da, db = _draft(pose_a, fa, dir_a), _draft(pose_b, fb, dir_b)
        naming = _naming(da.drop, db.drop)
        return pose_b, (_finish(pose_a, da, naming), _finish(pose_b, db, naming))

    # keyed by B's identity; B is kept with the answer, so its id cannot be reused meanwhile
    return pose_a.derived(("movement_pair", id(pose_b)), build)[1]


def paired_events(movement_a: Movement, movement_b: Movement
                  ) -> list[tuple[int, Event, Event]]:
    """Corresponding moments of two movements: repetition k of A with repetition k of B,
    event by event (start, turnaround, end), as ``(k, event in A, event in B)``, k from 1."""
    return [(k, ea, eb)
            for k, (rep_a, rep_b) in enumerate(zip(movement_a.reps, movement_b.reps,
                                                   strict=False), start=1)
            for ea, eb in zip(rep_a.events, rep_b.events, strict=True)]


#: Repetitions are measured one by one and averaged only when they look alike: the longest at
#: most this many times the shortest (else the clip is one movement, measured whole).
MAX_DURATION_RATIO = 2.5


def repetition_slices(pose: PoseSequence) -> tuple[slice, ...]:
    """The pose frames of each complete repetition, for per-repetition values, or ``()``
    when the clip shows the movement once (or repetitions too unlike to average: a lunge
    followed by a balance hold is one movement). A set of squats measured as one long
    movement would read its single deepest squat, and one unusual repetition would decide."""
    reps = movement_of(pose).complete_reps
    if len(reps) < 2:
        return ()
    spans = [r.end.row - r.start.row + 1 for r in reps]
    if max(spans) > MAX_DURATION_RATIO * min(spans):
        return ()
    return tuple(slice(r.start.row, r.end.row + 1) for r in reps)


#: Standard uncertainty of a repetition count: a repetition near the prominence threshold may
#: or may not count, so a count is not exact, but a difference of one repetition is resolved.
REP_COUNT_UNCERTAINTY = 0.2
#: How far :data:`MIN_PROMINENCE` is moved either way (a factor) to see whether the count hangs
#: on it: the threshold is a choice, and an excursion about half the largest one (a lunge
#: before a higher knee raise) is a repetition at one choice and not at the next.
PROMINENCE_MARGIN = 1.25


def rep_count(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    """How many repetitions the clip shows (within ``segment``, whose turnarounds lie in it):
    excursions that start from rest and come back to it inside the clip, or whose turnaround
    lies at least :data:`MIN_REP_S` from its edges (a clip that cuts into a movement at its
    first or last frame shows no whole turnaround there, but a quick movement seen from rest
    to rest is whole however short the clip is); evidence: each repetition's turnaround.
    The counts at a prominence threshold :data:`PROMINENCE_MARGIN` lower and higher go with
    it (``at_other_settings``): two clips' counts differ only if they differ at all three.
    Registered as the metric ``rep_count``."""
    m = movement_of(pose)
    if not m.reps and not pose.present.any():
        return MetricValue(None, 0.0, 0, "reps", note="no person found")
    reps = _counted(m.reps, pose, ctx, segment)
    joins = len(_split_pairs(m.reps))
    feats = _features(pose)
    others: tuple[float, ...] = ()
    if feats is not None:
        direction = _main_direction(feats)
        others = tuple(float(len(_counted(_draft(pose, feats, direction,
                                                 MIN_PROMINENCE * f).reps, pose, ctx,
                                          segment)))
                       for f in (1 / PROMINENCE_MARGIN, PROMINENCE_MARGIN))
    return MetricValue(float(len(reps)), math.hypot(REP_COUNT_UNCERTAINTY, SPLIT_UNCERTAINTY
                                                    * math.sqrt(joins)),
                       int(pose.present.sum()), "reps",
                       rows=tuple(r.turnaround.row for r in reps), at_other_settings=others)


def movement_span(pose: PoseSequence, ctx: ClipContext, segment: Segment | None) -> MetricValue:
    """Time from the first repetition's start to the last one's end, whatever the stage asked
    (the movement as a whole), uncertain by those two events' timing; registered as the
    metric ``movement_span``.

    Why beside the movement time per repetition: a whole set of repetitions slowed by a
    quarter is slower by a quarter of all of it, while each repetition's time (0.77 s for a
    jumping jack, 0.38 s for a step) is slower by less than its own resolution, and two events
    are timed as well as one. A still lead-in or lead-out lies outside both events."""
    reps = movement_of(pose).reps
    if not reps:
        note = "no movement found" if pose.present.any() else "no person found"
        return MetricValue(None, 0.0, 0, "s", note=note)
    first, last = reps[0].start, reps[-1].end
    return MetricValue(last.t - first.t, math.hypot(first.uncertainty_s, last.uncertainty_s),
                       last.row - first.row + 1, "s", rows=(first.row, last.row))


def _counted(reps: tuple[Repetition, ...], pose: PoseSequence, ctx: ClipContext,
             segment: Segment | None) -> list[Repetition]:
    """The repetitions :func:`rep_count` counts, a split one (:func:`_split_pairs`) once."""
    lo, hi = (0, pose.n_frames - 1) if segment is None else (segment.start, segment.end)
    edge = MIN_REP_S / max(ctx.frame_period, 1e-9)
    splits = _split_pairs(reps)
    second_halves = {id(second) for _, second in splits}
    whole = {id(first): replace(first, end=second.end, ends_inside=second.ends_inside)
             for first, second in splits}
    joined = [whole.get(id(r), r) for r in reps if id(r) not in second_halves]
    return [r for r in joined if lo <= r.turnaround.row <= hi
            and ((r.starts_inside and r.ends_inside)  # whole: from rest and back to it
                 or (edge <= r.turnaround.row <= pose.n_frames - 1 - edge
                     and (r.starts_inside or r.ends_inside)))]


#: Standard uncertainty a split repetition (:func:`_split_pairs`) adds to a count: it is one
#: excursion with two turnarounds or two repetitions that never came back to rest between
#: them, either way as likely.
SPLIT_UNCERTAINTY = 0.5


def _split_pairs(reps: tuple[Repetition, ...]) -> list[tuple[Repetition, Repetition]]:
    """Neighbouring repetitions that are one excursion from rest to rest: the first leaves
    rest and does not come back to it, the next comes back to rest without having left it,
    and the second starts where the first ends. Counted once (:func:`_counted`), with
    :data:`SPLIT_UNCERTAINTY`.

    Why: a walk has no rest between its steps, and whether a dip between two turnarounds
    ends one repetition is a small thing of the signal: the mirror image of one walk split
    two of its steps in two this way and counted 6 steps against the original's 3."""
    return [(first, second) for first, second in pairwise(reps)
            if first.starts_inside and not first.ends_inside
            and second.ends_inside and not second.starts_inside
            and second.start.row <= first.end.row + 1]


def _features(pose: PoseSequence) -> np.ndarray | None:
    return pose.derived(("movement_features",), lambda: movement_features(pose))


@dataclass(frozen=True)
class _Draft:
    """A clip's repetitions before the stages are named (naming may need the other clip)."""

    reps: tuple[Repetition, ...]
    drop: HipDrop
    sigma: float
    edge_levels: tuple[float, float] | None = None


def _finish(pose: PoseSequence, draft: _Draft, naming: Direction) -> Movement:
    if not draft.reps:
        whole = (Segment(stage="still", start=0, end=max(pose.n_frames - 1, 0)),)
        return Movement(direction="moves", reps=(), stages=whole, n_frames=pose.n_frames,
                        sigma=draft.sigma)
    return Movement(direction=naming, reps=draft.reps,
                    stages=_stages(list(draft.reps), naming, pose.n_frames),
                    n_frames=pose.n_frames, sigma=draft.sigma, edge_levels=draft.edge_levels)


def _draft(pose: PoseSequence, feats: np.ndarray | None,
           direction_vector: np.ndarray | None, prominence: float = MIN_PROMINENCE) -> _Draft:
    period = pose.frame_period if pose.n_frames > 1 else 0.0
    if feats is None or direction_vector is None or period <= 0:
        return _Draft((), HipDrop(None, None), 0.0)
    raw = (feats - feats.mean(axis=0)) @ direction_vector
    x, sigma = _smooth(raw, period)
    speed, high = _speed(x, period)
    still = _still(speed, high)
    min_still = max(2, math.ceil(MIN_STILL_S / period))
    rest = _rest_level(x, high, still, min_still, period)
    away = np.abs(x - rest)
    top = float(away.max())
    if top <= max(MIN_EXCURSION_SIGMAS * sigma, 1e-6):
        return _Draft((), HipDrop(None, None), sigma)
    peaks = find_peaks(away, prominence=prominence * top,
                       distance=max(1, int(MIN_REP_S / period)), cut_ends=True)
    peaks = peaks[away[peaks] >= prominence * top] if peaks.size else peaks
    highest = int(np.argmax(away))  # a flat top is no strict local maximum, but a turnaround
    if not any(abs(highest - q) < MIN_REP_S / period for q in peaks):
        peaks = np.sort(np.append(peaks, highest).astype(np.int64))
    # a clip cut at a turnaround has its peak at the first or last frame, which is no local
    # maximum inside the clip but is a repetition's turnaround all the same
    edges = [i for i, j in ((0, 1), (x.size - 1, x.size - 2))
             if away[i] >= EDGE_LEVEL * top and away[i] >= away[j]
             and all(abs(i - q) >= MIN_REP_S / period for q in peaks)]
    peaks = np.sort(np.concatenate([peaks, np.array(edges, dtype=peaks.dtype)])) \
        if edges else peaks
    # merge neighbouring peaks with no return towards rest between them: one repetition
    merged = [int(peaks[0])]
    for p in peaks[1:]:
        q = merged[-1]
        valley = float(away[q:p + 1].min())
        if valley > MAX_RETURN * min(away[q], away[p]):
            if away[p] > away[q]:
                merged[-1] = int(p)
        else:
            merged.append(int(p))
    cuts = [0, *(int(a + np.argmin(away[a:b + 1])) for a, b in pairwise(merged)), x.size - 1]
    reps = []
    for k, turn in enumerate(merged):
        lo, hi = cuts[k], cuts[k + 1]
        level = EVENT_LEVEL * away[turn]
        low = away < level
        # the movement's outer ends: from the clip's starting rest, back to its final rest
        # (between two repetitions any return below the level ends one, starts the next)
        rested = _rest_ends(low, _smooth_window(period) // 2)
        before = np.flatnonzero((rested if k == 0 else low)[lo:turn + 1])
        after = np.flatnonzero((rested if k == len(merged) - 1 else low)[turn:hi + 1])
        start = lo + int(before[-1]) + 1 if before.size else lo
        end = turn + int(after[0]) - 1 if after.size else hi
        started, ended = bool(before.size), bool(after.size)
        if not ended and k == len(merged) - 1:  # ends held still away from rest (a balance
            run = _still_run(still[::-1])        # hold, a finish position): ends where it holds
            if run >= min_still and x.size - run > turn:
                end, ended = x.size - run, True
        if not started and k == 0:  # starts held still away from rest
            run = _still_run(still)
            if run >= min_still and run - 1 < turn:
                start, started = run - 1, True
        start, end = min(start, turn), max(end, turn)
        hold_level = HOLD_LEVEL * away[turn]
        h0 = turn
        while h0 > start and away[h0 - 1] >= hold_level:
            h0 -= 1
        h1 = turn
        while h1 < end and away[h1 + 1] >= hold_level:
            h1 += 1
        near = np.flatnonzero(away[start:end + 1] >= away[turn] - 2 * sigma)
        half_width = (near.max() - near.min()) * period / 2 if near.size else period
        ts = pose.timestamps
        reps.append(Repetition(
            start=Event("start", start, float(ts[start]),
                        _crossing_uncertainty(x, start, sigma, period)),
            turnaround=Event("turnaround", turn, float(ts[turn]),
                             max(period, float(half_width) / math.sqrt(3))),
            end=Event("end", end, float(ts[end]), _crossing_uncertainty(x, end, sigma, period)),
            hold=(h0, h1), starts_inside=started, ends_inside=ended))
    rest_rows = np.flatnonzero(away < EVENT_LEVEL * top)
    first, last = reps[0].turnaround.row, reps[-1].turnaround.row
    edge_levels = (float(away[0] / away[first]) if away[first] > 0 else 0.0,
                   float(away[-1] / away[last]) if away[last] > 0 else 0.0)
    return _Draft(tuple(reps), _hip_drop(pose, [r.turnaround.row for r in reps], rest_rows),
                  sigma, edge_levels)


def _stages(reps: list[Repetition], direction: Direction, n_frames: int) -> tuple[Segment, ...]:
    """Contiguous named stages covering all rows: rest, then per repetition towards / at /
    back from the turnaround, with rest between repetitions and after the last."""
    rest, towards, turn, back = _STAGE_NAMES[direction]
    numbered = len(reps) > 1
    spans: list[tuple[str, int, int]] = []
    cursor = 0
    for k, rep in enumerate(reps, start=1):
        tag = f" {k}" if numbered else ""
        h0, h1 = rep.hold
        for name, a, b in ((rest if k == 1 else f"{rest} after {k - 1}", cursor,
                            rep.start.row - 1),
                           (f"{towards}{tag}", rep.start.row, h0 - 1),
                           (f"{turn}{tag}", h0, h1),
                           (f"{back}{tag}", h1 + 1, rep.end.row)):
            if b >= a:
                spans.append((name, a, b))
        cursor = rep.end.row + 1
    if cursor <= n_frames - 1:
        spans.append((f"{rest} at the end" if reps else rest, cursor, n_frames - 1))
    # unique names (a rest between reps is named after the rep it follows)
    seen: dict[str, int] = {}
    out = []
    for name, a, b in spans:
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name} ({seen[name]})"
        out.append(Segment(stage=label, start=a, end=b))
    return tuple(out)
