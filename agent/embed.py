"""Public factories for using viddiff inside another LangGraph/LangChain app.

Three levels, pick one:

* :func:`build_graph` — the **uncompiled** ``StateGraph`` (VLM graph with models injected, or
  the offline pose graph when ``models`` is None). Compile it with your own checkpointer, or
  call the compiled graph from a node of your graph (a subgraph).
* :func:`create_graph` — the same, compiled with sensible defaults.
* :func:`create_compare_tool` — a ready ``compare_videos`` LangChain tool for your agent.

State is plain data (paths, indices, pydantic records), so any checkpointer can persist a
comparison; :func:`viddiff_serde` gives a serializer that allows exactly viddiff's types, for
checkpointers running with ``LANGGRAPH_STRICT_MSGPACK`` (and without the "unregistered type"
warnings). Inside a host graph, the comparison needs a :class:`VidDiffContext`: pass
``context=`` when invoking it from a node (a host's own context is not one).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer
from pydantic import BaseModel

from viddiff.agent.tools_compare import make_compare_tool
from viddiff.graphs import llm, schemas
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.models import EndpointSettings, ModelRoles, build_models
from viddiff.graphs.nodes.localize import ClipLoader
from viddiff.graphs.offline import build_offline_graph
from viddiff.graphs.state import InputState, OutputState, VidDiffState
from viddiff.graphs.viddiff import build_viddiff_graph
from viddiff.tools import segments
from viddiff.tools.clip.model import load_clip
from viddiff.tools.kinematics import results as kinematics_results
from viddiff.tools.paths import PathPolicy

__all__ = [
    "CHECK_PATHS_NODE",
    "build_graph",
    "create_compare_tool",
    "create_graph",
    "guard_paths",
    "models_from_env",
    "serializable_types",
    "viddiff_serde",
]

CHECK_PATHS_NODE = "check_paths"

ComparisonGraph = StateGraph[VidDiffState, VidDiffContext, InputState, OutputState]


def models_from_env(env: Mapping[str, str] | None = None) -> ModelRoles | None:
    """Models from ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` / ``VIDDIFF_*_MODEL``, or None
    when no endpoint is configured (callers then use the offline graph)."""
    settings = EndpointSettings.from_env(env)
    return build_models(settings) if settings.configured else None


def _roles(models: ModelRoles | BaseChatModel | None) -> ModelRoles | None:
    if models is None or isinstance(models, ModelRoles):
        return models
    return ModelRoles.single(models)


def guard_paths(graph: ComparisonGraph,
                policy: PathPolicy | Callable[[], PathPolicy]) -> ComparisonGraph:
    """Put a ``check_paths`` node in front of ``load_videos``: both video paths must pass
    ``policy`` (and are replaced by their resolved form) before anything is decoded.
    For graphs whose inputs come from untrusted clients (an HTTP server).

    ``policy`` may be a factory (e.g. ``PathPolicy.from_env``), called in the node: building
    a policy touches the file system, which must not happen on a server's event loop.
    """
    if (START, "load_videos") not in graph.edges:
        raise ValueError("guard_paths expects a graph that starts at load_videos")

    def check_paths(state: VidDiffState) -> dict[str, Any]:
        """Refuse paths outside the allowed folders (see viddiff.tools.paths)."""
        allowed = policy if isinstance(policy, PathPolicy) else policy()
        return {"video_a": allowed.check(state["video_a"]),
                "video_b": allowed.check(state["video_b"])}

    graph.edges.discard((START, "load_videos"))
    graph.add_node(CHECK_PATHS_NODE, check_paths)
    graph.add_edge(START, CHECK_PATHS_NODE)
    graph.add_edge(CHECK_PATHS_NODE, "load_videos")
    return graph


def build_graph(
    models: ModelRoles | BaseChatModel | None = None,
    *,
    clip_loader: ClipLoader = load_clip,
    review_proposals: bool = False,
    policy: PathPolicy | Callable[[], PathPolicy] | None = None,
) -> ComparisonGraph:
    """The uncompiled comparison graph.

    ``models``: one model per role, or one chat model for every role; None selects the
    offline pose engine (no LLM; ``clip_loader`` and ``review_proposals`` do not apply).
    ``policy``: confine the input paths (see :func:`guard_paths`); None trusts the caller.
    """
    roles = _roles(models)
    if roles is None:
        graph = build_offline_graph()
    else:
        graph = build_viddiff_graph(roles, clip_loader=clip_loader,
                                    review_proposals=review_proposals)
    return guard_paths(graph, policy) if policy is not None else graph


def create_graph(
    models: ModelRoles | BaseChatModel | None = None,
    *,
    checkpointer: Checkpointer = None,
    name: str = "viddiff",
    clip_loader: ClipLoader = load_clip,
    review_proposals: bool = False,
    policy: PathPolicy | Callable[[], PathPolicy] | None = None,
) -> CompiledStateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """:func:`build_graph`, compiled (``review_proposals`` needs a ``checkpointer``)."""
    graph = build_graph(models, clip_loader=clip_loader, review_proposals=review_proposals,
                        policy=policy)
    return graph.compile(checkpointer=checkpointer, name=name)


def create_compare_tool(
    models: ModelRoles | BaseChatModel | None = None,
    *,
    graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
    context: VidDiffContext | None = None,
    policy: PathPolicy | None = None,
    clip_loader: ClipLoader = load_clip,
) -> BaseTool:
    """A ``compare_videos`` tool for a host agent: text summary for the model, the full
    :class:`ComparisonResult` as the tool message's artifact.

    Give ``models`` (or None for the offline engine), or an already compiled ``graph``.
    ``policy`` defaults to the working directory only, without URLs.
    """
    compiled = graph if graph is not None else create_graph(models, clip_loader=clip_loader)
    return make_compare_tool(compiled, context=context, policy=policy)


def serializable_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic record a viddiff state can hold."""
    from viddiff.graphs import eval_state  # the eval graph's records travel in its state

    found: list[tuple[str, str]] = []
    for module in (schemas, llm, kinematics_results, segments, eval_state):
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                found.append((module.__name__, name))
    return found


def viddiff_serde(*extra: tuple[str, str]) -> JsonPlusSerializer:
    """A checkpoint serializer that restores viddiff's records as pydantic objects and
    refuses other unregistered types; add your own ``(module, class)`` pairs as ``extra``."""
    return JsonPlusSerializer(allowed_msgpack_modules=[*serializable_types(), *extra])
