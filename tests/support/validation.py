"""Validation measures shared by the offline-engine tests and bench/bench_pose.py."""

from __future__ import annotations

from viddiff.tools.kinematics.comparison import compare_values
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.results import Label
from viddiff.tools.kinematics.signals import ClipContext
from viddiff.tools.pose.sequence import PoseSequence


def left_right_swap_agreement(orig: PoseSequence, mirror: PoseSequence) -> tuple[int, int]:
    """How many left/right metric pairs swap cleanly between a clip and its mirror image.

    Each sided metric of the original is compared with its twin on the mirror (left with
    right, right with left); a pair agrees when the comparison finds no clear difference.
    Returns (agreeing pairs, pairs compared).
    """
    ctx_o, ctx_m = ClipContext.of(orig), ClipContext.of(mirror)
    agree = total = 0
    for name, spec in METRICS.items():
        if spec.side != "left":
            continue
        twin = METRICS[name.replace("_left", "_right")]
        for left, right in ((spec, twin), (twin, spec)):
            m = compare_values(left, left.compute(orig, ctx_o, None),
                               right.compute(mirror, ctx_m, None), "higher")
            total += 1
            agree += m.label == "c"
    return agree, total


def mirror_pair_found(left: Label, right: Label) -> bool:
    """Whether a left-side and a right-side statement, asked of a clip (A) and its mirror
    image (B), found the swap: A's left is B's right, so the two must get opposite labels.
    Both ``c`` is a miss (nothing found), the same label twice is wrong."""
    return (left, right) in (("a", "b"), ("b", "a"))
