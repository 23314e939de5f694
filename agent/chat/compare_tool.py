"""``compare_videos``: one whole VidDiff comparison as a LangChain tool.

The tool is what a host agent (or viddiff's own chat) calls. It checks both paths against a
:class:`~viddiff.tools.paths.PathPolicy` (the paths come from a model), runs the injected
compiled graph — the VLM graph or the offline pose graph, same input and output — and returns
a short text for the model plus the full :class:`ComparisonResult` as the artifact
(``response_format="content_and_artifact"``), so follow-ups can read the evidence without
running again. Asked for a ``replay``, it also writes the aligned side-by-side video
(:func:`viddiff.agent.report.replay_video.write_replay`) into the tool's replay folder and
names the file in its text.

Progress: the graph's custom events (``node``, ``frames_embedded``, ``differences``,
``difference_answered``) are forwarded to the caller's stream writer, framed by
``{"event": "comparison", "status": "start"|"end"|"error"}``; stream the host agent with
``stream_mode="custom"`` to see them. The comparison runs as its own graph run (a fresh
context), not as a checkpointed child of the calling agent's thread: the agent's checkpointer
then holds the conversation and the result, not a dozen intermediate comparison states.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.config import get_stream_writer
from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field

from viddiff.agent.chat.stored_results import COMPARE_TOOL, comparison_id, summarize
from viddiff.agent.report.replay_video import write_replay
from viddiff.graphs.checklist import expand_request
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.schemas import ComparisonResult, difference_fields
from viddiff.tools.errors import VidDiffError, one_line
from viddiff.tools.paths import PathPolicy

DEFAULT_OPEN = 5
"""Differences proposed when the model asks for neither a list nor a number."""

Writer = Callable[[Any], None]


class CompareArgs(BaseModel):
    """Arguments of ``compare_videos``."""

    video_a: str = Field(description="Path of the first video (A), relative to the working "
                                     "folder or inside an allowed folder.")
    video_b: str = Field(description="Path of the second video (B).")
    action: str = Field(description="What both videos show, e.g. 'a bodyweight squat', or a "
                                    "benchmark action key such as 'fitness_4' (see "
                                    "list_actions).")
    differences: list[str] | None = Field(
        None, description="Closed mode: statements to check, each phrased without naming a "
                          "video, e.g. 'the squat is deeper'. Omit for open mode.")
    n_differences: int | None = Field(
        None, ge=1, le=20, description="Open mode: how many differences to find (default 5; "
                                       "a benchmark action uses its checklist instead).")
    replay: bool = Field(
        False, description="Also write an aligned side-by-side replay video (MP4: B "
                           "time-warped to A, skeletons, each measured moment held) and "
                           "return its path. Takes a few seconds more.")


def stream_writer() -> Writer:
    """The calling graph's custom stream writer, usable from any thread or context.

    LangGraph's writer looks up the current run's config when it writes, so it only works
    in the context it came from; this one re-enters that context (one writer at a time,
    since sync nodes of the comparison emit from worker threads). Outside a graph run: no-op.
    """
    try:
        writer = get_stream_writer()
    except (RuntimeError, KeyError):  # called directly, not from inside a LangGraph run
        return lambda _chunk: None
    origin = contextvars.copy_context()
    lock = threading.Lock()

    def write(chunk: Any) -> None:
        with lock:
            origin.run(writer, chunk)

    return write


def build_request(policy: PathPolicy, video_a: str, video_b: str, action: str,
                  differences: list[str] | None = None, n_differences: int | None = None,
                  default_open: int = DEFAULT_OPEN) -> dict[str, Any]:
    """The graph input, with both paths checked and resolved (raises ``PathRefused``)."""
    if differences and n_differences:
        raise ToolException("give either differences (closed mode) or n_differences (open "
                            "mode), not both")
    request = expand_request({
        "video_a": policy.check(video_a), "video_b": policy.check(video_b),
        "action": action,
        "differences": [difference_fields(d) for d in differences or [] if d.strip()] or None,
        "n_differences": n_differences,
    })
    if not request.get("differences") and not request.get("n_differences"):
        request["n_differences"] = default_open
    return request


def write_replay_file(result: ComparisonResult, path: Path, ctx: VidDiffContext) -> str:
    """Write the replay of a finished comparison; one line for the model either way (a
    replay that cannot be made does not undo the comparison)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        info = write_replay(result, path, context=ctx)
    except (VidDiffError, OSError) as exc:
        return f"Replay video: not made ({one_line(exc)})."
    notes = f" Notes: {'; '.join(info.notes)}." if info.notes else ""
    return f"Replay video: {info.path} ({info.frames} frames at {info.fps:g}/s).{notes}"


