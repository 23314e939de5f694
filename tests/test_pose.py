"""Pose extraction: the PoseSequence container, the cache, left/right repair, real clips.

Also home of the real-clip helpers the other pose tests import (clip location, retimed and
mirrored copies written with PyAV, a session-wide pose cache).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.test_kinematics import figure, sequence, viewed
from viddiff.tools.errors import ConfigError, VideoError
from viddiff.tools.pose import extract
from viddiff.tools.pose.extract import extract_pose, pose_cache_key
from viddiff.tools.pose.sequence import (
    LANDMARK_INDEX,
    MIRROR_PERMUTATION,
    N_LANDMARKS,
    PoseSequence,
    repair_left_right,
)

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"
CLIP_FPS = 15.0  # a quarter of the clips' 60 fps: fast, and plenty for a 1.7 s movement


def clip_path(cam: int) -> Path:
    path = CLIPS / f"Demo_SinglePerson_cam0{cam}.mp4"
    if not path.exists():
        pytest.skip(f"real clip {path.name} not found in {CLIPS} (../shared/data/clips)")
    pytest.importorskip("mediapipe", reason="pose tests need the 'pose' extra (mediapipe)")
    return path


def shared_pose_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pose cache for the whole test session, whichever module asks first."""
    path = tmp_path_factory.getbasetemp() / "pose-cache"
    path.mkdir(exist_ok=True)
    return path


def load_pose(path: Path, cache: Path, fps: float = CLIP_FPS) -> PoseSequence:
    from viddiff.tools.video import load_video

    return extract_pose(load_video(path, target_fps=fps, max_frames=200, max_side=448), cache)


@pytest.fixture(scope="session")
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_pose_cache(tmp_path_factory)


# ------------------------------------------------------------------------------------------


def _asymmetric_walk(n: int = 12) -> PoseSequence:
    frames = [figure(knee=(100.0 + 5 * i, 170.0), thigh=(50.0, 5.0), arm=(120.0, 20.0),
                     cx=300.0 + 4 * i) for i in range(n)]
    return sequence(frames)


def test_save_load_round_trip_is_atomic(tmp_path: Path) -> None:
    pose = _asymmetric_walk()
    pose.present[3] = False
    pose.keypoints[3] = np.nan
    path = tmp_path / "sub" / "pose.npz"
    pose.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["pose.npz"]
    pose.lr_agreement = 0.75
    pose.save(path)
    back = PoseSequence.load(path)
    assert back.lr_agreement == 0.75
    np.testing.assert_array_equal(back.keypoints, pose.keypoints)
    np.testing.assert_array_equal(back.present, pose.present)
    np.testing.assert_array_equal(back.timestamps, pose.timestamps)
    assert (back.width, back.height) == (pose.width, pose.height)


def test_shapes_are_validated() -> None:
    with pytest.raises(ValueError, match="keypoints"):
        PoseSequence(keypoints=np.zeros((3, 17, 2)), visibility=np.zeros((3, N_LANDMARKS)),
                     present=np.ones(3, bool), timestamps=np.arange(3.0), width=4, height=4)
    with pytest.raises(ValueError, match="world"):
        PoseSequence(keypoints=np.zeros((3, N_LANDMARKS, 2)),
                     visibility=np.zeros((3, N_LANDMARKS)), present=np.ones(3, bool),
                     timestamps=np.arange(3.0), width=4, height=4,
                     world=np.zeros((3, N_LANDMARKS, 2)))


def test_world_landmarks_default_mirror_and_round_trip(tmp_path: Path) -> None:
    flat = _asymmetric_walk()
    assert flat.world.shape == (12, N_LANDMARKS, 3) and np.isnan(flat.world).all()
    assert not flat.has_world  # 2-D only: metrics fall back to image angles
    pose = viewed(flat, yaw=30.0)
    assert pose.world.dtype == np.float32 and pose.has_world
    pose.present[4] = False
    pose.world[4] = np.nan
    assert pose.has_world  # absent frames need no world landmarks
    path = tmp_path / "pose.npz"
    pose.save(path)
    back = PoseSequence.load(path, require_current=True)
    np.testing.assert_array_equal(back.world, pose.world)
    # the mirror flips world x about the hips and swaps the sides, like the image
    mirror = pose.mirrored()
    left, right = LANDMARK_INDEX["left_knee"], LANDMARK_INDEX["right_knee"]
    np.testing.assert_allclose(mirror.world[:, right, 0], -pose.world[:, left, 0])
    np.testing.assert_allclose(mirror.world[:, right, 1:], pose.world[:, left, 1:])
    np.testing.assert_allclose(mirror.mirrored().world, pose.world)


def test_files_without_world_landmarks_are_old_format(tmp_path: Path) -> None:
    pose = viewed(_asymmetric_walk())
    path = tmp_path / "old.npz"
    np.savez_compressed(path, keypoints=pose.keypoints, visibility=pose.visibility,
                        present=pose.present, timestamps=pose.timestamps,
                        size=np.array([pose.width, pose.height]),
                        lr_agreement=np.array(1.0), format=np.array(1))
    old = PoseSequence.load(path)
    assert not old.has_world and np.isnan(old.world).all()
    np.testing.assert_array_equal(old.keypoints, pose.keypoints)
    with pytest.raises(ValueError, match="format 1"):  # the cache recomputes such files
        PoseSequence.load(path, require_current=True)


