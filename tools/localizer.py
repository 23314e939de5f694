"""Stage localisation: which sampled frames belong to which action stage (docs/architecture.md).

Stage score per frame = mean cosine similarity between the frame embedding and the stage's
retrieval-string embeddings (a K×T matrix); each stage row is min-max normalised over frames
(CLIP similarities of different prompts live on different scales, and only where a stage
is relatively most likely matters); then :func:`viterbi_monotone` assigns every frame to one
stage, in order. The same function is exposed as a LangChain tool for agents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from viddiff.tools.clip.cache import EmbeddingCache, embed_video
from viddiff.tools.clip.model import Embedder, lazy_embedder
from viddiff.tools.errors import VidDiffError, one_line
from viddiff.tools.segments import Segment
from viddiff.tools.video import SampledVideo, load_video_cached
from viddiff.tools.viterbi import viterbi_monotone

__all__ = [
    "LocalizeInput",
    "Segment",  # defined in viddiff.tools.segments (shared with the pose localizer)
    "StageQuery",
    "labels_to_segments",
    "localize_stages",
    "make_localize_tool",
    "normalize_stage_scores",
    "segment_records",
    "stage_scores",
]


def stage_scores(frame_emb: np.ndarray, stage_text_embs: Sequence[np.ndarray]) -> np.ndarray:
    """K×T mean cosine similarity of each frame to each stage's strings.

    Inputs are L2-normalised rows, so dot products are cosines; the mean over a stage's
    strings equals the dot product with their mean embedding, which is what is computed.
    """
    frames = np.asarray(frame_emb, dtype=np.float32)
    if frames.ndim != 2:
        raise ValueError(f"frame_emb must be (T, D), got shape {frames.shape}")
    if len(stage_text_embs) == 0:
        raise ValueError("at least one stage is needed")
    means = []
    for k, emb in enumerate(stage_text_embs):
        texts = np.asarray(emb, dtype=np.float32)
        if texts.ndim != 2 or texts.shape[0] == 0 or texts.shape[1] != frames.shape[1]:
            raise ValueError(
                f"stage {k}: text embeddings must be (n>=1, {frames.shape[1]}), "
                f"got shape {texts.shape}"
            )
        means.append(texts.mean(axis=0))
    return np.stack(means) @ frames.T


def normalize_stage_scores(S: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Min-max normalise each stage row over frames into pseudo-probabilities in [eps, 1].

    A constant row carries no information about where its stage is: it becomes 0.5 everywhere
    (neutral, neither favoured nor excluded) instead of dividing by zero. Values below ``eps``
    (the row minimum maps to exactly 0) are floored at ``eps`` so -log stays finite.
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2:
        raise ValueError(f"scores must be a 2-D (stages × frames) array, got shape {S.shape}")
    if not np.isfinite(S).all():
        raise ValueError("scores contain NaN or infinite values")
    if S.shape[1] == 0:
        return S.copy()
    lo = S.min(axis=1, keepdims=True)
    span = S.max(axis=1, keepdims=True) - lo
    flat = span <= 0
    P = np.where(flat, 0.5, (S - lo) / np.where(flat, 1.0, span))
    return np.maximum(P, eps)


def labels_to_segments(labels: np.ndarray, stage_names: Sequence[str]) -> list[Segment]:
    """Contiguous runs of equal labels → segments in order (a stage with no frame is absent)."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts - 1, [labels.size - 1]))
    return [
        Segment(stage=stage_names[int(labels[s])], start=int(s), end=int(e))
        for s, e in zip(starts, ends, strict=True)
    ]


def localize_stages(
    frame_emb: np.ndarray,
    stage_text_embs: Sequence[np.ndarray],
    stage_names: Sequence[str],
) -> list[Segment]:
    """Segment the sampled frames into the ordered stages.

    With at least as many frames as stages, every stage gets one contiguous, non-empty
    segment, in order, covering all frames. With more stages than frames (K > T) each frame
    gets its own stage and the stages that fit worst are missing from the result (see
    :func:`viddiff.tools.viterbi.viterbi_monotone`). No frames → no segments.
    """
    if len(stage_names) != len(stage_text_embs):
        raise ValueError(
            f"{len(stage_names)} stage names but {len(stage_text_embs)} text embedding sets"
        )
    S = stage_scores(frame_emb, stage_text_embs)
    if S.shape[1] == 0:
        return []
    labels = viterbi_monotone(normalize_stage_scores(S))
    return labels_to_segments(labels, stage_names)


def segment_records(video: SampledVideo, segments: Sequence[Segment]) -> list[dict[str, Any]]:
    """Segments with source frame numbers and times added: what a person or an LLM reads."""
    records = []
    for seg in segments:
        records.append(
            {
                "stage": seg.stage,
                "start": seg.start,
                "end": seg.end,
                "middle": seg.middle,
                "start_frame": int(video.indices[seg.start]),
                "end_frame": int(video.indices[seg.end]),
                "middle_frame": int(video.indices[seg.middle]),
                "start_s": round(float(video.timestamps[seg.start]), 3),
                "end_s": round(float(video.timestamps[seg.end]), 3),
                "middle_s": round(float(video.timestamps[seg.middle]), 3),
            }
        )
    return records


class StageQuery(BaseModel):
    """One stage as the localize tool receives it."""

    name: str = Field(min_length=1, description="Short stage name, e.g. 'descent'.")
    retrieval_strings: list[str] = Field(
        min_length=1,
        description="Descriptions of what a single frame of this stage looks like.",
    )


class LocalizeInput(BaseModel):
    """Arguments of the ``localize`` tool."""

    video_path: str = Field(description="Path of the video file to segment.")
    stages: list[StageQuery] = Field(
        min_length=1, description="The action's stages in temporal order."
    )


_LOCALIZE_DESCRIPTION = (
    "Split a video into the given ordered stages of an action. Returns, per stage, the "
    "sampled-frame range, source frame numbers and timestamps in seconds."
)


def make_localize_tool(
    embedder_factory: Callable[[], Embedder],
    *,
    target_fps: float = 6.0,
    max_frames: int = 96,
    max_side: int = 448,
    cache: EmbeddingCache | None = None,
) -> BaseTool:
    """A LangChain tool ``localize(video_path, stages)`` returning a JSON-able dict.

    The embedder is created on first use (``embedder_factory`` may be slow or fail with a
    ConfigError); frames and embeddings come from the shared caches. Any failure is returned
    to the caller as a one-line error string (``ToolException``), never as a traceback.
    """
    embedder = lazy_embedder(embedder_factory)

    def localize(video_path: str, stages: list[StageQuery]) -> dict[str, Any]:
        try:
            queries = [StageQuery.model_validate(s) for s in stages]
            video = load_video_cached(video_path, target_fps, max_frames, max_side)
            clip = embedder()
            frame_emb = embed_video(clip, video, cache)
            texts = clip.encode_texts([t for q in queries for t in q.retrieval_strings])
            bounds = np.cumsum([len(q.retrieval_strings) for q in queries])[:-1]
            names = [q.name for q in queries]
            segments = localize_stages(frame_emb, np.split(texts, bounds), names)
        except VidDiffError as err:
            raise ToolException(str(err)) from None
        except Exception as err:  # a tool must answer, not crash the agent
            raise ToolException(f"localize failed: {type(err).__name__}: {one_line(err)}"
                                ) from None
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
        func=localize,
        name="localize",
        description=_LOCALIZE_DESCRIPTION,
        args_schema=LocalizeInput,
        handle_tool_error=True,
        handle_validation_error=True,
    )
