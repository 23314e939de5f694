"""viddiff's public API, re-exported by the root package (``from viddiff import ...``).

Levels, pick one:

* :func:`compare` / :func:`acompare` — two videos in, a :class:`ComparisonResult` out.
* :func:`build_graph` — the **uncompiled** ``StateGraph``; compile it with your own
  checkpointer, or call the compiled graph from a node of your graph (a subgraph).
* :func:`create_graph` — the same, compiled with sensible defaults.
* :func:`create_compare_tool` — a ready ``compare_videos`` LangChain tool for your agent.

**Engines.** ``engine="vlm"`` is the VidDiff graph (LLM proposer, stage transcript, CLIP
localizer, VLM differencer); ``engine="offline"`` the pose engine (no network, no weights);
``engine="auto"`` (the default) takes the VLM graph when models are given or an endpoint is
configured in the environment, else the offline engine, and says so.
:func:`choose_engine` is the one place that decides; the command line, the chat, the
server and the eval runner all call it.

State is plain data (paths, indices, pydantic records), so any checkpointer can persist a
comparison; :func:`viddiff_serde` gives a serializer that allows exactly viddiff's types, for
checkpointers running with ``LANGGRAPH_STRICT_MSGPACK`` (and without the "unregistered type"
warnings). Inside a host graph, the comparison needs a :class:`VidDiffContext`: pass
``context=`` when invoking it from a node (a host's own context is not one).

Importing this module loads LangGraph and LangChain but not torch or open_clip: those load
when a CLIP localizer first runs.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer
from pydantic import BaseModel

from viddiff.agent.chat.compare_tool import make_compare_tool
from viddiff.graphs import llm, schemas
from viddiff.graphs.checklist import expand_request
from viddiff.graphs.context import ClipLoader, VidDiffContext, default_clip_loader
from viddiff.graphs.models import EndpointSettings, ModelRoles, build_models
from viddiff.graphs.offline import OFFLINE_MODELS, build_offline_graph
from viddiff.graphs.runner import EventCallback, run_comparison
from viddiff.graphs.schemas import ComparisonResult, difference_fields
from viddiff.graphs.state import InputState, OutputState, VidDiffState
from viddiff.graphs.viddiff import build_viddiff_graph
from viddiff.tools import segments
from viddiff.tools.errors import ConfigError
from viddiff.tools.kinematics import results as kinematics_results
from viddiff.tools.paths import PathPolicy

__all__ = [
    "CHECK_PATHS_NODE",
    "EngineChoice",
    "EngineDecision",
    "acompare",
    "build_graph",
    "choose_engine",
    "compare",
    "create_compare_tool",
    "create_graph",
    "guard_paths",
    "models_from_env",
    "serializable_types",
    "viddiff_serde",
]

CHECK_PATHS_NODE = "check_paths"

ComparisonGraph = StateGraph[VidDiffState, VidDiffContext, InputState, OutputState]


EngineChoice = Literal["auto", "vlm", "offline"]
Engine = Literal["vlm", "offline"]
NO_ENDPOINT = ("no model endpoint configured (set OPENAI_API_KEY and/or OPENAI_BASE_URL, or "
               "--base-url)")


def models_from_env(env: Mapping[str, str] | None = None) -> ModelRoles | None:
    """Models from ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` / ``VIDDIFF_*_MODEL``, or None
    when no endpoint is configured."""
    settings = EndpointSettings.from_env(env)
    return build_models(settings) if settings.configured else None


@dataclass(frozen=True)
class EngineDecision:
    """Which engine a run uses, with its models (VLM only) and why, in one line."""

    engine: Engine
    models: ModelRoles | None
    reason: str

    @property
    def model_names(self) -> dict[str, str]:
        """Model names per role, for run records (the offline engine's components)."""
        return self.models.names() if self.models is not None else dict(OFFLINE_MODELS)


def choose_engine(engine: EngineChoice = "auto",
                  models: ModelRoles | BaseChatModel | None = None, *,
                  settings: EndpointSettings | None = None) -> EngineDecision:
    """The one place that decides which engine runs.

    ``offline``: the pose engine (``models`` must be None). ``vlm``: the VidDiff graph with
    ``models``, else models built from ``settings`` (default: the environment); a
    :class:`ConfigError` when neither gives any. ``auto``: ``vlm`` when models are given or
    an endpoint is configured, else ``offline``.
    """
    if engine not in ("auto", "vlm", "offline"):
        raise ConfigError(f"unknown engine {engine!r}: use 'auto', 'vlm' or 'offline'")
    if engine == "offline":
        if models is not None:
            raise ConfigError("engine='offline' uses no language models; do not pass models")
        return EngineDecision("offline", None, "the offline pose engine was asked for")
    if models is not None:
        roles = models if isinstance(models, ModelRoles) else ModelRoles.single(models)
        return EngineDecision("vlm", roles, "models were given")
    settings = settings if settings is not None else EndpointSettings.from_env()
    if settings.configured:
        where = settings.base_url or "the OpenAI API"
        return EngineDecision("vlm", build_models(settings), f"endpoint {where}")
    if engine == "vlm":
        raise ConfigError(f"the VLM engine needs models: {NO_ENDPOINT}; the offline pose "
                          "engine needs none (--offline, engine='offline')")
    return EngineDecision("offline", None, f"{NO_ENDPOINT}: using the offline pose engine")


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
    engine: EngineChoice | EngineDecision = "auto",
    clip_loader: ClipLoader = default_clip_loader,
    review_proposals: bool = False,
    policy: PathPolicy | Callable[[], PathPolicy] | None = None,
) -> ComparisonGraph:
    """The uncompiled comparison graph.

    ``models``: one model per role, or one chat model for every role. ``engine``: see
    :func:`choose_engine` (or a decision already made). ``clip_loader`` and
    ``review_proposals`` apply to the VLM graph only. ``policy``: confine the input paths
    (see :func:`guard_paths`); None trusts the caller.
    """
    decision = engine if isinstance(engine, EngineDecision) else choose_engine(engine, models)
    if decision.models is None:
        graph = build_offline_graph()
    else:
        graph = build_viddiff_graph(decision.models, clip_loader=clip_loader,
                                    review_proposals=review_proposals)
    return guard_paths(graph, policy) if policy is not None else graph


def create_graph(
    models: ModelRoles | BaseChatModel | None = None,
    *,
    engine: EngineChoice | EngineDecision = "auto",
    checkpointer: Checkpointer = None,
    name: str | None = None,
    clip_loader: ClipLoader = default_clip_loader,
    review_proposals: bool = False,
    policy: PathPolicy | Callable[[], PathPolicy] | None = None,
) -> CompiledStateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """:func:`build_graph`, compiled (``review_proposals`` needs a ``checkpointer``);
    named ``viddiff`` or ``viddiff_offline`` unless ``name`` says otherwise."""
    decision = engine if isinstance(engine, EngineDecision) else choose_engine(engine, models)
    graph = build_graph(engine=decision, clip_loader=clip_loader,
                        review_proposals=review_proposals, policy=policy)
    default_name = "viddiff" if decision.engine == "vlm" else "viddiff_offline"
    return graph.compile(checkpointer=checkpointer, name=name or default_name)


def comparison_request(video_a: str, video_b: str, action: str,
                       differences: Sequence[str | Mapping[str, Any]] | None,
                       n_differences: int | None) -> dict[str, Any]:
    """The graph's input: differences as texts or spec dicts, the action's checklist and
    description filled in for a benchmark action key."""
    specs = None if not differences else [
        difference_fields(d) for d in differences]
    return expand_request({"video_a": str(video_a), "video_b": str(video_b), "action": action,
                           "differences": specs, "n_differences": n_differences})


async def acompare(
    video_a: str, video_b: str, *, action: str,
    differences: Sequence[str | Mapping[str, Any]] | None = None,
    n_differences: int | None = None,
    models: ModelRoles | BaseChatModel | None = None,
    engine: EngineChoice = "auto",
    context: VidDiffContext | None = None,
    on_event: EventCallback | None = None,
) -> ComparisonResult:
    """Compare two videos: closed mode with ``differences`` (texts, or dicts with
    ``description``/``query_string``/``num_frames``), open mode with ``n_differences``, or
    the benchmark checklist when ``action`` is a known action key and neither is given.

    Raises :class:`viddiff.VidDiffError` subclasses with a one-line message (bad video,
    no endpoint, a model that keeps replying badly).
    """
    graph = create_graph(models, engine=engine)
    request = comparison_request(video_a, video_b, action, differences, n_differences)
    return await run_comparison(graph, request, context or VidDiffContext(), on_event=on_event)


def compare(
    video_a: str, video_b: str, *, action: str,
    differences: Sequence[str | Mapping[str, Any]] | None = None,
    n_differences: int | None = None,
    models: ModelRoles | BaseChatModel | None = None,
    engine: EngineChoice = "auto",
    context: VidDiffContext | None = None,
    on_event: EventCallback | None = None,
) -> ComparisonResult:
    """:func:`acompare` for code without an event loop (in a notebook, await
    :func:`acompare` instead)."""
    return asyncio.run(acompare(video_a, video_b, action=action, differences=differences,
                                n_differences=n_differences, models=models, engine=engine,
                                context=context, on_event=on_event))


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


def serializable_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic record a viddiff state can hold."""
    from viddiff.graphs.eval import state as eval_state  # the eval graph's records travel

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
