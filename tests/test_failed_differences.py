"""A difference whose model calls failed is no answer: ``label: null``, ``status: "failed"``
and the reason, in the JSON, the table, the chat summaries and the eval scores (a failure,
never ``c``). Results written before the rule (``label: "c"`` on a failure) still load."""

from __future__ import annotations

import io

import pytest
from pydantic import ValidationError
from rich.console import Console

from viddiff.agent.chat.stored_results import describe_difference, summarize
from viddiff.agent.console.result_table import print_result
from viddiff.evals.data import BenchmarkSample, parse_row
from viddiff.evals.methods import predicted
from viddiff.evals.predictions import PredictedLabel, PredictionRecord
from viddiff.evals.scoring import score_closed
from viddiff.evals.summary import summarize as summarize_scores
from viddiff.graphs.eval.score import scored_item
from viddiff.graphs.eval.state import GroundTruthDifference, PredictedDifference
from viddiff.graphs.schemas import ComparisonResult, DifferenceResult

REF = {"path": "/v/a.mp4", "digest": "x", "source_fps": 12.0, "n_source_frames": 24,
       "duration_s": 2.0, "width": 64, "height": 48, "target_fps": 6.0,
       "indices": [0, 2, 4], "timestamps": [0.0, 0.17, 0.33]}
REASON = "no usable answer from 'm' after 3 attempts (attempts 1-3: the reply is not valid JSON)"


def old_result() -> dict:
    """As written before: the failed difference says ``label: "c"``."""
    diff = {"name": "speed", "description": "the movement is faster",
            "query_string": "moves faster", "num_frames": "gt_1"}
    return {"action": "a squat", "mode": "closed", "video_a": REF, "video_b": REF,
            "differences": [
                {**diff, "label": "c", "status": "failed", "reason": REASON},
                {**diff, "name": "depth", "description": "the squat is deeper", "label": "c",
                 "reason": "both look alike"}]}


def test_old_files_load_and_a_failure_loses_its_c():
    result = ComparisonResult.model_validate(old_result())
    failed, undecided = result.differences
    assert (failed.label, failed.status, failed.reason) == (None, "failed", REASON)
    assert (undecided.label, undecided.status) == ("c", "answered")
    assert result.model_dump(mode="json")["differences"][0]["label"] is None


def test_only_a_failed_difference_may_lack_a_label():
    with pytest.raises(ValidationError, match="no label but status 'answered'"):
        DifferenceResult(name="x", description="x", query_string="x", num_frames="1",
                         label=None, reason="?")


def test_table_says_failed_and_why():
    result = ComparisonResult.model_validate(old_result())
    buf = io.StringIO()
    print_result(Console(file=buf, width=200, color_system=None), result)
    rows = [line for line in buf.getvalue().splitlines() if "faster" in line]
    assert rows and "failed" in rows[0] and "no clear difference" not in rows[0]
    assert "not valid JSON" in buf.getvalue()


def test_chat_summaries_say_failed_not_no_difference():
    result = ComparisonResult.model_validate(old_result())
    text = summarize(result, "c1")
    line = next(ln for ln in text.splitlines() if "faster" in ln)
    assert "failed (no answer)" in line and "no clear difference" not in line
    detail = describe_difference(result, result.differences[0])
    assert "Why it failed: " + REASON in detail and "label None" in detail


def sample() -> BenchmarkSample:
    from tests.support.benchmark import bench_row

    row = bench_row("s1", "easy", [("a.mp4", [0, None], 12.0), ("b.mp4", [0, None], 12.0)])
    return parse_row(row)


def test_closed_scoring_counts_a_failed_difference_as_failed():
    result = ComparisonResult.model_validate(old_result())
    assert predicted(result.differences[0], "d") == PredictedLabel(
        description="d", status="failed", error=REASON)
    record = PredictionRecord(sample_key="s1", method="viddiff", mode="closed", predictions={
        "0": PredictedLabel(label="a"),
        "3": PredictedLabel(status="failed", error=REASON),
        "4": PredictedLabel(label="c")})
    score = score_closed(sample(), record)
    outcomes = {i.gt_key: i.outcome for i in score.items}
    assert outcomes == {"0": "correct", "1": "not_scored", "3": "failed", "4": "undecided"}
    metrics = summarize_scores([score], "closed")
    assert metrics["errors"]["failed"] == 1 and metrics["errors"]["undecided"] == 1


def test_open_scoring_counts_a_matched_failed_prediction_as_failed():
    gt = GroundTruthDifference(key="0", description="faster", label="a")
    failed = PredictedDifference(key="0", description="faster", failed=True)
    assert scored_item(gt, failed, opposite=False).outcome == "failed"
    assert scored_item(gt, PredictedDifference(key="0", label="c"), False).outcome == \
        "undecided"
