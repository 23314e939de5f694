"""How sharp the person's picture is: blur lowers it, contrast does not change it, and it
travels with the pose through every step that reads it for measurement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tests.test_kinematics import figure, sequence
from viddiff.tools.pose.plausibility import plausible
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence, repair_left_right
from viddiff.tools.pose.sharpness import (
    SHARPNESS_FRAMES,
    clip_median,
    frame_contrast,
    frame_sharpness,
    sharpness_rows,
)


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A textured 300x200 picture (blocks of random grey, like clothes and a background) and
    landmarks spread over its middle."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(30, 220, size=(30, 20))
    grey = np.kron(blocks, np.ones((10, 10))).astype(np.uint8)
    frame = np.stack([grey] * 3, axis=2)
    keypoints = np.column_stack([rng.uniform(50, 150, 33), rng.uniform(60, 240, 33)])
    return frame, keypoints


def test_blur_lowers_sharpness_and_contrast_does_not_change_it() -> None:
    frame, keypoints = _scene()
    sharp = frame_sharpness(frame, keypoints)
    blurred = np.asarray(Image.fromarray(frame).filter(ImageFilter.GaussianBlur(2)))
    assert frame_sharpness(blurred, keypoints) < sharp / 1.5
    dim = (frame.astype(np.float64) * 0.5 + 40).astype(np.uint8)
    assert frame_sharpness(dim, keypoints) == pytest.approx(sharp, rel=0.05)


def test_a_dim_picture_has_less_contrast() -> None:
    frame, keypoints = _scene()
    dark = (frame.astype(np.float64) * 0.3).astype(np.uint8)
    assert frame_contrast(dark, keypoints) == pytest.approx(0.3 * frame_contrast(frame, keypoints),
                                                            rel=0.05)
    assert np.isnan(frame_contrast(frame, np.full((33, 2), np.nan)))


def test_no_person_or_a_tiny_box_says_nothing() -> None:
    frame, _ = _scene()
    assert np.isnan(frame_sharpness(frame, np.full((33, 2), np.nan)))
    assert np.isnan(frame_sharpness(frame, np.full((33, 2), 100.0)))  # a box of no size
    assert np.isnan(clip_median([float("nan")] * 3))
    assert clip_median([1.0, float("nan"), 3.0, 2.0]) == 2.0


def test_the_rows_read_are_spread_over_the_clip() -> None:
    assert list(sharpness_rows(5)) == [0, 1, 2, 3, 4]
    rows = sharpness_rows(1000)
    assert len(rows) == SHARPNESS_FRAMES and rows[0] == 0 and rows[-1] == 999
    assert len(sharpness_rows(0)) == 0


def test_sharpness_travels_with_the_pose(tmp_path: Path) -> None:
    """Saved and loaded, left/right repaired, implausible frames dropped, mirrored: each
    step builds a new sequence, and each keeps the clip's sharpness (a lost value would
    silently turn off the capture error of a blurrier clip)."""
    frames = [figure(knee=(170.0, 170.0))] * 30
    pose = sequence(frames, fps=30.0, noise=0.5)
    pose = PoseSequence(keypoints=pose.keypoints, visibility=pose.visibility,
                        present=pose.present, timestamps=pose.timestamps, width=pose.width,
                        height=pose.height, sharpness=0.8, contrast=40.0)
    kp = pose.keypoints.copy()
    kp[12, LANDMARK_INDEX["left_wrist"]] += (0.0, -300.0)  # a jump plausible() removes
    jumped = PoseSequence(keypoints=kp, visibility=pose.visibility, present=pose.present,
                          timestamps=pose.timestamps, width=pose.width, height=pose.height,
                          sharpness=0.8, contrast=40.0)
    assert plausible(jumped) is not jumped and plausible(jumped).sharpness == 0.8
    assert plausible(jumped).contrast == 40.0 and repair_left_right(pose).contrast == 40.0
    assert pose.mirrored().contrast == 40.0
    assert repair_left_right(pose).sharpness == 0.8
    assert pose.mirrored().sharpness == 0.8
    pose.save(tmp_path / "p.npz")
    assert PoseSequence.load(tmp_path / "p.npz").sharpness == 0.8
    assert PoseSequence.load(tmp_path / "p.npz").contrast == 40.0


@pytest.mark.real_clips
def test_blurred_and_darker_copies_of_a_real_clip_read_so(clips_dir: Path,
                                                              tmp_path: Path) -> None:
    """On the frames the pose model reads: the shared clip and its copy blurred by 2 pixels
    differ by more than SHARPNESS_RATIO, its copy three times darker with noise by more than
    EXPOSURE_RATIO in contrast; the copy re-encoded as it is by neither."""
    from tests.support.videos import write_variant
    from viddiff.tools.kinematics.comparison import SHARPNESS_RATIO, capture_causes
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.video import plan_sampling

    src = clips_dir / "Demo_SinglePerson_cam01.mp4"
    paths = [write_variant(src, tmp_path / "a.mp4"), write_variant(src, tmp_path / "b.mp4"),
             write_variant(src, tmp_path / "blurred.mp4", blur=2.0),
             write_variant(src, tmp_path / "dark.mp4", gain=0.3, noise=3.0, crf=28)]
    poses = [extract_video_pose(plan_sampling(p, 10.0, None, 448), tmp_path) for p in paths]
    assert all(np.isfinite(p.sharpness) for p in poses)
    assert poses[0].sharpness / poses[1].sharpness == pytest.approx(1.0, abs=0.05)
    assert poses[0].sharpness / poses[2].sharpness > SHARPNESS_RATIO
    assert "sharpness" in capture_causes(poses[0], poses[2])
    assert "sharpness" not in capture_causes(poses[0], poses[1])
    assert capture_causes(poses[0], poses[3]) >= {"exposure"}
    assert "exposure" not in capture_causes(poses[0], poses[1]) | capture_causes(poses[0],
                                                                                 poses[2])
