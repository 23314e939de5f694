"""Frame embedding and stage localization (CLIP + Viterbi, or pose phases + DTW).

Embedding needs no LLM output, so ``embed_frames`` runs in parallel with the proposer and
stage-transcript calls (it is a sync node: LangGraph runs it in a worker thread while the
async LLM nodes await their replies). ``localize`` is deferred until both branches are done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from viddiff.graphs.context import ClipLoader, VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.frames import planned
from viddiff.graphs.nodes.pose_steps import event_records, movement_notes
from viddiff.graphs.poses import pose_of, sampled_segments
from viddiff.graphs.schemas import MovementEvent
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.wiring import Exits
from viddiff.tools.clip.cache import EmbeddingCache, embed_video
from viddiff.tools.errors import ConfigError
from viddiff.tools.kinematics.movement import movement_pair
from viddiff.tools.localizer import localize_stages
from viddiff.tools.pose_phases import align_movements, localize_pair, time_pairs
from viddiff.tools.segments import Segment


def embedding_cache(ctx: VidDiffContext) -> EmbeddingCache:
    return EmbeddingCache(Path(ctx.cache_dir) / "embeddings")


def make_embed_frames_node(clip_loader: ClipLoader):
    def embed_frames(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
        ctx = runtime.context
        if ctx.localizer == "pose":
            return {"localizer_used": "pose"}
        try:
            embedder = clip_loader(ctx.clip_spec())
        except ConfigError as exc:
            if ctx.localizer == "clip":
                raise
            return {"localizer_used": "pose",
                    "notes": [f"CLIP unavailable ({exc}); stages were localized from pose"]}
        cache = embedding_cache(ctx)
        videos = state.get("videos") or {}
        emit(runtime, "node", node="embed_frames", status="start")
        for key, ref in videos.items():
            def progress(done: int, total: int, key: str = key) -> None:
                emit(runtime, "frames_embedded", video=key, done=done, total=total)

            embed_video(embedder, planned(ref, ctx), cache, on_progress=progress)
        emit(runtime, "node", node="embed_frames", status="end")
        return {"localizer_used": "clip"}

    return embed_frames


def clip_segments(state: VidDiffState, ctx: VidDiffContext,
                  clip_loader: ClipLoader) -> dict[str, list[Segment]]:
    """CLIP + Viterbi: frame embeddings (a cache hit by now) against each stage's strings."""
    embedder = clip_loader(ctx.clip_spec())
    cache = embedding_cache(ctx)
    stages = state["stages"]
    text_embs = [embedder.encode_texts(s.retrieval_strings) for s in stages]
    names = [s.name for s in stages]
    return {key: localize_stages(embed_video(embedder, planned(ref, ctx), cache), text_embs,
                                 names)
            for key, ref in (state.get("videos") or {}).items()}


@dataclass(frozen=True)
class PosePhases:
    """What the pose localizer finds: the transcript's stages in both videos (segments of the
    sampled frames), the alignment they were carried along (``(t_a, t_b)`` pairs), the
    movement's events both videos show, and the notes about the two movements."""

    segments: dict[str, list[Segment]]
    alignment: list[tuple[float, float]]
    events: list[MovementEvent]
    notes: list[str]


def phase_segments(state: VidDiffState, ctx: VidDiffContext) -> PosePhases:
    """Pose phases of A named after the transcript's stages, carried to B along the
    event-anchored alignment; found on the dense pose frames. The events and the notes are
    the offline engine's (:func:`viddiff.graphs.nodes.pose_steps.event_records`,
    ``movement_notes``), so both engines report the same moments."""
    videos = state["videos"]
    pose_a, pose_b = pose_of(videos["a"], ctx), pose_of(videos["b"], ctx)
    path = align_movements(pose_a, pose_b)
    seg_a, seg_b = localize_pair(pose_a, pose_b, len(state["stages"]),
                                 [s.name for s in state["stages"]], path=path)
    movement_a, movement_b = movement_pair(pose_a, pose_b)
    return PosePhases({"a": sampled_segments(seg_a, pose_a, videos["a"]),
                       "b": sampled_segments(seg_b, pose_b, videos["b"])},
                      time_pairs(path, pose_a, pose_b),
                      event_records(movement_a, movement_b),
                      movement_notes(movement_a, movement_b))


def make_localize_node(clip_loader: ClipLoader, exits: Exits):
    """The ``localize`` join: once stages and embeddings (or pose) are there, find each
    stage's frames and hand the segments to ``exits.then`` (frame selection)."""

    def localize(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> Command[Any]:
        if state.get("error") or not state.get("stages"):
            return Command(goto=END)
        ctx = runtime.context
        phases: PosePhases | None = None
        if state.get("localizer_used") == "pose":
            phases = phase_segments(state, ctx)
            segments = phases.segments
        else:
            segments = clip_segments(state, ctx, clip_loader)
        names = [s.name for s in state["stages"]]
        notes = list(phases.notes) if phases is not None else []
        for key, segs in segments.items():
            missing = [n for n in names if n not in {s.stage for s in segs}]
            if missing:
                notes.append(f"video {key.upper()}: too few frames for every stage; "
                             f"no frames for {', '.join(missing)}")
        emit(runtime, "node", node=exits.name, status="end",
             segments={k: [s.model_dump() for s in v] for k, v in segments.items()})
        update: dict[str, Any] = {"segments": segments, "notes": notes}
        if phases is not None and phases.alignment:
            update["alignment"] = phases.alignment
        if phases is not None and phases.events:
            update["events"] = phases.events
        return Command(update=update, goto=exits.then)

    return localize
