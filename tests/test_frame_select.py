"""Frame choice per difference (docs/architecture.md, "Frames"), including the reference's
1-fps bug."""

from __future__ import annotations

from typing import Any

import pytest

from viddiff.tools.frame_select import frames_for_difference
from viddiff.tools.segments import Segment

SEGS = [
    Segment(stage="setup", start=0, end=9),
    Segment(stage="descent", start=10, end=29),
    Segment(stage="bottom", start=30, end=39),
    Segment(stage="ascent", start=40, end=59),
]


def test_one_frame_is_the_middle_of_the_first_linked_stage() -> None:
    assert frames_for_difference(SEGS, ["bottom", "ascent"], "1", fps=6, n_frames=60) == [34]
    assert frames_for_difference(SEGS, ["descent"], "1", fps=6, n_frames=60) == [19]


def test_gt_1_gives_three_frames_spaced_by_seconds() -> None:
    # 0.35 s at 6 fps = 2.1 → 2 frames apart, centred on the middle of "bottom" (34).
    assert frames_for_difference(SEGS, ["bottom"], "gt_1", fps=6, n_frames=60) == [32, 34, 36]
    # 0.35 s at 30 fps = 10.5 → 11 (half rounds up).
    assert frames_for_difference(SEGS, ["bottom"], "gt_1", fps=30, n_frames=60) == [23, 34, 45]


def test_gt_1_is_centred_on_the_union_of_linked_segments() -> None:
    # descent..bottom spans 10..39 → middle 24.
    assert frames_for_difference(SEGS, ["descent", "bottom"], "gt_1", 6, 60) == [22, 24, 26]
    # Order of the links does not matter for the span.
    assert frames_for_difference(SEGS, ["bottom", "descent"], "gt_1", 6, 60) == [22, 24, 26]


def test_one_fps_gives_three_distinct_frames() -> None:
    """The reference rounds 0.35 s × 1 fps to 0 and sends one frame three times."""
    segs = [Segment(stage="a", start=0, end=3), Segment(stage="b", start=4, end=9)]
    frames = frames_for_difference(segs, ["b"], "gt_1", fps=1, n_frames=10)
    assert frames == [5, 6, 7]
    assert len(set(frames)) == 3


def test_frames_are_shifted_inside_the_video() -> None:
    segs = [Segment(stage="start", start=0, end=1), Segment(stage="end", start=2, end=19)]
    assert frames_for_difference(segs, ["start"], "gt_1", fps=6, n_frames=20) == [0, 2, 4]
    late = [Segment(stage="a", start=0, end=17), Segment(stage="z", start=18, end=19)]
    assert frames_for_difference(late, ["z"], "gt_1", fps=6, n_frames=20) == [15, 17, 19]


def test_spacing_shrinks_when_the_video_is_too_short() -> None:
    segs = [Segment(stage="only", start=0, end=4)]
    # 0.35 s × 30 fps = 11 frames, but only 5 frames exist: pack them 2 apart.
    assert frames_for_difference(segs, ["only"], "gt_1", fps=30, n_frames=5) == [0, 2, 4]


def test_fewer_frames_than_requested_returns_all() -> None:
    segs = [Segment(stage="a", start=0, end=0), Segment(stage="b", start=1, end=1)]
    assert frames_for_difference(segs, ["a"], "gt_1", fps=4, n_frames=2) == [0, 1]
    assert frames_for_difference(segs[:1], ["a"], "gt_1", fps=4, n_frames=1) == [0]
    assert frames_for_difference(segs, ["b"], "gt_1", fps=4, n_frames=3, count=3) == [0, 1, 2]


def test_unknown_links_are_ignored_and_none_means_the_middle_segment() -> None:
    assert frames_for_difference(SEGS, ["nope", "ascent"], "1", 6, 60) == [49]
    # No usable link: the middle segment (index 2 of 4 → "bottom").
    assert frames_for_difference(SEGS, ["nope"], "1", 6, 60) == [34]
    assert frames_for_difference(SEGS, [], "gt_1", 6, 60) == [32, 34, 36]


def test_no_segments_uses_the_whole_video() -> None:
    assert frames_for_difference([], ["x"], "1", fps=6, n_frames=11) == [5]
    assert frames_for_difference([], ["x"], "gt_1", fps=6, n_frames=11) == [3, 5, 7]


def test_other_counts() -> None:
    frames = frames_for_difference(SEGS, ["bottom"], "gt_1", fps=6, n_frames=60, count=4)
    assert frames == [31, 33, 35, 37]
    assert frames_for_difference(SEGS, ["bottom"], "gt_1", 6, 60, count=1) == [34]


def test_result_is_always_sorted_distinct_and_in_range() -> None:
    for n in range(1, 25):
        for fps in (0.5, 1, 2.9, 6, 60):
            segs = [Segment(stage="s", start=0, end=n - 1)]
            many = frames_for_difference(segs, ["s"], "gt_1", fps=fps, n_frames=n)
            one = frames_for_difference(segs, ["s"], "1", fps=fps, n_frames=n)
            assert len(many) == min(3, n) and len(one) == 1
            for frames in (many, one):
                assert frames == sorted(set(frames))
                assert frames[0] >= 0 and frames[-1] <= n - 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_frames": "2"}, "num_frames"),
        ({"n_frames": 0}, "n_frames"),
        ({"fps": 0.0}, "fps"),
        ({"count": 0}, "count"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"num_frames": "gt_1", "fps": 6.0, "n_frames": 60}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        frames_for_difference(SEGS, ["bottom"], **args)
