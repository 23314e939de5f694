"""Frame embeddings computed at most once: an on-disk cache and an in-process memo.

Frame embeddings do not depend on any LLM output, so graphs compute them early and reuse them:
:func:`embed_video` checks an in-process memo, then :class:`EmbeddingCache`, before encoding.
The model itself (:mod:`viddiff.tools.clip.model`) is only referred to in type hints, so this
module does not import torch.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from viddiff.tools.files import write_atomic
from viddiff.tools.video import LazySampledVideo, SampledVideo

if TYPE_CHECKING:
    from viddiff.tools.clip.spec import Embedder, ProgressFn

_EMBED_MEMO_SIZE = 32


def embedding_key(video: SampledVideo | LazySampledVideo, cache_tag: str) -> str:
    """Cache key for a video's frame embeddings.

    The file digest, the exact sampled frame numbers and the decoded frame size determine
    the pixels (so target fps / max frames / max side enter through them); ``cache_tag`` the
    model, weights and preprocessing.
    """
    indices = np.ascontiguousarray(video.indices, dtype=np.int64)
    payload = {
        "digest": video.digest,
        "indices": hashlib.sha256(indices.tobytes()).hexdigest(),
        "frame_hw": list(getattr(video, "frame_hw", None) or video.frames.shape[1:3]),
        "model": cache_tag,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class EmbeddingCache:
    """Frame embeddings on disk, one ``<key>.npy`` per video and setting.

    Writes go to a temporary file in the same directory followed by ``os.replace``, so a
    reader never sees a half-written file, even with several processes sharing the folder.
    An unreadable entry counts as a miss.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        """File that holds ``key``'s embeddings."""
        if not key or not all(c.isalnum() or c in "-_." for c in key) or key.startswith("."):
            raise ValueError(f"invalid cache key {key!r}")
        return self.root / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        """The stored array, or None when absent or unreadable."""
        path = self.path_for(key)
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            return None
        return arr if isinstance(arr, np.ndarray) else None

    def put(self, key: str, arr: np.ndarray) -> None:
        """Store ``arr`` under ``key`` atomically."""
        path = self.path_for(key)
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
        write_atomic(path, buf.getvalue(), durable=True)


_embed_lock = threading.Lock()
_embed_memo: OrderedDict[str, np.ndarray] = OrderedDict()


def embed_video(
    embedder: Embedder,
    video: SampledVideo | LazySampledVideo,
    cache: EmbeddingCache | None = None,
    on_progress: ProgressFn | None = None,
) -> np.ndarray:
    """(T,D) embeddings of ``video``'s sampled frames, computed at most once.

    Looks in an in-process memo, then ``cache``; only a miss in both encodes (and stores the
    result in both). The returned array is shared and read-only.
    """
    key = embedding_key(video, embedder.cache_tag)
    total = video.n_sampled
    with _embed_lock:
        hit = _embed_memo.get(key)
        if hit is not None:
            _embed_memo.move_to_end(key)
    if hit is None and cache is not None:
        stored = cache.get(key)
        if (
            stored is not None
            and stored.shape == (total, embedder.dim)
            and stored.dtype == np.float32
        ):
            hit = stored
    if hit is not None:
        if on_progress is not None:
            on_progress(total, total)
    else:
        hit = embedder.encode_images(video.frames, on_progress=on_progress)
        if cache is not None:
            cache.put(key, hit)
    hit.flags.writeable = False
    with _embed_lock:
        _embed_memo[key] = hit
        while len(_embed_memo) > _EMBED_MEMO_SIZE:
            _embed_memo.popitem(last=False)
    return hit


def clear_embedding_memo() -> None:
    """Forget in-process embeddings (tests; the on-disk cache is untouched)."""
    with _embed_lock:
        _embed_memo.clear()
