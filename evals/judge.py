"""The LLM judge of open-mode scoring: which model, which endpoint, which cache.

The judge is built at the edge (command line) and injected into the evaluation graph, like
every other model. Its answers are cached on disk next to the predictions, keyed by the inputs
and the judge model, so re-scoring never pays twice; changing ``--judge-model`` re-asks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from viddiff.evals.predictions import Mode
from viddiff.evals.scoring import Scorer
from viddiff.graphs.eval.graph import build_eval_graph
from viddiff.graphs.eval.judge import DiskJudgeCache
from viddiff.graphs.eval.state import EvalContext
from viddiff.graphs.models import ROLES, EndpointSettings, build_models

if TYPE_CHECKING:  # annotations only: the transport loads with the judge's client
    from viddiff.graphs.transport import CallGate

JUDGE_ENV = "VIDDIFF_JUDGE_MODEL"


def judge_model_name(explicit: str | None, settings: EndpointSettings,
                     env: Mapping[str, str] | None = None, *, default: str | None = None) -> str:
    """``--judge-model``, else the protocol's judge (``default``; the paper protocol's is
    gpt-4o-2024-08-06), else ``$VIDDIFF_JUDGE_MODEL``, else the run's text model.

    The protocol outranks the environment variable because choosing ``--protocol paper`` on
    the command line is the more specific request.
    """
    env = os.environ if env is None else env
    return explicit or default or env.get(JUDGE_ENV) or settings.models["linker"]


def build_judge(settings: EndpointSettings, model: str,
                gate: CallGate | None = None) -> BaseChatModel:
    """A chat client for the judge on the configured OpenAI-compatible endpoint; its requests
    wait for ``gate``'s slots like the method's (one cap on the endpoint for the run)."""
    only_judge = EndpointSettings(api_key=settings.api_key, base_url=settings.base_url,
                                  models=dict.fromkeys(ROLES, model),
                                  timeout_s=settings.timeout_s,
                                  max_retries=settings.max_retries)
    return build_models(only_judge, gate).linker


def build_scorer(mode: Mode, judge: BaseChatModel | None, cache_dir: Path | None,
                 context: EvalContext | None = None) -> Scorer:
    """A closed scorer (no judge), or an open one with the evaluation graph and its cache."""
    if mode == "closed":
        return Scorer("closed")
    if judge is None:
        raise ValueError("open-mode scoring needs a judge model")
    cache = DiskJudgeCache(cache_dir) if cache_dir is not None else None
    graph = build_eval_graph(judge, cache=cache).compile()
    return Scorer("open", graph, context or EvalContext())
