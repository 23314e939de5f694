"""The frame store gives back exactly the decoded pixels, decodes only what it lacks, and
survives a damaged file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.videos import write_video
from viddiff.tools import frame_store
from viddiff.tools.video import load_frames_at


def test_stored_frames_are_the_decoded_frames(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_video(tmp_path / "v.mp4", n_frames=30, fps=15, size=(64, 48))
    store = tmp_path / "frames"
    want = load_frames_at(path, [3, 17, 29], 48)
    first = frame_store.stored_frames_at(path, [3, 17, 29], 48, store)
    assert len(list(store.glob("*.png"))) == 3
    asked: list[list[int]] = []
    real = frame_store.load_frames_at

    def counted(p: Path, frames: list[int], side: int | None) -> dict[int, np.ndarray]:
        asked.append(sorted(frames))
        return real(p, frames, side)

    monkeypatch.setattr(frame_store, "load_frames_at", counted)
    again = frame_store.stored_frames_at(path, [3, 17, 29, 5], 48, store)
    assert asked == [[5]]  # only the frame not stored yet is decoded
    for frame in (3, 17, 29):
        np.testing.assert_array_equal(first[frame], want[frame])
        np.testing.assert_array_equal(again[frame], want[frame])
    damaged = next(store.glob("*-17.png"))
    damaged.write_bytes(b"not a png")
    asked.clear()
    third = frame_store.stored_frames_at(path, [17], 48, store)
    assert asked == [[17]]
    np.testing.assert_array_equal(third[17], want[17])
    # another size or another video is another key
    frame_store.stored_frames_at(path, [3], 32, store)
    assert asked[-1] == [3]
