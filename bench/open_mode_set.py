"""Constructed copies of the real clips for open mode (issue 19): controls and cases.

Every pair is an original clip (A: the clip re-encoded at the pipeline's size, as in
:mod:`bench.validation_set`) and a copy (B) made from it by construction with
``tests.support.videos.write_variant``, so the right answer is known:

**Controls** differ only in how the performance was *captured*; the right open-mode answer is
no stated difference, and closed-mode statements about geometry and timing must get ``c``:

* ``resized_0.6``: the whole picture at 60% of its size (fewer pixels, same framing);
* ``framed_0.6``: the picture shrunk to 60% inside a black frame (the person further away);
* ``halfres_crf40``: half the source's resolution (540×960 of 1080×1920) and heavy H.264
  compression (CRF 40); the pipeline reads both at its 448 px, so what differs is the
  compression (a copy at half of 448 px is too small for the pose model to find the person
  in two of the four clips, which would make the control pass without measuring anything);
* ``blurred_2``: every frame blurred (a Gaussian of 2 px at the pipeline's 448 px), same size:
  filmed out of focus or through a poorer lens;
* ``dark_0.3``: every frame three times darker, with sensor noise (3 grey levels) and the
  compression that a phone gives such a picture (CRF 28): filmed in poor light;
* ``feet_cut``: the bottom of the picture cut off just above the ankles (at the highest the
  middle of a shin comes in the clip, :func:`feet_cut_share`): framed tighter, the feet out of
  the picture. What needs the feet may be unmeasurable; nothing may differ;
* ``fps_24``: re-timed to 24 frames/s, same timing;
* ``mirror``: flipped left-right. A mirror image is the mirror-image movement, so a *sided*
  statement ("the left knee bends more in A") is true of it and is not counted false; every
  other statement is (closed mode checks the swap with :data:`~bench.validation_set.MIRROR_PAIRS`);
* ``lead_in_1``: the first frame held for 1 s before the movement. It may honestly change the
  clip's *total* duration, so a whole-clip timing statement saying B takes longer is allowed;
  the movement's speed, its pauses and its geometry may not change (a still stretch before the
  movement starts is not a pause in it).

**Cases** hold one known difference, which open mode must state (ideally first) and closed
mode must answer:

* ``slow_1.25`` / ``slow_1.5``: the same frames shown longer: B is slower;
* ``pause_0.7``: the frame where the hips are lowest (the bottom of the movement) held 0.7 s:
  B pauses longer; a statement that B takes longer is also true;
* ``twice``: the clip played twice in a row: B has more repetitions; a whole-clip statement
  that B takes longer is also true, a per-stage or per-repetition timing one is not.
* ``shallow_0.6`` / ``shallow_0.4``: a geometric difference. A is *not* the plain original
  here but the clip played to the bottom of its first descent and back to its first frame
  (every frame real: a full-depth lunge down and up); B the same turned where the hips have
  dropped 60% / 40% of the way (:func:`descent_turns`): same person and camera, truly
  shallower (it never reaches A's deeper poses) and shorter. B must be stated shallower
  (A's knees bend more, thighs tilt further, hips drop lower, knees and hips move through a
  larger range). Also true: B takes less time, any extreme over the movement is at least as
  extreme in A (B's frames are a subset of A's), and A may hold still longer at its bottom.

The shared data holds no pair of different performances with a documented difference
(``../shared/data/README.md``: the four clips are views of one take), so every case is
constructed. The shipped example pair (``examples/clips``: two views of one take, about 30°
apart) is one more control, ``example_AB``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bench.validation_set import (
    BODY_STATEMENTS,
    EXTREME_STATEMENTS,
    FASTER,
    MIRROR_PAIRS,
    PAUSE,
    Expectation,
)
from tests.support.videos import CLIPS_DIR, REPO, write_variant

if TYPE_CHECKING:
    from viddiff.tools.pose.sequence import PoseSequence

ACTION = "a lunge with a balance hold"
CLIP = "Demo_SinglePerson_cam{:02d}.mp4"
EXAMPLES = REPO / "examples" / "clips"
#: Closed-mode statement for the played-twice case.
MORE_REPS = "there are more repetitions"
#: Closed-mode statements about depth for the turned-early (shallower) case, true of A: the
#: full-depth movement. "The squat is shallower" is asked too, true of B (the same fact said
#: the other way round, which the engine must read as such).
DEEPER_A: tuple[str, ...] = ("the knees bend more", "the squat is deeper", "the hips go lower",
                             "the lunge is deeper")
SHALLOWER_B = "the squat is shallower"

Category = Literal["timing", "pause", "reps", "depth", "reach", "geometry"]
Video = Literal["a", "b"]


@dataclass(frozen=True)
class Fact:
    """A difference of one category true of one video: ``("timing", "b")`` is "B is slower
    (takes longer)", ``("pause", "b")`` "B pauses longer", ``("reps", "b")`` "B has more
    repetitions", ``("depth", "a")`` "A goes deeper" (the knees bend more, the hips drop
    lower, the legs or hips move through a larger range), ``("reach", "a")`` "A reaches
    further": an extreme over the movement (a largest, smallest or range) is more extreme in
    A, in any body part. ``whole_clip`` restricts a fact to statements about the whole clip."""

    category: Category
    video: Video
    whole_clip: bool = False


@dataclass(frozen=True)
class Pair:
    """One constructed pair: what open mode must state and closed mode must answer."""

    name: str
    clip: str
    variant: str
    original: Path
    copy: Path
    kind: Literal["control", "case"]
    #: the constructed difference (cases): stating any one of these counts as found
    target: tuple[Fact, ...] = ()
    #: other statements that are true of the pair and so not counted false
    allowed: tuple[Fact, ...] = ()
    #: sided statements are true of the pair (the mirror)
    sided_allowed: bool = False
    closed: tuple[Expectation, ...] = ()
    mirror_pairs: tuple[tuple[str, str], ...] = ()
    #: both videos are at 60 frames/s, so --pose-fps 60 reads more frames than 30
    pose_fps_60: bool = False

    @property
    def statements(self) -> list[str]:
        out = [e.statement for e in self.closed]
        for left, right in self.mirror_pairs:
            out += [left, right]
        return out


def _no_difference(statements: Iterable[str]) -> tuple[Expectation, ...]:
    return tuple(Expectation(s, "c", False) for s in statements)


@dataclass(frozen=True)
class Variant:
    """How a copy is made (``write_variant`` keywords) and what it must give."""

    name: str
    kind: Literal["control", "case"]
    writer: dict[str, Any]
    closed: tuple[Expectation, ...]
    target: tuple[Fact, ...] = ()
    allowed: tuple[Fact, ...] = ()
    sided_allowed: bool = False
    mirror_pairs: tuple[tuple[str, str], ...] = ()
    source_fps_kept: bool = True
    needs_bottom: bool = False
    #: the picture cut above the ankles (:func:`feet_cut_share`)
    needs_feet: bool = False
    #: a turned-early copy: B turned where the hips have dropped this fraction of the way to
    #: the bottom, against A turned at the bottom (:func:`turn_frame`)
    turn_fraction: float | None = None


_CONTROL_CLOSED = _no_difference((FASTER, PAUSE, *BODY_STATEMENTS))
#: What else is true of a turned-early copy (B's frames are a subset of A's, shown in the same
#: order and at the same rate): B takes less time (movement time, descent, ascent, stage
#: durations); any largest, smallest or range over the movement is at least as extreme in A,
#: so "A reaches further" in any part (the arms swing up with this lunge, the stance opens as
#: the step lands) is true wherever the part moves after B's turn; and A turns at the bottom,
#: where the original movement slows, so it may hold still longer there than B, which turns
#: mid-descent. A mean or median over time (the stance's median, a mean speed or tilt) can move
#: either way, and the number of repetitions (one down and up in each) cannot change.
_SHALLOW_ALLOWED = (Fact("timing", "a"), Fact("reach", "a"), Fact("pause", "a"))
_SHALLOW_CLOSED = (*(Expectation(s, "a", True) for s in DEEPER_A),
                   Expectation(SHALLOWER_B, "b", True), *_no_difference((MORE_REPS,)))
#: Every variant, in report order.
VARIANTS: tuple[Variant, ...] = (
    Variant("resized_0.6", "control", {"resize": 0.6}, _CONTROL_CLOSED),
    Variant("framed_0.6", "control", {"scale": 0.6, "pad": (0, 0, 0)}, _CONTROL_CLOSED),
    Variant("halfres_crf40", "control", {"max_side": 960, "crf": 40}, _CONTROL_CLOSED),
    Variant("blurred_2", "control", {"blur": 2.0}, _CONTROL_CLOSED),
    Variant("dark_0.3", "control", {"gain": 0.3, "noise": 3.0, "crf": 28}, _CONTROL_CLOSED),
    Variant("feet_cut", "control", {}, _CONTROL_CLOSED, needs_feet=True),
    Variant("fps_24", "control", {"fps": 24.0}, _CONTROL_CLOSED, source_fps_kept=False),
    Variant("mirror", "control", {"mirror": True}, _CONTROL_CLOSED, sided_allowed=True,
            mirror_pairs=MIRROR_PAIRS),
    Variant("lead_in_1", "control", {"hold": (0, 1.0)},
            _no_difference((FASTER, PAUSE, *EXTREME_STATEMENTS)),
            allowed=(Fact("timing", "b", whole_clip=True),)),
    Variant("slow_1.25", "case", {"slow": 1.25},
            (Expectation(FASTER, "a", True), *_no_difference(BODY_STATEMENTS)),
            target=(Fact("timing", "b"),), source_fps_kept=False),
    Variant("slow_1.5", "case", {"slow": 1.5},
            (Expectation(FASTER, "a", True), *_no_difference(BODY_STATEMENTS)),
            target=(Fact("timing", "b"),), source_fps_kept=False),
    Variant("pause_0.7", "case", {}, (Expectation(PAUSE, "b", True),
                                      *_no_difference(EXTREME_STATEMENTS)),
            target=(Fact("pause", "b"),), allowed=(Fact("timing", "b"),), needs_bottom=True),
    Variant("twice", "case", {"repeat": 2},
            (Expectation(MORE_REPS, "b", True),
             *_no_difference((FASTER, *EXTREME_STATEMENTS))),
            target=(Fact("reps", "b"),), allowed=(Fact("timing", "b", whole_clip=True),)),
    *(Variant(f"shallow_{f:g}", "case", {}, _SHALLOW_CLOSED, target=(Fact("depth", "a"),),
              allowed=_SHALLOW_ALLOWED, turn_fraction=f) for f in (0.6, 0.4)),
)
VARIANT_NAMES: tuple[str, ...] = tuple(v.name for v in VARIANTS)
#: The copies whose only change is the picture's size, quality, rate, sharpness, light, framing:
#: the pairs the capture error is measured on (bench/bench_capture_error.py).
CAPTURE_VARIANTS: tuple[str, ...] = ("resized_0.6", "framed_0.6", "halfres_crf40", "fps_24",
                                     "blurred_2", "dark_0.3", "feet_cut")


def clip_path(cam: int) -> Path:
    return CLIPS_DIR / CLIP.format(cam)


def available_cams() -> tuple[int, ...]:
    return tuple(c for c in (1, 2, 3, 4) if clip_path(c).exists())


def _every_frame_pose(src: Path, out_dir: Path) -> PoseSequence:
    """The pose of every frame of ``src`` at the pipeline's 448 px (cached under
    ``out_dir/poses``): what the copies' turning points and cuts are read from."""
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.video import plan_sampling

    return extract_video_pose(plan_sampling(src, 1000.0, 10_000, 448), out_dir / "poses")


