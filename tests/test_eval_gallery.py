"""``viddiff eval --gallery``: each sample's comparison result saved under ``OUT/results/`` and
a gallery page of the worst-scored pairs, on the fixture benchmark of ``test_eval_runner``
(real clips). The VidDiff graph answers from the scripted local server (pose localizer, so no
CLIP), with verdicts scripted to give every sample a different score; the lmm baseline, which
saves no result, from the same server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import tests.test_eval_runner as runner_tests
from tests.support.benchmark import ANNOTATED, GT, SCORED
from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
from tests.support.scripts import links_for, standard_script, verdict
from tests.test_eval_runner import CLOSED_ALL_A, eval_args, prediction_keys, summary
from viddiff.agent.cli.main import main
from viddiff.agent.report import load_result
from viddiff.evals.sample_results import result_name, sample_scores

pytestmark = pytest.mark.integration
bench = runner_tests.bench  # the fixture benchmark (real clips) and the clean environment
env = runner_tests.env

ODD_KEY = "Fitness/7: s3 copy"  # a key no file may be named after as it is


def gallery_keys(page: str) -> list[str]:
    """The samples listed in the gallery's table, in its order."""
    return re.findall(r'<td><a href="#s\d+-">([^<]+)</a></td>', page)


def test_result_names_are_safe_and_distinct() -> None:
    assert result_name("s1") == "s1.json" and result_name("12_a.b-c") == "12_a.b-c.json"
    keys = ["a/b", "a:b", "A", "a", "../x", "..", "", "é", "a b", "a_b", "x" * 300]
    names = [result_name(k) for k in keys]
    assert len(set(names)) == len(keys)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._~-]*\.json", n) for n in names), names
    assert len({n.lower() for n in names}) == len(keys)  # case-insensitive disks too
    assert all(len(n) < 100 for n in names)


def test_sample_scores_leave_out_unscorable_and_zero_failed() -> None:
    entries = [{"sample_key": "a", "status": "ok", "correct": 1, "total": 3},
               {"sample_key": "c-only", "status": "ok", "correct": 0, "total": 0},
               {"sample_key": "failed", "status": "judge_failed", "correct": 0, "total": 3}]
    assert sample_scores(entries) == {"a": pytest.approx(1 / 3), "failed": 0.0}


# per sample, in run order: which scored differences the scripted verdicts get right
RIGHT = [{"0", "3", "4"}, set(), {"0"}, {"0", "3"}]  # s1 1.0, s2 0.0, s3 1/3, odd 2/3
QUERIES = {k: ANNOTATED[k]["query_string"]  # type: ignore[index]
           for k in SCORED}


def scripted_verdicts() -> Any:
    """Verdict replies per sample (samples run one at a time with --concurrency 1)."""
    seen = {"n": 0}

    def reply(req: Any) -> Reply:
        sample = seen["n"] // len(SCORED)
        seen["n"] += 1
        key = next(k for k, text in QUERIES.items() if f'"{text}"' in req.user_text)
        gt = GT[key]
        answer = gt if key in RIGHT[sample] else {"a": "b", "b": "a"}[gt]
        return Reply.json(verdict(answer, f"scripted for sample {sample}"))

    return reply


