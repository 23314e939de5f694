"""``viddiff eval`` and ``viddiff score`` end to end on a tiny benchmark in the real schema.

The benchmark is built here from the real clips in ../shared/data/clips (skipped when absent):
one row trims both videos, one uses a folder of frame images made by the test, one uses whole
files. Models answer from a scripted OpenAI-compatible server on 127.0.0.1 through the real
langchain-openai client; CLIP (for the viddiff method) has random weights.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.benchmark import ANNOTATED, SCORED, eval_args, make_bench
from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
from tests.support.scripts import links_for, standard_script, verdict
from viddiff.agent.cli.main import main

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def bench(clips_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bench(clips_dir, tmp_path_factory.mktemp("bench"))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_JUDGE_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


CLOSED_ALL_A = Reply.json({"answers": [{"key": k, "answer": "a"} for k in SCORED]})
OPEN_LMM = Reply.json({"differences": [
    {"description": "the feet stance is narrower", "prediction": "b"},
    {"description": "the whole movement is quicker", "prediction": "a"},
    {"description": "the head tilts more", "prediction": "a"}]})
JUDGE_MATCH = Reply.json({"matches": [{"ground_truth": "G0", "prediction": "P0"},
                                      {"ground_truth": "G1", "prediction": "none"},
                                      {"ground_truth": "G3", "prediction": "P1"},
                                      {"ground_truth": "G4", "prediction": "none"}]})
JUDGE_FLIP = Reply.json({"verdicts": [{"pair": 1, "relation": "opposite"},
                                      {"pair": 2, "relation": "same"}]})


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())


def prediction_keys(out: Path) -> list[str]:
    lines = (out / "predictions.jsonl").read_text().splitlines()
    return [json.loads(line)["sample_key"] for line in lines]


def test_closed_lmm_end_to_end_and_rescore(bench: Path, env: Path, capsys) -> None:
    out = env / "run"
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        code = main(eval_args(bench, out, srv.base_url, "--price", "test-vlm=1,2"))
        requests = srv.requests
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert sorted(prediction_keys(out)) == ["s1", "s2", "s3"]
    assert len(requests) == 3 and all(r.model == "test-vlm" for r in requests)
    # each call carried the sampled frames of both videos (2 fps): A's first, then B's
    by_text = {r.user_text.count("Video B, frame"): r for r in requests}
    assert all(r.images and len(r.images) == r.user_text.count("Video ") for r in requests)
    assert 3 in by_text or 4 in by_text  # the frames folder (16 frames at 12 fps) at 2 fps
    assert all("the arms are raised higher" in r.user_text for r in requests)
    assert all("the lunge is deeper" not in r.user_text for r in requests)  # gt c: not asked
    # trimmed and folder videos were materialised once into the shared video cache
    assert len(list((bench.parent / "video_cache").glob("*.mp4"))) == 3
    metrics = summary(out)["metrics"]
    # all-"a" answers: 0 (a) and 3 (a) right, 4 (b) wrong -> 2/3 per sample
    assert metrics["splits"]["easy"]["correct"] == 4 and metrics["splits"]["easy"]["total"] == 6
    assert metrics["splits"]["medium"]["value"] == pytest.approx(2 / 3)
    assert metrics["headline"]["value"] == pytest.approx(2 / 3)
    assert not metrics["headline"]["complete"]  # no hard split in this benchmark
    assert metrics["errors"]["wrong_label"] == 3
    assert metrics["differences"]["fitness_7/4"]["value"] == 0.0
    assert metrics["balance"] == {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3), "n": 9}
    cost = summary(out)["cost"]
    assert cost["usd_total"] is not None and cost["usd_total"] > 0
    assert "Closed accuracy by split" in printed and "fitness_7" in printed
    # re-scoring the saved predictions reproduces the metrics exactly
    rescored = env / "rescored.json"
    assert main(["score", "--data", str(bench), "--predictions", str(out / "predictions.jsonl"),
                 "--mode", "closed", "--json", str(rescored)]) == 0
    assert json.loads(rescored.read_text())["metrics"] == metrics
    # and the same command again resumes: nothing left to run, no request made
    with FakeOpenAIServer(RouteBySchema({})) as srv:
        assert main(eval_args(bench, out, srv.base_url)) == 0
        assert not srv.requests
    assert summary(out)["metrics"] == metrics
    assert summary(out)["run"]["samples_resumed"] == 3


def test_open_lmm_with_judge_then_rescore_makes_no_calls(bench: Path, env: Path) -> None:
    out = env / "open"
    routes = RouteBySchema({"LmmOpenReply": OPEN_LMM, "MatchReply": JUDGE_MATCH,
                            "FlipReply": JUDGE_FLIP})
    with FakeOpenAIServer(routes) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--split", "easy", "--judge-model",
                              "judge-llm", mode="open")) == 0
        judge_calls = [r for r in srv.requests if r.model == "judge-llm"]
    # one match and one batched flip call per sample; both samples ask the judge the very same
    # questions here, so the second may be answered from the cache
    assert {r.schema_name for r in judge_calls} == {"MatchReply", "FlipReply"}
    assert 2 <= len(judge_calls) <= 4
    match_text = next(r.user_text for r in judge_calls if r.schema_name == "MatchReply")
    assert "the feet stance is narrower" in match_text and '"G4"' in match_text
    metrics = summary(out)["metrics"]
    # G0 <- P0 (opposite: b flipped to a, correct), G3 <- P1 (same, correct), G4 unmatched
    assert metrics["metric"] == "recall@N_diff"
    assert (metrics["overall"]["correct"], metrics["overall"]["total"]) == (4, 6)
    assert metrics["errors"]["missing"] == 2
    assert [u["model"] for u in summary(out)["usage"]["judge"]] == ["judge-llm"]
    rescored = env / "open.json"
    with FakeOpenAIServer(RouteBySchema({})) as srv:
        code = main(["score", "--data", str(bench), "--predictions",  # judge from run.json
                     str(out / "predictions.jsonl"), "--mode", "open", "--json", str(rescored),
                     "--base-url", srv.base_url])
        assert not srv.requests  # every judge answer came from the cache
    assert code == 0
    assert json.loads(rescored.read_text())["metrics"] == metrics


def test_closed_viddiff_method_with_random_clip(bench: Path, env: Path) -> None:
    script = standard_script()
    script["LinkReply"] = links_for([ANNOTATED[k]["name"] for k in SCORED])  # type: ignore[index]
    script["Verdict"] = verdict("b", "B looks more so")
    out = env / "viddiff"
    with FakeOpenAIServer(RouteBySchema({k: Reply.json(v) for k, v in script.items()})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--limit", "1", "--no-kinematics",
                              "--localizer", "clip", method="viddiff")) == 0
        verdicts = [r for r in srv.requests if r.schema_name == "Verdict"]
    assert len(verdicts) == len(SCORED)
    assert any("the feet are further apart" in r.user_text for r in verdicts)  # query strings
    metrics = summary(out)["metrics"]
    # all-"b": only difference 4 is right
    assert (metrics["overall"]["correct"], metrics["overall"]["total"]) == (1, 3)
    record = json.loads((out / "predictions.jsonl").read_text().splitlines()[0])
    assert record["method"] == "viddiff" and record["models"]["differencer"] == "test-vlm"
    assert set(record["predictions"]) == set(SCORED)


def test_offline_pose_engine_needs_no_endpoint(bench: Path, env: Path) -> None:
    pytest.importorskip("mediapipe", reason="the offline engine needs the 'pose' extra")
    out = env / "offline"
    args = eval_args(bench, out, "http://127.0.0.1:9/v1", "--offline", "--split", "medium",
                     method="viddiff")
    assert main(args) == 0
    record = json.loads((out / "predictions.jsonl").read_text())
    assert record["method"] == "viddiff-offline" and record["status"] == "ok"
    assert set(record["predictions"]) == set(SCORED) and not record["usage"]
    result = json.loads((out / "results" / record["result_file"]).read_text())
    assert result["engine"] == "offline" and len(result["differences"]) == len(SCORED)
    assert summary(out)["metrics"]["overall"]["total"] == 3
    assert summary(out)["cost"]["usd_total"] == 0


def test_sanity_checks_swap_and_duplicate(bench: Path, env: Path) -> None:
    out = env / "swap"
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--sanity", "swap",
                              "--split", "medium", fps=None)) == 0
        (request,) = srv.requests
    metrics = summary(out)["metrics"]
    # the same all-"a" answers now score 1/3: B was shown as A, so 4 (b -> a) is right
    assert metrics["overall"]["correct"] == 1 and metrics["overall"]["total"] == 3
    record = json.loads((out / "predictions.jsonl").read_text())
    assert record["sanity"] == "swap"
    # no --fps: the protocol's rate for the domain (fitness: 4 fps; 1.67 s clips -> 7 frames)
    assert record["fps"] == 4.0 and len(request.images) == 14
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "duplicate", srv.base_url, "--sanity", "duplicate",
                              "--split", "medium")) == 0
        (request,) = srv.requests
    half = len(request.images) // 2
    assert request.images[:half] == request.images[half:]  # A vs A
    # an output folder holds one kind of run
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--split", "medium")) == 2
        assert not srv.requests


def test_missing_videos_are_listed_up_front(bench: Path, env: Path, capsys) -> None:
    rows = [json.loads(line) for line in bench.read_text().splitlines()]
    broken = dict(rows[0], sample_key="x1", videos=json.dumps([
        {"path": "gone_a.mp4", "frames_trim": [0, None], "fps_original": 30},
        {"path": "gone_b", "frames_trim": [0, None], "fps_original": 30}]))
    broken2 = dict(rows[1], sample_key="x2", videos=json.dumps([
        {"path": "cam01.mp4", "frames_trim": [0, None], "fps_original": 60},
        {"path": "gone_a.mp4", "frames_trim": [0, None], "fps_original": 30}]))
    data = bench.parent / "broken.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in [*rows, broken, broken2]))
    out = env / "broken"
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        code = main(eval_args(data, out, srv.base_url))
        assert not srv.requests  # nothing ran
        err = capsys.readouterr().err
        assert code == 2
        assert "2 video(s) under" in err and "needed by 2 of 5 sample(s)" in err
        assert err.count("gone_a.mp4") >= 2 and "x1 video B" in err
        assert (out / "missing_videos.txt").exists()
        assert main(eval_args(data, out, srv.base_url, "--skip-missing")) == 0
    assert sorted(prediction_keys(out)) == ["s1", "s2", "s3"]


def test_endpoint_failure_stops_the_run_and_the_rerun_finishes(bench: Path, env: Path,
                                                              capsys) -> None:
    out = env / "fail"
    calls = {"n": 0}

    def flaky(req: Any) -> Reply:
        calls["n"] += 1
        return CLOSED_ALL_A if calls["n"] == 1 else Reply(status=401)

    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": flaky})) as srv:
        code = main(eval_args(bench, out, srv.base_url, "--concurrency", "1"))
    assert code == 3 and "refused the API key" in capsys.readouterr().err
    assert prediction_keys(out) == ["s1"]  # the finished sample is kept, nothing else
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, out, srv.base_url)) == 0
        assert len(srv.requests) == 2
    keys = prediction_keys(out)
    assert sorted(keys) == ["s1", "s2", "s3"] and len(keys) == len(set(keys))
    assert summary(out)["metrics"]["samples"]["scored"] == 3


def test_garbage_replies_fail_the_sample_not_the_run(bench: Path, env: Path) -> None:
    out = env / "garbage"
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": Reply.malformed()})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--split", "medium")) == 0
        assert len(srv.requests) == 3  # the retry edge: three replies, then the sample fails
    metrics = summary(out)["metrics"]
    assert metrics["samples"]["method_failed"] == 1
    assert metrics["errors"]["failed"] == 3 and metrics["overall"]["correct"] == 0
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--split", "medium",
                              "--retry-failed")) == 0
    assert summary(out)["metrics"]["overall"]["correct"] == 2
    assert prediction_keys(out) == ["s3", "s3"]  # appended; the last line wins


@pytest.mark.slow
def test_interrupted_run_resumes_where_it_stopped(bench: Path, env: Path) -> None:
    """A real Ctrl-C (SIGINT) to a CLI process part-way, then the same command again."""
    out = env / "interrupted"

    # The second reply never comes within the test (the server does not wait for it when it
    # closes), so the interrupt always finds the second sample in flight, however slow the
    # machine; every wait below is on something observable, bounded generously for load.
    def slow_after_first(req: Any) -> Reply:
        return CLOSED_ALL_A if req.index == 0 else Reply(content=CLOSED_ALL_A.content,
                                                         delay_s=600)

    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": slow_after_first})) as srv:
        cmd = [sys.executable, "-m", "viddiff.agent.cli.main",
               *eval_args(bench, out, srv.base_url, "--concurrency", "1", "--timeout", "600")]
        proc = subprocess.Popen(cmd, env=dict(os.environ), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 180
            path = out / "predictions.jsonl"
            while not (path.exists() and path.read_text().count("\n") >= 1):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no prediction written in time"
                time.sleep(0.05)
            srv.wait_for_requests(2, timeout=180)  # the second sample is in flight
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "viddiff: interrupted", err
    assert "Task exception" not in err and "Traceback" not in err, err
    assert prediction_keys(out) == ["s1"]
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, out, srv.base_url)) == 0
        assert len(srv.requests) == 2  # only the two unfinished samples ran
    keys = prediction_keys(out)
    assert sorted(keys) == ["s1", "s2", "s3"] and len(keys) == len(set(keys))
    metrics = summary(out)["metrics"]
    assert metrics["samples"]["scored"] == 3 and metrics["overall"]["total"] == 9
    assert summary(out)["run"]["samples_resumed"] == 1
