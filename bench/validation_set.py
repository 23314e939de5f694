"""A validation set of real clips with KNOWN answers, for the offline kinematic engine.

Every case pairs an original clip (video A) with a variant (video B) whose difference is
known by construction, and lists statements with the label a correct engine must give:

* ``slow_1.25`` / ``slow_1.5``: the same frames shown longer (timestamps stretched). "The
  movement is faster" is true of A; the body's geometry is unchanged (``c``).
* ``pause_0.3`` / ``pause_0.6``: the frame where the hips are lowest (the bottom of the
  movement, found from pose) held for that long. "There is a longer pause" is true of B;
  extremes of the body are unchanged (medians over time are not asked: they move).
* ``scaled_0.6``: the picture shrunk to 60% on a padded canvas (the person further away):
  nothing about the body or timing differs.
* ``mirror``: flipped left-right. A left-side statement about A is the right-side statement
  about B, so "the left knee bends more" and "the right knee bends more" must get opposite
  labels (or both ``c``); see :data:`MIRROR_PAIRS`.
* ``fps_30`` / ``fps_25``: re-timed to another frame rate, same timing: no difference.
* ``rotated``: pixels stored turned with a display-rotation flag (a phone video): no
  difference, once decoding honours the flag.
* ``view_cam02`` ... ``view_cam04``: other cameras of the same take: no difference in
  timing; body-angle statements are reported as cross-view (the viewpoint case).

The clips are the pose2sim demo's four synchronized views (``Demo_SinglePerson_cam01..04.mp4``,
60 fps, 1.67 s, portrait) in ``../shared/data/clips``. Variants are written once into a folder
(re-used when present) by :func:`build`, with ``tests.support.videos.write_variant``.
tests/test_validation.py uses the same cases; bench/bench_validation.py runs them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from tests.support.videos import CLIPS_DIR, write_variant

CLIP = "Demo_SinglePerson_cam{:02d}.mp4"
ACTION = "a lunge with a balance hold"

Label = Literal["a", "b", "c"]

#: Statements about the body whose answer is "no difference" when only the camera or the
#: timing changed.
BODY_STATEMENTS: tuple[str, ...] = (
    "the lunge is deeper",
    "the knees bend more",
    "the stance is wider",
    "the trunk leans further forward",
    "the arms are raised higher",
    "the heels lift off the ground more",
    "the head juts further forward",
    "the arm is in a higher position at release",
)
#: The body statements read at an extreme (deepest, widest, highest): a pause held at the
#: bottom leaves them alone, whereas medians and means over time (stance width, head position)
#: legitimately move towards the held pose.
EXTREME_STATEMENTS: tuple[str, ...] = tuple(
    s for s in BODY_STATEMENTS if s not in ("the stance is wider", "the head juts further forward"))
#: Statements about timing.
FASTER = "the movement is faster"
PAUSE = "there is a longer pause"
#: Left/right statement pairs for the mirror case: their labels must be opposite (or both c).
MIRROR_PAIRS: tuple[tuple[str, str], ...] = (
    ("the left knee bends more", "the right knee bends more"),
    ("the left knee is raised higher", "the right knee is raised higher"),
    ("the left arm is raised higher", "the right arm is raised higher"),
    ("the left heel lifts off the ground more", "the right heel lifts off the ground more"),
)


@dataclass(frozen=True)
class Expectation:
    """One statement and the label a correct engine gives it; ``constructed`` marks a real
    difference built into the variant (sensitivity), otherwise a no-difference control."""

    statement: str
    label: Label
    constructed: bool


@dataclass(frozen=True)
class Case:
    """An (original, variant) pair with what must come out of comparing them."""

    name: str
    original: Path
    variant: Path
    view: Literal["same", "cross"]
    expect: tuple[Expectation, ...] = ()
    mirror_pairs: tuple[tuple[str, str], ...] = field(default=())

    @property
    def statements(self) -> list[str]:
        """Every statement to ask, in order (expectations first, then the mirror pairs)."""
        out = [e.statement for e in self.expect]
        for left, right in self.mirror_pairs:
            out += [left, right]
        return out


def clip_path(cam: int) -> Path:
    """One of the four demo views."""
    return CLIPS_DIR / CLIP.format(cam)


def clips_present() -> bool:
    return all(clip_path(c).exists() for c in (1, 2, 3, 4))


def lowest_hip_frame(src: Path) -> int:
    """Source frame number where the hip midpoint is lowest in the image (the bottom of the
    movement), from MediaPipe pose on every frame."""
    from viddiff.tools.kinematics.signals import ClipContext, hip_height
    from viddiff.tools.pose.extract import extract_pose
    from viddiff.tools.video import load_video

    video = load_video(src, target_fps=1000.0, max_frames=10_000, max_side=448)
    pose = extract_pose(video)
    height, _ = hip_height(pose, ClipContext.of(pose))
    if not np.isfinite(height).any():
        raise RuntimeError(f"{src}: no person found, cannot locate the bottom")
    return int(video.indices[int(np.nanargmin(height))])


def _no_difference(*statements: str) -> tuple[Expectation, ...]:
    return tuple(Expectation(s, "c", False) for s in statements)


def build(out_dir: Path, *, cams: tuple[int, ...] = (2, 3, 4),
          names: tuple[str, ...] | None = None) -> list[Case]:
    """Write the variants of cam01 (those not already in ``out_dir``) and return the cases.

    ``names`` restricts the set (e.g. ``("slow_1.5", "fps_30")`` for a quick test).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    src = clip_path(1)
    original = _resized(src, out_dir)  # A: re-encoded like every variant, nothing else changed
    body = _no_difference(*BODY_STATEMENTS)
    timing_same = _no_difference(FASTER, PAUSE)
    cases: list[Case] = []

    def want(name: str) -> bool:
        return names is None or name in names

    def variant(name: str, **kw: object) -> Path:
        dst = out_dir / f"cam01_{name}.mp4"
        if not dst.exists():
            tmp = dst.with_name(f".{dst.name}.tmp.mp4")
            write_variant(src, tmp, **kw)  # type: ignore[arg-type]
            tmp.replace(dst)
        return dst

    for slow in (1.25, 1.5):
        name = f"slow_{slow:g}"
        if want(name):
            cases.append(Case(name, original, variant(name, slow=slow), "same",
                              (Expectation(FASTER, "a", True), *body)))
    bottom: int | None = None
    for pause in (0.3, 0.6):
        name = f"pause_{pause:g}"
        if want(name):
            if bottom is None and not (out_dir / f"cam01_{name}.mp4").exists():
                bottom = lowest_hip_frame(src)
            cases.append(Case(name, original, variant(name, hold=(bottom or 0, pause)), "same",
                              (Expectation(PAUSE, "b", True),
                               *_no_difference(*EXTREME_STATEMENTS))))
    if want("scaled_0.6"):
        cases.append(Case("scaled_0.6", original, variant("scaled_0.6", scale=0.6), "same",
                          (*timing_same, *body)))
    if want("mirror"):
        cases.append(Case("mirror", original, variant("mirror", mirror=True), "same",
                          (*timing_same, *body), MIRROR_PAIRS))
    for fps in (30, 25):
        name = f"fps_{fps}"
        if want(name):
            cases.append(Case(name, original, variant(name, fps=float(fps)), "same",
                              (*timing_same, *body)))
    if want("rotated"):
        cases.append(Case("rotated", original, variant("rotated", rotation=270), "same",
                          (*timing_same, *body)))
    for cam in cams:
        name = f"view_cam{cam:02d}"
        if want(name):
            cases.append(Case(name, original, _resized(clip_path(cam), out_dir), "cross",
                              (*timing_same, *body)))
    return cases


def _resized(src: Path, out_dir: Path) -> Path:
    """A same-size re-encode of another view (the same max side and encoder as every variant,
    so the views differ only by the camera)."""
    dst = out_dir / f"{src.stem}_copy.mp4"
    if not dst.exists():
        tmp = dst.with_name(f".{dst.name}.tmp.mp4")
        write_variant(src, tmp)
        tmp.replace(dst)
    return dst
