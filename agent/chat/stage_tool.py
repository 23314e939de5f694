"""``localize_stages``: split one video into an action's ordered stages (CLIP + Viterbi), as a
LangChain tool for host agents.

The model names a video path and the stages with their retrieval strings; the answer gives,
per stage, the sampled-frame range, source frame numbers and timestamps. Paths go through a
:class:`PathPolicy` before anything is opened, like every tool viddiff ships.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from viddiff.tools.clip.cache import EmbeddingCache, embed_video
from viddiff.tools.clip.spec import Embedder, lazy_embedder
from viddiff.tools.errors import VidDiffError, one_line
from viddiff.tools.localizer import localize_stages, segment_records
from viddiff.tools.paths import PathPolicy
from viddiff.tools.video import load_video_cached

EmbedderFactory = Callable[[], Embedder]


class StageQuery(BaseModel):
    """One stage as the ``localize_stages`` tool receives it."""

    name: str = Field(min_length=1, description="Short stage name, e.g. 'descent'.")
    retrieval_strings: list[str] = Field(
        min_length=1,
        description="Descriptions of what a single frame of this stage looks like.",
    )


class LocalizeInput(BaseModel):
    """Arguments of the ``localize_stages`` tool."""

    video_path: str = Field(description="Path of the video file to segment.")
    stages: list[StageQuery] = Field(
        min_length=1, description="The action's stages in temporal order."
    )


_LOCALIZE_DESCRIPTION = (
    "Split a video into the given ordered stages of an action. Returns, per stage, the "
    "sampled-frame range, source frame numbers and timestamps in seconds."
)


def make_localize_stages_tool(
    embedder_factory: EmbedderFactory,
    *,
    policy: PathPolicy | None = None,
    target_fps: float = 6.0,
    max_frames: int = 96,
    max_side: int = 448,
    cache: EmbeddingCache | None = None,
) -> BaseTool:
    """A LangChain tool ``localize_stages(video_path, stages)`` returning a JSON-able dict.

    ``policy`` confines the paths a model may name (default: the working directory only,
    no URLs): the path is checked before anything is opened. The embedder is created on
    first use (``embedder_factory`` may be slow or fail with a ConfigError); frames and
    embeddings come from the shared caches. Any failure is returned to the caller as a
    one-line error string (``ToolException``), never as a traceback.
    """
    allowed = policy or PathPolicy.default()
    embedder = lazy_embedder(embedder_factory)

    def localize_stages_tool(video_path: str, stages: list[StageQuery]) -> dict[str, Any]:
        try:
            path = allowed.check(video_path)
            queries = [StageQuery.model_validate(s) for s in stages]
            video = load_video_cached(path, target_fps, max_frames, max_side)
            clip = embedder()
            frame_emb = embed_video(clip, video, cache)
            texts = clip.encode_texts([t for q in queries for t in q.retrieval_strings])
            bounds = np.cumsum([len(q.retrieval_strings) for q in queries])[:-1]
            names = [q.name for q in queries]
            segments = localize_stages(frame_emb, np.split(texts, bounds), names)
        except VidDiffError as err:
            raise ToolException(str(err)) from None
        except Exception as err:  # a tool must answer, not crash the agent
            raise ToolException(f"localize_stages failed: {type(err).__name__}: "
                                f"{one_line(err)}") from None
        found = {seg.stage for seg in segments}
        return {
            "video_path": video.info.path,
            "digest": video.digest,
            "source_fps": video.info.fps,
            "n_frames": video.info.n_frames,
            "duration_s": round(video.info.duration_s, 3),
            "sampled_fps": round(video.effective_fps, 3),
            "n_sampled": video.n_sampled,
            "embedder": clip.cache_tag,
            "segments": segment_records(video, segments),
            "missing_stages": [n for n in names if n not in found],
        }

    return StructuredTool.from_function(
        func=localize_stages_tool,
        name="localize_stages",
        description=_LOCALIZE_DESCRIPTION,
        args_schema=LocalizeInput,
        handle_tool_error=True,
        handle_validation_error=True,
    )
