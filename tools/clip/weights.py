"""Where CLIP weights come from: open_clip's pretrained tags, the local caches, the model hub.

Why the care about weights: no package ships CLIP weights and model hubs may be unreachable,
so a model is only built from weights already on this machine (open_clip's or the Hugging Face
cache, or a checkpoint file). A download is attempted only when ``HF_HUB_OFFLINE`` is not set
and the hub answers a 3-second connection probe, so an offline run fails at once (within 3 s
behind a silent firewall) with a :class:`ConfigError` that says how to fix it, instead of
hanging on the network.

open_clip (and with it torch) is imported inside the functions that need it, so that reading
a checkpoint's fingerprint or probing the caches does not load torch.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from viddiff.tools.errors import ConfigError, one_line

_PROBE_TIMEOUT_S = 3.0


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def pretrained_cfg(model_name: str, tag: str) -> dict[str, Any]:
    """open_clip's configuration of pretrained tag ``tag`` (weights source, preprocessing)."""
    import open_clip

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


def weights_for_tag(model_name: str, tag: str, cfg: dict[str, Any]) -> str:
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
    import open_clip

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
