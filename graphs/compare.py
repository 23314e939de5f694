"""One comparison from Python: two videos in, a :class:`ComparisonResult` out.

:func:`compare` / :func:`acompare` are the shortest way in (``from viddiff import compare``):
they choose the engine and build its graph (:mod:`viddiff.graphs.engine`), turn the caller's
arguments into the graph's input (:func:`comparison_request`, which ``viddiff compare-many``
uses too), and run it to its result (:func:`viddiff.graphs.runner.run_comparison`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel

from viddiff.graphs.checklist import expand_request
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.engine import EngineChoice, choose_engine, create_graph, reader_model
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.runner import EventCallback, run_comparison
from viddiff.graphs.schemas import ComparisonResult, difference_fields

__all__ = ["acompare", "compare", "comparison_request"]


def comparison_request(video_a: str, video_b: str, action: str,
                       differences: Sequence[str | Mapping[str, Any]] | None,
                       n_differences: int | None) -> dict[str, Any]:
    """The graph's input: differences as texts or spec dicts, the action's checklist and
    description filled in for a benchmark action key."""
    specs = None if not differences else [difference_fields(d) for d in differences]
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
    ctx = context or VidDiffContext()
    decision = choose_engine(engine, models)
    reader = reader_model(ctx) if decision.engine == "offline" else None
    graph = create_graph(engine=decision, reader=reader)
    request = comparison_request(video_a, video_b, action, differences, n_differences)
    return await run_comparison(graph, request, ctx, on_event=on_event)


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
