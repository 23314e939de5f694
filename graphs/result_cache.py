"""Whole results of the offline engine, remembered: the same comparison asked again is read
back before any graph, model or pose library is even imported.

Why only the offline engine: its result is a function of its inputs (the videos' content,
the request, the settings, the code), so a stored result *is* the answer, while a vision
model may answer differently each time and a user asking again may want that. Why before the
graph: the pose and embedding caches already make a repeated comparison skip decoding and
pose, but importing LangGraph and friends costs more than the comparison itself; a repeated
``viddiff compare`` should take about as long as printing its table.

The key holds everything the result depends on: both videos' content digests and paths (the
result names them), the request, every setting that changes what is computed (not the cache
folder, device or concurrency), the engine's components, and a fingerprint of viddiff's own
source files (name, size, modification time), so an upgrade or an edited checkout never
serves a result the current code would not give. Stored under ``CACHE/results/``, first
writer wins, one JSON file per key.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from viddiff.graphs.context import VidDiffContext, result_settings
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.files import write_once
from viddiff.tools.video import file_digest

RESULTS_DIR = "results"


@cache
def code_fingerprint() -> str:
    """viddiff's source files (relative name, size, modification time), hashed once per
    process: any edit or upgrade changes it."""
    root = Path(__file__).resolve().parents[1]  # the folder holding graphs/, tools/, ...
    entries = []
    for folder in ("agent", "graphs", "tools", "evals", "prompts", "viddiff"):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in (".py", ".md", ".csv") and "__pycache__" not in path.parts:
                st = path.stat()
                entries.append(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]


def offline_components() -> dict[str, str]:
    """What the offline engine's result depends on besides viddiff's code: the pose model."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        mediapipe = version("mediapipe")
    except PackageNotFoundError:
        mediapipe = "absent"
    return {"engine": "offline", "mediapipe": mediapipe}


def result_key(request: dict[str, Any], ctx: VidDiffContext,
               components: dict[str, str]) -> str:
    """The key of a comparison: see the module's docstring for what goes in."""
    settings = result_settings(ctx)
    videos = {side: [str(Path(request[side]).resolve()), file_digest(request[side])]
              for side in ("video_a", "video_b")}
    blob = json.dumps({"request": request, "videos": videos, "settings": settings,
                       "components": components, "code": code_fingerprint()},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _path(ctx: VidDiffContext, key: str) -> Path:
    return Path(ctx.cache_dir) / RESULTS_DIR / f"{key}.json"


def load_result(ctx: VidDiffContext, key: str) -> ComparisonResult | None:
    """The stored result, or None (absent, or unreadable: then it is simply computed again)."""
    path = _path(ctx, key)
    try:
        return ComparisonResult.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def save_result(ctx: VidDiffContext, key: str, result: ComparisonResult) -> None:
    """Remember a finished result; a result with a failed difference is not kept (a failure
    is worth trying again), and a cache folder that cannot be written costs nothing."""
    if any(d.status == "failed" for d in result.differences):
        return
    with contextlib.suppress(OSError):
        write_once(_path(ctx, key), result.model_dump_json())
