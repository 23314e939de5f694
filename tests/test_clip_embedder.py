"""open_clip embedder (random weights: no downloads), weight resolution errors, caches."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
from PIL import Image

from viddiff.tools.clip import cache as clip_cache
from viddiff.tools.clip import model as clip_model
from viddiff.tools.clip import weights as clip_weights
from viddiff.tools.clip.cache import (
    EmbeddingCache,
    clear_embedding_memo,
    embed_video,
    embedding_key,
)
from viddiff.tools.clip.model import ClipEmbedder, ClipSpec, load_clip
from viddiff.tools.errors import ConfigError
from viddiff.tools.video import SampledVideo, VideoInfo

RANDOM = ClipSpec(pretrained=None, device="cpu")


@pytest.fixture(scope="module")
def embedder() -> ClipEmbedder:
    return load_clip(RANDOM)


def _frames(n: int, h: int = 60, w: int = 80, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _video(n: int = 5, digest: str = "d" * 64, side: int = 40) -> SampledVideo:
    info = VideoInfo(
        path="x.mp4", fps=30.0, n_frames=100, duration_s=100 / 30, width=side, height=side
    )
    idx = np.arange(n, dtype=np.int64) * 5
    return SampledVideo(
        info=info,
        digest=digest,
        target_fps=6.0,
        indices=idx,
        timestamps=idx / 30.0,
        frames=_frames(n, side, side),
    )


# ------------------------------------------------------------------------- embeddings


def test_image_embeddings_are_normalised_float32(embedder: ClipEmbedder) -> None:
    emb = embedder.encode_images(_frames(5))
    assert emb.shape == (5, 512) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == 512


def test_batching_does_not_change_results(embedder: ClipEmbedder) -> None:
    frames = _frames(5, seed=1)
    progress: list[tuple[int, int]] = []
    small = embedder.encode_images(
        frames, batch_size=2, on_progress=lambda d, t: progress.append((d, t))
    )
    big = embedder.encode_images(frames, batch_size=32)
    np.testing.assert_allclose(small, big, atol=1e-5)
    assert progress == [(2, 5), (4, 5), (5, 5)]


def test_text_embeddings(embedder: ClipEmbedder) -> None:
    emb = embedder.encode_texts(["a person standing", "a person squatting", "a person standing"])
    assert emb.shape == (3, 512) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(emb[0], emb[2], atol=1e-6)
    assert not np.allclose(emb[0], emb[1])
    assert embedder.encode_texts([]).shape == (0, 512)



def test_text_embeddings_are_remembered_per_string(embedder: ClipEmbedder,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage strings repeat across samples: only new strings reach the text tower, and a
    remembered row equals a freshly encoded one."""
    embedder.forget_texts()
    fresh = embedder.encode_texts(["a lunge, descending", "a lunge, at the bottom"])
    seen: list[list[str]] = []
    tokenizer = embedder._tokenizer
    monkeypatch.setattr(embedder, "_tokenizer", lambda texts: (seen.append(list(texts)),
                                                                tokenizer(texts))[1])
    again = embedder.encode_texts(["a lunge, at the bottom", "a lunge, rising",
                                   "a lunge, descending", "a lunge, rising"])
    assert seen == [["a lunge, rising"]]
    np.testing.assert_allclose(again[[2, 0]], fresh, atol=1e-6)
    np.testing.assert_array_equal(again[1], again[3])
    again[0] = 0.0  # the caller's copy, not the remembered row
    np.testing.assert_allclose(embedder.encode_texts(["a lunge, at the bottom"])[0], fresh[1],
                               atol=1e-6)

