"""The methods a benchmark run can evaluate, behind one small interface.

- :class:`GraphMethod` runs a comparison graph per sample: the VidDiff graph (LLM proposer,
  CLIP localizer, VLM differencer) or the offline pose engine. Closed mode gives the graph the
  sample's scored differences (with their query strings and frame counts); open mode asks for
  exactly N_diff differences, the number scoring keeps (:func:`open_budget`).
- :class:`LmmMethod` is the paper's baseline: all frames of both videos in one VLM call.

Each returns labels keyed like the predictions file wants them (closed: the benchmark's
difference keys; open: "0", "1", ... in the method's own order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langgraph.graph.state import CompiledStateGraph

from viddiff.evals.data import BenchmarkSample
from viddiff.evals.lmm import run_lmm
from viddiff.evals.metrics import n_diff
from viddiff.evals.predictions import Mode, PredictedLabel
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.llm import model_name, summarize_usage
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.schemas import ComparisonResult, DifferenceResult, UsageSummary


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
    """Run settings per sample: the shared context, at the domain's frame rate from
    ``domain_fps`` (the protocol's table; ``None`` when a fixed ``--fps`` was given)."""

    context: VidDiffContext
    domain_fps: Mapping[str, float] | None

    def context_for(self, sample: BenchmarkSample) -> VidDiffContext:
        if self.domain_fps and sample.domain.lower() in self.domain_fps:
            return replace(self.context, fps=self.domain_fps[sample.domain.lower()])
        return self.context


def open_budget(sample: BenchmarkSample) -> tuple[int, list[str]]:
    """How many differences to ask for in open mode: exactly the number scoring keeps
    (N_diff), so no valid prediction is ever cut. A row whose ``n_differences_open_prediction``
    says otherwise is noted, not followed (the reference passed that field to the method but
    its own cut check never ran; the paper defines N_diff as 1.5 x the labelled differences)."""
    budget = sample.open_budget
    assert budget == n_diff(len(sample.labelled))  # one rule for asking and for cutting
    given = sample.n_differences_open_prediction
    notes = []
    if given and int(given) != budget:
        notes.append(f"asked for N_diff = {budget} differences (what scoring keeps), not the "
                     f"row's n_differences_open_prediction = {given}")
    return budget, notes


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


def predicted(diff: DifferenceResult, description: str) -> PredictedLabel:
    """A result's difference as a prediction; a failed one keeps its reason and no label."""
    if diff.status == "failed":
        return PredictedLabel(description=description, status="failed", error=diff.reason)
    return PredictedLabel(description=description, label=diff.label)


class GraphMethod(_Contextual):
    """A compiled comparison graph (VidDiff or offline) run once per sample."""

    def __init__(self, name: str, graph: CompiledStateGraph[Any, Any, Any, Any],
                 context: VidDiffContext, *,
                 domain_fps: Mapping[str, float] | None = None) -> None:
        self.name = name
        self.graph = graph
        self.context = context
        self.domain_fps = domain_fps

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
        notes: list[str] = []
        if mode == "open":
            request["n_differences"], notes = open_budget(sample)
        result = await run_comparison(self.graph, request, self.context_for(sample))
        if mode == "closed":
            by_name = {d.name: d for d in result.differences}
            predictions = {}
            for key, spec in specs.items():
                found = by_name.get(spec["name"])
                predictions[key] = (predicted(found, spec["description"]) if found is not None
                                    else PredictedLabel(description=spec["description"]))
        else:
            predictions = {str(i): predicted(d, d.description)
                           for i, d in enumerate(result.differences)}
        return MethodOutput(predictions, models=dict(result.models), usage=list(result.usage),
                            notes=notes + list(result.notes), result=result)


class LmmMethod(_Contextual):
    """The one-call LMM baseline with a vision-capable chat model."""

    name = "lmm"

    def __init__(self, model: BaseChatModel, context: VidDiffContext, *,
                 domain_fps: Mapping[str, float] | None = None) -> None:
        self.model = model
        self.context = context
        self.domain_fps = domain_fps

    async def predict(self, sample: BenchmarkSample, video_a: str, video_b: str,
                      mode: Mode) -> MethodOutput:
        ctx = self.context_for(sample)
        notes: list[str] = []
        if mode == "closed":
            statements = {k: spec["description"] for k, spec in closed_specs(sample).items()}
            if not statements:
                return MethodOutput({}, notes=["no difference with a/b ground truth"])
            answer = await run_lmm(self.model, action=sample.action_description,
                                   video_a=video_a, video_b=video_b, ctx=ctx,
                                   differences=statements)
        else:
            budget, notes = open_budget(sample)
            answer = await run_lmm(self.model, action=sample.action_description,
                                   video_a=video_a, video_b=video_b, ctx=ctx,
                                   n_differences=budget)
        predictions = {k: PredictedLabel(description=text, label=label)  # type: ignore[arg-type]
                       for k, (text, label) in answer.labels.items()}
        return MethodOutput(predictions, models={"lmm": model_name(self.model)},
                            usage=summarize_usage(answer.usage), notes=notes + answer.notes)
