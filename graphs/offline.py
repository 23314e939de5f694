"""The offline engine as a graph: pose in, measured differences out — no network, CPU only.

::

    load_videos ─ prepare_differences (closed) ─┐
                └───────────────────────────────┴─ estimate_pose ─ localize_phases
                                                     ─ measure_differences ─ finish

Same input, output and context as the VidDiff graph, so callers switch engines freely.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.llm import model_name
from viddiff.graphs.node_names import (
    ESTIMATE_POSE,
    FINISH,
    LOAD_VIDEOS,
    LOCALIZE_PHASES,
    MEASURE_DIFFERENCES,
    PREPARE_DIFFERENCES,
)
from viddiff.graphs.nodes.finish import make_finish_node
from viddiff.graphs.nodes.load import load_videos
from viddiff.graphs.nodes.pose_steps import (
    estimate_pose,
    localize_phases,
    make_measure_differences_node,
)
from viddiff.graphs.nodes.propose import prepare_differences
from viddiff.graphs.state import InputState, OutputState, VidDiffState

OFFLINE_MODELS = {"pose": "mediapipe-pose-full (0.10.21)", "engine": "viddiff offline metrics"}


def build_offline_graph(
    reader: BaseChatModel | None = None,
) -> StateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """The uncompiled offline graph (needs the ``pose`` extra at run time).

    ``reader``: a chat model that maps free-text differences to catalogue metrics when the
    run's ``understand_with`` asks for it (:mod:`viddiff.graphs.understanding_model`); None
    (the default) keeps the whole run on this machine."""
    models = OFFLINE_MODELS if reader is None else {**OFFLINE_MODELS,
                                                    "reader": model_name(reader)}
    graph = StateGraph(VidDiffState, context_schema=VidDiffContext,
                       input_schema=InputState, output_schema=OutputState)
    graph.add_node(LOAD_VIDEOS, load_videos)
    graph.add_node(PREPARE_DIFFERENCES, prepare_differences)
    graph.add_node(ESTIMATE_POSE, estimate_pose)
    graph.add_node(LOCALIZE_PHASES, localize_phases)
    graph.add_node(MEASURE_DIFFERENCES, make_measure_differences_node(reader))
    graph.add_node(FINISH, make_finish_node(models, engine="offline"))
    graph.add_edge(START, LOAD_VIDEOS)
    graph.add_conditional_edges(LOAD_VIDEOS, _after_load, [PREPARE_DIFFERENCES, ESTIMATE_POSE])
    graph.add_edge(PREPARE_DIFFERENCES, ESTIMATE_POSE)
    graph.add_edge(ESTIMATE_POSE, LOCALIZE_PHASES)
    graph.add_edge(LOCALIZE_PHASES, MEASURE_DIFFERENCES)
    graph.add_edge(MEASURE_DIFFERENCES, FINISH)
    graph.add_edge(FINISH, END)
    return graph


def _after_load(state: VidDiffState) -> str:
    """Closed mode completes the caller's differences first; open mode has none to complete."""
    return PREPARE_DIFFERENCES if state.get("mode") == "closed" else ESTIMATE_POSE