def _hip_heights(src: Path, out_dir: Path) -> tuple[np.ndarray, list[int], float]:
    """Hip height (torso lengths above the standing ankle) on every frame of ``src``, the
    source frame of each value and the frame rate, from pose (:func:`_every_frame_pose`)."""
    from viddiff.tools.kinematics.signals import ClipContext, hip_height

    pose = _every_frame_pose(src, out_dir)
    height, _ = hip_height(pose, ClipContext.of(pose))
    if not np.isfinite(height).any():
        raise RuntimeError(f"{src}: no person found, cannot locate the bottom")
    fps = 1.0 / pose.frame_period if pose.frame_period > 0 else 30.0
    return height, [pose.source_frame(i) for i in range(len(height))], fps


def bottom_frame(src: Path, out_dir: Path) -> int:
    """Source frame where the hip midpoint is lowest (the bottom of the movement), from pose
    on every frame; remembered in ``out_dir/bottoms.json`` so a rerun runs no model."""
    memo = out_dir / "bottoms.json"
    known: dict[str, int] = json.loads(memo.read_text()) if memo.exists() else {}
    if src.name not in known:
        height, frames, _ = _hip_heights(src, out_dir)
        known[src.name] = frames[int(np.nanargmin(height))]
        memo.write_text(json.dumps(known, indent=1) + "\n")
    return known[src.name]


