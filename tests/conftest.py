"""Shared fixtures: synthetic videos, real clips (skipped when absent), fake CLIP embedder."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.support.videos import CLIPS_DIR, write_video


@pytest.fixture(scope="session")
def clips_dir() -> Path:
    if not (CLIPS_DIR / "Demo_SinglePerson_cam01.mp4").exists():
        pytest.skip(f"real clips not found at {CLIPS_DIR} (../shared/data/clips)")
    return CLIPS_DIR


@pytest.fixture(scope="session")
def synthetic_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("videos")
    return (write_video(root / "a.mp4", n_frames=36, fps=12),
            write_video(root / "b.mp4", n_frames=24, fps=12))


class FakeEmbedder:
    """A deterministic stand-in for CLIP: features from frame colour statistics and text hashes.

    It lets graph tests run in milliseconds; the real open_clip path is covered by the tools
    tests and the integration test (random weights).
    """

    dim = 16
    cache_tag = "fake-embedder-v1"

    def __init__(self) -> None:
        self.image_calls = 0
        self.started: list[float] = []

    def encode_images(self, frames: np.ndarray, batch_size: int = 32,
                      on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        import time

        self.started.append(time.monotonic())
        self.image_calls += 1
        flat = frames.reshape(len(frames), -1).astype(np.float32)
        feats = np.stack([flat[:, i::self.dim].mean(axis=1) for i in range(self.dim)], axis=1)
        feats += np.arange(len(frames))[:, None] * 0.01
        if on_progress:
            on_progress(len(frames), len(frames))
        return feats / np.linalg.norm(feats, axis=1, keepdims=True)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for text in texts:
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            vec = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
            out.append(vec / np.linalg.norm(vec))
        return np.stack(out)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    from viddiff.tools.clip.cache import clear_embedding_memo

    clear_embedding_memo()  # each test starts with nothing embedded in-process
    return FakeEmbedder()
