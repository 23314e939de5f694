"""Smaller chat tools: ``find_moment`` in a video, ``measure_pose`` in two, ``list_actions``.

Each factory takes what the tool needs (embedder factory, run settings, path policy) instead of
building it, so tests inject fakes and a host app shares its own. All three are synchronous:
they decode, embed or estimate pose (CPU/GPU work), and LangChain runs sync tools in a worker
thread when the agent is async, so the event loop never blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.prebuilt import ToolRuntime
from pydantic import BaseModel, Field, JsonValue

from viddiff.agent.chat.stored_results import stored_results
from viddiff.graphs.checklist import checklist
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.frames import video_ref
from viddiff.graphs.measurement import (
    WHOLE_CLIP,
    MetricAtStage,
    StageMissing,
    UnknownMetric,
    check_metric,
    measure_at_stage,
)
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.clip.cache import EmbeddingCache, embed_video
from viddiff.tools.clip.spec import Embedder, lazy_embedder
from viddiff.tools.errors import VidDiffError, one_line
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.paths import PathPolicy
from viddiff.tools.segments import Segment
from viddiff.tools.taxonomy import (
    find_action,
    load_actions,
    load_differences,
    metric_query_for,
)
from viddiff.tools.video import load_video_cached

EmbedderFactory = Callable[[], Embedder]


def _tool_error(exc: Exception, what: str) -> ToolException:
    """A one-line error the model can read; never a traceback."""
    if isinstance(exc, ToolException):
        return exc
    if isinstance(exc, VidDiffError):
        return ToolException(str(exc))
    return ToolException(f"{what} failed: {type(exc).__name__}: {one_line(exc)}")


# -------------------------------------------------------------------------- find_moment


def rank_moments(scores: np.ndarray, timestamps: np.ndarray, top_k: int,
                 min_gap_s: float = 0.5) -> list[int]:
    """Indices of the ``top_k`` best frames, at least ``min_gap_s`` apart (so the answer
    names distinct moments, not three neighbouring frames of one)."""
    order = np.argsort(-scores, kind="stable")
    picked: list[int] = []
    for i in order:
        if all(abs(float(timestamps[i]) - float(timestamps[j])) >= min_gap_s for j in picked):
            picked.append(int(i))
        if len(picked) == top_k:
            break
    return picked


def moment_window(scores: np.ndarray, best: int, level: float = 0.75) -> tuple[int, int]:
    """The contiguous run of frames around ``best`` whose min-max normalised score stays at
    or above ``level``: roughly how long the moment lasts."""
    lo, hi = float(scores.min()), float(scores.max())
    norm = (scores - lo) / (hi - lo) if hi > lo else np.ones_like(scores)
    start = end = best
    while start > 0 and norm[start - 1] >= level:
        start -= 1
    while end < len(norm) - 1 and norm[end + 1] >= level:
        end += 1
    return start, end


class FindMomentArgs(BaseModel):
    """Arguments of ``find_moment``."""

    video: str = Field(description="Path of the video.")
    moment: str = Field(description="What a single frame at that moment looks like, e.g. 'a "
                                    "person at the bottom of a squat, thighs level'.")
    top_k: int = Field(3, ge=1, le=10, description="How many candidate moments to return.")


def make_find_moment_tool(embedder_factory: EmbedderFactory, *,
                       context: VidDiffContext | None = None,
                       policy: PathPolicy | None = None) -> BaseTool:
    """``find_moment(video, moment, top_k)``: when in the video a described moment happens.

    Frames are embedded with CLIP (shared with the comparison's embedding cache, so a video
    already compared costs nothing) and ranked by cosine similarity to the description.
    The embedder is created on first use.
    """
    ctx = context or VidDiffContext()
    allowed = policy or PathPolicy.default()
    cache = EmbeddingCache(Path(ctx.cache_dir) / "embeddings")
    embedder = lazy_embedder(embedder_factory)

    def find_moment(video: str, moment: str, top_k: int = 3) -> str:
        try:
            path = allowed.check(video)
            sampled = load_video_cached(path, ctx.fps, ctx.max_frames, ctx.max_side)
            clip = embedder()
            frames = embed_video(clip, sampled, cache)
            scores = frames @ clip.encode_texts([moment])[0]
        except Exception as exc:
            raise _tool_error(exc, "find_moment") from None
        times = np.asarray(sampled.timestamps)
        best = rank_moments(scores, times, top_k)
        start, end = moment_window(scores, best[0])
        lines = [f"{Path(path).name}: {sampled.info.duration_s:.2f} s, {sampled.n_sampled} "
                 f"frames sampled; best matches for {moment!r} (CLIP cosine similarity, "
                 f"relative within this video):"]
        for rank, i in enumerate(best, 1):
            lines.append(f"{rank}. {times[i]:.2f} s — sampled frame #{i}, source frame "
                         f"{int(sampled.indices[i])}, score {scores[i]:.3f}")
        lines.append(f"The best match lasts about {times[start]:.2f}–{times[end]:.2f} s "
                     f"(sampled frames {start}–{end}).")
        return "\n".join(lines)

    return StructuredTool.from_function(
        func=find_moment, name="find_moment",
        description="Find when a described moment happens in one video (e.g. the lowest "
                    "point of a squat, the release of a throw): the best-matching times and "
                    "frame numbers.",
        args_schema=FindMomentArgs, handle_tool_error=True, handle_validation_error=True)


# ------------------------------------------------------------------------- measure_pose


class MeasurePoseArgs(BaseModel):
    """Arguments of ``measure_pose``."""

    video_a: str = Field(description="Path of video A.")
    video_b: str = Field(description="Path of video B.")
    metric: str = Field(description="Which pose metric.",
                        json_schema_extra={"enum": list[JsonValue](METRICS)})
    stage: str = Field(WHOLE_CLIP, description="A stage name from an earlier comparison of "
                                               "these videos, or 'whole clip'.")
    comparison_id: str | None = Field(None, description="Earlier comparison whose stages to "
                                                        "use (default: the newest one of "
                                                        "these two videos).")


def _segments_for(results: dict[str, ComparisonResult], comparison_id: str | None,
                  paths: tuple[str, str]) -> tuple[list[Segment], list[Segment]] | None:
    if comparison_id and comparison_id in results:
        found = results[comparison_id]
        return found.segments_a, found.segments_b
    for result in reversed(list(results.values())):
        if (result.video_a.path, result.video_b.path) == paths:
            return result.segments_a, result.segments_b
    return None


#: What the reply adds when the whole clips were measured instead of the stage asked for.
STAGE_MISSING_NOTES: dict[StageMissing | None, str] = {
    None: "",
    "no stages": " Stage {stage!r} is unknown (no earlier comparison of these videos): "
                 "measured over the whole clips.",
    "not in both": " Stage {stage!r} was not found in both videos: measured over the whole "
                   "clips.",
}


def make_measure_pose_tool(*, context: VidDiffContext | None = None,
                      policy: PathPolicy | None = None) -> BaseTool:
    """``measure_pose(video_a, video_b, metric, stage)``: one pose metric on both videos, with
    uncertainties and a verdict (needs the ``pose`` extra). Stage names come from an earlier
    comparison of the same two videos, read from the conversation state."""
    ctx = context or VidDiffContext()
    allowed = policy or PathPolicy.default()
    catalogue = "; ".join(
        f"{name}{' (also _left/_right)' if f'{name}_left' in METRICS else ''}: {spec.in_words}"
        for name, spec in METRICS.items() if spec.side is None)

    def measure_pose(video_a: str, video_b: str, metric: str, stage: str = WHOLE_CLIP,
                comparison_id: str | None = None, *, runtime: ToolRuntime) -> str:
        try:
            check_metric(metric)
        except UnknownMetric as exc:
            raise ToolException(f"{exc} (the tool's description lists them all)") from None
        try:
            paths = (allowed.check(video_a), allowed.check(video_b))
            refs = [video_ref(load_video_cached(p, ctx.fps, ctx.max_frames, ctx.max_side))
                    for p in paths]
            results = stored_results(runtime.state)
            measured = measure_at_stage(MetricAtStage(metric=metric, stage=stage),
                                        (refs[0], refs[1]),
                                        _segments_for(results, comparison_id, paths), ctx)
        except ToolException:
            raise
        except Exception as exc:
            raise _tool_error(exc, "measure_pose") from None
        result, seg_a = measured.measurement, measured.segment_a
        note = STAGE_MISSING_NOTES[measured.stage_missing].format(stage=stage)
        where = f"in stage {seg_a.stage!r}" if seg_a is not None else "over the whole clips"
        if result.value_a is None or result.value_b is None:
            return (f"{metric} {where}: not measurable (no person found in enough frames)."
                    + note)
        return (f"{metric} {where}: A {result.value_a:.3g} {result.unit} (±"
                f"{result.uncertainty_a or 0:.2g}), B {result.value_b:.3g} {result.unit} (±"
                f"{result.uncertainty_b or 0:.2g}); label {result.label!r}. "
                f"{result.statement}{note}")

    return StructuredTool.from_function(
        func=measure_pose, name="measure_pose",
        description="Measure a pose metric in both videos (A and B), over a stage found by an "
                    "earlier comparison or over the whole clips, with uncertainties; the label "
                    "says which video has the clearly higher value. Metrics — " + catalogue,
        args_schema=MeasurePoseArgs, handle_tool_error=True, handle_validation_error=True)


# --------------------------------------------------------------------------- list_actions


class ListActionsArgs(BaseModel):
    """Arguments of ``list_actions``."""

    action: str | None = Field(None, description="An action key (e.g. 'fitness_4') or name "
                                                 "for its difference checklist; omit to list "
                                                 "every known action.")


def _list_actions(action: str | None = None) -> str:
    actions = load_actions()
    if not action or not action.strip():
        lines = ["Known benchmark actions (key — name, domain, split: description):"]
        lines += [f"- {a.key} — {a.name} ({a.domain}, {a.split}): {a.description} "
                  f"[{len(checklist(a.key))} differences]" for a in actions.values()]
        lines.append("Pass a key to compare_videos as the action to check its whole "
                     "checklist, or to list_actions for the checklist itself.")
        return "\n".join(lines)
    found = find_action(action)
    if found is None:
        raise ToolException(f"no known action like {action!r}; call list_actions without an "
                            "argument for the list")
    lines = [f"{found.key} — {found.name}: {found.description}", "Difference checklist:"]
    for item in checklist(found.key):
        measurable = " (measurable from pose)" if _measurable(found.key, item) else ""
        motion = "several frames" if item["num_frames"] == "gt_1" else "one frame"
        lines.append(f"- {item['name']}: {item['description']} [{motion}]{measurable}")
    return "\n".join(lines)


def _measurable(action_key: str, item: dict[str, Any]) -> bool:
    for diff in load_differences():
        if diff.action == action_key and diff.name == item["name"]:
            return metric_query_for(action_key, diff.diff_key) is not None
    return False


def make_list_actions_tool() -> BaseTool:
    """``list_actions(action?)``: the benchmark actions, or one action's checklist."""
    return StructuredTool.from_function(
        func=_list_actions, name="list_actions",
        description="List the known actions (VidDiffBench: fitness, ball sports, diving, "
                    "surgery, music) or, given one, its checklist of differences worth "
                    "checking.",
        args_schema=ListActionsArgs, handle_tool_error=True, handle_validation_error=True)
