"""Pose measurements in the VidDiff graph: estimated beside the CLIP embedding, and offered
to the frame differencer as a ``measure`` tool, so its visual answer comes with numbers.

Vision-language models are near chance on fine-grained differences (VidDiff §6.3); a knee
angle or a stance width read off pose keypoints is not. The model picks the metric and the
stage for a statement; the tool measures both videos and says which value is higher, with
its uncertainty. The measuring itself, the argument model and the pose checks are the
measurement service's (``graphs/measurement.py``, shared with the chat's ``measure_pose``);
this module is the tool's wire format and the graph node.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.runtime import Runtime
from pydantic import ValidationError

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import check_cancelled, emit
from viddiff.graphs.measurement import (
    MetricAtStage,
    UnknownMetric,
    check_metric,
    measure_at_stage,
    pose_readiness,
)
from viddiff.graphs.poses import poses_of
from viddiff.graphs.schemas import VideoRef
from viddiff.graphs.state import VidDiffState
from viddiff.tools.errors import VidDiffError
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.segments import Segment


class MeasureArgs(MetricAtStage):
    """Arguments of the ``measure`` tool."""


def measure_tool() -> dict[str, Any]:
    """The tool in OpenAI function format, its description listing every metric."""
    catalogue = "; ".join(f"{name}: {spec.in_words}" for name, spec in sorted(METRICS.items()))
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
    except VidDiffError as exc:  # e.g. the pose extra is not installed
        return {"pose_ready": False, "notes": [f"no pose measurements: {exc}"]}
    emit(runtime, "node", node="estimate_pose", status="end")
    readiness = pose_readiness(poses, ctx.min_person_fraction)
    return {"pose_ready": readiness.ready, "notes": readiness.notes}


def run_measure_call(call: dict[str, Any], refs: tuple[VideoRef, VideoRef],
                     segments: tuple[list[Segment], list[Segment]],
                     ctx: VidDiffContext) -> tuple[ToolMessage, Measurement | None]:
    """Execute one ``measure`` tool call; a bad call gets an error message, not an exception."""
    try:
        args = MeasureArgs.model_validate(call.get("args") or {})
        check_metric(args.metric)
    except (ValidationError, UnknownMetric) as exc:
        return ToolMessage(content=f"error: {' '.join(str(exc).split())[:300]}",
                           tool_call_id=call.get("id") or "measure", status="error"), None
    # a stage found in one video only, or in neither, is measured over the whole clips
    measurement = measure_at_stage(args, refs, segments, ctx).measurement
    content = measurement.model_dump_json(include={"metric", "stage", "value_a", "value_b",
                                                   "unit", "uncertainty", "label",
                                                   "statement"})
    return ToolMessage(content=content, tool_call_id=call.get("id") or "measure"), measurement
