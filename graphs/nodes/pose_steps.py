"""Nodes of the offline engine: pose per frame, pose-based phases, measured answers.

No language model and no CLIP weights: stages come from the pose sequence itself (the
movement's repetitions and events, read on one main signal for both videos:
:func:`viddiff.tools.kinematics.movement.movement_pair`), the two videos are aligned event to
event, and every label comes from a measurement with its uncertainty. What no metric covers is
reported as not measurable, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langgraph.runtime import Runtime

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.frames import evidence_refs, frame_refs, sampling_fps
from viddiff.graphs.measured_answers import answer_offline, propose_offline
from viddiff.graphs.measurement import filmed_differently
from viddiff.graphs.poses import pose_of, pose_segments, poses_of, sampled_segments
from viddiff.graphs.schemas import (
    Difference,
    DifferenceResult,
    FrameRef,
    MovementEvent,
    VideoRef,
)
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.understanding_model import ModelReader, reader_for
from viddiff.tools.frame_select import frames_for_difference
from viddiff.tools.kinematics.movement import Movement, movement_pair, paired_events
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.pose.cuts import cut_note
from viddiff.tools.pose.quality import person_problem, second_person_note
from viddiff.tools.pose_phases import align_movements, time_pairs
from viddiff.tools.segments import Segment
from viddiff.tools.taxonomy import load_differences
from viddiff.tools.understanding import understand
from viddiff.tools.viewpoint import view_note


def _posed(runtime: Runtime[VidDiffContext]) -> Callable[[str, int, int], None]:
    """Per-chunk pose progress as ``frames_posed`` events."""
    def progress(video: str, done: int, total: int) -> None:
        emit(runtime, "frames_posed", video=video, done=done, total=total)

    return progress


def estimate_pose(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    ctx = runtime.context
    notes = []
    emit(runtime, "node", node="estimate_pose", status="start")
    poses = poses_of(state.get("videos") or {}, ctx, _posed(runtime))
    for key, pose in poses.items():
        problem = person_problem(pose)
        found = int(pose.present.sum())
        if problem is not None:
            notes.append(f"video {key.upper()}: {problem}; body measurements are not made")
        elif found < pose.n_frames:
            notes.append(f"video {key.upper()}: person found in {found} of {pose.n_frames} "
                         "frames")
        other = second_person_note(pose)
        if other:
            notes.append(f"video {key.upper()}: {other}")
        cut = cut_note(pose, key.upper())
        if cut:
            notes.append(cut)
    if len(poses) == 2:
        note = view_note(poses["a"], poses["b"])
        if note:
            notes.append(note)
    emit(runtime, "node", node="estimate_pose", status="end")
    return {"notes": notes}


def localize_phases(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    """Each video's stages from its movement's repetitions and events (the same names in
    both: standing, descent, bottom, ascent …), and the alignment of A to B event to event;
    found on the dense pose frames and stored as segments of the sampled frames."""
    ctx = runtime.context
    videos = state["videos"]
    pose_a, pose_b = pose_of(videos["a"], ctx), pose_of(videos["b"], ctx)
    movement_a, movement_b = movement_pair(pose_a, pose_b)
    path = align_movements(pose_a, pose_b)
    emit(runtime, "node", node="localize_phases", status="end")
    return {"segments": {"a": sampled_segments(list(movement_a.stages), pose_a, videos["a"]),
                         "b": sampled_segments(list(movement_b.stages), pose_b, videos["b"])},
            "alignment": time_pairs(path, pose_a, pose_b),
            "events": event_records(movement_a, movement_b),
            "notes": movement_notes(movement_a, movement_b)}


def event_records(movement_a: Movement, movement_b: Movement) -> list[MovementEvent]:
    """The events of the repetitions both videos show (:func:`paired_events`), named for
    what happens ("start", "bottom", "end"; numbered with several repetitions)."""
    turn = movement_a.turnaround_name
    numbered = max(len(movement_a.reps), len(movement_b.reps)) > 1
    events = []
    for k, ea, eb in paired_events(movement_a, movement_b):
        name = turn if ea.name == "turnaround" else ea.name
        events.append(MovementEvent(name=f"{name} {k}" if numbered else name,
                                    t_a=round(ea.t, 4), t_b=round(eb.t, 4)))
    return events


def movement_notes(movement_a: Movement, movement_b: Movement) -> list[str]:
    """What a person should know about the two movements before reading numbers: a video
    with no movement, two videos showing different parts of it, or different numbers of
    repetitions."""
    notes = []
    for key, m in (("A", movement_a), ("B", movement_b)):
        if not m.reps:
            notes.append(f"video {key}: no movement found (the person stays still, or is not "
                         "followed well enough)")
    cover_a, cover_b = movement_a.coverage, movement_b.coverage
    if cover_a is not None and cover_b is not None and not movement_a.shows_same_part(movement_b):
        notes.append("the two videos show different parts of the movement (one starts or "
                     "ends mid-movement): their timing is not compared")
    na, nb = len(movement_a.reps), len(movement_b.reps)
    if na and nb and na != nb:
        notes.append(f"video A shows {na} repetition{'s' * (na != 1)}, video B {nb}: values "
                     "are compared per repetition")
    return notes


def _stage_frames(ref: VideoRef, segments: list[Segment], stage: str | None,
                  num_frames: str, ctx: VidDiffContext) -> list[FrameRef]:
    """The sampled frames of a stage (of every phase for a whole-clip value): what is shown
    when a measurement has no evidence frames of its own."""
    linked = [stage] if stage and stage in {s.stage for s in segments} else []
    if not linked and segments:
        linked = [s.stage for s in segments]
    picked = frames_for_difference(segments, linked, num_frames,  # type: ignore[arg-type]
                                   fps=sampling_fps(ref), n_frames=ref.n_sampled,
                                   spacing_s=ctx.frame_spacing_s, count=ctx.motion_frames)
    return frame_refs(ref, picked)


def make_measure_differences_node(reader: BaseChatModel | None = None):
    """The ``measure_differences`` node; ``reader`` is the model that maps free-text
    differences to metrics when the run asks for it (``understand_with``), injected here by
    the graph factory (None: the phrase reader alone, nothing leaves the machine)."""

    def measure_differences(state: VidDiffState,
                            runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
        """Answer the closed differences, or propose the largest measured ones (open mode)."""
        return _measure_differences(state, runtime, reader)

    return measure_differences


def _measure_differences(state: VidDiffState, runtime: Runtime[VidDiffContext],
                         reader_model: BaseChatModel | None) -> dict[str, Any]:
    ctx = runtime.context
    videos = state["videos"]
    pose_a, pose_b = pose_of(videos["a"], ctx), pose_of(videos["b"], ctx)
    seg_a = pose_segments(state["segments"]["a"], videos["a"], pose_a)
    seg_b = pose_segments(state["segments"]["b"], videos["b"], pose_b)
    capture = filmed_differently(videos["a"], videos["b"], pose_a, pose_b)
    emit(runtime, "node", node="measure_differences", status="start")
    results: list[DifferenceResult] = []
    candidates: list[Difference] = []
    emit(runtime, "differences", total=len(state.get("candidates") or []) or
         int(state.get("n_differences") or 0))

    def shown(measurements: list[Measurement], num_frames: str) -> dict[str, Any]:
        """The frames the numbers were read at (the report shows them), else the stage's."""
        main = measurements[0] if measurements else None
        stage = main.stage if main else None
        out: dict[str, Any] = {"stages": [stage] if stage else []}
        for key, evidence in (("a", main.evidence_a if main else []),
                              ("b", main.evidence_b if main else [])):
            ref = videos[key]
            out[f"frames_{key}"] = evidence_refs(ref, evidence) if evidence else \
                _stage_frames(ref, state["segments"][key], stage, num_frames, ctx)
        return out

    model_reader: ModelReader | None = None
    if state.get("mode") == "open":
        for prop in propose_offline(pose_a, pose_b, seg_a, seg_b,
                                    int(state["n_differences"] or 1),
                                    action_key=state.get("action_key"),
                                    capture_differs=capture):
            diff = Difference(name=prop.name, description=prop.description,
                              query_string=prop.query_string, num_frames=prop.num_frames)
            candidates.append(diff)
            reason = " ".join(m.statement for m in prop.measurements)
            results.append(DifferenceResult(**diff.model_dump(), label=prop.label,
                                            reason=reason, measurements=prop.measurements,
                                            **shown(prop.measurements, prop.num_frames)))
            emit(runtime, "difference_answered", name=diff.name, label=prop.label)
    else:
        action_key = state.get("action_key")
        diff_keys = {d.name: d.diff_key for d in load_differences() if d.action == action_key}
        candidates = list(state.get("candidates") or [])
        action = state.get("action") or ""
        model_reader = reader_for(ctx, reader_model, action)
        for diff in candidates:
            answer = answer_offline(diff.name, diff.description, diff.query_string, pose_a,
                                    pose_b, seg_a, seg_b, action_key=action_key,
                                    diff_key=diff_keys.get(diff.name),
                                    capture_differs=capture,
                                    reader=model_reader or partial(understand, action=action))
            results.append(DifferenceResult(
                **diff.model_dump(), label=answer.label, reason=answer.reason,
                status="answered" if answer.measurable else "not_measurable",
                measurements=answer.measurements, rule=answer.rule,
                **shown(answer.measurements, diff.num_frames)))
            emit(runtime, "difference_answered", name=diff.name, label=answer.label)
    if not results and state.get("mode") == "open":
        notes = ["no measured difference cleared the noise threshold: the two performances "
                 "look alike to the pose metrics"]
    else:
        notes = []
    emit(runtime, "node", node="measure_differences", status="end")
    return {"results": results, "candidates": candidates, "notes": notes,
            "usage": model_reader.usage if model_reader is not None else []}