def make_compare_tool(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    *,
    context: VidDiffContext | None = None,
    policy: PathPolicy | None = None,
    default_open: int = DEFAULT_OPEN,
    name: str = COMPARE_TOOL,
    replay_dir: str | Path | None = None,
) -> BaseTool:
    """A ``compare_videos`` tool running ``graph`` (compiled VidDiff or offline graph).

    ``context`` tunes every run (fps, CLIP, cache …); ``policy`` says which files the model
    may name (default: the working directory, no URLs); ``replay_dir``: where replays asked
    for are written, one ``<comparison id>.mp4`` each (default ``<cache_dir>/replays``).
    """
    ctx = context or VidDiffContext()
    allowed = policy or PathPolicy.default()
    replays = Path(replay_dir) if replay_dir is not None else Path(ctx.cache_dir) / "replays"

    async def run(writer: Writer, replay: bool = False,
                  **args: Any) -> tuple[str, ComparisonResult]:
        try:
            request = await asyncio.to_thread(build_request, allowed, default_open=default_open,
                                              **args)
            writer({"event": "comparison", "status": "start", "video_a": request["video_a"],
                    "video_b": request["video_b"], "action": request["action"]})
            result = await run_comparison(graph, request, ctx, on_event=writer)
        except (VidDiffError, ToolException) as exc:
            writer({"event": "comparison", "status": "error", "message": str(exc)})
            raise ToolException(str(exc)) from None
        except Exception as exc:  # a tool answers the model; it does not crash the agent
            message = f"compare_videos failed: {type(exc).__name__}: {one_line(exc)}"
            writer({"event": "comparison", "status": "error", "message": message})
            raise ToolException(message) from None
        cid = comparison_id(result)
        writer({"event": "comparison", "status": "end", "comparison_id": cid})
        text = summarize(result, cid)
        if replay:
            text += "\n" + await asyncio.to_thread(write_replay_file, result,
                                                   replays / f"{cid}.mp4", ctx)
        return text, result

    async def acompare(**args: Any) -> tuple[str, ComparisonResult]:
        writer = stream_writer()
        # A fresh context: the comparison is its own run, not a child of the agent's thread.
        task = asyncio.get_running_loop().create_task(run(writer, **args),
                                                      context=contextvars.Context())
        return await task

    def compare(**args: Any) -> tuple[str, ComparisonResult]:
        writer = stream_writer()
        with ThreadPoolExecutor(1, thread_name_prefix="viddiff-compare") as pool:
            # asyncio.run in a new thread: safe whether or not this thread runs a loop
            return pool.submit(asyncio.run, run(writer, **args)).result()

    return StructuredTool.from_function(
        func=compare,
        coroutine=acompare,
        name=name,
        description="Compare two videos of the same action and say how the performances "
                    "differ: each difference labelled A, B or no clear difference, with the "
                    "reason, frames and (where a person is visible) measurements. Closed mode "
                    "checks given statements; open mode finds differences itself. Slow "
                    "(seconds to minutes): for questions about a finished comparison use "
                    "get_result instead.",
        args_schema=CompareArgs,
        response_format="content_and_artifact",
        handle_tool_error=True,
        handle_validation_error=True,
    )