#: The first descent ends where the hips have risen back this share of the drop so far.
DESCENT_RISE = 0.4
#: ... once the hips have dropped at least this far (torso lengths): pose jitter of a
#: standing person is not a descent.
MIN_DROP = 0.1
#: The standing height is the highest hip point in this first part of the clip (seconds): a
#: frame or two at the start can be misread low.
STANDING_S = 0.25


def _smoothed(height: np.ndarray) -> np.ndarray:
    """A 5-frame running median (a one-frame pose glitch cannot set a depth)."""
    padded = np.pad(height, 2, mode="edge")
    with np.errstate(all="ignore"):
        return np.array([np.nanmedian(padded[i: i + 5]) for i in range(len(height))])


def descent_turns(height: np.ndarray, fractions: Iterable[float], fps: float
                  ) -> dict[str, int]:
    """Where to turn a clip around, as indices into ``height`` (hip height per frame):
    ``"bottom"``, the lowest point of the first descent, and for each fraction ``f`` (key
    ``f"{f:g}"``) the first frame where the hips have dropped ``f`` of the way from their
    standing height (the highest in the first :data:`STANDING_S` second, where the descent
    starts) to that bottom; on a 5-frame running median of hip height.

    The first descent ends where the hips have risen back :data:`DESCENT_RISE` of the drop so
    far (once it is :data:`MIN_DROP` deep): this clip lunges, comes up, and (in two views)
    starts down again as it ends, and a
    lower hip point in that second descent is another movement, not the first one's bottom
    (:func:`bottom_frame` takes the clip's lowest point, which is right for the pause case).

    By hip height, not by time, because depth is what the case varies: the drop of the hips
    is the depth, while a fraction of the time lands at different depths on different clips
    (the hips move slowly near the start and the bottom)."""
    smooth = _smoothed(height)
    first = max(1, round(STANDING_S * fps))
    top = int(np.nanargmax(smooth[:first]))
    start = float(smooth[top])
    low, bottom = np.inf, top
    for i, h in enumerate(smooth):
        if i < top or not np.isfinite(h):
            continue
        if h < low:
            low, bottom = float(h), i
        elif start - low >= MIN_DROP and h - low > DESCENT_RISE * (start - low):
            break
    out = {"bottom": bottom}
    for f in fractions:
        target = start - f * (start - low)
        below = [i for i in range(top + 1, bottom + 1)
                 if np.isfinite(smooth[i]) and smooth[i] <= target]
        out[f"{f:g}"] = below[0] if below else bottom
    return out


