"""Turn a sample's saved predictions into scored items: directly (closed) or via the judge (open).

The same code scores during ``viddiff eval`` and in ``viddiff score``, so a re-score of saved
predictions reproduces the run's numbers exactly (open mode: the judge's answers come from its
on-disk cache, so the re-score also makes no new calls).
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.graph.state import CompiledStateGraph
from pydantic import BaseModel, Field

from viddiff.evals.data import BenchmarkSample, key_order
from viddiff.evals.metrics import cut_predictions, flip_label
from viddiff.evals.predictions import Mode, PredictionRecord, Sanity
from viddiff.graphs.eval.state import (
    EvalContext,
    GroundTruthDifference,
    PredictedDifference,
    SampleEvaluation,
    ScoredItem,
    item_outcome,
)
from viddiff.graphs.runner import endpoint_error
from viddiff.graphs.schemas import UsageRecord

ScoreStatus = Literal["ok", "method_failed", "judge_failed"]


class SampleScore(BaseModel):
    """One sample's scored items and where they came from."""

    sample_key: str
    split: str
    action: str
    action_name: str = ""
    domain: str = ""
    status: ScoreStatus = "ok"
    error: str | None = None
    items: list[ScoredItem]
    notes: list[str] = Field(default_factory=list)
    repaired: bool = False
    judge_usage: list[UsageRecord] = Field(default_factory=list)


def ground_truth(sample: BenchmarkSample, sanity: Sanity | None) -> list[GroundTruthDifference]:
    """The sample's labelled differences; for the swap check (B shown as A) a and b trade."""
    gt = sample.ground_truth()
    if sanity == "swap":
        gt = [g.model_copy(update={"label": flip_label(g.label)}) for g in gt]
    return gt


def ordered_predictions(record: PredictionRecord) -> list[PredictedDifference]:
    """The record's predictions in the method's order (numeric keys in number order)."""
    return [PredictedDifference(key=k, description=p.description, label=p.label,
                                failed=p.status == "failed")
            for k, p in sorted(record.predictions.items(), key=lambda kv: key_order(kv[0]))]


def failed_items(gt: list[GroundTruthDifference]) -> list[ScoredItem]:
    """Items of a sample nothing can be scored for: every scored item counts as failed."""
    return [ScoredItem(gt_key=g.key, gt_label=g.label, gt_description=g.description,
                       outcome="failed" if g.label in ("a", "b") else "not_scored")
            for g in gt]


def _score(sample: BenchmarkSample, items: list[ScoredItem], **extra: Any) -> SampleScore:
    return SampleScore(sample_key=sample.sample_key, split=sample.split, action=sample.action,
                       action_name=sample.action_name, domain=sample.domain, items=items,
                       **extra)


def score_closed(sample: BenchmarkSample, record: PredictionRecord) -> SampleScore:
    """Closed mode: a prediction answers the ground-truth difference with the same key."""
    gt = ground_truth(sample, record.sanity)
    if record.status != "ok":
        return _score(sample, failed_items(gt), status="method_failed", error=record.error)
    items = []
    for g in gt:
        pred = record.predictions.get(g.key)
        label = pred.label if pred is not None else None
        failed = pred is not None and pred.status == "failed"
        items.append(ScoredItem(
            gt_key=g.key, gt_label=g.label, gt_description=g.description,
            pred_key=g.key if pred is not None else None,
            pred_description=pred.description if pred is not None else None,
            pred_label=label, opposite=False if pred is not None else None, final_label=label,
            outcome=item_outcome(g.label, label, failed=failed)))
    return _score(sample, items, notes=list(record.notes))


class Scorer:
    """Scores records of one mode; open mode needs the compiled evaluation graph (the judge)."""

    def __init__(self, mode: Mode,
                 judge_graph: CompiledStateGraph[Any, Any, Any, Any] | None = None,
                 judge_context: EvalContext | None = None) -> None:
        if mode == "open" and judge_graph is None:
            raise ValueError("open-mode scoring needs the evaluation graph (a judge model)")
        self.mode = mode
        self.judge_graph = judge_graph
        self.judge_context = judge_context or EvalContext()

    async def score(self, sample: BenchmarkSample, record: PredictionRecord) -> SampleScore:
        if self.mode == "closed":
            return score_closed(sample, record)
        return await self._score_open(sample, record)

    async def _score_open(self, sample: BenchmarkSample,
                          record: PredictionRecord) -> SampleScore:
        gt = ground_truth(sample, record.sanity)
        if record.status != "ok":
            return _score(sample, failed_items(gt), status="method_failed", error=record.error)
        predictions = cut_predictions(ordered_predictions(record), len(gt))
        notes = list(record.notes)
        if len(record.predictions) > len(predictions):
            notes.append(f"{len(record.predictions) - len(predictions)} prediction(s) beyond "
                         f"N_diff = {len(predictions)} were not scored")
        request = {"sample_key": sample.sample_key, "action": sample.action_description,
                   "ground_truth": gt, "predictions": predictions}
        assert self.judge_graph is not None
        try:
            out = await self.judge_graph.ainvoke(request, context=self.judge_context,
                                                 config={"recursion_limit": 50})
        except Exception as exc:
            mapped = endpoint_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        evaluation: SampleEvaluation | None = out.get("evaluation")
        if evaluation is None:
            error = out.get("error")
            message = error.message if error is not None else "the judge gave no evaluation"
            return _score(sample, failed_items(gt), status="judge_failed", error=message,
                          notes=notes)
        return _score(sample, evaluation.items, notes=notes + evaluation.notes,
                      repaired=evaluation.repaired, judge_usage=evaluation.usage)
