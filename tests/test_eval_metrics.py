"""The benchmark metrics as pure functions, checked against the paper's rules and numbers."""

from __future__ import annotations

import math

import pytest

from viddiff.evals.cost import estimate, merge_usage, parse_price, price_for
from viddiff.evals.metrics import (
    Tally,
    ab_balance,
    binomial_p_value,
    cut_predictions,
    error_counts,
    item_outcome,
    n_diff,
    split_average,
    swap_ground_truth,
    tally,
)
from viddiff.evals.scoring import SampleScore
from viddiff.evals.summary import summarize
from viddiff.graphs.eval.state import ScoredItem
from viddiff.graphs.schemas import UsageSummary
from viddiff.tools.errors import ConfigError


def test_headline_is_the_unweighted_mean_of_the_splits() -> None:
    # Table 2 of the paper, GPT-4o closed: easy 58.3, medium 53.2, hard 48.9 -> avg 53.5
    assert round(split_average({"easy": 58.3, "medium": 53.2, "hard": 48.9}), 1) == 53.5
    # VidDiff (ours) row: 62.7 / 56.2 / 50.0 -> 56.3
    assert round(split_average({"easy": 62.7, "medium": 56.2, "hard": 50.0}), 1) == 56.3
    # unweighted: split sizes do not matter, and a missing split is left out, not zero
    assert split_average({"easy": 0.6, "hard": 0.4}) == pytest.approx(0.5)
    assert split_average({}) is None


def test_closed_item_outcomes() -> None:
    assert item_outcome("a", "a") == "correct"
    assert item_outcome("b", "a") == "wrong_label"
    assert item_outcome("a", "c") == "undecided"  # c counts as wrong
    assert item_outcome("b", None) == "missing"  # no prediction counts as wrong
    assert item_outcome("c", "a") == "not_scored"  # ground truth c is not scored
    assert item_outcome("c", None) == "not_scored"


def test_accuracy_is_micro_over_scored_items() -> None:
    outcomes = [item_outcome(g, p) for g, p in
                [("a", "a"), ("b", "b"), ("a", "b"), ("b", "c"), ("a", None), ("c", "a"),
                 ("c", "c")]]
    t = tally(outcomes)
    assert (t.correct, t.total) == (2, 5)  # the two c ground truths are not in the denominator
    assert t.value == pytest.approx(0.4)
    assert error_counts(outcomes) == {"wrong_label": 1, "undecided": 1, "missing": 1,
                                      "failed": 0}
    assert Tally(0, 0).value is None and not Tally(0, 0).significant


def test_n_diff_and_cut() -> None:
    # annotated differences include c (not None); 1.5x, rounded up
    assert [n_diff(n) for n in (0, 1, 2, 3, 7, 8)] == [0, 2, 3, 5, 11, 12]
    assert cut_predictions(list("abcdefgh"), 3) == list("abcde")
    assert cut_predictions(["x"], 4) == ["x"]


def test_binomial_p_value_exact() -> None:
    assert binomial_p_value(10, 10) == pytest.approx(0.5**10)
    assert binomial_p_value(0, 10) == 1.0
    assert binomial_p_value(0, 0) == 1.0
    assert binomial_p_value(5, 10) == pytest.approx(sum(math.comb(10, i) for i in range(5, 11))
                                                    / 1024)
    # significance boundary used by the paper (p < 0.05): 60/100 is significant, 58/100 not
    assert binomial_p_value(60, 100) < 0.05 < binomial_p_value(58, 100)
    with pytest.raises(ValueError):
        binomial_p_value(11, 10)


def test_binomial_p_value_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k, n in [(7, 10), (55, 100), (1200, 2200), (30, 45)]:
        expected = stats.binomtest(k, n, 0.5, alternative="greater").pvalue
        assert binomial_p_value(k, n) == pytest.approx(expected, rel=1e-9)
    assert binomial_p_value(3, 10, p=0.2) == pytest.approx(
        stats.binomtest(3, 10, 0.2, alternative="greater").pvalue, rel=1e-9)