def turn_frame(src: Path, out_dir: Path, fraction: float | None) -> int:
    """Source frame to turn ``src`` around at: the first descent's bottom (``None``) or where
    the hips have dropped ``fraction`` of the way to it (:func:`descent_turns`); remembered in
    ``out_dir/turns.json`` so a rerun runs no model."""
    memo = out_dir / "turns.json"
    key = f"{src.name}@{'bottom' if fraction is None else f'{fraction:g}'}"
    known: dict[str, int] = json.loads(memo.read_text()) if memo.exists() else {}
    if key not in known:
        height, frames, fps = _hip_heights(src, out_dir)
        fractions = [v.turn_fraction for v in VARIANTS if v.turn_fraction is not None]
        for name, i in descent_turns(height, [*fractions, *([fraction] if fraction else [])],
                                     fps).items():
            known[f"{src.name}@{name}"] = frames[i]
        memo.write_text(json.dumps(known, indent=1) + "\n")
    return known[key]


#: Where the feet-cut copy's picture ends: the highest the middle of a shin comes, at this
#: percentile over the clip's frames (so the ankles are out of the picture on nearly all).
FEET_CUT_PERCENTILE = 5.0


def feet_cut_share(src: Path, out_dir: Path) -> float:
    """The top share of the picture that keeps ``src``'s body down to the middle of its
    shins and cuts off the ankles and feet: the higher mid-shin point (knee-ankle midpoint)
    per frame, at :data:`FEET_CUT_PERCENTILE` over the clip, over the frame height; from pose
    on every frame, remembered in ``out_dir/feet.json``."""
    from viddiff.tools.pose.sequence import LANDMARK_INDEX

    memo = out_dir / "feet.json"
    known: dict[str, float] = json.loads(memo.read_text()) if memo.exists() else {}
    if src.name not in known:
        pose = _every_frame_pose(src, out_dir)
        kp = pose.keypoints.astype(np.float64)
        shins = [(kp[:, LANDMARK_INDEX[f"{s}_knee"], 1] + kp[:, LANDMARK_INDEX[f"{s}_ankle"], 1])
                 / 2.0 for s in ("left", "right")]
        with np.errstate(all="ignore"):
            higher = np.fmin(*shins)
        if not np.isfinite(higher).any():
            raise RuntimeError(f"{src}: no person found, cannot cut above the feet")
        known[src.name] = round(float(np.nanpercentile(higher, FEET_CUT_PERCENTILE))
                                / pose.height, 4)
        memo.write_text(json.dumps(known, indent=1) + "\n")
    return known[src.name]