def test_viddiff_eval_saves_results_and_writes_the_gallery(bench: Path, env: Path,
                                                           capsys) -> None:
    pytest.importorskip("mediapipe", reason="the pose localizer needs the 'pose' extra")
    rows = [json.loads(line) for line in bench.read_text().splitlines()]
    odd = dict(next(r for r in rows if r["sample_key"] == "s3"), sample_key=ODD_KEY)
    data = bench.parent / "gallery_bench.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in [*rows, odd]))
    out = env / "viddiff_gallery"
    script: dict[str, Any] = {k: Reply.json(v) for k, v in standard_script().items()}
    script["LinkReply"] = Reply.json(links_for([ANNOTATED[k]["name"]  # type: ignore[index]
                                                for k in SCORED]))
    script["Verdict"] = scripted_verdicts()
    with FakeOpenAIServer(RouteBySchema(script)) as srv:
        args = eval_args(data, out, srv.base_url, "--concurrency", "1", "--localizer", "pose",
                         "--no-kinematics", "--gallery", "2", method="viddiff")
        assert main(args) == 0
    printed = capsys.readouterr().out
    keys = ["s1", "s2", "s3", ODD_KEY]
    assert sorted(prediction_keys(out)) == sorted(keys)

    # one whole, parseable result per sample, named safely and recorded in the record
    records = {json.loads(line)["sample_key"]: json.loads(line)
               for line in (out / "predictions.jsonl").read_text().splitlines()}
    files = sorted(p.name for p in (out / "results").iterdir())
    assert files == sorted(result_name(k) for k in keys)
    assert "/" not in result_name(ODD_KEY) and "~" in result_name(ODD_KEY)
    for key in keys:
        assert records[key]["result_file"] == result_name(key)
        result = load_result(out / "results" / result_name(key))
        assert result.engine == "vlm" and result.mode == "closed"
        assert Path(result.video_a.path).is_absolute() and Path(result.video_a.path).is_file()
        assert {d.name for d in result.differences} >= {"wider stance", "faster"}

    # the gallery: the two lowest per-sample accuracies, lowest first
    per_sample = summary(out)["metrics"]["per_sample"]
    scores = {e["sample_key"]: e["correct"] / e["total"] for e in per_sample}
    assert scores == {"s1": 1.0, "s2": 0.0, "s3": pytest.approx(1 / 3),
                      ODD_KEY: pytest.approx(2 / 3)}
    worst = ["s2", "s3"]
    gallery = out / "gallery.html"
    page = gallery.read_text(encoding="utf-8")
    assert gallery_keys(page) == worst
    assert "s2 — score 0.000" in page and "s3 — score 0.333" in page
    assert "scripted for sample 1" in page  # s2's verdict reasons are shown
    assert str(gallery) in printed.replace("\n", "")
    # self-contained: frames inlined, nothing fetched
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert srcs and all(s.startswith("data:image/") for s in srcs)

    # the same command again resumes: nothing runs, nothing is duplicated
    lines = (out / "predictions.jsonl").read_text()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()}
    with FakeOpenAIServer(RouteBySchema({})) as srv:
        assert main([*args[:args.index("--base-url") + 1], srv.base_url,
                     *args[args.index("--base-url") + 2:]]) == 0
        assert not srv.requests
    assert (out / "predictions.jsonl").read_text() == lines
    assert {p.name: p.stat().st_mtime_ns for p in (out / "results").iterdir()} == stamps
    assert summary(out)["run"]["samples_resumed"] == len(keys)
    assert gallery_keys(gallery.read_text(encoding="utf-8")) == worst
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []

    # viddiff score draws the same gallery from the saved predictions and results
    gallery.unlink()
    assert main(["score", "--data", str(data), "--predictions", str(out / "predictions.jsonl"),
                 "--mode", "closed", "--gallery", "1"]) == 0
    assert gallery_keys(gallery.read_text(encoding="utf-8")) == worst[:1]


def test_lmm_saves_no_results_and_skips_the_gallery(bench: Path, env: Path, capsys) -> None:
    out = env / "lmm_gallery"
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--split", "medium",
                              "--gallery", "2")) == 0
    assert "No gallery written" in capsys.readouterr().out
    assert not (out / "results").exists() and not (out / "gallery.html").exists()
    record = json.loads((out / "predictions.jsonl").read_text())
    assert record["result_file"] is None
    with FakeOpenAIServer(RouteBySchema({})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--gallery", "0")) == 2
        assert not srv.requests


def test_method_failures_without_a_result_are_left_out(bench: Path, env: Path,
                                                       capsys) -> None:
    out = env / "failed_gallery"
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": Reply.malformed()})) as srv:
        assert main(eval_args(bench, out, srv.base_url, "--split", "medium",
                              "--gallery", "1")) == 0
    assert summary(out)["metrics"]["samples"]["method_failed"] == 1
    assert not (out / "gallery.html").exists()
    assert "No gallery written" in capsys.readouterr().out
