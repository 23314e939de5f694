"""What a CLIP localizer is asked for, and what the pipeline needs of one: no torch here.

:class:`ClipSpec` names the model, weights and device; :class:`Embedder` is the interface the
localizer, the embedding cache and the chat tools use. Both import without torch or open_clip,
so settings can be read, compared and cached (and the offline engine and the pose localizer can
run) on an install without the ``clip`` extra; :mod:`viddiff.tools.clip.model` builds the real
embedder and needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["ClipSpec", "Embedder", "ProgressFn", "lazy_embedder"]

ProgressFn = Callable[[int, int], None]


class Embedder(Protocol):
    """What :func:`embed_video` and the localizer need; :class:`ClipEmbedder` is the real one,
    tests may pass lighter fakes."""

    @property
    def cache_tag(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode_images(
        self, frames: np.ndarray, batch_size: int = 32, on_progress: ProgressFn | None = None
    ) -> np.ndarray: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ClipSpec:
    """Which open_clip model to run, with which weights, where.

    ``pretrained`` is an open_clip tag (``open_clip.list_pretrained()``); ``checkpoint`` a local
    weights file (overrides the tag's download; the tag, if given, still supplies its
    preprocessing and QuickGELU settings). Neither: random weights (tests). ``device``:
    ``"auto"`` (CUDA in float16 when available, else CPU float32), ``"cpu"``, ``"cuda[:n]"``.
    """

    model_name: str = "ViT-B-32"
    pretrained: str | None = "laion2b_s34b_b79k"
    checkpoint: str | None = None
    device: str = "auto"


def lazy_embedder(factory: Callable[[], Embedder]) -> Callable[[], Embedder]:
    """Build the embedder on first use, once, even when tools are called from many threads
    (model construction is slow and may fail with a ConfigError the caller reports)."""
    lock = threading.Lock()
    holder: list[Embedder] = []

    def get() -> Embedder:
        with lock:
            if not holder:
                holder.append(factory())
            return holder[0]

    return get
