"""The evaluation graph: score one sample's open-mode predictions against its ground truth.

::

    match ─┬─ flip ─┬─ score
           └────────┘

``match`` (LLM judge, one call per sample) pairs ground-truth differences with predicted ones,
one-to-one, "none" allowed; ``flip`` (one batched call) says which matched statements are
direct opposites; ``score`` turns both into one outcome per ground-truth difference. Both LLM
nodes have retry edges (a bad reply goes back to the judge with the error) and a node-level
retry for transient transport errors, like the VidDiff graph. Closed mode needs no judge and
does not use this graph.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph

from viddiff.graphs.eval.flip import make_flip_node
from viddiff.graphs.eval.judge import JudgeCache
from viddiff.graphs.eval.match import make_match_node
from viddiff.graphs.eval.score import score
from viddiff.graphs.eval.state import EvalContext, EvalInput, EvalOutput, EvalState
from viddiff.graphs.llm import TRANSIENT_RETRY
from viddiff.graphs.node_names import FLIP, MATCH, SCORE
from viddiff.graphs.wiring import Exits, add_routed


def build_eval_graph(
    judge: BaseChatModel, *, cache: JudgeCache | None = None
) -> StateGraph[EvalState, EvalContext, EvalInput, EvalOutput]:
    """The uncompiled evaluation graph.

    ``judge`` is the LLM that matches and flip-checks statements (the paper used GPT-4o);
    ``cache`` keeps its resolved answers so re-scoring the same predictions makes no calls.
    """
    graph = StateGraph(EvalState, context_schema=EvalContext, input_schema=EvalInput,
                       output_schema=EvalOutput)
    match = Exits(MATCH, then=FLIP, skip_to=SCORE, retries=True)
    add_routed(graph, match, make_match_node(judge, match, cache), retry_policy=TRANSIENT_RETRY)
    flip = Exits(FLIP, then=SCORE, retries=True)
    add_routed(graph, flip, make_flip_node(judge, flip, cache), retry_policy=TRANSIENT_RETRY)
    graph.add_node(SCORE, score)
    graph.add_edge(START, MATCH)
    graph.add_edge(SCORE, END)
    return graph
