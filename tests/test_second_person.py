"""A second person in view for a sustained time is noticed and noted, even when the tracker
keeps to the first one throughout; one person alone is not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.test_kinematics import squat_clip
from viddiff.tools.pose.quality import second_person_note
from viddiff.tools.pose.sequence import PoseSequence


def test_the_note_needs_someone_in_most_frames_looked_at(tmp_path: Path) -> None:
    pose = squat_clip(fps=30.0)
    assert pose.others is None and second_person_note(pose) is None  # never looked
    rows = np.arange(6)
    for found, noted in (([0] * 6, False), ([1, 0, 0, 0, 0, 0], False), ([1, 1, 1, 0, 0, 0], True),
                         ([1] * 6, True)):
        seen = dataclasses.replace(pose, others=np.stack([rows, found], axis=1))
        note = second_person_note(seen)
        assert (note is not None) == noted
        if noted:
            assert note is not None and "second person" in note
        seen.save(tmp_path / "p.npz")
        back = PoseSequence.load(tmp_path / "p.npz", require_current=True)
        assert back.others is not None and back.others.tolist() == seen.others.tolist()
    pose.save(tmp_path / "none.npz")
    assert PoseSequence.load(tmp_path / "none.npz").others is None
    assert pose.mirrored().others is None


@pytest.mark.real_clips
@pytest.mark.slow
def test_two_real_people_side_by_side_are_noted_and_one_is_not(clips_dir: Path,
                                                               tmp_path: Path) -> None:
    from tests.support.videos import encode_frames, read_frames
    from viddiff.tools.pose.extract import extract_video_pose
    from viddiff.tools.pose.quality import person_problem
    from viddiff.tools.video import plan_sampling

    left, rate = read_frames(clips_dir / "Demo_SinglePerson_cam01.mp4", 448)
    right, _ = read_frames(clips_dir / "Demo_SinglePerson_cam03.mp4", 448)
    h = min(left[0].shape[0], right[0].shape[0])
    both = [np.concatenate([a[:h], b[:h]], axis=1) for a, b in zip(left, right, strict=False)]
    two = encode_frames(tmp_path / "two.mp4", both, rate)
    pose = extract_video_pose(plan_sampling(two, 30.0, 1800, 448))
    assert person_problem(pose) is None  # the tracker keeps to one of them...
    note = second_person_note(pose)  # ...and the other is noticed all the same
    assert note is not None and "second person" in note
    assert pose.others is not None and pose.others[:, 1].sum() >= 4
    alone = extract_video_pose(plan_sampling(clips_dir / "Demo_SinglePerson_cam01.mp4", 30.0,
                                             1800, 448), tmp_path / "cache")
    assert second_person_note(alone) is None
    again = extract_video_pose(plan_sampling(clips_dir / "Demo_SinglePerson_cam01.mp4", 30.0,
                                             1800, 448), tmp_path / "cache")  # from the cache
    assert again.others is not None and again.others.tolist() == alone.others.tolist()