def test_empty_and_bad_inputs(embedder: ClipEmbedder) -> None:
    assert embedder.encode_images(np.zeros((0, 8, 8, 3), np.uint8)).shape == (0, 512)
    with pytest.raises(ValueError, match="shape"):
        embedder.encode_images(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        embedder.encode_images(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="single string"):
        embedder.encode_texts("a person")


def test_vectorised_preprocessing_matches_open_clip_transform(embedder: ClipEmbedder) -> None:
    frames = _frames(3, 300, 200, seed=2)
    ours = embedder._preprocess(frames)
    theirs = torch.stack([embedder._pil_preprocess(Image.fromarray(f)) for f in frames])
    assert ours.shape == theirs.shape == (3, 3, 224, 224)
    diff = (ours - theirs).abs()
    # Same geometry and mean/std; only uint8 rounding differs (1 grey level ≈ 0.015 here).
    assert float(diff.mean()) < 1e-3 and float(diff.max()) < 0.05


def test_random_weights_are_reproducible_across_processes(embedder: ClipEmbedder) -> None:
    code = (
        "from viddiff.tools.clip.model import ClipSpec, load_clip\n"
        "e = load_clip(ClipSpec(pretrained=None, device='cpu'))\n"
        "print(e.cache_tag)\n"
        "print(' '.join(f'{x:.6f}' for x in e.encode_texts(['a person jumping'])[0][:8]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()
    assert out[0] == embedder.cache_tag
    theirs = np.array([float(x) for x in out[1].split()])
    np.testing.assert_allclose(
        embedder.encode_texts(["a person jumping"])[0][:8], theirs, atol=1e-5
    )


def test_random_weight_tag(embedder: ClipEmbedder) -> None:
    assert embedder.cache_tag.startswith("open_clip/ViT-B-32/random-seed0-torch")


def test_checkpoint_file_loads_and_is_tagged_by_content(
    embedder: ClipEmbedder, tmp_path: Path
) -> None:
    ckpt = tmp_path / "weights.pt"
    torch.save(embedder._model.state_dict(), ckpt)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    loaded = load_clip(ClipSpec(pretrained=None, checkpoint=str(ckpt), device="cpu"))
    assert torch.equal(torch.rand(3), expected)  # seeding for the build left the RNG alone
    assert loaded.cache_tag.startswith("open_clip/ViT-B-32/ckpt-")
    frames = _frames(2, seed=3)
    np.testing.assert_allclose(
        loaded.encode_images(frames), embedder.encode_images(frames), atol=1e-5
    )


# ---------------------------------------------------------------------- load errors


def test_load_clip_is_memoised_and_thread_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[ClipSpec] = []

    def slow_build(spec: ClipSpec) -> object:
        built.append(spec)
        time.sleep(0.05)
        return object()

    monkeypatch.setattr(clip_model, "_build", slow_build)
    spec = ClipSpec(model_name="ViT-B-16", pretrained=None, device="cpu")
    monkeypatch.delitem(clip_model._clip_memo, spec, raising=False)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(load_clip(spec))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and all(r is results[0] for r in results)
    clip_model._clip_memo.pop(spec, None)


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match=r"unknown CLIP model 'ViT-B-33'.*ViT-B-32"):
        load_clip(ClipSpec(model_name="ViT-B-33", pretrained=None))


def test_unknown_tag_lists_known_tags() -> None:
    with pytest.raises(ConfigError, match=r"no pretrained weights 'nope'.*laion2b_s34b_b79k"):
        load_clip(ClipSpec(pretrained="nope"))


def test_missing_checkpoint_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="checkpoint file not found"):
        load_clip(ClipSpec(pretrained=None, checkpoint=str(tmp_path / "nope.pt")))


def test_unusable_checkpoint_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_text("not weights")
    with pytest.raises(
        ConfigError, match=r"cannot build CLIP model ViT-B-32 with weights .*bad\.pt"
    ):
        load_clip(ClipSpec(pretrained=None, checkpoint=str(bad), device="cpu"))


def test_missing_weights_offline_fail_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(clip_weights, "_cached_weights", lambda cfg: None)
    monkeypatch.setattr(open_clip, "download_pretrained", _no_download)
    start = time.monotonic()
    with pytest.raises(ConfigError) as err:
        load_clip(ClipSpec(pretrained="laion2b_s34b_b79k"))
    assert time.monotonic() - start < 2
    message = str(err.value)
    assert "HF_HUB_OFFLINE" in message and "checkpoint" in message and "\n" not in message


def test_unreachable_hub_fails_without_downloading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(clip_weights, "_cached_weights", lambda cfg: None)
    monkeypatch.setattr(open_clip, "download_pretrained", _no_download)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(clip_weights.socket, "create_connection", refuse)
    with pytest.raises(ConfigError, match=r"unreachable.*download them once"):
        load_clip(ClipSpec(pretrained="laion2b_s34b_b79k"))


def _no_download(*args: object, **kwargs: object) -> str:
    raise AssertionError("must not try to download")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda() -> None:
    with pytest.raises(ConfigError, match="CUDA is not available"):
        load_clip(ClipSpec(pretrained=None, device="cuda"))


