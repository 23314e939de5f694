"""Stage localisation: which sampled frames belong to which stage of the action.

Stage score per frame = mean cosine similarity between the frame embedding and the stage's
retrieval-string embeddings (a K×T matrix); each stage row is min-max normalised over frames
(CLIP similarities of different prompts live on different scales, and only where a stage
is relatively most likely matters); then :func:`viterbi_monotone` assigns every frame to one
stage, in order. The same function is exposed as a LangChain tool for agents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from viddiff.tools.segments import Segment
from viddiff.tools.video import SampledVideo
from viddiff.tools.viterbi import viterbi_monotone

__all__ = [
    "Segment",  # defined in viddiff.tools.segments (shared with the pose localizer)
    "labels_to_segments",
    "localize_stages",
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
