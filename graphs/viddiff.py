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

from collections.abc import Mapping
from types import MappingProxyType

from langgraph.graph import END, START, StateGraph

from viddiff.graphs.context import ClipLoader, VidDiffContext, default_clip_loader
from viddiff.graphs.llm import TRANSIENT_RETRY
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.node_names import (
    DIFFERENCE,
    EMBED_FRAMES,
    ESTIMATE_POSE,
    FINISH,
    LINK,
    LOAD_VIDEOS,
    LOCALIZE,
    PREPARE_DIFFERENCES,
    PROPOSE,
    REFINE_STAGES,
    REVIEW,
    SELECT_FRAMES,
    STAGE_TRANSCRIPT,
)
from viddiff.graphs.nodes.differ import make_difference_node
from viddiff.graphs.nodes.finish import make_finish_node
from viddiff.graphs.nodes.link import make_link_node
from viddiff.graphs.nodes.load import load_videos
from viddiff.graphs.nodes.localize import make_embed_frames_node, make_localize_node
from viddiff.graphs.nodes.measure_tool import estimate_pose_for_tools
from viddiff.graphs.nodes.propose import make_propose_node, prepare_differences
from viddiff.graphs.nodes.review import make_review_node
from viddiff.graphs.nodes.select_frames import make_select_frames_node
from viddiff.graphs.nodes.stages import make_refine_stages_node, make_stage_transcript_node
from viddiff.graphs.state import InputState, OutputState, VidDiffState
from viddiff.graphs.wiring import Exits, Goto, add_routed, goto_names

SUCCESSORS: Mapping[str, Goto] = MappingProxyType({
    PROPOSE: LINK,
    PREPARE_DIFFERENCES: LINK,
    STAGE_TRANSCRIPT: REFINE_STAGES,
    REFINE_STAGES: (LOCALIZE, LINK),
    EMBED_FRAMES: LOCALIZE,
    LOCALIZE: SELECT_FRAMES,
    LINK: SELECT_FRAMES,
    ESTIMATE_POSE: SELECT_FRAMES,
    SELECT_FRAMES: DIFFERENCE,
    DIFFERENCE: FINISH,
    FINISH: END,
})
"""Where each node goes when it is done: the graph's topology, in one table. A node that skips
its work goes where its successor would have gone (a cached transcript to
``SUCCESSORS[REFINE_STAGES]``, no differences to ``SUCCESSORS[DIFFERENCE]``); the reviewer, when
there is one, takes the proposer's place in the table. Retry edges and the exits to ``END``
are each node's own (:class:`viddiff.graphs.wiring.Exits`)."""

ALONGSIDE_DIFFERENCES = (STAGE_TRANSCRIPT, EMBED_FRAMES, ESTIMATE_POSE)
"""What ``load_videos`` starts next to the differences' branch, in the same superstep."""


def build_viddiff_graph(
    models: ModelRoles, *, clip_loader: ClipLoader = default_clip_loader,
    review_proposals: bool = False, successors: Mapping[str, Goto] | None = None,
) -> StateGraph[VidDiffState, VidDiffContext, InputState, OutputState]:
    """The uncompiled VidDiff graph; compile it (with a checkpointer if you like) to run it.

    ``models`` supplies one chat model per role; ``clip_loader`` builds the CLIP embedder from
    the run's :class:`VidDiffContext` (inject a random-weight or cached one in tests).
    ``review_proposals`` pauses open-mode runs after the proposer so a person can edit the
    differences (see :mod:`viddiff.graphs.nodes.review`; needs a checkpointer).
    ``successors`` overrides entries of :data:`SUCCESSORS`: the seam for inserting a node
    (hand a node's successor to the new node, then add the new node to the returned graph
    before compiling it; docs/architecture.md, "Add a node").
    """
    then = {**SUCCESSORS, **(successors or {})}
    graph = StateGraph(VidDiffState, context_schema=VidDiffContext,
                       input_schema=InputState, output_schema=OutputState)
    graph.add_node(LOAD_VIDEOS, load_videos)
    graph.add_node(PREPARE_DIFFERENCES, prepare_differences)
    if review_proposals:  # the hook: the proposer hands over to the reviewer, who goes on
        review = Exits(REVIEW, then=then[PROPOSE])
        add_routed(graph, review, make_review_node(review))
    propose = Exits(PROPOSE, then=REVIEW if review_proposals else then[PROPOSE], retries=True)
    add_routed(graph, propose, make_propose_node(models.proposer, propose),
               retry_policy=TRANSIENT_RETRY)
    transcript = Exits(STAGE_TRANSCRIPT, then=then[STAGE_TRANSCRIPT],
                       skip_to=then[REFINE_STAGES], retries=True)
    add_routed(graph, transcript, make_stage_transcript_node(models.stages, transcript),
               retry_policy=TRANSIENT_RETRY)
    refine = Exits(REFINE_STAGES, then=then[REFINE_STAGES], retries=True)
    add_routed(graph, refine, make_refine_stages_node(models.stages, refine),
               retry_policy=TRANSIENT_RETRY)
    graph.add_node(EMBED_FRAMES, make_embed_frames_node(clip_loader))
    graph.add_node(ESTIMATE_POSE, estimate_pose_for_tools)
    localize = Exits(LOCALIZE, then=then[LOCALIZE])
    add_routed(graph, localize, make_localize_node(clip_loader, localize), defer=True)
    link = Exits(LINK, then=then[LINK], retries=True)
    add_routed(graph, link, make_link_node(models.linker, link), defer=True,
               retry_policy=TRANSIENT_RETRY)
    select = Exits(SELECT_FRAMES, then=then[SELECT_FRAMES], skip_to=then[DIFFERENCE])
    add_routed(graph, select, make_select_frames_node(select), defer=True)
    difference = Exits(DIFFERENCE, then=then[DIFFERENCE], retries=True, fails=False)
    add_routed(graph, difference, make_difference_node(models.differencer, difference),
               retry_policy=TRANSIENT_RETRY)
    graph.add_node(FINISH, make_finish_node(models.names()), defer=True)

    graph.add_edge(START, LOAD_VIDEOS)
    graph.add_conditional_edges(LOAD_VIDEOS, route_after_load,
                                [PROPOSE, PREPARE_DIFFERENCES, *ALONGSIDE_DIFFERENCES])
    for node in (PREPARE_DIFFERENCES, EMBED_FRAMES, ESTIMATE_POSE, FINISH):
        for successor in goto_names(then[node]):
            graph.add_edge(node, successor)
    return graph


def route_after_load(state: VidDiffState) -> list[str]:
    """Fan out: differences (proposed in open mode, the caller's in closed mode), stages,
    frame embeddings and poses proceed in parallel."""
    first = PROPOSE if state.get("mode") == "open" else PREPARE_DIFFERENCES
    return [first, *ALONGSIDE_DIFFERENCES]
