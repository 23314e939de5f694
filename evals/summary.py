"""Aggregate scored samples into the numbers a benchmark run reports (``summary.json``).

``metrics`` holds only what follows from the predictions and the ground truth (and, in open
mode, the judge's cached answers), so ``viddiff score`` on the saved predictions reproduces it
exactly; run facts (timing, tokens, cost) live beside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from viddiff.evals.metrics import (
    SPLITS,
    Tally,
    ab_balance,
    error_counts,
    split_average,
    tally,
)
from viddiff.evals.predictions import Mode
from viddiff.evals.scoring import SampleScore

METRIC_NAMES = {"closed": "accuracy", "open": "recall@N_diff"}


def _group(scores: Iterable[SampleScore],
           key: Callable[[SampleScore], str]) -> dict[str, list[SampleScore]]:
    groups: dict[str, list[SampleScore]] = defaultdict(list)
    for score in scores:
        groups[key(score)].append(score)
    return groups


def _tally(scores: Iterable[SampleScore]) -> Tally:
    return tally(item.outcome for s in scores for item in s.items)


def _split_order(split: str) -> tuple[int, str]:
    return (SPLITS.index(split), split) if split in SPLITS else (len(SPLITS), split)


def summarize(scores: Sequence[SampleScore], mode: Mode) -> dict[str, Any]:
    """The ``metrics`` section of ``summary.json``: per split, action and difference (each with
    its binomial p-value), the headline mean of the splits, error breakdown and A/B balance."""
    ordered = sorted(scores, key=lambda s: s.sample_key)
    splits: dict[str, dict[str, Any]] = {}
    for split, group in sorted(_group(ordered, lambda s: s.split).items(),
                               key=lambda kv: _split_order(kv[0])):
        splits[split] = {"samples": len(group), **_tally(group).as_dict()}
    present = [s for s in SPLITS if s in splits]
    headline = split_average({s: splits[s]["value"] for s in present})
    actions = {}
    for action, group in sorted(_group(ordered, lambda s: s.action).items()):
        first = group[0]
        actions[action] = {"name": first.action_name, "split": first.split,
                           "domain": first.domain, "samples": len(group),
                           **_tally(group).as_dict()}
    per_diff: dict[str, dict[str, Any]] = {}
    diff_outcomes: dict[str, list[Any]] = defaultdict(list)
    for score in ordered:
        for item in score.items:
            if item.outcome == "not_scored":
                continue
            key = f"{score.action}/{item.gt_key}"
            per_diff.setdefault(key, {"action": score.action, "key": item.gt_key,
                                      "description": item.gt_description})
            diff_outcomes[key].append(item.outcome)
    differences = {k: {**per_diff[k], **tally(diff_outcomes[k]).as_dict()}
                   for k in sorted(per_diff, key=_diff_order)}
    all_outcomes = [item.outcome for s in ordered for item in s.items]
    return {
        "mode": mode,
        "metric": METRIC_NAMES[mode],
        "headline": {"value": headline, "splits": present,
                     "complete": present == list(SPLITS)},
        "overall": _tally(ordered).as_dict(),
        "splits": splits,
        "actions": actions,
        "differences": differences,
        "errors": error_counts(all_outcomes),
        "balance": ab_balance(item.gt_label for s in ordered for item in s.items),
        "samples": {
            "scored": len(ordered),
            "method_failed": sum(s.status == "method_failed" for s in ordered),
            "judge_failed": sum(s.status == "judge_failed" for s in ordered),
            "judge_repaired": sum(s.repaired for s in ordered),
        },
        "per_sample": [_sample_entry(s) for s in ordered],
    }


def _sample_entry(score: SampleScore) -> dict[str, Any]:
    counts = _tally([score])
    return {"sample_key": score.sample_key, "split": score.split, "action": score.action,
            "status": score.status, "correct": counts.correct, "total": counts.total,
            "outcomes": {i.gt_key: i.outcome for i in score.items}}


def _diff_order(key: str) -> tuple[str, int, str]:
    action, _, diff = key.rpartition("/")
    return (action, int(diff) if diff.isdigit() else 1 << 30, diff)
