"""Which sides of the body a clip really sees, and which side two clips can be compared on.

In a side view the far leg and arm are hidden behind the body, and MediaPipe still returns
them: a guess, sometimes with a high visibility (its visibility is how likely the point is in
the picture and not occluded, as the model judges it, not how exact its position is). A
"left knee raise" read on a guessed far leg in one video and a seen near leg in the other
compares a guess with a measurement (issue 19: "left knee raise (thigh angle): A 78°, B 60°"
on a half-resolution copy of a side-view squat, its far leg hidden).

A side of the body is *hidden* in a clip when either holds:

* **It faces away.** The 3-D world landmarks put the body side-on: the hip and shoulder lines
  turned more than :data:`SIDE_ON_DEG` from facing the camera (facing angle from
  :func:`viddiff.tools.viewpoint.facing_angle`), and that side is the far one (its hip and
  shoulder deeper, ``z`` away from the camera). Then its limbs are behind the body whatever
  visibility the model gives them.
* **The model says it guesses.** The median visibility of the side's limb landmarks (knee,
  ankle, elbow, wrist) over the clip is below :data:`MIN_SIDE_VISIBILITY`. On the shared
  lunge clip seen 43° from the front, the far side reads 0.5-0.7 and the near side 0.96-1.0.

:func:`choose_sides` gives, for a pair of clips, the sides visible in both (the same side in
both): a bilateral metric of the pair reads only those, and a one-sided metric of a side
hidden in either clip is not measured (:func:`viddiff.tools.kinematics.comparison.compare_metric`).
"""

from __future__ import annotations

import numpy as np

from viddiff.tools.pose.plausibility import outside_picture
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence
from viddiff.tools.viewpoint import MAX_SPREAD_DEG, facing_angle

SIDES: tuple[str, ...] = ("left", "right")
#: Hip and shoulder lines turned further than this from facing the camera: the far side hides.
SIDE_ON_DEG = 60.0
#: A side whose limb landmarks have a lower median visibility over the clip is guessed.
MIN_SIDE_VISIBILITY = 0.8
_LIMB = ("knee", "ankle", "elbow", "wrist")


def _far_side(pose: PoseSequence) -> str | None:
    """The side turned away from the camera when the body is seen side-on, else None."""
    facing = facing_angle(pose)
    if facing is None:
        return None
    angle, spread = facing
    if spread > MAX_SPREAD_DEG:
        return None
    off = abs((angle + 90.0) % 180.0 - 90.0)  # 0: hip line across the view, 90: side-on
    if off <= SIDE_ON_DEG:
        return None
    present = pose.present
    depth = [pose.world[present, LANDMARK_INDEX[f"right_{part}"], 2]
             - pose.world[present, LANDMARK_INDEX[f"left_{part}"], 2]
             for part in ("hip", "shoulder")]
    dz = np.concatenate(depth)
    dz = dz[np.isfinite(dz)]
    if dz.size == 0 or float(np.median(dz)) == 0.0:
        return None
    return "right" if float(np.median(dz)) > 0 else "left"  # z grows away from the camera


def side_visibility(pose: PoseSequence, side: str) -> float:
    """Median over the present frames of the mean visibility of ``side``'s limb landmarks
    inside the picture: a joint out of the frame (the feet below its edge) is not seen, on
    either side, and says nothing about which side the body turns away."""
    rows = pose.present
    if not rows.any():
        return 0.0
    idx = [LANDMARK_INDEX[f"{side}_{part}"] for part in _LIMB]
    vis = pose.visibility[rows][:, idx].astype(np.float64)
    inside = ~outside_picture(pose)[rows][:, idx]
    framed = inside.any(axis=1)  # frames that show some of the side's joints
    if not framed.any():
        return 0.0
    per_frame = np.where(inside, vis, 0.0).sum(axis=1)[framed] / inside.sum(axis=1)[framed]
    return float(np.median(per_frame))


def hidden_sides(pose: PoseSequence) -> dict[str, str]:
    """The sides ``pose`` does not really see, each with the reason in words (computed once
    per sequence)."""
    return pose.derived("hidden_sides", lambda: _hidden(pose))


def _hidden(pose: PoseSequence) -> dict[str, str]:
    out: dict[str, str] = {}
    if not pose.present.any():
        return out  # nobody to see: that is the person check's business, not a side's
    far = _far_side(pose)
    if far is not None:
        out[far] = f"the body is seen side-on and its {far} side faces away from the camera"
    for side in SIDES:
        vis = side_visibility(pose, side)
        if side not in out and vis < MIN_SIDE_VISIBILITY:
            out[side] = (f"the pose model only guesses the {side} limbs (median visibility "
                         f"{vis:.2f})")
    return out


def visible_sides(pose: PoseSequence) -> tuple[str, ...]:
    """The sides of the body ``pose`` sees (both, one, or none)."""
    hidden = hidden_sides(pose)
    return tuple(side for side in SIDES if side not in hidden)


def choose_sides(pose_a: PoseSequence, pose_b: PoseSequence) -> tuple[str, ...]:
    """The sides visible in both clips: what a comparison of a bilateral metric reads, the
    same side in A and in B. Empty when the two clips see opposite sides (or neither)."""
    a, b = visible_sides(pose_a), visible_sides(pose_b)
    return tuple(side for side in SIDES if side in a and side in b)


def side_note(pose: PoseSequence, side: str) -> str | None:
    """Why ``pose`` does not see ``side``, or None when it does."""
    return hidden_sides(pose).get(side)


__all__ = ["MIN_SIDE_VISIBILITY", "SIDES", "SIDE_ON_DEG", "choose_sides", "hidden_sides",
           "side_note", "side_visibility", "visible_sides"]
