"""The chat agent's tool set, assembled from the tool modules.

==================  ==============================================================
``compare_videos``  run a comparison (VLM or offline graph); summary + full result
``get_result``      details of an earlier comparison, from the conversation state
``find_moment``     when a described moment happens in one video (CLIP)
``measure_pose``    one pose metric on both videos, over a stage or the whole clips
``list_actions``    known benchmark actions and their difference checklists
==================  ==============================================================

Every tool that takes a video path checks it against the same :class:`PathPolicy`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph

from viddiff.agent.chat.compare_tool import make_compare_tool
from viddiff.agent.chat.stored_results import make_get_result_tool
from viddiff.agent.chat.video_tools import (
    EmbedderFactory,
    make_find_moment_tool,
    make_list_actions_tool,
    make_measure_pose_tool,
)
from viddiff.graphs.context import VidDiffContext, default_clip_loader
from viddiff.tools.paths import PathPolicy

__all__ = ["clip_embedder_factory", "make_chat_tools"]


def clip_embedder_factory(context: VidDiffContext) -> EmbedderFactory:
    """The open_clip embedder the run settings name, built on first use (it is slow)."""
    return lambda: default_clip_loader(context.clip_spec())


def make_chat_tools(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    *,
    context: VidDiffContext | None = None,
    policy: PathPolicy | None = None,
    embedder_factory: EmbedderFactory | None = None,
) -> list[BaseTool]:
    """All chat tools around one compiled comparison graph.

    ``embedder_factory`` (for ``find_moment``) defaults to the CLIP model of ``context``.
    """
    ctx = context or VidDiffContext()
    allowed = policy or PathPolicy.default()
    return [
        make_compare_tool(graph, context=ctx, policy=allowed),
        make_get_result_tool(),
        make_find_moment_tool(embedder_factory or clip_embedder_factory(ctx), context=ctx,
                              policy=allowed),
        make_measure_pose_tool(context=ctx, policy=allowed),
        make_list_actions_tool(),
    ]