def test_mirroring_twice_is_identity_and_swaps_sides() -> None:
    pose = _asymmetric_walk()
    mirror = pose.mirrored()
    np.testing.assert_allclose(mirror.mirrored().keypoints, pose.keypoints, atol=1e-4)
    left, right = LANDMARK_INDEX["left_knee"], LANDMARK_INDEX["right_knee"]
    np.testing.assert_allclose(mirror.keypoints[:, right, 0],
                               pose.width - pose.keypoints[:, left, 0], atol=1e-4)


def test_left_right_flips_are_repaired() -> None:
    pose = _asymmetric_walk()
    flipped = PoseSequence(keypoints=pose.keypoints.copy(), visibility=pose.visibility.copy(),
                           present=pose.present.copy(), timestamps=pose.timestamps,
                           width=pose.width, height=pose.height)
    perm = MIRROR_PERMUTATION
    flipped.keypoints[5:7] = flipped.keypoints[5:7][:, perm]
    fixed = repair_left_right(flipped)
    np.testing.assert_allclose(fixed.keypoints, pose.keypoints)
    # world landmarks carry the same labels and are swapped with them
    world = viewed(pose, yaw=20.0)
    world_flipped = viewed(pose, yaw=20.0)
    world_flipped.keypoints[5:7] = world_flipped.keypoints[5:7][:, perm]
    world_flipped.world[5:7] = world_flipped.world[5:7][:, perm]
    np.testing.assert_allclose(repair_left_right(world_flipped).world, world.world)
    assert fixed.lr_agreement == pytest.approx(10 / 12)
    assert repair_left_right(pose).lr_agreement == 1.0
    # when the model labels most frames one way, that orientation wins
    mostly = PoseSequence(keypoints=pose.keypoints[:, perm], visibility=pose.visibility,
                          present=pose.present, timestamps=pose.timestamps,
                          width=pose.width, height=pose.height)
    mostly.keypoints[:3] = pose.keypoints[:3]
    np.testing.assert_allclose(repair_left_right(mostly).keypoints, pose.keypoints[:, perm])


class _Frames:
    def __init__(self, frames: np.ndarray, digest: str = "d" * 64) -> None:
        self.frames = frames
        self.digest = digest
        self.indices = np.arange(frames.shape[0]) * 4
        self.timestamps = self.indices / 60.0


def test_missing_mediapipe_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    monkeypatch.setitem(sys.modules, "mediapipe.python", None)
    monkeypatch.setitem(sys.modules, "mediapipe.python.solutions", None)
    with pytest.raises(ConfigError, match=r"pip install 'viddiff\[pose\]'"):
        extract_pose(_Frames(np.zeros((2, 32, 32, 3), np.uint8)))


def test_no_frames_is_a_video_error() -> None:
    with pytest.raises(VideoError):
        extract_pose(_Frames(np.zeros((0, 32, 32, 3), np.uint8)))


def test_empty_scene_is_absent_not_invented_and_cached(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mediapipe")
    video = _Frames(np.full((4, 96, 64, 3), 90, np.uint8))
    pose = extract_pose(video, tmp_path)
    assert not pose.present.any()
    assert np.isnan(pose.keypoints).all() and (pose.visibility == 0).all()
    assert np.isnan(pose.world).all() and not pose.has_world
    assert (pose.width, pose.height) == (64, 96)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model ran although the pose was cached")

    monkeypatch.setattr(extract, "run_pose_model", boom)
    again = extract_pose(video, tmp_path)
    np.testing.assert_array_equal(again.present, pose.present)
    other = _Frames(video.frames)
    other.indices = other.indices + 1
    assert pose_cache_key(other, 448) != pose_cache_key(video, 448)
    assert pose_cache_key(video, 320) != pose_cache_key(video, 448)


@pytest.mark.real_clips
def test_real_clip_pose(pose_cache: Path) -> None:
    pose = load_pose(clip_path(1), pose_cache)
    assert pose.n_frames == 25 and pose.present.all()
    assert pose.frame_period == pytest.approx(4 / 60)
    xy = pose.keypoints[:, 11:29]  # shoulders to ankles
    assert (xy[..., 0] >= -5).all() and (xy[..., 0] <= pose.width + 5).all()
    assert (xy[..., 1] >= -5).all() and (xy[..., 1] <= pose.height + 5).all()
    hips = pose.keypoints[:, [23, 24], 1].mean(axis=1)
    shoulders = pose.keypoints[:, [11, 12], 1].mean(axis=1)
    ankles = pose.keypoints[:, [27, 28], 1].mean(axis=1)
    assert (shoulders < hips).all() and (hips < ankles).all()  # upright person
    # world landmarks from the same inference: metres, origin between the hips, y down
    assert pose.has_world
    world = pose.world.astype(np.float64)
    hip_mid = world[:, [23, 24]].mean(axis=1)
    assert np.abs(hip_mid).max() < 0.05
    torso = np.linalg.norm(world[:, [11, 12]].mean(axis=1) - hip_mid, axis=1)
    assert ((torso > 0.35) & (torso < 0.7)).all()
    assert (world[:, [11, 12], 1].mean(axis=1) < 0).all()  # shoulders above the hips
