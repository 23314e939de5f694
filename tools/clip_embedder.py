"""open_clip image/text embeddings for the stage localizer (DESIGN §2.4), with an on-disk cache.

Why the care about weights: no package ships CLIP weights and model hubs may be unreachable,
so a model is only built from weights already on this machine (open_clip's or the Hugging Face
cache, or a checkpoint file). A download is attempted only when ``HF_HUB_OFFLINE`` is not set
and the hub answers a 3-second connection probe, so an offline run fails at once (within 3 s
behind a silent firewall) with a :class:`ConfigError` that says how to fix it, instead of
hanging on the network.
``ClipSpec(pretrained=None)`` without a checkpoint builds random weights from a fixed seed:
shapes, speed and caching are real, similarities are not (tests, benchmarks).

Frame embeddings do not depend on any LLM output, so graphs compute them early and reuse them:
:func:`embed_video` checks an in-process memo, then :class:`EmbeddingCache`, before encoding.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import io
import json
import logging
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode

from viddiff.tools.errors import ConfigError, one_line
from viddiff.tools.files import write_atomic
from viddiff.tools.video import SampledVideo

#: Seed for random-weight models: the same weights in every process, so their embeddings can
#: be cached like real ones.
RANDOM_WEIGHTS_SEED = 0
#: Bump when preprocessing changes, so stale cached embeddings are not reused.
_PIPELINE_VERSION = "v1"
_PROBE_TIMEOUT_S = 3.0
_TEXT_BATCH = 256
_EMBED_MEMO_SIZE = 32

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
        """Embed strings → (N,D) float32, rows L2-normalised."""
        if isinstance(texts, str):
            raise ValueError("texts must be a sequence of strings, not a single string")
        texts = list(texts)
        out: list[np.ndarray] = []
        with self._lock, torch.inference_mode():
            for start in range(0, len(texts), _TEXT_BATCH):
                tokens = self._tokenizer(texts[start : start + _TEXT_BATCH]).to(self._device)
                emb = self._model.encode_text(tokens)
                out.append(F.normalize(emb.float(), dim=-1).cpu().numpy())
        if not out:
            return np.zeros((0, getattr(self, "_dim", 0)), dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)


# ---------------------------------------------------------------------------- loading


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


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


def _pretrained_cfg(model_name: str, tag: str) -> dict[str, Any]:
    cfg: dict[str, Any] = open_clip.get_pretrained_cfg(model_name, tag)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        hint = f"known tags: {', '.join(tags[:6])}" if tags else "it has no published weights"
        raise ConfigError(
            f"no pretrained weights {tag!r} for CLIP model {model_name!r} ({hint}); "
            "or pass a local checkpoint file"
        )
    return cfg


def _hf_candidates(hf_hub: str) -> tuple[str, list[str]]:
    """(repo id, file names to look for) as open_clip resolves an ``hf_hub`` entry."""
    if hf_hub.endswith("/"):  # "org/repo/" means the default file name
        repo_id, filename = hf_hub.rstrip("/"), "open_clip_pytorch_model.bin"
    else:
        repo_id, filename = os.path.split(hf_hub)
    names = []
    if filename == "open_clip_pytorch_model.bin":
        names.append("open_clip_model.safetensors")
    elif filename.endswith((".bin", ".pth")):
        names.append(filename[:-4] + ".safetensors")
    names.append(filename)
    return repo_id, names


def _hf_cached_file(repo_id: str, filename: str) -> str | None:
    """A file from the local Hugging Face cache, without any network access."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # open_clip needs it for hub downloads; without it only URLs work
        return None
    found = try_to_load_from_cache(repo_id, filename)
    return found if isinstance(found, str) and os.path.isfile(found) else None


