"""viddiff's public API for host applications, re-exported by the root package
(``from viddiff import ...``).

Levels, pick one:

* :func:`compare` / :func:`acompare` — two videos in, a :class:`ComparisonResult` out.
* :func:`build_graph` — the **uncompiled** ``StateGraph``; compile it with your own
  checkpointer, or call the compiled graph from a node of your graph (a subgraph).
* :func:`create_graph` — the same, compiled with sensible defaults.
* :func:`create_compare_tool` — a ready ``compare_videos`` LangChain tool for your agent.

The engine layer lives in ``graphs/`` (:mod:`viddiff.graphs.engine`: :func:`choose_engine`,
the graph factories, :func:`guard_paths`; :mod:`viddiff.graphs.compare`;
:mod:`viddiff.graphs.serde`: :func:`viddiff_serde`), so the benchmark and every door in use
it without reaching up into ``agent/``; it is re-exported here, where host applications have
always found it. What is defined here belongs to the agent layer: the LangChain tool.

Inside a host graph, the comparison needs a :class:`VidDiffContext`: pass ``context=`` when
invoking it from a node (a host's own context is not one). Importing this module loads
LangGraph and LangChain but not torch or open_clip: those load when a CLIP localizer first
runs.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph

from viddiff.agent.chat.compare_tool import make_compare_tool
from viddiff.graphs.compare import acompare, compare, comparison_request
from viddiff.graphs.context import ClipLoader, VidDiffContext, default_clip_loader
from viddiff.graphs.engine import (
    CHECK_PATHS_NODE,
    NO_ENDPOINT,
    ComparisonGraph,
    Engine,
    EngineChoice,
    EngineDecision,
    build_graph,
    choose_engine,
    create_graph,
    guard_paths,
    models_from_env,
)
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.serde import serializable_types, viddiff_serde
from viddiff.tools.paths import PathPolicy

__all__ = [
    "CHECK_PATHS_NODE",
    "NO_ENDPOINT",
    "ComparisonGraph",
    "Engine",
    "EngineChoice",
    "EngineDecision",
    "acompare",
    "build_graph",
    "choose_engine",
    "compare",
    "comparison_request",
    "create_compare_tool",
    "create_graph",
    "guard_paths",
    "models_from_env",
    "serializable_types",
    "viddiff_serde",
]


def create_compare_tool(
    models: ModelRoles | BaseChatModel | None = None,
    *,
    engine: EngineChoice = "auto",
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    context: VidDiffContext | None = None,
    policy: PathPolicy | None = None,
    clip_loader: ClipLoader = default_clip_loader,
) -> BaseTool:
    """A ``compare_videos`` tool for a host agent: text summary for the model, the full
    :class:`ComparisonResult` as the tool message's artifact.

    Give ``models`` and/or ``engine`` (see :func:`choose_engine`), or an already compiled
    ``graph``. ``policy`` defaults to the working directory only, without URLs.
    """
    compiled = graph if graph is not None else create_graph(models, engine=engine,
                                                            clip_loader=clip_loader)
    return make_compare_tool(compiled, context=context, policy=policy)
