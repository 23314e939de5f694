"""Nodes of the offline engine: pose per frame, pose-based phases, measured answers.

No language model and no CLIP weights: stages come from the pose sequence itself (phases of
the movement, carried from A to B by DTW alignment) and every label comes from a measurement
with its uncertainty. What no metric covers is reported as not measurable, never guessed.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.frames import frame_refs, pose_of, sampling_fps
from viddiff.graphs.schemas import Difference, DifferenceResult, VideoRef
from viddiff.graphs.state import VidDiffState
from viddiff.tools.frame_select import frames_for_difference
from viddiff.tools.offline import answer_offline, propose_offline
from viddiff.tools.pose.phases import localize_pair
from viddiff.tools.segments import Segment
from viddiff.tools.taxonomy import load_differences
from viddiff.tools.viewpoint import view_note

PHASES = ("start", "middle", "end")
"""Offline stage names; the offline engine's stage hints ("setup", "bottom", "finish" …)
resolve to these by position."""


def estimate_pose(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    ctx = runtime.context
    notes = []
    poses = {}
    for key, ref in (state.get("videos") or {}).items():
        emit(runtime, "node", node="pose", status="start", video=key)
        pose = poses[key] = pose_of(ref, ctx)
        found = int(pose.present.sum())
        emit(runtime, "frames_posed", video=key, done=found, total=pose.n_frames)
        if found == 0:
            notes.append(f"video {key.upper()}: no person found in any frame; nothing can be "
                         "measured")
        elif found < pose.n_frames:
            notes.append(f"video {key.upper()}: person found in {found} of {pose.n_frames} "
                         "frames")
    if len(poses) == 2:
        note = view_note(poses["a"], poses["b"])
        if note:
            notes.append(note)
    emit(runtime, "node", node="pose", status="end")
    return {"notes": notes}


def localize_phases(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    """Phases of the movement in A, carried to B along the DTW alignment of the two poses."""
    ctx = runtime.context
    videos = state["videos"]
    seg_a, seg_b = localize_pair(pose_of(videos["a"], ctx), pose_of(videos["b"], ctx),
                                 len(PHASES), PHASES)
    emit(runtime, "node", node="localize", status="end")
    return {"segments": {"a": seg_a, "b": seg_b}}


def _evidence_frames(ref: VideoRef, segments: list[Segment], stage: str | None,
                     num_frames: str, ctx: VidDiffContext) -> list[int]:
    linked = [stage] if stage and stage in {s.stage for s in segments} else []
    if not linked and segments:
        linked = [s.stage for s in segments]  # whole-clip metric: the frames of every phase
    return frames_for_difference(segments, linked, num_frames,  # type: ignore[arg-type]
                                 fps=sampling_fps(ref), n_frames=ref.n_sampled,
                                 spacing_s=ctx.frame_spacing_s, count=ctx.motion_frames)


def measure(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    """Answer the closed differences, or propose the largest measured ones (open mode)."""
    ctx = runtime.context
    videos = state["videos"]
    pose_a, pose_b = pose_of(videos["a"], ctx), pose_of(videos["b"], ctx)
    seg_a, seg_b = state["segments"]["a"], state["segments"]["b"]
    results: list[DifferenceResult] = []
    candidates: list[Difference] = []
    emit(runtime, "differences", total=len(state.get("candidates") or []) or
         int(state.get("n_differences") or 0))

    def evidence(stage: str | None, num_frames: str) -> dict[str, Any]:
        return {
            "stages": [stage] if stage else [],
            "frames_a": frame_refs(videos["a"], _evidence_frames(videos["a"], seg_a, stage,
                                                                 num_frames, ctx)),
            "frames_b": frame_refs(videos["b"], _evidence_frames(videos["b"], seg_b, stage,
                                                                 num_frames, ctx)),
        }

    if state.get("mode") == "open":
        for prop in propose_offline(pose_a, pose_b, seg_a, seg_b, int(state["n_differences"]
                                                                       or 1)):
            stage = prop.measurements[0].stage if prop.measurements else None
            diff = Difference(name=prop.name, description=prop.description,
                              query_string=prop.query_string, num_frames=prop.num_frames)
            candidates.append(diff)
            reason = "; ".join(m.statement for m in prop.measurements)
            results.append(DifferenceResult(**diff.model_dump(), label=prop.label,
                                            reason=reason, measurements=prop.measurements,
                                            **evidence(stage, prop.num_frames)))
            emit(runtime, "difference_answered", name=diff.name, label=prop.label)
    else:
        action_key = state.get("action_key")
        diff_keys = {d.name: d.diff_key for d in load_differences() if d.action == action_key}
        candidates = list(state.get("candidates") or [])
        for diff in candidates:
            answer = answer_offline(diff.name, diff.description, diff.query_string, pose_a,
                                    pose_b, seg_a, seg_b, action_key=action_key,
                                    diff_key=diff_keys.get(diff.name))
            stage = answer.measurements[0].stage if answer.measurements else None
            results.append(DifferenceResult(
                **diff.model_dump(), label=answer.label, reason=answer.reason,
                status="answered" if answer.measurable else "not_measurable",
                measurements=answer.measurements, **evidence(stage, diff.num_frames)))
            emit(runtime, "difference_answered", name=diff.name, label=answer.label)
    if not results and state.get("mode") == "open":
        notes = ["no measured difference cleared the noise threshold: the two performances "
                 "look alike to the pose metrics"]
    else:
        notes = []
    return {"results": results, "candidates": candidates, "notes": notes}
