"""open_clip image/text embeddings for the stage localizer (docs/architecture.md).

:func:`load_clip` builds a :class:`ClipEmbedder` (frames or strings in, L2-normalised rows out)
once per :class:`ClipSpec` and process, from weights that :mod:`viddiff.tools.clip.weights`
finds on this machine. ``ClipSpec(pretrained=None)`` without a checkpoint builds random
weights from a fixed seed: shapes, speed and caching are real, similarities are not (tests,
benchmarks). :class:`Embedder` is the interface the rest of the pipeline needs, so tests may
pass lighter fakes.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from viddiff.tools.clip.spec import ClipSpec, Embedder, ProgressFn, lazy_embedder
from viddiff.tools.clip.weights import checkpoint_fingerprint, pretrained_cfg, weights_for_tag
from viddiff.tools.errors import ConfigError, one_line

#: Seed for random-weight models: the same weights in every process, so their embeddings can
#: be cached like real ones.
RANDOM_WEIGHTS_SEED = 0
#: Bump when preprocessing changes, so stale cached embeddings are not reused.
_PIPELINE_VERSION = "v1"
_TEXT_BATCH = 256
#: Text embeddings remembered per model (a few MB at most: 512 floats per string).
_TEXT_MEMO = 4096

#: Re-exported from :mod:`viddiff.tools.clip.spec`, where they live without torch.
__all__ = ["ClipEmbedder", "ClipSpec", "Embedder", "ProgressFn", "lazy_embedder", "load_clip"]

class ClipEmbedder:
    """A loaded open_clip model: frames or strings in, L2-normalised float32 rows out.

    Build it with :func:`load_clip`. Calls are serialised by a lock: one model, many graph
    threads, and torch already uses every core for a single batch.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Callable[..., torch.Tensor],
        pil_preprocess: Callable[[Image.Image], torch.Tensor],
        *,
        device: torch.device,
        dtype: torch.dtype,
        cache_tag: str,
    ) -> None:
        self._model: Any = model.eval()  # open_clip models: encode_image / encode_text
        self._tokenizer = tokenizer
        self._pil_preprocess = pil_preprocess
        self._device = device
        self._dtype = dtype
        self._cache_tag = cache_tag
        self._lock = threading.RLock()  # RLock: a progress callback may call back in
        self._text_memo: OrderedDict[str, np.ndarray] = OrderedDict()  # see encode_texts
        cfg = open_clip.get_model_preprocess_cfg(model)
        size = cfg.get("size", 224)
        self._size: tuple[int, int] = (size, size) if isinstance(size, int) else tuple(size)
        self._resize_mode: str = cfg.get("resize_mode", "shortest")
        self._interpolation = (
            InterpolationMode.BILINEAR
            if cfg.get("interpolation") == "bilinear"
            else InterpolationMode.BICUBIC
        )
        self._mean = torch.tensor(cfg["mean"], device=device).view(1, 3, 1, 1)
        self._std = torch.tensor(cfg["std"], device=device).view(1, 3, 1, 1)
        self._dim = int(self.encode_texts(["a photo"]).shape[1])

    @property
    def cache_tag(self) -> str:
        """Identifies model + weights + preprocessing; part of every embedding cache key."""
        return self._cache_tag

    @property
    def dim(self) -> int:
        """Embedding width D."""
        return self._dim

    @property
    def device(self) -> torch.device:
        """Where the model runs."""
        return self._device

    def _preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 (B,H,W,3) → normalised model input, as open_clip's eval transform does.

        Vectorised on the model's device (resize shortest side with antialiasing, centre
        crop, mean/std) instead of one PIL image at a time; differs from the PIL path only
        by uint8 rounding (≤ 1 grey level). Unusual resize modes use the PIL transform.
        """
        if self._resize_mode not in ("shortest", "squash") or (
            self._resize_mode == "shortest" and self._size[0] != self._size[1]
        ):
            batch = torch.stack([self._pil_preprocess(Image.fromarray(f)) for f in frames])
            return batch.to(self._device, self._dtype)
        if not frames.flags.writeable or not frames.flags.c_contiguous:
            frames = np.array(frames)  # torch wants writable memory; cached frames are not
        x = torch.from_numpy(frames).to(self._device)
        x = x.permute(0, 3, 1, 2)
        if self._resize_mode == "squash":
            x = TF.resize(x, list(self._size), interpolation=self._interpolation, antialias=True)
        else:
            x = TF.resize(x, [self._size[0]], interpolation=self._interpolation, antialias=True)
            x = TF.center_crop(x, list(self._size))
        x = (x.float().div_(255.0) - self._mean) / self._std
        return x.to(self._dtype)

    def encode_images(
        self,
        frames: np.ndarray,
        batch_size: int = 32,
        on_progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Embed RGB uint8 frames (T,H,W,3) → (T,D) float32, rows L2-normalised.

        ``on_progress(done, total)`` is called after each batch (for progress bars).
        """
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must have shape (T, H, W, 3), got {frames.shape}")
        if frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 RGB, got dtype {frames.dtype}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        total = frames.shape[0]
        out = np.empty((total, self._dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for start in range(0, total, batch_size):
                stop = min(start + batch_size, total)
                emb = self._model.encode_image(self._preprocess(frames[start:stop]))
                out[start:stop] = F.normalize(emb.float(), dim=-1).cpu().numpy()
                if on_progress is not None:
                    on_progress(stop, total)
        return out

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed strings → (N,D) float32, rows L2-normalised.

        Rows are remembered per string (up to ``_TEXT_MEMO`` strings, least recently used out
        first), and only strings not seen before go through the model. Why: every sample of an
        action localizes against the same stage retrieval strings (the stage transcript is
        cached per action), and each encoding ran the text tower under the model lock. With
        the eval at ``--concurrency 8`` that serialised text encoding was the bottleneck: 8
        samples' localizers queued on the lock for ~1 s of CPU each, so throughput stopped
        growing past 4 (bench/bench_eval_concurrency.py; bench/RESULTS.md, "Eval concurrency").
        Each string's tokens are padded to the model's fixed context, so a row does not depend
        on the other strings in its batch.
        """
        if isinstance(texts, str):
            raise ValueError("texts must be a sequence of strings, not a single string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, getattr(self, "_dim", 0)), dtype=np.float32)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._text_memo))
            if missing:
                with torch.inference_mode():
                    for start in range(0, len(missing), _TEXT_BATCH):
                        chunk = missing[start : start + _TEXT_BATCH]
                        tokens = self._tokenizer(chunk).to(self._device)
                        emb = self._model.encode_text(tokens)
                        rows = F.normalize(emb.float(), dim=-1).cpu().numpy()
                        for text, row in zip(chunk, rows, strict=True):
                            row.setflags(write=False)
                            self._text_memo[text] = row
            for text in texts:
                self._text_memo.move_to_end(text)
            out = np.stack([self._text_memo[t] for t in texts]).astype(np.float32, copy=False)
            while len(self._text_memo) > _TEXT_MEMO:
                self._text_memo.popitem(last=False)
        return out


    def forget_texts(self) -> None:
        """Drop the remembered text embeddings (benchmarks timing the text tower)."""
        with self._lock:
            self._text_memo.clear()

# ---------------------------------------------------------------------------- loading


def _check_model_name(model_name: str) -> None:
    known = open_clip.list_models()
    if model_name in known:
        return
    close = difflib.get_close_matches(model_name, known, n=4, cutoff=0.5)
    examples = close or ["ViT-B-32", "ViT-B-16", "ViT-L-14", "ViT-bigG-14"]
    raise ConfigError(
        f"unknown CLIP model {model_name!r}; try one of {', '.join(examples)} "
        "(open_clip.list_models() lists all)"
    )


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ConfigError(f"unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available here")
    return dev


class _DropRandomInitWarning(logging.Filter):
    """open_clip logs a warning for random weights; for a test model that is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "No pretrained weights loaded" not in record.getMessage()


@contextlib.contextmanager
def _quiet_random_init() -> Iterator[None]:
    root = logging.getLogger()
    flt = _DropRandomInitWarning()
    root.addFilter(flt)
    try:
        yield
    finally:
        root.removeFilter(flt)


def _build(spec: ClipSpec) -> ClipEmbedder:
    _check_model_name(spec.model_name)
    device = _resolve_device(spec.device)
    tag_cfg = pretrained_cfg(spec.model_name, spec.pretrained) if spec.pretrained else {}
    if spec.checkpoint:
        if not os.path.isfile(spec.checkpoint):
            raise ConfigError(
                f"CLIP checkpoint file not found: {spec.checkpoint} (pass an existing local "
                "weights file, or a pretrained tag whose weights are cached)"
            )
        weights: str | None = spec.checkpoint
        cache_tag = f"ckpt-{checkpoint_fingerprint(spec.checkpoint)[:16]}"
    elif spec.pretrained:
        weights = weights_for_tag(spec.model_name, spec.pretrained, tag_cfg)
        cache_tag = spec.pretrained
    else:
        weights = None
        cache_tag = (
            f"random-seed{RANDOM_WEIGHTS_SEED}-torch{torch.__version__}"
            f"-open_clip{open_clip.__version__}"
        )
    precision = "fp16" if device.type == "cuda" else "fp32"
    try:
        with torch.random.fork_rng(devices=[]), _quiet_random_init():
            torch.manual_seed(RANDOM_WEIGHTS_SEED)
            model, _, preprocess = open_clip.create_model_and_transforms(
                spec.model_name,
                pretrained=weights,
                precision=precision,
                device=device,
                force_quick_gelu=bool(tag_cfg.get("quick_gelu", False)),
                image_mean=tag_cfg.get("mean"),
                image_std=tag_cfg.get("std"),
                image_interpolation=tag_cfg.get("interpolation"),
                image_resize_mode=tag_cfg.get("resize_mode"),
            )
        tokenizer = open_clip.get_tokenizer(spec.model_name)
    except ConfigError:
        raise
    except Exception as err:
        what = f"weights {weights}" if weights else "random weights"
        raise ConfigError(
            f"cannot build CLIP model {spec.model_name} with {what} ({one_line(err)})"
        ) from None
    return ClipEmbedder(
        model,
        tokenizer,
        preprocess,
        device=device,
        dtype=torch.float16 if precision == "fp16" else torch.float32,
        cache_tag=f"open_clip/{spec.model_name}/{cache_tag}/{_PIPELINE_VERSION}",
    )


_clip_lock = threading.Lock()
_clip_memo: dict[ClipSpec, ClipEmbedder] = {}


def load_clip(spec: ClipSpec) -> ClipEmbedder:
    """The embedder for ``spec``, built once per process (thread-safe).

    Raises :class:`ConfigError` (one line, with the fix) for an unknown model or tag, missing
    weights offline, a missing checkpoint file, or an unavailable device.
    """
    with _clip_lock:
        if spec not in _clip_memo:
            _clip_memo[spec] = _build(spec)
        return _clip_memo[spec]
