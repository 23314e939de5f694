"""Which way the body faces the camera, so a comparison can warn when two videos were filmed
from different angles.

Joint angles read off one camera are projections (2-D) or single-view depth guesses (3-D
world landmarks); both drift with the viewpoint — across the four synchronized views of one
take the same knee angle reads up to ~30° apart. Labels are not changed here (a mirrored
video, or two athletes filmed from two spots, can still be compared), but the result says
plainly when the views differ, so nobody mistakes a camera angle for a technique difference.
"""

from __future__ import annotations

import numpy as np

from viddiff.tools.pose.sequence import LANDMARK_INDEX, LR_AGREEMENT_MIN, PoseSequence

VIEW_DIFFERENCE_WARN_DEG = 30.0
"""Facing angles further apart than this make angle comparisons view-dependent."""

MAX_SPREAD_DEG = 45.0
"""A facing angle that wanders more than this within one clip is not trusted."""


def facing_angle(pose: PoseSequence) -> tuple[float, float] | None:
    """Median horizontal direction of the hip and shoulder lines (degrees, camera frame) and
    its circular spread, from the 3-D world landmarks; None without them."""
    if not pose.has_world:
        return None
    world = pose.world
    angles = []
    for left, right in (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")):
        d = world[:, LANDMARK_INDEX[right]] - world[:, LANDMARK_INDEX[left]]
        angles.append(np.arctan2(d[:, 2], d[:, 0]))
    theta = np.concatenate(angles)
    theta = theta[np.isfinite(theta)]
    if theta.size < 3:
        return None
    mean = np.angle(np.mean(np.exp(1j * theta)))
    resultant = float(np.abs(np.mean(np.exp(1j * theta))))
    spread = np.degrees(np.sqrt(max(0.0, -2.0 * np.log(max(resultant, 1e-9)))))
    return float(np.degrees(mean)), float(spread)


def view_difference(pose_a: PoseSequence, pose_b: PoseSequence) -> float | None:
    """How far apart (degrees, 0-180) the two clips' facing angles are; None if unknown.

    When either clip's left/right labels are unreliable (the model confused front and back),
    the facing direction is only known up to 180°, so the lines are compared as axes (0-90).
    """
    fa, fb = facing_angle(pose_a), facing_angle(pose_b)
    if fa is None or fb is None or max(fa[1], fb[1]) > MAX_SPREAD_DEG:
        return None
    diff = float(abs((fa[0] - fb[0] + 180.0) % 360.0 - 180.0))
    if min(pose_a.lr_agreement, pose_b.lr_agreement) < LR_AGREEMENT_MIN:
        diff = min(diff, 180.0 - diff)
    return diff


def views_unknown(pose_a: PoseSequence, pose_b: PoseSequence) -> bool:
    """Whether the two clips' viewpoints cannot be compared although both have 3-D landmarks
    (a facing angle that cannot be read reliably in one of them): they may differ by any
    angle, which :func:`view_note` warns of."""
    return view_difference(pose_a, pose_b) is None and pose_a.has_world and pose_b.has_world


def view_note(pose_a: PoseSequence, pose_b: PoseSequence) -> str | None:
    """A warning for the result when the viewpoints differ or cannot be compared."""
    diff = view_difference(pose_a, pose_b)
    if diff is None:
        if pose_a.has_world and pose_b.has_world:
            return ("the body's orientation to the camera could not be read reliably in both "
                    "videos; if they were filmed from different angles, joint-angle "
                    "differences may reflect the camera rather than the performance")
        return None
    if diff > VIEW_DIFFERENCE_WARN_DEG:
        return (f"the two videos see the body from angles about {diff:.0f}° apart: joint-angle "
                "and width measurements partly reflect the camera, not the performance; "
                "timing and speed are unaffected")
    return None
