"""``viddiff eval --protocol paper`` on the wire: what actually reaches the model endpoint.

A scripted OpenAI-compatible server on 127.0.0.1 records every request made by the real
langchain-openai client; CLIP is a real open_clip ViT-B-32 with random weights (the paper's
ViT-bigG-14 cannot be downloaded here, which is the error path tested below). The videos are
synthetic, so this runs without the shared clips.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
from tests.support.scripts import links_for, standard_script
from tests.support.videos import write_video
from viddiff.agent.cli.main import main

pytestmark = pytest.mark.integration

SIZE = (160, 96)  # the source frame size (width, height); larger than nothing, kept whole
SOURCE_FPS = 24
ANNOTATED = {"0": {"name": "wider stance", "description": "the feet stance is wider",
                   "query_string": "the feet are further apart", "num_frames": "1"},
             "1": {"name": "faster", "description": "the motion is faster",
                   "query_string": "the person moves faster", "num_frames": "gt_1"}}
GT = {"0": "a", "1": "b"}


def row(key: str, a: str, b: str) -> dict[str, Any]:
    return {"sample_key": key, "sample_hash": 7, "action": "fitness_7", "action_name": "lunge",
            "action_description": "a forward lunge", "domain": "fitness", "split": "easy",
            "videos": json.dumps([{"path": p, "frames_trim": None, "fps_original": SOURCE_FPS}
                                  for p in (a, b)]),
            "differences_annotated": json.dumps(ANNOTATED), "differences_gt": json.dumps(GT),
            "n_differences_open_prediction": 3}


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_JUDGE_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4", n_frames=72, fps=SOURCE_FPS, size=SIZE)  # 3 s
    write_video(videos / "b.mp4", n_frames=72, fps=SOURCE_FPS, size=SIZE, moving=False)
    data = tmp_path / "bench.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in (row("s1", "a.mp4", "b.mp4"),
                                                           row("s2", "b.mp4", "a.mp4"))))
    return data


def paper_args(data: Path, out: Path, base_url: str, *extra: str) -> list[str]:
    return ["eval", "--data", str(data), "--videos", str(data.parent / "videos"),
            "--mode", "closed", "--method", "viddiff",
            "--protocol", "paper", "--out", str(out), "--base-url", base_url,
            "--model", "test-vlm", "--quiet", *extra]


def script() -> RouteBySchema:
    replies = standard_script()
    replies["LinkReply"] = links_for([d["name"] for d in ANNOTATED.values()])
    replies["VerdictAB"] = {"reason": "A's feet are further apart", "answer": "a"}
    return RouteBySchema({k: Reply.json(v) for k, v in replies.items()})


def image_parts(request: Any) -> list[dict[str, Any]]:
    return [p for m in request.messages if isinstance(m.get("content"), list)
            for p in m["content"] if isinstance(p, dict) and p.get("type") == "image_url"]


def test_paper_protocol_on_the_wire(bench: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with FakeOpenAIServer(script()) as srv:
        code = main(paper_args(bench, out, srv.base_url, "--clip-model", "ViT-B-32",
                               "--clip-pretrained", "none"))
        requests = list(srv.requests)
    assert code == 0
    differencer = [r for r in requests if r.schema_name == "VerdictAB"]
    assert len(differencer) == 2 * len(GT)  # two samples, every scored difference
    assert not [r for r in requests if r.schema_name == "Verdict"]
    for request in differencer:
        assert request.tools == [] or all(  # no tool offered (the schema may be a forced tool)
            t["function"]["name"] == "VerdictAB" for t in request.tools)
        schema = request.json_schema
        assert schema is not None
        assert schema["properties"]["answer"]["enum"] == ["a", "b"]  # no "c"
        parts = image_parts(request)
        assert parts and all(p["image_url"]["detail"] == "high" for p in parts)
        for part in parts:
            jpeg = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
            assert Image.open(io.BytesIO(jpeg)).size == SIZE  # the source frame size
    # a transcript per sample: the two samples share the action but not the transcript
    assert len([r for r in requests if r.schema_name == "StageTranscript"]) == 2
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [r["fps"] for r in records] == [8.0, 8.0]  # fitness at 8 fps (viddiff: 4)
    assert all(r["protocol"] == "paper" for r in records)
    result = json.loads((out / "results" / records[0]["result_file"]).read_text())
    video = result["video_a"]
    assert video["target_fps"] == 8.0 and (video["width"], video["height"]) == SIZE
    assert len(video["indices"]) == 24  # 3 s at 8 fps, every third source frame, no cap
    assert video["indices"][:4] == [0, 3, 6, 9]
    run = json.loads((out / "run.json").read_text())
    summary = json.loads((out / "summary.json").read_text())["run"]
    for record in (run, summary):
        assert record["protocol"] == "paper"
        assert record["fps"]["fitness"] == 8.0
        settings = record["settings"]
        assert settings["answer_labels"] == "ab" and settings["kinematics"] is False
        assert settings["image_detail"] == "high" and settings["image_max_side"] is None
        assert settings["max_frames"] is None and settings["localizer"] == "clip"
        assert settings["transcript_cache"] is False
        assert settings["clip_model"] == "ViT-B-32"  # the flag won over the protocol
        assert record["overrides"] == {"clip_model": "ViT-B-32", "clip_pretrained": None}
    # every verdict was "a": difference 0 (gt a) right, difference 1 (gt b) wrong
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    assert (metrics["overall"]["correct"], metrics["overall"]["total"]) == (2, 4)


def test_paper_protocol_without_clip_weights_is_one_line(bench: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as on a machine without the weights
    out = tmp_path / "run"
    with FakeOpenAIServer(script()) as srv:
        code = main(paper_args(bench, out, srv.base_url))
        assert not srv.requests  # nothing was asked before the check
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "ViT-bigG-14" in err
    assert not (out / "predictions.jsonl").exists()  # no sample recorded as failed


def test_paper_protocol_refuses_the_offline_engine(bench: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "--data", str(bench), "--videos", str(bench.parent / "videos"),
                 "--mode", "closed", "--protocol", "paper",
                 "--offline", "--out", str(tmp_path / "x"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--offline" in err and len(err.splitlines()) == 1
    videos = bench.parent / "videos"
    code = main(["compare", str(videos / "a.mp4"), str(videos / "b.mp4"), "--action",
                 "fitness_7", "--protocol", "paper", "--offline", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--offline" in err and len(err.splitlines()) == 1
