"""Cuts: an edited clip (one take played twice, two takes joined) is found where the whole body
jumps between two frames, and nothing is measured across that moment; a fast real movement, a
quick drop into a pause and a one-frame left/right label swap are not cuts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_kinematics import figure, sequence
from viddiff.tools.kinematics.registry import measure_metric
from viddiff.tools.pose.cuts import continuous_runs, cut_frames, cut_note, take_slices
from viddiff.tools.pose.sequence import MIRROR_PERMUTATION, PoseSequence


def _lunge_take(fps: float, seconds: float = 1.6) -> list[np.ndarray]:
    """Stand, then bend into a squat that is still going when the take ends (as the shared
    clip ends mid-movement), at ``fps``."""
    n = round(seconds * fps)
    frames = []
    for i in range(n):
        p = max(0.0, (i / fps - 0.4) / (seconds - 0.4))  # still for 0.4 s, then bending
        knee = 180.0 - 80.0 * p
        frames.append(figure(knee=(knee, knee), thigh=(72.0 * p, 72.0 * p), arm=(20 + 60 * p,) * 2))
    return frames


def _twice(fps: float) -> PoseSequence:
    take = _lunge_take(fps)
    return sequence(take + take, fps=fps, noise=0.5)


@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_a_take_played_twice_has_one_cut_at_the_join(fps: float) -> None:
    pose = _twice(fps)
    n = len(_lunge_take(fps))
    assert list(cut_frames(pose)) == [n]
    runs = continuous_runs(pose)
    assert (runs[:n] == 0).all() and (runs[n:] == 1).all()
    assert take_slices(pose) == (slice(0, n), slice(n, 2 * n))
    note = cut_note(pose, "B")
    assert note is not None and note.startswith("video B:")
    assert f"{pose.timestamps[n]:.2f} s" in note


def test_one_take_has_no_cut() -> None:
    for fps in (30.0, 60.0, 10.0):
        pose = sequence(_lunge_take(fps), fps=fps, noise=0.5)
        assert cut_frames(pose).size == 0
        assert take_slices(pose) == ()
        assert cut_note(pose, "A") is None


def test_a_person_running_across_the_picture_is_no_cut() -> None:
    """Every landmark moves far every frame (0.5 torso lengths at 30 frames/s, a sprint):
    sustained, so not an edit."""
    frames = [figure(cx=100.0 + 50.0 * i, thigh=(30.0 * (i % 2), 30.0 * ((i + 1) % 2)))
              for i in range(40)]
    assert cut_frames(sequence(frames, fps=30.0, noise=0.5)).size == 0


def test_a_quick_drop_into_a_pause_is_no_cut() -> None:
    """Fast on one side of the step, still on the other: a movement that stops."""
    frames = [figure(floor=700.0 + 30.0 * i) for i in range(10)]  # dropping fast
    frames += [frames[-1]] * 20  # then held still
    assert cut_frames(sequence(frames, fps=30.0, noise=0.3)).size == 0


def test_a_left_right_label_swap_is_no_cut() -> None:
    frames = [figure(knee=(150.0, 170.0), thigh=(30.0, 10.0), stance=0.9) for _ in range(30)]
    frames[15] = frames[15][MIRROR_PERMUTATION]
    assert cut_frames(sequence(frames, fps=30.0, noise=0.3)).size == 0


def test_a_pose_missing_for_some_frames_is_no_cut() -> None:
    """The body moves while it is not seen; a step across missing frames is not one frame's
    movement (the track checks judge it)."""
    frames = [figure(cx=300.0 + (200.0 if i >= 20 else 0.0)) for i in range(40)]
    pose = sequence(frames, fps=30.0, noise=0.3)
    pose.present[12:20] = False
    pose.keypoints[12:20] = np.nan
    assert cut_frames(pose).size == 0


def test_speed_and_tempo_are_not_read_across_a_cut() -> None:
    """The jump at the join is no movement: the peak hand speed of the clip played twice is
    the single take's, and its movement time is each take's, not both takes' at once."""
    fps = 30.0
    once = sequence(_lunge_take(fps), fps=fps, noise=0.5)
    twice = _twice(fps)
    for metric in ("peak_speed_wrist", "motion_duration", "range_of_motion_hand"):
        a, b = measure_metric(metric, once), measure_metric(metric, twice)
        assert a.value is not None and b.value is not None
        tol = 3 * max(a.uncertainty, b.uncertainty, 1e-3)
        assert abs(a.value - b.value) <= tol, (metric, a.value, b.value)


def test_without_cut_awareness_the_join_reads_as_movement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: with the cut handling switched off (no cuts found), the
    clip played twice reads a far higher peak hand speed and a longer movement time."""
    fps = 30.0
    once = sequence(_lunge_take(fps), fps=fps, noise=0.5)
    import viddiff.tools.kinematics.registry as registry
    import viddiff.tools.kinematics.signals as signals
    import viddiff.tools.kinematics.timing as timing

    def no_cuts(pose: PoseSequence) -> np.ndarray:
        return np.zeros(0, dtype=np.int64)

    monkeypatch.setattr(signals, "continuous_runs",
                        lambda pose: np.zeros(pose.n_frames, dtype=np.int64))
    monkeypatch.setattr(timing, "cut_frames", no_cuts)
    monkeypatch.setattr(timing, "take_slices", lambda pose: ())
    monkeypatch.setattr(registry, "cut_frames", no_cuts)
    twice = _twice(fps)
    speed_a = measure_metric("peak_speed_wrist", once).value
    speed_b = measure_metric("peak_speed_wrist", twice).value
    time_a = measure_metric("motion_duration", once).value
    time_b = measure_metric("motion_duration", twice).value
    assert speed_a is not None and speed_b is not None and speed_b > 2 * speed_a
    assert time_a is not None and time_b is not None and time_b > 1.5 * time_a


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"


@pytest.mark.real_clips
@pytest.mark.slow
def test_the_shared_clip_played_twice_has_its_cut_found(tmp_path: Path) -> None:
    src = SHARED / "Demo_SinglePerson_cam01.mp4"
    if not src.exists():
        pytest.skip(f"shared clip not found: {src}")
    from tests.support.videos import write_variant
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.video import plan_sampling

    found = {}
    for name, kw in (("original", {}), ("twice", {"repeat": 2})):
        path = write_variant(src, tmp_path / f"{name}.mp4", **kw)  # type: ignore[arg-type]
        plan = plan_sampling(str(path), 30.0, 600, 448)
        found[name] = cut_frames(extract_video_pose(plan, tmp_path / "pose", max_side=448))
    assert found["original"].size == 0
    assert found["twice"].size == 1
