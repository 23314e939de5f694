"""One pair of a batch, as a worker runs it, and the recipe a worker builds that from.

The worker runs the comparison and renders the report where the videos are (decoding frames
needs them), and hands both back; the driver writes every file, so workers that do not share
the output folder still leave one complete folder behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from viddiff.agent.batch.pairs import PairRow
from viddiff.evals.jobs import WorkerRuntime
from viddiff.graphs.checklist import resolve_action
from viddiff.graphs.compare import comparison_request
from viddiff.graphs.context import VidDiffContext, default_clip_loader
from viddiff.graphs.engine import choose_engine, create_graph, reader_model, require_clip
from viddiff.graphs.models import EndpointSettings, build_models
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.errors import EndpointError, VidDiffError, one_line

if TYPE_CHECKING:
    from viddiff.agent.report import ReportOptions


@dataclass
class PairResult:
    """What a worker hands back for one pair: the result (and report), or why there is
    none."""

    pair_id: str
    status: Literal["ok", "failed"]
    error: str | None = None
    result: ComparisonResult | None = None
    report_html: str | None = None
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class CompareRecipe:
    """The comparison settings of a batch, from which each worker builds its
    :class:`PairJob`. The engine is decided once, by the driver, so every worker runs the
    same one."""

    engine: Literal["vlm", "offline"]
    endpoint: EndpointSettings
    context: VidDiffContext
    domain_fps: Mapping[str, float] | None = None
    """Frame rate per benchmark domain for action keys (None: the context's fixed rate)."""
    n_open: int | None = None
    """Open mode for pairs without differences: propose up to this many."""
    report: ReportOptions | None = None
    """Render an HTML report per pair with these options (None: no report)."""

    def build(self, runtime: WorkerRuntime) -> PairJob:
        if self.engine == "offline":
            reader = reader_model(self.context, self.endpoint)
            return PairJob(create_graph(engine=choose_engine("offline"), reader=reader), self)
        loader = runtime.clip_loader or default_clip_loader
        require_clip(self.context, loader)
        decision = choose_engine("vlm", build_models(self.endpoint, runtime.gate))
        return PairJob(create_graph(engine=decision, clip_loader=loader), self)

    def context_for(self, action: str) -> VidDiffContext:
        """The batch's settings, at the frame rate of the action's domain when the action is
        a benchmark key and no fixed rate was asked for (as ``viddiff compare`` does)."""
        known = resolve_action(action)
        if self.domain_fps and known is not None and known.domain.lower() in self.domain_fps:
            return replace(self.context, fps=self.domain_fps[known.domain.lower()])
        return self.context


class PairJob:
    """Compares pairs with one compiled graph (built once per worker)."""

    def __init__(self, graph: Any, recipe: CompareRecipe) -> None:
        self.graph = graph
        self.recipe = recipe

    def request(self, row: PairRow) -> dict[str, Any]:
        return comparison_request(str(row.video_a), str(row.video_b), row.action,
                                  row.differences,
                                  None if row.differences else self.recipe.n_open)

    async def handle(self, payload: PairRow) -> PairResult:
        """Compare one pair. A failure that belongs to the pair (a bad video, a model that
        kept replying garbage) is a failed result; an unreachable endpoint raises
        :class:`EndpointError`, which stops the batch (every later pair would fail too)."""
        row = payload
        started = time.monotonic()
        ctx = self.recipe.context_for(row.action)
        try:
            result = await run_comparison(self.graph, self.request(row), ctx)
        except EndpointError:
            raise
        except VidDiffError as exc:
            return PairResult(row.pair_id, "failed", error=str(exc),
                              elapsed_s=round(time.monotonic() - started, 3))
        notes = []
        html = None
        if self.recipe.report is not None:
            # the report stack (PIL, the metric catalogue) loads only when reports are asked for
            from viddiff.agent.report import render_html

            try:
                # the pair's own settings: its skeletons come from the pose cache just filled
                options = replace(self.recipe.report, context=ctx)
                html = await asyncio.to_thread(render_html, result, options)
            except Exception as exc:  # the comparison stands; only its page is missing
                notes.append(f"no report: {one_line(exc) or type(exc).__name__}")
        return PairResult(row.pair_id, "ok", result=result, report_html=html, notes=notes,
                          elapsed_s=round(time.monotonic() - started, 3))