def test_balance_and_swap() -> None:
    assert ab_balance(["a", "b", "b", "c", None, "a"]) == {"a": 0.5, "b": 0.5, "n": 4}
    assert ab_balance(["c"]) == {"a": None, "b": None, "n": 0}
    assert swap_ground_truth({"0": "a", "1": "b", "2": "c", "3": None}) == {
        "0": "b", "1": "a", "2": "c", "3": None}


def _score(key: str, split: str, action: str, pairs: list[tuple[str, str | None]],
           status: str = "ok") -> SampleScore:
    items = [ScoredItem(gt_key=str(i), gt_label=g, gt_description=f"diff {i}",  # type: ignore[arg-type]
                        final_label=p, outcome=item_outcome(g, p) if status == "ok"  # type: ignore[arg-type]
                        else ("failed" if g in "ab" else "not_scored"))
             for i, (g, p) in enumerate(pairs)]
    return SampleScore(sample_key=key, split=split, action=action, items=items,
                       status=status)  # type: ignore[arg-type]


def test_summary_per_split_action_difference() -> None:
    scores = [
        _score("e1", "easy", "fitness_4", [("a", "a"), ("b", "b"), ("c", "a")]),
        _score("e2", "easy", "fitness_4", [("a", "b"), ("b", "b")]),
        _score("m1", "medium", "ballsports_0", [("a", "a"), ("b", None)]),
        _score("h1", "hard", "surgery_0", [("a", "c"), ("b", "a")], status="method_failed"),
    ]
    metrics = summarize(scores, "closed")
    assert metrics["metric"] == "accuracy"
    assert list(metrics["splits"]) == ["easy", "medium", "hard"]
    easy = metrics["splits"]["easy"]
    assert (easy["correct"], easy["total"], easy["samples"]) == (3, 4, 2)
    assert metrics["splits"]["medium"]["value"] == 0.5
    assert metrics["splits"]["hard"]["value"] == 0.0
    assert metrics["headline"]["value"] == pytest.approx((0.75 + 0.5 + 0.0) / 3)
    assert metrics["headline"]["complete"]
    assert metrics["overall"]["correct"] == 4 and metrics["overall"]["total"] == 8
    assert metrics["actions"]["fitness_4"]["total"] == 4
    diff0 = metrics["differences"]["fitness_4/0"]
    assert (diff0["correct"], diff0["total"]) == (1, 2)
    assert "fitness_4/2" not in metrics["differences"]  # ground truth c only: not scored
    assert metrics["errors"] == {"wrong_label": 1, "undecided": 0, "missing": 1, "failed": 2}
    assert metrics["samples"]["method_failed"] == 1
    assert metrics["balance"]["n"] == 8
    for entry in (*metrics["splits"].values(), *metrics["actions"].values()):
        assert 0.0 <= entry["p_value"] <= 1.0


def test_cost_estimate() -> None:
    assert price_for("gpt-4o-2024-08-06", {"gpt-4o": (2.5, 10.0)}) == (2.5, 10.0)
    table = {"gpt-4o": (2.5, 10.0), "gpt-4o-mini": (0.15, 0.6)}
    assert price_for("gpt-4o-mini-2024-07-18", table) == (0.15, 0.6)
    assert price_for("qwen2.5vl:7b", table) is None
    usage = merge_usage([UsageSummary(role="differencer", model="gpt-4o", calls=2,
                                      input_tokens=1_000_000, output_tokens=100_000),
                         UsageSummary(role="differencer", model="gpt-4o", calls=1,
                                      input_tokens=0, output_tokens=0)])
    lines, total = estimate(usage)
    assert lines[0].calls == 3 and total == pytest.approx(2.5 + 1.0)
    unknown = [UsageSummary(role="lmm", model="local-vlm", calls=1, input_tokens=5,
                            output_tokens=5)]
    assert estimate(usage + unknown)[1] is None  # an unpriced model: total is n/a
    assert estimate(unknown, {"local-vlm": (0.0, 0.0)})[1] == 0.0
    assert parse_price("my-model=1.5,3") == ("my-model", (1.5, 3.0))
    with pytest.raises(ConfigError):
        parse_price("my-model=1.5")