def _written(src: Path, dst: Path, **kw: Any) -> Path:
    """``write_variant(src, dst, **kw)`` unless ``dst`` exists (written atomically)."""
    if not dst.exists():
        tmp = dst.with_name(f".{dst.name}.tmp.mp4")
        write_variant(src, tmp, **kw)
        tmp.replace(dst)
    return dst


def pair_names(cams: Iterable[int]) -> list[str]:
    """Every pair name of the set, in report order (``cam01/slow_1.5``, ..., ``example_AB``)."""
    return [f"cam{c:02d}/{v.name}" for c in cams for v in VARIANTS] + ["example_AB"]


def build(out_dir: Path, *, cams: tuple[int, ...] | None = None,
          names: Iterable[str] | None = None,
          sources: Mapping[str, Path] | None = None) -> list[Pair]:
    """Write the copies not already in ``out_dir`` and return the pairs (all, or those named:
    ``cam01/slow_1.5``, a bare variant name for every clip, or ``example_AB``).

    ``sources`` (a name for each clip, such as ``jumping_jacks``, and its file) replaces the
    shared clips and the example pair: the same copies made of another real clip
    (bench/bench_second_clip.py)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if sources is None:
        cams = available_cams() if cams is None else cams
        clips = {f"cam{cam:02d}": clip_path(cam) for cam in cams}
    else:
        clips = dict(sources)
    wanted = None if names is None else set(names)

    def want(stem: str, variant: str) -> bool:
        return wanted is None or variant in wanted or f"{stem}/{variant}" in wanted

    pairs: list[Pair] = []
    for stem, src in clips.items():
        original: Path | None = None
        for v in VARIANTS:
            if not want(stem, v.name):
                continue
            original = original or _written(src, out_dir / f"{stem}_original.mp4")
            kw = dict(v.writer)
            if v.needs_bottom:
                kw["hold"] = (bottom_frame(src, out_dir), 0.7)
            if v.needs_feet:
                kw["keep_top"] = feet_cut_share(src, out_dir)
            reference = original
            if v.turn_fraction is not None:  # A: the full-depth movement, turned the same way
                reference = _written(src, out_dir / f"{stem}_turned_bottom.mp4",
                                     turn_at=turn_frame(src, out_dir, None))
                kw["turn_at"] = turn_frame(src, out_dir, v.turn_fraction)
            copy = _written(src, out_dir / f"{stem}_{v.name}.mp4", **kw)
            pairs.append(Pair(f"{stem}/{v.name}", stem, v.name, reference, copy, v.kind,
                              v.target, v.allowed, v.sided_allowed, v.closed, v.mirror_pairs,
                              pose_fps_60=v.source_fps_kept))
    if sources is None and (wanted is None or "example_AB" in wanted):
        a, b = EXAMPLES / "A.mp4", EXAMPLES / "B.mp4"
        if a.exists() and b.exists():
            pairs.append(Pair("example_AB", "examples", "cross_view", a, b, "control",
                              closed=_CONTROL_CLOSED[:2], pose_fps_60=True))
    return pairs
