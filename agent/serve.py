"""Graphs served by ``langgraph dev`` (or LangGraph Platform), named in ``langgraph.json``.

Each entry is a zero-argument factory, so the server builds the graph per run from the
environment, like the command line does:

* ``viddiff_graph`` — the comparison graph (VLM graph when ``OPENAI_API_KEY`` /
  ``OPENAI_BASE_URL`` is set, else the offline pose graph), with a ``check_paths`` node in
  front: clients name files on the server, so paths are confined to ``VIDDIFF_ALLOWED_DIRS``
  (default: the server's working directory; http(s) URLs only with ``VIDDIFF_ALLOW_URLS=1``).
  Run settings (fps, CLIP model …) come in the run's ``context`` (:class:`VidDiffContext`),
  except those naming the server's own files and devices (``cache_dir``, ``clip_checkpoint``,
  ``device``: ``Setting.server_owned``), which a client may not change.
* ``eval_graph`` — the open-mode evaluation graph with the judge model
  (``VIDDIFF_JUDGE_MODEL``, else the linker's model).
* ``chat_agent`` — the chat agent (``VIDDIFF_CHAT_MODEL``), its tools confined the same way.

Graphs are compiled without a checkpointer: the server brings its own persistence.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.engine import build_graph, guard_paths
from viddiff.graphs.eval.graph import build_eval_graph
from viddiff.graphs.models import EndpointSettings
from viddiff.tools.errors import ConfigError
from viddiff.tools.paths import PathPolicy

__all__ = ["SERVED_GRAPHS", "chat_agent", "eval_graph", "viddiff_graph"]

SERVED_GRAPHS: dict[str, str] = {
    "viddiff": "viddiff.agent.serve:viddiff_graph",
    "viddiff_eval": "viddiff.agent.serve:eval_graph",
    "viddiff_chat": "viddiff.agent.serve:chat_agent",
}
"""Graph name -> factory, as ``langgraph.json`` lists them (``viddiff serve`` uses this)."""


def viddiff_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The comparison graph, models from the environment, input paths confined; a client's
    run context may not move the server's cache folder, CLIP checkpoint or device."""
    graph = guard_paths(build_graph(engine="auto"), PathPolicy.from_env,
                        server_context=VidDiffContext)
    return graph.compile(name="viddiff")


def eval_graph() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The evaluation graph with its LLM judge (needs a configured endpoint)."""
    from viddiff.evals.judge import build_judge, judge_model_name

    settings = EndpointSettings.from_env()
    if not settings.configured:
        raise ConfigError("the evaluation graph needs a judge model: set OPENAI_API_KEY and/or "
                          "OPENAI_BASE_URL")
    judge = build_judge(settings, judge_model_name(None, settings))
    return build_eval_graph(judge).compile(name="viddiff_eval")


def chat_agent() -> CompiledStateGraph[Any, Any, Any, Any]:
    """The chat agent; its comparisons use the VLM graph, or the offline one without an
    endpoint for them (the chat model itself always needs one). Needs the ``chat`` extra,
    imported here so that the other graphs serve without it."""
    from viddiff.agent.chat.agent import create_chat_agent
    from viddiff.agent.chat.setup import chat_model, comparison_graph

    settings = EndpointSettings.from_env()
    graph, engine = comparison_graph(settings)
    return create_chat_agent(chat_model(settings), graph, engine=engine,
                             context=VidDiffContext(), policy=PathPolicy.from_env())