def _cached_weights(cfg: dict[str, Any]) -> str | None:
    """Path of the tag's weights if open_clip or the Hugging Face cache already has them."""
    if cfg.get("file"):
        return str(cfg["file"])
    if cfg.get("hf_hub"):
        repo_id, names = _hf_candidates(cfg["hf_hub"])
        for name in names:
            found = _hf_cached_file(repo_id, name)
            if found:
                return found
    if cfg.get("url"):
        local = Path("~/.cache/clip").expanduser() / os.path.basename(cfg["url"])
        if local.is_file():
            return str(local)
    return None


def _hub_reachable(cfg: dict[str, Any]) -> bool:
    """A 3-second TCP probe of the download host: fail fast instead of hanging offline."""
    if cfg.get("hf_hub"):
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    else:
        endpoint = cfg.get("url", "")
    parsed = urlparse(endpoint)
    host = parsed.hostname
    if not host:
        return False
    try:
        with socket.create_connection((host, parsed.port or 443), timeout=_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _weights_for_tag(model_name: str, tag: str, cfg: dict[str, Any]) -> str:
    """Local path of a tag's weights, downloading them only when that can work quickly."""
    cached = _cached_weights(cfg)
    if cached:
        return cached
    how = (
        f'download them once with network access (python -c "import open_clip; '
        f"open_clip.create_model_and_transforms('{model_name}', pretrained='{tag}')\") "
        "or pass a local checkpoint file (ClipSpec(checkpoint=...))"
    )
    if _offline():
        raise ConfigError(
            f"CLIP weights {model_name}/{tag} are not in the local cache and HF_HUB_OFFLINE "
            f"is set; {how}"
        )
    if not _hub_reachable(cfg):
        raise ConfigError(
            f"CLIP weights {model_name}/{tag} are not in the local cache and the model hub is "
            f"unreachable; {how}"
        )
    try:
        path = str(open_clip.download_pretrained(cfg))
    except Exception as err:
        raise ConfigError(
            f"downloading CLIP weights {model_name}/{tag} failed ({one_line(err)}); {how}"
        ) from None
    if not path or not os.path.isfile(path):
        raise ConfigError(f"downloading CLIP weights {model_name}/{tag} gave no file; {how}")
    return path


def checkpoint_fingerprint(path: str | os.PathLike[str]) -> str:
    """Cheap content digest of a (possibly multi-GB) weights file for cache tags.

    SHA-256 over the size and three 4 MiB windows (start, middle, end): different weight
    files differ there in practice, and hashing 10 GB on every start would take minutes.
    """
    p = Path(path)
    size = p.stat().st_size
    window = 4 << 20
    h = hashlib.sha256(str(size).encode())
    with p.open("rb") as fh:
        for offset in sorted({0, max(0, size // 2 - window // 2), max(0, size - window)}):
            fh.seek(offset)
            h.update(fh.read(window))
    return h.hexdigest()


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
    tag_cfg = _pretrained_cfg(spec.model_name, spec.pretrained) if spec.pretrained else {}
    if spec.checkpoint:
        if not os.path.isfile(spec.checkpoint):
            raise ConfigError(
                f"CLIP checkpoint file not found: {spec.checkpoint} (pass an existing local "
                "weights file, or a pretrained tag whose weights are cached)"
            )
        weights: str | None = spec.checkpoint
        cache_tag = f"ckpt-{checkpoint_fingerprint(spec.checkpoint)[:16]}"
    elif spec.pretrained:
        weights = _weights_for_tag(spec.model_name, spec.pretrained, tag_cfg)
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


# ---------------------------------------------------------------------------- caching


def embedding_key(video: SampledVideo, cache_tag: str) -> str:
    """Cache key for a video's frame embeddings.

    The file digest, the exact sampled frame numbers and the decoded frame size determine
    the pixels (so target fps / max frames / max side enter through them); ``cache_tag`` the
    model, weights and preprocessing.
    """
    indices = np.ascontiguousarray(video.indices, dtype=np.int64)
    payload = {
        "digest": video.digest,
        "indices": hashlib.sha256(indices.tobytes()).hexdigest(),
        "frame_hw": list(video.frames.shape[1:3]),
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
    video: SampledVideo,
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
