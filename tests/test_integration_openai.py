"""The real ``viddiff compare`` through the real langchain-openai client and real HTTP.

A scripted OpenAI-compatible server runs on 127.0.0.1; CLIP is a real open_clip ViT-B-32 with
random weights (no downloads), so decoding, embedding, Viterbi, image encoding and the HTTP
round trips are all real — only the model replies are scripted.
"""

from __future__ import annotations

import base64
import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.fake_openai import FakeOpenAIServer, FaultInjector, Reply, RouteBySchema
from tests.support.scripts import standard_script
from viddiff.agent.cli.main import main

pytestmark = pytest.mark.integration


MEASURE = Reply.tool_call("measure", {"metric": "knee_angle_min", "stage": "descent"})


def routes(script: dict[str, Any]) -> RouteBySchema:
    """Replies by schema name; the differencer's tool turn (no schema) asks for a knee angle."""
    table: dict[str | None, Any] = {
        name: Reply.json(reply) if not isinstance(reply, list) else
        [r if isinstance(r, Reply) else Reply.json(r) for r in reply]
        for name, reply in script.items()}
    table[None] = MEASURE
    return RouteBySchema(table)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps the table to the terminal width
    return tmp_path


def compare_args(a: Path, b: Path, base_url: str, out: Path, *extra: str) -> list[str]:
    return ["compare", str(a), str(b), "--action", "a lunge with a balance hold",
            "--base-url", base_url, "--model", "test-vlm", "--clip-pretrained", "none",
            "--fps", "4", "--json", str(out), "--quiet", *extra]


def test_open_compare_on_real_clips(clips_dir: Path, env: Path, capsys) -> None:
    server_routes = routes(standard_script())
    with FakeOpenAIServer(server_routes) as srv:
        out = env / "result.json"
        code = main(compare_args(clips_dir / "Demo_SinglePerson_cam01.mp4",
                                 clips_dir / "Demo_SinglePerson_cam02.mp4",
                                 srv.base_url, out, "--open", "2"))
        requests = list(srv.requests)
    assert code == 0, capsys.readouterr()
    result = json.loads(out.read_text())
    assert [d["name"] for d in result["differences"]] == ["depth", "speed"]
    for diff in result["differences"]:
        assert {"name", "description", "query_string", "label", "reason", "frames_a",
                "frames_b"} <= diff.keys()
        assert diff["label"] in "abc"
        assert all({"sampled_index", "source_frame", "timestamp_s"} <= f.keys()
                   for f in diff["frames_a"] + diff["frames_b"])
    assert result["segments_a"] and result["segments_b"]
    assert result["models"]["differencer"] == "test-vlm"
    # 4 planning calls, then per difference a tool turn and a verdict
    assert sum(u["calls"] for u in result["usage"]) == len(requests) == 8
    assert all(r.model == "test-vlm" for r in requests)
    tool_turns = [r for r in requests if r.schema_name is None]
    assert len(tool_turns) == 2 and all(r.tool_names == ["measure"] for r in tool_turns)
    assert all(r.response_format and r.response_format["type"] == "json_schema"
               for r in requests if r not in tool_turns)
    for diff in result["differences"]:
        (m,) = diff["measurements"]
        assert m["metric"] == "knee_angle_min" and m["value_a"] and m["value_b"]
        assert m["unit"] == "deg" and m["uncertainty"] > 0
    # the frames really travelled to the VLM as decodable JPEG images
    verdicts = [r for r in requests if r.schema_name == "Verdict"]
    # the difference's frames (1 or 3 per video), then the frame each measured value was read
    # at (the knee's most bent frame in A and in B), labelled with the metric
    assert sorted(len(r.images) for r in verdicts) == [2 + 2, 6 + 2]
    assert all("where knee_angle_min was read" in r.text for r in verdicts)
    for diff in result["differences"]:
        (m,) = diff["measurements"]
        for key in ("a", "b"):
            shown = {f["source_frame"] for f in diff[f"frames_{key}"]}
            assert {e["source_frame"] for e in m[f"evidence_{key}"]} <= shown
    image = Image.open(io.BytesIO(verdicts[0].images[0]))  # type: ignore[arg-type]
    assert image.format == "JPEG" and max(image.size) <= 384
    assert "the hips are lower" in "".join(r.text for r in verdicts)
    printed = capsys.readouterr().out
    assert "the squat is deeper" in printed


