"""The viddiff chat agent: a tool-calling agent around the comparison graph.

Built with ``langchain.agents.create_agent`` (LangChain 1.x), the current LangGraph agent API:
``langgraph.prebuilt.create_react_agent`` is deprecated since LangGraph 1.0 in its favour, and
``create_agent`` adds middleware, which the agent uses to keep finished comparisons in its
state (:mod:`viddiff.agent.chat.memory`). The result is a compiled LangGraph graph: stream it,
checkpoint it (``--thread`` in the terminal chat is a SQLite checkpointer thread), or serve
it with ``langgraph dev``.

The chat model and the comparison graph are injected; nothing here builds a model client.
"""

# ruff: noqa: E402 - the extra is checked before langchain is imported, for a one-line error
from __future__ import annotations

from typing import Any, Literal

from viddiff.tools.extras import require_extra

require_extra("chat", "the chat agent")  # one line naming the extra, not langchain's traceback

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from viddiff.agent.chat.memory import ComparisonMemory
from viddiff.agent.chat.repair import ThreadRepair
from viddiff.agent.chat.toolset import make_chat_tools
from viddiff.agent.chat.video_tools import EmbedderFactory
from viddiff.graphs.context import VidDiffContext
from viddiff.prompts import render
from viddiff.tools.paths import PathPolicy

__all__ = ["chat_system_prompt", "create_chat_agent"]

ENGINE_TEXT = {"vlm": "VidDiff (vision-language model + CLIP stage localizer)",
               "offline": "offline pose (measurements only, no vision-language model)"}


def chat_system_prompt(policy: PathPolicy, engine: Literal["vlm", "offline"]) -> str:
    """The system prompt, naming where videos may come from and which engine compares."""
    return render("chat_system", allowed=policy.describe(), engine=ENGINE_TEXT[engine])


def create_chat_agent(
    model: BaseChatModel,
    graph: CompiledStateGraph[Any, Any, Any, Any],
    *,
    engine: Literal["vlm", "offline"] = "vlm",
    context: VidDiffContext | None = None,
    policy: PathPolicy | None = None,
    embedder_factory: EmbedderFactory | None = None,
    extra_tools: list[BaseTool] | None = None,
    checkpointer: Checkpointer = None,
    name: str = "viddiff_chat",
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled chat agent.

    ``model`` chats and calls tools; ``graph`` is the compiled comparison graph that
    ``compare_videos`` runs (``engine`` says which kind, for the prompt); ``policy`` confines
    every video path the model names (default: the working directory, no URLs).
    """
    allowed = policy or PathPolicy.default()
    tools = make_chat_tools(graph, context=context, policy=allowed,
                            embedder_factory=embedder_factory)
    return create_agent(
        model,
        [*tools, *(extra_tools or [])],
        system_prompt=chat_system_prompt(allowed, engine),
        middleware=[ThreadRepair(), ComparisonMemory()],
        checkpointer=checkpointer,
        name=name,
    )
