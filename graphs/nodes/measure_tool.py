"""Pose measurements in the VidDiff graph: estimated beside the CLIP embedding, and offered
to the frame differencer as a ``measure`` tool, so its visual answer comes with numbers.

Vision-language models are near chance on fine-grained differences (VidDiff §6.3); a knee
angle or a stance width read off pose keypoints is not. The model picks the metric and the
stage for a statement; the tool measures both videos and says which value is higher, with
its uncertainty.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, JsonValue, ValidationError

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import check_cancelled, emit
from viddiff.graphs.frames import measure_pair, poses_of, resolve_segment
from viddiff.graphs.schemas import VideoRef
from viddiff.graphs.state import VidDiffState
from viddiff.tools.errors import VidDiffError
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.pose.quality import person_problem
from viddiff.tools.segments import Segment
from viddiff.tools.viewpoint import view_note


class MeasureArgs(BaseModel):
    """Arguments of the ``measure`` tool."""

    metric: str = Field(description="Which measurement.",
                        json_schema_extra={"enum": list[JsonValue](sorted(METRICS))})
    stage: str = Field(description="Stage name to measure in, or 'whole clip'.")


def measure_tool() -> dict[str, Any]:
    """The tool in OpenAI function format, its description listing every metric."""
    catalogue = "; ".join(f"{name}: {spec.description} [{spec.unit}]"
                          for name, spec in sorted(METRICS.items()))
    return {"type": "function", "function": {
        "name": "measure",
        "description": "Measure a pose metric in both videos (A and B) over a stage. "
                       f"Metrics — {catalogue}",
        "parameters": MeasureArgs.model_json_schema(),
    }}


def estimate_pose_for_tools(state: VidDiffState,
                            runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    """Pose of both videos, in parallel with embedding; ``pose_ready`` says if it is usable."""
    ctx = runtime.context
    if not ctx.kinematics:
        return {"pose_ready": False}
    emit(runtime, "node", node="estimate_pose", status="start")
    try:
        # no progress events here, but a run that has ended stops the extraction per chunk
        poses = poses_of(state.get("videos") or {}, ctx,
                         on_progress=lambda video, done, total: check_cancelled())
        fractions = {key: float(pose.present.mean()) if pose.n_frames else 0.0
                     for key, pose in poses.items()}
    except VidDiffError as exc:  # e.g. the pose extra is not installed
        return {"pose_ready": False, "notes": [f"no pose measurements: {exc}"]}
    emit(runtime, "node", node="estimate_pose", status="end")
    missing = [k.upper() for k, f in fractions.items() if f < ctx.min_person_fraction]
    if missing:
        return {"pose_ready": False,
                "notes": [f"no pose measurements: a person was found in too few frames of "
                          f"video {' and '.join(missing)}"]}
    problems = [f"video {k.upper()}: {p}" for k, pose in poses.items()
                if (p := person_problem(pose)) is not None]
    if problems:
        return {"pose_ready": False, "notes": [f"no pose measurements: {'; '.join(problems)}"]}
    note = view_note(poses["a"], poses["b"]) if len(poses) == 2 else None
    return {"pose_ready": True, "notes": [note] if note else []}


def run_measure_call(call: dict[str, Any], refs: tuple[VideoRef, VideoRef],
                     segments: tuple[list[Segment], list[Segment]],
                     ctx: VidDiffContext) -> tuple[ToolMessage, Measurement | None]:
    """Execute one ``measure`` tool call; a bad call gets an error message, not an exception."""
    try:
        args = MeasureArgs.model_validate(call.get("args") or {})
        if args.metric not in METRICS:
            raise ValueError(f"unknown metric {args.metric!r}")
    except (ValidationError, ValueError) as exc:
        return ToolMessage(content=f"error: {' '.join(str(exc).split())[:300]}",
                           tool_call_id=call.get("id") or "measure", status="error"), None
    seg_a = resolve_segment(args.stage, segments[0])
    seg_b = resolve_segment(args.stage, segments[1])
    if (seg_a is None) != (seg_b is None):
        seg_a = seg_b = None  # the stage exists in one video only: compare whole clips
    measurement = measure_pair(args.metric, refs, (seg_a, seg_b), ctx)
    content = measurement.model_dump_json(include={"metric", "stage", "value_a", "value_b",
                                                   "unit", "uncertainty", "label",
                                                   "statement"})
    return ToolMessage(content=content, tool_call_id=call.get("id") or "measure"), measurement
