"""Score one sample: the effective label of every ground-truth difference, and its outcome."""

from __future__ import annotations

from typing import Any

from viddiff.graphs.eval.state import (
    EvalState,
    GroundTruthDifference,
    PredictedDifference,
    SampleEvaluation,
    ScoredItem,
    flip_label,
    item_outcome,
)


def scored_item(gt: GroundTruthDifference, pred: PredictedDifference | None,
                opposite: bool | None) -> ScoredItem:
    """One ground-truth difference against the prediction it was matched to (if any).

    An opposite statement's label is flipped: predicting ``a`` for "the stance is narrower"
    means ``b`` for "the stance is wider".
    """
    if pred is None:
        return ScoredItem(gt_key=gt.key, gt_label=gt.label, gt_description=gt.description,
                          outcome=item_outcome(gt.label, None))
    final = flip_label(pred.label) if opposite else pred.label
    return ScoredItem(gt_key=gt.key, gt_label=gt.label, gt_description=gt.description,
                      pred_key=pred.key, pred_description=pred.description,
                      pred_label=pred.label, opposite=bool(opposite), final_label=final,
                      outcome=item_outcome(gt.label, final, failed=pred.failed))


def score(state: EvalState) -> dict[str, Any]:
    """Assemble the sample's :class:`SampleEvaluation` from the matching and flip verdicts."""
    if state.get("error"):
        return {}
    preds = {p.key: p for p in state["predictions"]}
    matches = state.get("matches") or {}
    opposite = state.get("opposite") or {}
    items = []
    for gt in state["ground_truth"]:
        pred_key = matches.get(gt.key)
        pred = preds.get(pred_key) if pred_key is not None else None
        items.append(scored_item(gt, pred, opposite.get(gt.key) if pred else None))
    usage = state.get("usage") or []
    evaluation = SampleEvaluation(
        sample_key=state["sample_key"], items=items,
        notes=list(dict.fromkeys(state.get("notes") or [])),
        repaired=bool(state.get("repaired")),
        cached=bool(state.get("cache_hits")) and not usage, usage=usage)
    return {"evaluation": evaluation}
