"""Pose-based phases and DTW alignment: exactness against brute force, known answers, clips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.support.videos import write_variant
from tests.test_kinematics import figure, sequence, squat_clip
from tests.test_pose import clip_path, load_pose, shared_pose_cache
from viddiff.tools.errors import VideoError
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.pose_phases import (
    align_dtw,
    dtw_path,
    localize_pair,
    optimal_breaks,
    segment_costs,
    segment_phases,
    transfer_segments,
)
from viddiff.tools.segments import Segment


def _check_partition(segs: list[Segment], n_frames: int, n_phases: int) -> None:
    assert len(segs) == n_phases
    assert segs[0].start == 0 and segs[-1].end == n_frames - 1
    if n_frames >= n_phases:
        for a, b in itertools.pairwise(segs):
            assert b.start == a.end + 1
    for a, b in itertools.pairwise(segs):
        assert b.start >= a.start


def test_segment_costs_match_direct_line_fits() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    w = rng.uniform(0.2, 1.0, size=12)
    cost = segment_costs(x, w)
    for i, j in [(0, 11), (2, 7), (5, 5), (3, 4), (6, 9)]:
        t = np.arange(i, j + 1, dtype=float)
        total = 0.0
        for d in range(3):
            y = x[i:j + 1, d]
            if j - i >= 1:
                coef = np.polyfit(t, y, 1, w=np.sqrt(w[i:j + 1]))
                resid = y - np.polyval(coef, t)
            else:
                resid = np.zeros(1)
            total += float(np.sum(w[i:j + 1] * resid**2))
        assert cost[i, j] == pytest.approx(total, abs=1e-8)
    assert np.isinf(cost[5, 2])


def _brute_force(cost: np.ndarray, k: int, min_len: int) -> float:
    t = cost.shape[0]
    best = np.inf
    for cuts in itertools.combinations(range(1, t), k - 1):
        starts = [0, *cuts]
        ends = [c - 1 for c in cuts] + [t - 1]
        if any(e - s + 1 < min_len for s, e in zip(starts, ends, strict=True)):
            continue
        best = min(best, sum(cost[s, e] for s, e in zip(starts, ends, strict=True)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_optimal_breaks_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t, k = int(rng.integers(4, 10)), int(rng.integers(1, 4))
    cost = segment_costs(rng.normal(size=(t, 2)), np.ones(t))
    min_len = int(rng.integers(1, 3)) if t >= 2 * k else 1
    starts = optimal_breaks(cost, k, min_len)
    ends = [s - 1 for s in starts[1:]] + [t - 1]
    got = sum(cost[s, e] for s, e in zip(starts, ends, strict=True))
    assert got == pytest.approx(_brute_force(cost, k, min_len), abs=1e-9)


def test_squat_phases_are_found_where_they_are() -> None:
    pose = squat_clip(depth_knee=80.0)  # stand 0-9, down 10-19, hold 20-29, up 30-39, stand
    segs = segment_phases(pose, 5, ["stand", "descent", "bottom", "ascent", "finish"])
    _check_partition(segs, pose.n_frames, 5)
    starts = [s.start for s in segs]
    # the features (heights, hip angle) are not linear in time even though the knee angle is,
    # so the line fits may shift a boundary by a few of the 50 frames
    assert starts == pytest.approx([0, 10, 20, 30, 40], abs=3)
    assert [s.stage for s in segs] == ["stand", "descent", "bottom", "ascent", "finish"]


@pytest.mark.parametrize(("n_frames", "n_phases"), [(1, 1), (1, 4), (3, 5), (5, 5), (7, 3),
                                                    (40, 6)])
def test_every_frame_is_assigned_even_with_few_frames(n_frames: int, n_phases: int) -> None:
    rng = np.random.default_rng(n_frames * 10 + n_phases)
    frames = [figure(knee=(float(rng.uniform(90, 180)),) * 2) for _ in range(n_frames)]
    segs = segment_phases(sequence(frames), n_phases)
    _check_partition(segs, n_frames, n_phases)
    covered = set().union(*(range(s.start, s.end + 1) for s in segs))
    assert covered == set(range(n_frames))


def test_bad_arguments() -> None:
    pose = squat_clip()
    with pytest.raises(ValueError, match="names"):
        segment_phases(pose, 3, ["a", "b"])
    with pytest.raises(ValueError):
        segment_phases(pose, 0)
    empty = PoseSequence(keypoints=np.zeros((0, 33, 2)), visibility=np.zeros((0, 33)),
                         present=np.zeros(0, bool), timestamps=np.zeros(0), width=1, height=1)
    with pytest.raises(VideoError):
        segment_phases(empty, 2)


def test_absent_frames_do_not_break_phases() -> None:
    pose = squat_clip(depth_knee=80.0)
    pose.present[22:26] = False
    pose.keypoints[22:26] = np.nan
    segs = segment_phases(pose, 5)
    _check_partition(segs, pose.n_frames, 5)


def _brute_dtw(cost: np.ndarray) -> float:
    ta, tb = cost.shape
    d = np.full((ta + 1, tb + 1), np.inf)
    d[0, 0] = 0.0
    for i in range(1, ta + 1):
        for j in range(1, tb + 1):
            d[i, j] = cost[i - 1, j - 1] + min(d[i - 1, j - 1], d[i - 1, j], d[i, j - 1])
    return float(d[ta, tb])


@pytest.mark.parametrize("seed", range(5))
def test_dtw_path_is_optimal_and_monotone(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(size=(int(rng.integers(1, 9)), int(rng.integers(1, 9))))
    path = dtw_path(cost)
    assert tuple(path[0]) == (0, 0)
    assert tuple(path[-1]) == (cost.shape[0] - 1, cost.shape[1] - 1)
    steps = np.diff(path, axis=0)
    assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(axis=1) >= 1).all()
    assert cost[path[:, 0], path[:, 1]].sum() == pytest.approx(_brute_dtw(cost))


def test_dtw_recovers_a_time_stretch_and_transfers_phases() -> None:
    a = squat_clip(depth_knee=80.0)  # 50 frames
    idx = np.round(np.linspace(0, a.n_frames - 1, 75)).astype(int)  # B: 1.5x slower
    b = sequence([a.keypoints[i] for i in idx], fps=10.0)
    path = align_dtw(a, b)
    mapped = np.array([path[path[:, 0] == i, 1].mean() for i in range(a.n_frames)])
    expected = np.arange(a.n_frames) * 74 / 49
    # plateaus (standing, holding) align anywhere within themselves; the ramps must match
    ramps = np.r_[11:19, 31:39]  # frames 10-19 go down, 30-39 come up
    assert np.abs(mapped[ramps] - expected[ramps]).max() <= 2.0
    # boundaries in the middle of the ramps (on a plateau any matching frame is as good)
    segs_a = [Segment(stage="s", start=0, end=14), Segment(stage="low", start=15, end=34),
              Segment(stage="up", start=35, end=49)]
    segs_b = transfer_segments(segs_a, path, b.n_frames)
    _check_partition(segs_b, b.n_frames, 3)
    assert segs_b[1].start == pytest.approx(15 * 74 / 49, abs=2)
    assert segs_b[2].start == pytest.approx(35 * 74 / 49, abs=2)
    tiny = transfer_segments(segs_a, np.array([[0, 0], [1, 1]]), 2)
    _check_partition(tiny, 2, 3)


@pytest.mark.real_clips
def test_real_views_align_on_the_diagonal(tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = shared_pose_cache(tmp_path_factory)
    a = load_pose(clip_path(1), cache)
    b = load_pose(clip_path(3), cache)
    path = align_dtw(a, b)
    near = np.abs(path[:, 0] - path[:, 1]) <= 2
    assert near.mean() >= 0.9  # synchronized cameras: frame i of one is frame i of the other


@pytest.mark.real_clips
def test_real_slowed_clip_phases_scale_with_time(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = shared_pose_cache(tmp_path_factory)
    src = clip_path(1)
    slow_path = tmp_path_factory.getbasetemp() / "cam01_slow1.5.mp4"
    if not slow_path.exists():
        write_variant(src, slow_path, slow=1.5)
    a, b = load_pose(src, cache), load_pose(slow_path, cache)
    segs_a, segs_b = localize_pair(a, b, 4)
    _check_partition(segs_b, b.n_frames, 4)
    for sa, sb in zip(segs_a[1:], segs_b[1:], strict=True):
        t_a = a.timestamps[sa.start]
        t_b = b.timestamps[sb.start]
        assert t_b == pytest.approx(1.5 * t_a, abs=2.5 / 15)  # within ~2 sampled frames
