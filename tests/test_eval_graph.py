"""The evaluation graph (match, flip check, score) with scripted fake judges (fast)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.support.fake_chat import ScriptedChatModel
from tests.support.snapshots import assert_matches_snapshot
from viddiff.evals.data import parse_row
from viddiff.evals.predictions import PredictedLabel, PredictionRecord
from viddiff.evals.scoring import Scorer
from viddiff.graphs.eval.graph import build_eval_graph
from viddiff.graphs.eval.judge import DiskJudgeCache, MemoryJudgeCache
from viddiff.graphs.eval.match import check_matches
from viddiff.graphs.eval.state import (
    EvalContext,
    GroundTruthDifference,
    MatchPair,
    MatchReply,
    PredictedDifference,
)

GT = [GroundTruthDifference(key="0", description="the squat is deeper", label="a"),
      GroundTruthDifference(key="1", description="the movement is faster", label="b"),
      GroundTruthDifference(key="2", description="the stance is wider", label="c"),
      GroundTruthDifference(key="3", description="the back is more upright", label="b")]
PREDS = [PredictedDifference(key="0", description="the squat is shallower", label="b"),
         PredictedDifference(key="1", description="the person moves quicker", label="b"),
         PredictedDifference(key="2", description="the arms swing more", label="a")]


def request(gt: list[GroundTruthDifference] = GT,
            preds: list[PredictedDifference] = PREDS) -> dict[str, Any]:
    return {"sample_key": "s1", "action": "a bodyweight squat", "ground_truth": gt,
            "predictions": preds}


def matches(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"matches": [{"ground_truth": g, "prediction": p} for g, p in pairs]}


GOOD_MATCH = matches(("G0", "P0"), ("G1", "P1"), ("G2", "none"), ("G3", "none"))
GOOD_FLIP = {"verdicts": [{"pair": 1, "relation": "opposite"}, {"pair": 2, "relation": "same"}]}


def run(model: ScriptedChatModel, req: dict[str, Any] | None = None, cache: Any = None,
        attempts: int = 3) -> dict[str, Any]:
    graph = build_eval_graph(model, cache=cache).compile()
    return asyncio.run(graph.ainvoke(req or request(), context=EvalContext(llm_attempts=attempts)))


def outcomes(out: dict[str, Any]) -> dict[str, str]:
    return {i.gt_key: i.outcome for i in out["evaluation"].items}


def test_graph_has_retry_edges() -> None:
    mermaid = build_eval_graph(ScriptedChatModel(script={})).compile().get_graph().draw_mermaid()
    assert_matches_snapshot(mermaid, "eval_graph.mmd")
    for edge in ("match -.-> match", "flip -.-> flip", "match -.-> score", "flip -.-> score"):
        assert edge in mermaid


def test_match_flip_score() -> None:
    model = ScriptedChatModel(script={"MatchReply": GOOD_MATCH, "FlipReply": GOOD_FLIP})
    out = run(model)
    items = {i.gt_key: i for i in out["evaluation"].items}
    # "shallower" is the opposite of "deeper": its b becomes a, which is right
    assert items["0"].opposite is True and items["0"].final_label == "a"
    assert items["1"].opposite is False and items["1"].final_label == "b"
    assert outcomes(out) == {"0": "correct", "1": "correct", "2": "not_scored",
                             "3": "missing"}
    # one matching call and one batched flip call holding both matched pairs
    assert len(model.calls_for("MatchReply")) == 1
    (flip_call,) = model.calls_for("FlipReply")
    assert "the squat is shallower" in flip_call.text and "the person moves quicker" in \
        flip_call.text
    assert '"G3"' in model.calls_for("MatchReply")[0].text  # every gt key is listed
    assert len(out["evaluation"].usage) == 2


def test_malformed_reply_takes_the_retry_edge() -> None:
    model = ScriptedChatModel(script={"MatchReply": ['{"matches": [{"ground_', GOOD_MATCH],
                                      "FlipReply": GOOD_FLIP})
    out = run(model)
    calls = model.calls_for("MatchReply")
    assert len(calls) == 2
    assert "could not be used" in calls[1].text and "not valid JSON" in calls[1].text
    assert outcomes(out)["0"] == "correct"
    assert not out["evaluation"].repaired


def test_prediction_used_twice_is_rejected_then_fixed() -> None:
    twice = matches(("G0", "P1"), ("G1", "P1"), ("G2", "none"), ("G3", "none"))
    model = ScriptedChatModel(script={"MatchReply": [twice, GOOD_MATCH], "FlipReply": GOOD_FLIP})
    out = run(model)
    calls = model.calls_for("MatchReply")
    assert len(calls) == 2
    assert "P1 is used for G0, G1" in calls[1].text
    assert outcomes(out) == {"0": "correct", "1": "correct", "2": "not_scored", "3": "missing"}
    assert not out["evaluation"].repaired


def test_matching_that_keeps_breaking_rules_is_repaired_not_counted() -> None:
    twice = matches(("G0", "P1"), ("G1", "P1"), ("G3", "P1"), ("G2", "none"))
    model = ScriptedChatModel(script={"MatchReply": twice,
                                      "FlipReply": {"verdicts": [{"pair": 1,
                                                                  "relation": "same"}]}})
    out = run(model)
    assert len(model.calls_for("MatchReply")) == 3  # the retry limit
    evaluation = out["evaluation"]
    assert evaluation.repaired
    assert any("repaired" in n and "P1 is used for G0, G1, G3" in n for n in evaluation.notes)
    items = {i.gt_key: i for i in evaluation.items}
    # P1 stays with the first ground-truth difference only; it cannot be counted three times
    assert items["0"].pred_key == "1"
    assert items["1"].pred_key is None and items["3"].pred_key is None
    assert outcomes(out) == {"0": "wrong_label", "1": "missing", "2": "not_scored",
                             "3": "missing"}


def test_unknown_keys_are_repaired_or_rejected() -> None:
    reply = MatchReply(matches=[MatchPair(ground_truth="g0", prediction="0"),  # normalised
                                MatchPair(ground_truth="G1", prediction="P9"),  # unknown pred
                                MatchPair(ground_truth="G7", prediction="P2"),  # unknown gt
                                MatchPair(ground_truth="G2", prediction="null")])
    checked = check_matches(reply, ["0", "1", "2", "3"], ["0", "1", "2"])
    assert checked.matches == {"0": "0", "1": None, "2": None, "3": None}
    assert not checked.valid
    text = "; ".join(checked.problems)
    assert "'P9', which is not a prediction key" in text
    assert "'G7' is not a ground-truth key" in text
    assert "no entry for G3" in text
    ok = MatchReply(matches=[MatchPair(ground_truth=g, prediction="none") for g in "0123"])
    assert check_matches(ok, list("0123"), ["0"]).valid


def test_flip_verdicts_must_cover_every_pair() -> None:
    short = {"verdicts": [{"pair": 1, "relation": "opposite"}]}
    model = ScriptedChatModel(script={"MatchReply": GOOD_MATCH, "FlipReply": [short, GOOD_FLIP]})
    out = run(model)
    calls = model.calls_for("FlipReply")
    assert len(calls) == 2 and "no verdict for pair 2" in calls[1].text
    assert outcomes(out)["1"] == "correct"


def test_persistently_malformed_judge_ends_in_failed_state() -> None:
    model = ScriptedChatModel(script={"MatchReply": GOOD_MATCH, "FlipReply": "not json"})
    out = run(model)
    assert out.get("evaluation") is None
    assert "flip: model 'scripted-model' gave no usable reply after 3 attempts" in \
        out["error"].message


def test_nothing_to_match_makes_no_call() -> None:
    model = ScriptedChatModel(script={})
    out = run(model, request(preds=[]))
    assert not model.calls
    assert outcomes(out) == {"0": "missing", "1": "missing", "2": "not_scored", "3": "missing"}


def test_cache_makes_rescoring_free(tmp_path: Path) -> None:
    model = ScriptedChatModel(script={"MatchReply": GOOD_MATCH, "FlipReply": GOOD_FLIP})
    first = run(model, cache=DiskJudgeCache(tmp_path / "judge"))
    n_calls = len(model.calls)
    again = run(model, cache=DiskJudgeCache(tmp_path / "judge"))
    assert len(model.calls) == n_calls  # no new calls
    assert again["evaluation"].cached and not again["evaluation"].usage
    assert again["evaluation"].items == first["evaluation"].items
    # a different judge model is a different cache key
    other = ScriptedChatModel(model_name="other-judge",
                              script={"MatchReply": GOOD_MATCH, "FlipReply": GOOD_FLIP})
    run(other, cache=DiskJudgeCache(tmp_path / "judge"))
    assert len(other.calls) == 2


def test_repaired_answers_are_cached_with_their_notes() -> None:
    twice = matches(("G0", "P1"), ("G1", "P1"), ("G2", "none"), ("G3", "none"))
    cache = MemoryJudgeCache()
    model = ScriptedChatModel(script={"MatchReply": twice, "FlipReply": {"verdicts": [
        {"pair": 1, "relation": "same"}]}})
    run(model, cache=cache, attempts=2)
    again = run(model, cache=cache, attempts=2)
    assert again["evaluation"].repaired and again["evaluation"].notes
    assert len(model.calls_for("MatchReply")) == 2


def _row() -> dict[str, Any]:
    import json

    annotated = {str(g.key): {"name": g.description, "description": g.description,
                              "query_string": g.description, "num_frames": "1"} for g in GT}
    return {"sample_key": "s1", "action": "fitness_4", "action_description": "a squat",
            "split": "easy", "domain": "fitness",
            "videos": json.dumps([{"path": "a.mp4", "frames_trim": [0, None],
                                   "fps_original": 30},
                                  {"path": "b.mp4", "frames_trim": [0, None],
                                   "fps_original": 30}]),
            "differences_annotated": json.dumps(annotated),
            "differences_gt": json.dumps({g.key: g.label for g in GT}),
            "n_differences_open_prediction": 6}


def test_scorer_cuts_predictions_and_reports_judge_failure() -> None:
    sample = parse_row(_row())
    preds = {str(i): PredictedLabel(description=f"statement {i}", label="a") for i in range(9)}
    record = PredictionRecord(sample_key="s1", method="lmm", mode="open", predictions=preds)
    seen: list[str] = []

    def capture(messages: Any) -> Any:
        seen.append("\n".join(str(m.content) for m in messages))
        return "garbage"

    model = ScriptedChatModel(script={"MatchReply": capture})
    graph = build_eval_graph(model).compile()
    score = asyncio.run(Scorer("open", graph, EvalContext(llm_attempts=2)).score(sample, record))
    # 4 annotated differences (c included) -> N_diff = 6: statements 6..8 are cut
    assert "P5" in seen[0] and "P6" not in seen[0]
    assert any("beyond N_diff = 6" in n for n in score.notes)
    assert score.status == "judge_failed" and "gave no usable reply" in (score.error or "")
    assert [i.outcome for i in score.items] == ["failed", "failed", "not_scored", "failed"]
