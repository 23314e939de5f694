"""The methods a benchmark run can evaluate, behind one small interface.

- :class:`GraphMethod` runs a comparison graph per sample: the VidDiff graph (LLM proposer,
  CLIP localizer, VLM differencer) or the offline pose engine. Closed mode gives the graph the
  sample's scored differences (with their query strings and frame counts); open mode gives it
  the sample's open budget ``n_differences_open_prediction``.
- :class:`LmmMethod` is the paper's baseline: all frames of both videos in one VLM call.

Each returns labels keyed like the predictions file wants them (closed: the benchmark's
difference keys; open: "0", "1", ... in the method's own order).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from viddiff.evals.data import DOMAIN_FPS, BenchmarkSample
from viddiff.evals.lmm import run_lmm
from viddiff.evals.predictions import Mode, PredictedLabel
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.llm import model_name, summarize_usage
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.schemas import ComparisonResult, UsageSummary


@dataclass
class MethodOutput:
    """One sample's predictions from a method, and what they cost."""

    predictions: dict[str, PredictedLabel]
    models: dict[str, str] = field(default_factory=dict)
    usage: list[UsageSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    result: ComparisonResult | None = None
    """The full comparison (graph methods), saved per sample under ``OUT/results/``."""


class Method(Protocol):
    """Anything that can answer a benchmark sample given two playable video files."""

    name: str

    def context_for(self, sample: BenchmarkSample) -> VidDiffContext: ...

    async def predict(self, sample: BenchmarkSample, video_a: str, video_b: str,
                      mode: Mode) -> MethodOutput: ...


class _Contextual:
    """Run settings per sample: the shared context, at the domain's protocol frame rate
    unless a fixed ``--fps`` was given."""

    context: VidDiffContext
    per_domain_fps: bool

    def context_for(self, sample: BenchmarkSample) -> VidDiffContext:
        if self.per_domain_fps and sample.domain.lower() in DOMAIN_FPS:
            return replace(self.context, fps=DOMAIN_FPS[sample.domain.lower()])
        return self.context


def closed_specs(sample: BenchmarkSample) -> dict[str, dict[str, Any]]:
    """Difference specs for the sample's scored keys, with names unique (case-insensitive),
    so every result maps back to exactly one benchmark key."""
    specs: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for key in sample.scored_keys:
        diff = sample.differences_annotated[key]
        assert diff is not None  # parse_row guarantees an annotation for every labelled key
        name = (diff.name or diff.description[:48]).strip() or f"difference {key}"
        if name.lower() in used:
            name = f"{name} [{key}]"
        used.add(name.lower())
        specs[key] = {"name": name, "description": diff.description,
                      "query_string": diff.query_string, "num_frames": diff.num_frames}
    return specs


class GraphMethod(_Contextual):
    """A compiled comparison graph (VidDiff or offline) run once per sample."""

    def __init__(self, name: str, graph: CompiledStateGraph[Any, Any, Any, Any],
                 context: VidDiffContext, *, per_domain_fps: bool = False) -> None:
        self.name = name
        self.graph = graph
        self.context = context
        self.per_domain_fps = per_domain_fps

    async def predict(self, sample: BenchmarkSample, video_a: str, video_b: str,
                      mode: Mode) -> MethodOutput:
        request: dict[str, Any] = {"video_a": video_a, "video_b": video_b,
                                   "action": sample.action_description,
                                   "action_key": sample.action}
        if mode == "closed":
            specs = closed_specs(sample)
            if not specs:
                return MethodOutput({}, notes=["no difference with a/b ground truth"])
            request["differences"] = list(specs.values())
        else:
            request["n_differences"] = sample.open_budget
        result = await run_comparison(self.graph, request, self.context_for(sample))
        if mode == "closed":
            by_name = {d.name: d for d in result.differences}
            predictions = {}
            for key, spec in specs.items():
                found = by_name.get(spec["name"])
                predictions[key] = PredictedLabel(
                    description=spec["description"],
                    label=found.label if found is not None and found.status != "failed"
                    else None)
        else:
            predictions = {str(i): PredictedLabel(description=d.description,
                                                  label=d.label if d.status != "failed"
                                                  else None)
                           for i, d in enumerate(result.differences)}
        return MethodOutput(predictions, models=dict(result.models), usage=list(result.usage),
                            notes=list(result.notes), result=result)


class LmmMethod(_Contextual):
    """The one-call LMM baseline with a vision-capable chat model."""

    name = "lmm"

    def __init__(self, model: BaseChatModel, context: VidDiffContext, *,
                 per_domain_fps: bool = False) -> None:
        self.model = model
        self.context = context
        self.per_domain_fps = per_domain_fps

    async def predict(self, sample: BenchmarkSample, video_a: str, video_b: str,
                      mode: Mode) -> MethodOutput:
        ctx = self.context_for(sample)
        if mode == "closed":
            statements = {k: spec["description"] for k, spec in closed_specs(sample).items()}
            if not statements:
                return MethodOutput({}, notes=["no difference with a/b ground truth"])
            answer = await run_lmm(self.model, action=sample.action_description,
                                   video_a=video_a, video_b=video_b, ctx=ctx,
                                   differences=statements)
        else:
            answer = await run_lmm(self.model, action=sample.action_description,
                                   video_a=video_a, video_b=video_b, ctx=ctx,
                                   n_differences=sample.open_budget)
        predictions = {k: PredictedLabel(description=text, label=label)  # type: ignore[arg-type]
                       for k, (text, label) in answer.labels.items()}
        return MethodOutput(predictions, models={"lmm": model_name(self.model)},
                            usage=summarize_usage(answer.usage), notes=answer.notes)
