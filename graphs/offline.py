"""The offline engine as a graph: pose in, measured differences out — no network, CPU only.

::

    load_videos ─ prepare_differences (closed) ─┐
                └───────────────────────────────┴─ estimate_pose ─ localize_phases
                                                     ─ measure_differences ─ finish

Same input, output and context as the VidDiff graph, so callers switch engines freely.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.nodes.finish import make_finish_node
from viddiff.graphs.nodes.load import load_videos
from viddiff.graphs.nodes.offline import estimate_pose, localize_phases, measure
from viddiff.graphs.nodes.propose import prepare_differences
from viddiff.graphs.state import InputState, OutputState, VidDiffState

OFFLINE_MODELS = {"pose": "mediapipe-pose-full (0.10.21)", "engine": "viddiff offline metrics"}


def build_offline_graph() -> StateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """The uncompiled offline graph (needs the ``pose`` extra at run time)."""
    graph = StateGraph(VidDiffState, context_schema=VidDiffContext,
                       input_schema=InputState, output_schema=OutputState)
    graph.add_node("load_videos", load_videos)
    graph.add_node("prepare_differences", prepare_differences)
    graph.add_node("estimate_pose", estimate_pose)
    graph.add_node("localize_phases", localize_phases)
    graph.add_node("measure_differences", measure)
    graph.add_node("finish", make_finish_node(OFFLINE_MODELS, engine="offline"))
    graph.add_edge(START, "load_videos")
    graph.add_conditional_edges("load_videos", _after_load,
                                ["prepare_differences", "estimate_pose"])
    graph.add_edge("prepare_differences", "estimate_pose")
    graph.add_edge("estimate_pose", "localize_phases")
    graph.add_edge("localize_phases", "measure_differences")
    graph.add_edge("measure_differences", "finish")
    graph.add_edge("finish", END)
    return graph


def _after_load(state: VidDiffState) -> str:
    return "prepare_differences" if state.get("mode") == "closed" else "estimate_pose"