def test_malformed_reply_and_429_are_retried(clips_dir: Path, env: Path) -> None:
    script: dict[str, Any] = standard_script(["knees bend more"])
    script["StageTranscript"] = [Reply.malformed(), script["StageTranscript"]]
    responder = FaultInjector.first_n(routes(script), 1, Reply.rate_limited(retry_after=0))
    with FakeOpenAIServer(responder) as srv:
        out = env / "r.json"
        code = main(compare_args(clips_dir / "Demo_SinglePerson_cam01.mp4",
                                 clips_dir / "Demo_SinglePerson_cam03.mp4",
                                 srv.base_url, out, "-d", "knees bend more"))
        requests = list(srv.requests)
    assert code == 0
    assert responder.injected == [0]
    stage_calls = [r for r in requests if r.schema_name == "StageTranscript"]
    assert len(stage_calls) == 3  # 429, malformed, good
    assert "could not be used" in stage_calls[-1].text
    assert json.loads(out.read_text())["differences"][0]["label"] == "a"


def test_endpoint_that_always_replies_garbage_fails_cleanly(synthetic_pair, env, capsys):
    with FakeOpenAIServer(Reply.malformed()) as srv:
        code = main(compare_args(*synthetic_pair, srv.base_url, env / "r.json", "--open", "2"))
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert "gave no usable reply after 3 attempts" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not (env / "r.json").exists()


def test_unreachable_endpoint_fails_cleanly(synthetic_pair, env, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    code = main(compare_args(*synthetic_pair, f"http://127.0.0.1:{port}/v1", env / "r.json",
                             "--open", "2"))
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert "cannot reach the model endpoint" in err and len(err.splitlines()) == 1


def test_the_images_are_the_selected_frames(synthetic_pair, env) -> None:
    with FakeOpenAIServer(routes(standard_script())) as srv:
        out = env / "r.json"
        assert main(compare_args(*synthetic_pair, srv.base_url, out, "--open", "2")) == 0
        verdicts = [r for r in srv.requests if r.schema_name == "Verdict"]
    result = json.loads(out.read_text())
    speed = next(d for d in result["differences"] if d["name"] == "speed")
    call = next(r for r in verdicts if len(r.images) == 6)
    labels = [p["text"] for m in call.messages if isinstance(m["content"], list)
              for p in m["content"] if p.get("type") == "text" and p["text"].startswith("Video")]
    expected = [f"t = {f['timestamp_s']:.2f} s" for f in speed["frames_a"] + speed["frames_b"]]
    assert [lbl.split("(")[1].rstrip("):") for lbl in labels] == expected
    assert all(base64.b64decode(u.split(",", 1)[1])[:2] == b"\xff\xd8"
               for u in call.image_urls)


def test_rejected_api_key_fails_cleanly(synthetic_pair, env, capsys):
    refused = Reply(status=401, error_body={"error": {"message": "Incorrect API key provided",
                                                      "type": "invalid_request_error",
                                                      "code": "invalid_api_key"}})
    with FakeOpenAIServer(refused) as srv:
        code = main(compare_args(*synthetic_pair, srv.base_url, env / "r.json", "--open", "2"))
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert "refused the API key (HTTP 401)" in err and len(err.splitlines()) == 1


def test_each_image_is_sent_once_per_difference(clips_dir: Path, env: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The measure-tool turn carries no images; the verdict carries the difference's own
    frames (1 or 3 per video) plus the evidence frames, and each distinct frame is JPEG-encoded
    once however many differences show it."""
    from viddiff.graphs.frames import clear_memos
    from viddiff.tools import images as images_mod

    clear_memos()
    encodes: list[int] = []
    original = images_mod.to_data_url

    def counting(frame: Any, max_side: int | None) -> str:
        encodes.append(1)
        return original(frame, max_side)

    monkeypatch.setattr(images_mod, "to_data_url", counting)
    with FakeOpenAIServer(routes(standard_script())) as srv:
        out = env / "r.json"
        assert main(compare_args(clips_dir / "Demo_SinglePerson_cam01.mp4",
                                 clips_dir / "Demo_SinglePerson_cam02.mp4", srv.base_url, out,
                                 "--open", "2")) == 0
        requests = list(srv.requests)
    tool_turns = [r for r in requests if "measure" in r.tool_names]
    verdicts = [r for r in requests if r.schema_name == "Verdict"]
    assert tool_turns and all(not r.image_urls for r in tool_turns)
    result = json.loads(out.read_text())
    shown = sum(len(d["frames_a"]) + len(d["frames_b"]) for d in result["differences"])
    own = sum((1 if d["num_frames"] == "1" else 3) * 2 for d in result["differences"])
    sent = sum(len(r.image_urls) for r in verdicts)
    assert own <= sent == shown  # own frames, then the evidence frames, each once
    assert len(encodes) == len({u for r in verdicts for u in r.image_urls})
