"""Which engine runs a comparison, and the graph that runs it.

``engine="vlm"`` is the VidDiff graph (LLM proposer, stage transcript, CLIP localizer, VLM
differencer); ``engine="offline"`` the pose engine (no network, no weights); ``engine="auto"``
takes the VLM graph when models are given or an endpoint is configured, else the offline
engine, and says so. :func:`choose_engine` is the one place that decides: the library
(:func:`build_graph`, :func:`create_graph`, :func:`viddiff.graphs.compare.compare`), the
command line, the chat, the server and the eval runner all call it, so a run's engine never
depends on which door it came in by.

The graph factories live here with the decision because a caller asks for both at once
("the graph for this engine"); :func:`guard_paths` is the one change to a graph the factories
make on request, for graphs whose inputs come from untrusted clients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langgraph.graph import START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer

from viddiff.graphs.context import (
    ClipLoader,
    VidDiffContext,
    client_overrides_of_server_settings,
    default_clip_loader,
)
from viddiff.graphs.models import (
    READER_ROLE,
    EndpointSettings,
    ModelRoles,
    build_models,
    build_reader,
    wants_reader,
)
from viddiff.graphs.offline import OFFLINE_MODELS, build_offline_graph
from viddiff.graphs.state import InputState, OutputState, VidDiffState
from viddiff.graphs.viddiff import build_viddiff_graph
from viddiff.tools.errors import ConfigError
from viddiff.tools.paths import PathPolicy

__all__ = [
    "CHECK_PATHS_NODE",
    "NO_ENDPOINT",
    "ComparisonGraph",
    "Engine",
    "EngineChoice",
    "EngineDecision",
    "build_graph",
    "choose_engine",
    "create_graph",
    "engine_model_names",
    "guard_paths",
    "models_from_env",
    "reader_model",
    "require_clip",
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


def reader_model(ctx: VidDiffContext,
                 settings: EndpointSettings | None = None) -> BaseChatModel | None:
    """The model the offline engine reads free-text differences with, built here at the edge
    when ``ctx.understand_with`` asks for it (``model``; ``auto`` with an endpoint configured
    in ``settings``, default: the environment); None otherwise -- with ``phrases`` (the
    default) nothing is read from the environment and no client is built."""
    if ctx.understand_with == "phrases":
        return None
    settings = settings if settings is not None else EndpointSettings.from_env()
    return build_reader(settings) if wants_reader(ctx.understand_with, settings) else None


def engine_model_names(offline: bool, endpoint: EndpointSettings,
                       understand_with: str = "phrases") -> dict[str, str]:
    """What a run's records name as its models, before any client is built: the offline
    engine's components (and the model that reads its statements, when one does), or the
    model per role on the endpoint."""
    if not offline:
        return dict(endpoint.models)
    if wants_reader(understand_with, endpoint):
        return {**OFFLINE_MODELS, "reader": endpoint.models[READER_ROLE]}
    return dict(OFFLINE_MODELS)


def require_clip(ctx: VidDiffContext, loader: ClipLoader | None = None) -> None:
    """With ``localizer="clip"`` (the paper's protocol) CLIP must load before any sample runs:
    missing weights are one clear error (exit 2) up front, not a failure recorded for every
    sample, and never a silent fallback to pose phases. The model is memoised (per process,
    or on the embedding actor), so the graph reuses what is loaded here."""
    if ctx.localizer != "clip":
        return
    try:
        (loader or default_clip_loader)(ctx.clip_spec())
    except ConfigError as exc:
        raise ConfigError(f"{exc} [the CLIP localizer is required here, without pose "
                          f"fallback: --clip-checkpoint FILE, or --clip-model/--clip-pretrained "
                          f"for weights you have]") from None


def guard_paths(graph: ComparisonGraph,
                policy: PathPolicy | Callable[[], PathPolicy], *,
                server_context: Callable[[], VidDiffContext] | None = None) -> ComparisonGraph:
    """Put a ``check_paths`` node in front of ``load_videos``: both video paths must pass
    ``policy`` (and are replaced by their resolved form) before anything is decoded.
    For graphs whose inputs come from untrusted clients (an HTTP server).

    ``policy`` may be a factory (e.g. ``PathPolicy.from_env``), called in the node: building
    a policy touches the file system, which must not happen on a server's event loop.

    ``server_context`` (e.g. ``VidDiffContext``, the server's defaults): when the run context
    comes from a client too, the settings that name the server's files or devices
    (``Setting.server_owned``: cache folder, CLIP checkpoint, device) must keep the values it
    gives; a run context changing one is refused with a ``ConfigError`` before any work.
    """
    if (START, "load_videos") not in graph.edges:
        raise ValueError("guard_paths expects a graph that starts at load_videos")

    def check_paths(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
        """Refuse paths outside the allowed folders (see viddiff.tools.paths), and a run
        context that sets the server's own files or devices (``Setting.server_owned``)."""
        if server_context is not None and isinstance(runtime.context, VidDiffContext):
            taken = client_overrides_of_server_settings(runtime.context, server_context())
            if taken:
                raise ConfigError(f"the run context may not set {', '.join(taken)}: "
                                  f"{'it is' if len(taken) == 1 else 'they are'} the "
                                  f"server's to choose")
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
    reader: BaseChatModel | None = None,
) -> ComparisonGraph:
    """The uncompiled comparison graph.

    ``models``: one model per role, or one chat model for every role. ``engine``: see
    :func:`choose_engine` (or a decision already made). ``clip_loader`` and
    ``review_proposals`` apply to the VLM graph only, ``reader`` (the model that reads
    free-text differences, :func:`reader_model`) to the offline engine only. ``policy``:
    confine the input paths (see :func:`guard_paths`); None trusts the caller.
    """
    decision = engine if isinstance(engine, EngineDecision) else choose_engine(engine, models)
    if decision.models is None:
        graph = build_offline_graph(reader)
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
    reader: BaseChatModel | None = None,
) -> CompiledStateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """:func:`build_graph`, compiled (``review_proposals`` needs a ``checkpointer``);
    named ``viddiff`` or ``viddiff_offline`` unless ``name`` says otherwise."""
    decision = engine if isinstance(engine, EngineDecision) else choose_engine(engine, models)
    graph = build_graph(engine=decision, clip_loader=clip_loader,
                        review_proposals=review_proposals, policy=policy, reader=reader)
    default_name = "viddiff" if decision.engine == "vlm" else "viddiff_offline"
    return graph.compile(checkpointer=checkpointer, name=name or default_name)
