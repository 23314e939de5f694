"""The model-backed statement reader through the real langchain-openai client and real HTTP
(tests/support/fake_openai.py): what goes over the wire, and the faults it meets -- a malformed
reply then a good one, a 500 then a good one, a 429 and a timeout that outlast the retries --
each ending in a usable reading, never in a failed run. And the wiring: ``viddiff compare
--offline --understand-with model`` reads the statement with the endpoint's model, while the
default constructs no model at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAIServer, Reply
from viddiff.graphs.models import ROLES, EndpointSettings, build_reader
from viddiff.graphs.understanding_model import ModelReader, metric_names
from viddiff.tools.understanding import understand

pytestmark = pytest.mark.integration

TEXT = "she keeps her heels glued to the floor"
ACTION = "a goblet squat"
GOOD = {"measurable": True, "metric": "heel_lift_max", "direction": "lower", "moment": None,
        "side": None, "reason": "glued heels lift less"}
FAST = {"retry-after-ms": "1"}  # the client's backoff, made immediate


def settings(srv: FakeOpenAIServer, **kw: Any) -> EndpointSettings:
    models = {**dict.fromkeys(ROLES, "big-vlm"), "linker": "small-reader"}
    return EndpointSettings(base_url=srv.base_url, api_key="test", models=models, **kw)


def read(srv: FakeOpenAIServer, **kw: Any) -> tuple[ModelReader, Any]:
    reader = ModelReader(build_reader(settings(srv, **kw)), action=ACTION, attempts=3)
    return reader, reader(TEXT)


def test_the_request_carries_the_catalogue_enum_the_statement_and_the_action() -> None:
    assert "heel_lift_max" in metric_names()
    with FakeOpenAIServer([Reply.json(GOOD)]) as srv:
        reader, u = read(srv)
        (req,) = srv.requests
    assert req.model == "small-reader"  # the linker's model reads statements
    assert req.response_format and req.response_format["type"] == "json_schema"
    assert req.schema_name == "StatementReading"
    schema = req.json_schema or {}
    enum = next(b["enum"] for b in schema["properties"]["metric"]["anyOf"] if "enum" in b)
    assert enum == list(metric_names())
    assert f'"{TEXT}"' in req.user_text and f"Action: {ACTION}" in req.user_text
    assert "`heel_lift_max`" in req.user_text
    assert (u.metric, u.direction, u.read_by) == ("heel_lift_max", "lower", "small-reader")
    assert reader.usage[0].model == "small-reader" and reader.usage[0].input_tokens > 0


def test_malformed_json_then_valid_is_retried_with_the_error() -> None:
    with FakeOpenAIServer([Reply.malformed(), Reply.json(GOOD)]) as srv:
        _, u = read(srv)
        first, second = srv.requests
    assert u.metric == "heel_lift_max" and u.read_by == "small-reader"
    assert "could not be used" in second.user_text and "not valid JSON" in second.user_text
    assert first.json_schema == second.json_schema


def test_a_500_then_valid_is_retried_by_the_client() -> None:
    with FakeOpenAIServer([Reply.server_error(500, headers=FAST), Reply.json(GOOD)]) as srv:
        _, u = read(srv, max_retries=2)
        assert len(srv.requests) == 2
    assert u.metric == "heel_lift_max" and u.model_note is None


def test_a_429_that_outlasts_the_retries_falls_back_with_the_reason() -> None:
    with FakeOpenAIServer(Reply.rate_limited(retry_after=0)) as srv:
        reader, u = read(srv, max_retries=1)
        assert len(srv.requests) == 2  # the first, and the client's one retry
    phrases = understand(TEXT)
    assert (u.metric, u.direction, u.read_by) == (phrases.metric, phrases.direction, None)
    assert "the request to 'small-reader' failed" in (u.model_note or "")
    assert "429" in (u.model_note or "")
    assert "the model's mapping was not used" in u.why
    assert reader.broken is not None


def test_a_timeout_falls_back_and_is_not_sent_again() -> None:
    with FakeOpenAIServer(Reply.json(GOOD, delay_s=3)) as srv:
        _, u = read(srv, timeout_s=0.3, max_retries=2)
        assert len(srv.requests) == 1  # a request that timed out is never re-sent
    assert u.read_by is None and u.metric == understand(TEXT).metric
    assert "timed out" in (u.model_note or "")


# ----------------------------------------------------------------------------- wiring


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def compare(a: Path, b: Path, out: Path, *extra: str) -> int:
    from viddiff.agent.cli.main import main

    return main(["compare", str(a), str(b), "--action", ACTION, "-d", TEXT, "--fps", "4",
                 "--json", str(out), "--quiet", *extra])


@pytest.mark.slow
def test_compare_offline_reads_the_statement_with_the_endpoints_model(
        synthetic_pair: tuple[Path, Path], env: Path) -> None:
    flags = ("--offline", "--base-url", "", "--linker-model", "small-reader",
             "--understand-with", "model")
    with FakeOpenAIServer([Reply.json(GOOD), Reply.json(GOOD)]) as srv:
        argv = [srv.base_url if f == "" else f for f in flags]
        code = compare(*synthetic_pair, env / "r.json", *argv)
        # a model's reading is not a function of the result cache's key: asked again
        assert compare(*synthetic_pair, env / "r.json", *argv) == 0
        requests = srv.requests
    assert code == 0 and len(requests) == 2
    assert f'"{TEXT}"' in requests[0].user_text
    assert f"Action: {ACTION}" in requests[0].user_text
    result = json.loads((env / "r.json").read_text())
    (diff,) = result["differences"]
    assert diff["rule"].startswith("understood by the model 'small-reader' as heel_lift_max")
    assert result["models"]["reader"] == "small-reader"
    assert [(u["role"], u["model"], u["calls"]) for u in result["usage"]] == [
        ("reader", "small-reader", 1)]


@pytest.mark.slow
def test_with_no_endpoint_nothing_model_related_is_constructed(
        synthetic_pair: tuple[Path, Path], env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_openai

    built: list[Any] = []

    class Refused(langchain_openai.ChatOpenAI):
        def __init__(self, **kw: Any) -> None:
            built.append(kw)
            raise AssertionError("a chat model was constructed on an offline run")

    monkeypatch.setattr(langchain_openai, "ChatOpenAI", Refused)
    for extra in ((), ("--understand-with", "auto")):
        out = env / f"r{len(extra)}.json"
        assert compare(*synthetic_pair, out, "--no-result-cache", *extra) == 0
        result = json.loads(out.read_text())
        assert result["engine"] == "offline" and "reader" not in result["models"]
        assert result["usage"] == []
        (diff,) = result["differences"]
        assert "understood by the model" not in json.dumps(diff)
    assert built == []
    assert compare(*synthetic_pair, env / "x.json", "--understand-with", "model") == 2
