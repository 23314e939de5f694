"""The VidDiff graph: two videos in, labelled and evidenced differences out.

::

    load_videos ─┬─ propose | prepare_differences ──────────┐
                 ├─ stage_transcript ─ refine_stages ─┬─ link* ─────┐
                 ├─ embed_frames ─────────────────────┴─ localize* ─┴─ select_frames*
                 └─ estimate_pose (pose for the measure tool) ──────────┘
    select_frames* ─ difference ×N (concurrent, each with its own retry edge) ─ finish*

Nodes marked * are *deferred*: they wait until every other branch (including retries) is
done, which is how the LangGraph joins cope with retry edges. Embedding and pose estimation
run in worker threads while the proposer and stage LLM calls are in flight. The differencer
may call a ``measure`` tool (pose metrics) before it answers, so answers come with numbers.
Each step is described in docs/architecture.md ("The VLM graph" and the method's steps).
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from viddiff.graphs.context import ClipLoader, VidDiffContext, default_clip_loader
from viddiff.graphs.llm import TRANSIENT_RETRY
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.nodes import review
from viddiff.graphs.nodes.differ import make_difference_node
from viddiff.graphs.nodes.finish import make_finish_node
from viddiff.graphs.nodes.link import make_link_node
from viddiff.graphs.nodes.load import load_videos, route_after_load
from viddiff.graphs.nodes.localize import make_embed_frames_node, make_localize_node
from viddiff.graphs.nodes.measure_tool import estimate_pose_for_tools
from viddiff.graphs.nodes.propose import make_propose_node, prepare_differences
from viddiff.graphs.nodes.select_frames import select_frames
from viddiff.graphs.nodes.stages import make_refine_stages_node, make_stage_transcript_node
from viddiff.graphs.state import InputState, OutputState, VidDiffState


def build_viddiff_graph(
    models: ModelRoles, *, clip_loader: ClipLoader = default_clip_loader,
    review_proposals: bool = False,
) -> StateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """The uncompiled VidDiff graph; compile it (with a checkpointer if you like) to run it.

    ``models`` supplies one chat model per role; ``clip_loader`` builds the CLIP embedder from
    the run's :class:`VidDiffContext` (inject a random-weight or cached one in tests).
    ``review_proposals`` pauses open-mode runs after the proposer so a person can edit the
    differences (see :mod:`viddiff.graphs.nodes.review`; needs a checkpointer).
    """
    graph = StateGraph(VidDiffState, context_schema=VidDiffContext,
                       input_schema=InputState, output_schema=OutputState)
    graph.add_node("load_videos", load_videos)
    graph.add_node("prepare_differences", prepare_differences)
    propose = make_propose_node(models.proposer)
    after_propose = "link"
    if review_proposals:
        propose, after_propose = review.through_review(propose), review.REVIEW_NODE
        graph.add_node(review.REVIEW_NODE, review.review_proposals, destinations=("link", END))
    graph.add_node("propose", propose, retry_policy=TRANSIENT_RETRY,
                   destinations=("propose", after_propose, END))
    graph.add_node("stage_transcript", make_stage_transcript_node(models.stages),
                   retry_policy=TRANSIENT_RETRY,
                   destinations=("stage_transcript", "refine_stages", "localize", "link", END))
    graph.add_node("refine_stages", make_refine_stages_node(models.stages),
                   retry_policy=TRANSIENT_RETRY,
                   destinations=("refine_stages", "localize", "link", END))
    graph.add_node("embed_frames", make_embed_frames_node(clip_loader))
    graph.add_node("estimate_pose", estimate_pose_for_tools)
    graph.add_node("localize", make_localize_node(clip_loader), defer=True,
                   destinations=("select_frames", END))
    graph.add_node("link", make_link_node(models.linker), defer=True,
                   retry_policy=TRANSIENT_RETRY, destinations=("link", "select_frames", END))
    graph.add_node("select_frames", select_frames, defer=True,
                   destinations=("difference", "finish", END))
    graph.add_node("difference", make_difference_node(models.differencer),
                   retry_policy=TRANSIENT_RETRY, destinations=("difference", "finish"))
    graph.add_node("finish", make_finish_node(models.names()), defer=True)

    graph.add_edge(START, "load_videos")
    graph.add_conditional_edges("load_videos", route_after_load,
                                ["propose", "prepare_differences", "stage_transcript",
                                 "embed_frames", "estimate_pose"])
    graph.add_edge("prepare_differences", "link")
    graph.add_edge("embed_frames", "localize")
    graph.add_edge("estimate_pose", "select_frames")
    graph.add_edge("finish", END)
    return graph