# ---------------------------------------------------------------------------- caching


def test_embedding_cache_round_trip(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "emb")
    assert cache.get("abc") is None
    arr = np.random.default_rng(0).random((4, 8)).astype(np.float32)
    cache.put("abc", arr)
    np.testing.assert_array_equal(cache.get("abc"), arr)
    assert [p.name for p in (tmp_path / "emb").iterdir()] == ["abc.npy"]  # no temp files left
    (tmp_path / "emb" / "abc.npy").write_bytes(b"garbage")
    assert cache.get("abc") is None
    with pytest.raises(ValueError, match="invalid cache key"):
        cache.put("../evil", arr)


def test_embedding_cache_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = EmbeddingCache(tmp_path)
    old = np.ones((2, 3), np.float32)
    cache.put("key", old)

    def failing_save(fh: object, arr: np.ndarray, allow_pickle: bool = False) -> None:
        fh.write(b"\x93NUMPY partial")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(clip_cache.np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        cache.put("key", np.zeros((2, 3), np.float32))
    monkeypatch.undo()
    np.testing.assert_array_equal(cache.get("key"), old)  # old entry intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.npy"]


def test_embedding_key_depends_on_everything_that_changes_pixels() -> None:
    base = _video()
    key = embedding_key(base, "tag")
    assert embedding_key(_video(), "tag") == key
    assert embedding_key(_video(digest="e" * 64), "tag") != key
    assert embedding_key(_video(n=4), "tag") != key
    assert embedding_key(_video(side=48), "tag") != key
    assert embedding_key(base, "other") != key


class _CountingEmbedder:
    cache_tag = "counting-v1"
    dim = 4

    def __init__(self) -> None:
        self.calls = 0

    def encode_images(
        self, frames: np.ndarray, batch_size: int = 32, on_progress: object = None
    ) -> np.ndarray:
        self.calls += 1
        out = np.ones((len(frames), self.dim), np.float32) / 2
        return out

    def encode_texts(self, texts: object) -> np.ndarray:
        raise NotImplementedError


def test_second_embed_does_no_work(tmp_path: Path) -> None:
    clear_embedding_memo()
    emb = _CountingEmbedder()
    cache = EmbeddingCache(tmp_path)
    video = _video(digest="f" * 64)
    first = embed_video(emb, video, cache)
    assert emb.calls == 1 and first.shape == (5, 4)
    embed_video(emb, video, cache)
    assert emb.calls == 1  # in-process memo
    clear_embedding_memo()
    seen: list[tuple[int, int]] = []
    again = embed_video(emb, video, cache, on_progress=lambda d, t: seen.append((d, t)))
    assert emb.calls == 1 and seen == [(5, 5)]  # from disk, progress still reported
    np.testing.assert_array_equal(again, first)
    clear_embedding_memo()
    embed_video(emb, video, None)
    embed_video(emb, video, None)
    assert emb.calls == 2  # no disk cache: encoded once, then memo
    assert not again.flags.writeable


def test_embed_video_with_real_model_uses_disk_cache(
    embedder: ClipEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_embedding_memo()
    cache = EmbeddingCache(tmp_path)
    video = _video(n=3, digest="a" * 64)
    first = embed_video(embedder, video, cache)
    assert os.listdir(tmp_path) == [f"{embedding_key(video, embedder.cache_tag)}.npy"]
    clear_embedding_memo()
    monkeypatch.setattr(embedder, "encode_images", _no_download)
    np.testing.assert_array_equal(embed_video(embedder, video, cache), first)


def test_weight_lookup_knows_open_clip_file_layouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert clip_weights._hf_candidates("laion/CLIP-ViT-B-32-laion2B-s34B-b79K/") == (
        "laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"],
    )
    assert clip_weights._hf_candidates("org/repo/weights.pth") == (
        "org/repo",
        ["weights.safetensors", "weights.pth"],
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = {"url": "https://example.invalid/clip/models/abc/ViT-B-32.pt"}
    assert clip_weights._cached_weights(cfg) is None
    (tmp_path / ".cache" / "clip").mkdir(parents=True)
    (tmp_path / ".cache" / "clip" / "ViT-B-32.pt").write_bytes(b"x")
    assert clip_weights._cached_weights(cfg) == str(tmp_path / ".cache" / "clip" / "ViT-B-32.pt")
