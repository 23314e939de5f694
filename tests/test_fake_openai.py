"""The fake OpenAI server must satisfy the *real* client stack.

Every test drives ``langchain_openai.ChatOpenAI`` (and through it the ``openai`` SDK and
httpx) over loopback HTTP.  If these pass, agent tests built on ``FakeOpenAIServer``
exercise the same request/parse/retry/timeout paths as production.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import urllib.error
import urllib.request
from typing import Any

import openai
import pydantic
import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessageChunk, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from tests.support.fake_openai import (
    FakeOpenAIServer,
    FaultInjector,
    Reply,
    RouteBySchema,
    ScriptedResponder,
)

pytestmark = pytest.mark.integration


class Verdict(BaseModel):
    """Structured-output schema used across tests (its class name is the schema name)."""

    winner: str = Field(description="which video performed better")
    margin: float


class GetFrame(BaseModel):
    """Fetch one frame of a video at a timestamp."""

    video: str
    t: float


def _llm(srv: FakeOpenAIServer, **kw: Any) -> ChatOpenAI:
    """The real client, as production builds it, pointed at the fake server."""
    params: dict[str, Any] = {"api_key": "test", "model": "m", "max_retries": 0}
    params.update(kw)
    return ChatOpenAI(base_url=srv.base_url, **params)


def _merge(chunks: list[Any]) -> AIMessageChunk:
    """Sum streamed chunks the way LangChain aggregates them."""
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert isinstance(total, AIMessageChunk)
    return total


def _post(url: str, data: bytes) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 60)).save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------------ plain chat


def test_plain_text_reply_and_usage_metadata() -> None:
    with FakeOpenAIServer(Reply.text("hello there", prompt_tokens=11, completion_tokens=7)) as srv:
        msg = _llm(srv).invoke("say hi")

    assert msg.content == "hello there"
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["input_tokens"] == 11
    assert msg.usage_metadata["output_tokens"] == 7
    assert msg.usage_metadata["total_tokens"] == 18
    assert msg.response_metadata["finish_reason"] == "stop"
    (req,) = srv.requests
    assert req.model == "m"
    assert req.text == "say hi"
    assert req.schema_name is None
    assert req.headers["authorization"] == "Bearer test"


def test_models_endpoint_lists_configured_models() -> None:
    with FakeOpenAIServer(models=["m", "gpt-fake"]) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test", max_retries=0)
        ids = [m.id for m in client.models.list()]
    assert ids == ["m", "gpt-fake"]


def test_bad_body_gets_openai_style_400_and_is_not_recorded() -> None:
    with FakeOpenAIServer() as srv:
        url = f"{srv.base_url}/chat/completions"
        status, body = _post(url, b"{not json")
        assert status == 400
        assert body["error"]["type"] == "invalid_request_error"
        status, body = _post(url, json.dumps({"model": "m"}).encode())
        assert status == 400
        assert body["error"]["param"] == "messages"
        assert body["error"]["code"] == "missing_required_parameter"
        assert srv.requests == []
        assert srv.rejected_count == 2


# ----------------------------------------------------------------- structured output


def test_json_schema_structured_output_parses_and_records_schema_name() -> None:
    with FakeOpenAIServer(Reply.json({"winner": "A", "margin": 0.25})) as srv:
        chain = _llm(srv).with_structured_output(Verdict, method="json_schema", include_raw=True)
        out = chain.invoke("who won?")

    assert isinstance(out, dict)
    assert out["parsing_error"] is None
    assert out["parsed"] == Verdict(winner="A", margin=0.25)
    req = srv.requests[0]
    assert req.schema_name == "Verdict"
    assert req.response_format is not None
    assert req.response_format["type"] == "json_schema"
    assert req.response_format["json_schema"]["strict"] is True
    assert req.json_schema is not None
    assert set(req.json_schema["properties"]) == {"winner", "margin"}


# What a *malformed* structured reply does depends on the method and schema type, and
# include_raw=True does NOT always turn it into ``parsing_error``.  These tests pin the
# real behaviour of langchain-openai 1.7.x + openai 3.x, because agent code must handle
# each case differently (and a library upgrade that changes one should fail loudly here).


def test_malformed_reply_sets_parsing_error_for_json_mode() -> None:
    with FakeOpenAIServer(Reply.malformed()) as srv:
        chain = _llm(srv).with_structured_output(Verdict, method="json_mode", include_raw=True)
        out = chain.invoke("who won? answer in JSON")

    assert isinstance(out, dict)
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert out["raw"].content == '{"name": "x", '
    assert len(srv.requests) == 1


def test_non_json_reply_sets_parsing_error_for_json_schema_dict_schema() -> None:
    with FakeOpenAIServer(Reply.text("not json at all")) as srv:
        chain = _llm(srv).with_structured_output(
            Verdict.model_json_schema(), method="json_schema", include_raw=True
        )
        out = chain.invoke("who won?")

    assert isinstance(out, dict)
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert srv.requests[0].schema_name == "Verdict"


def test_json_schema_pydantic_malformed_raises_despite_include_raw() -> None:
    """The openai SDK's ``parse()`` validates against the Pydantic class inside the LLM
    call, before include_raw's fallback parser runs, so the error escapes."""
    with FakeOpenAIServer([Reply.malformed(), Reply.json({"winner": "A"})]) as srv:
        chain = _llm(srv).with_structured_output(Verdict, method="json_schema", include_raw=True)
        with pytest.raises(pydantic.ValidationError, match="Invalid JSON"):
            chain.invoke("who won?")
        with pytest.raises(pydantic.ValidationError, match="margin"):
            chain.invoke("who won?")  # valid JSON, missing required field
        assert len(srv.requests) == 2


def test_json_schema_dict_schema_truncated_json_is_partially_parsed_silently() -> None:
    with FakeOpenAIServer(Reply.malformed()) as srv:
        chain = _llm(srv).with_structured_output(
            Verdict.model_json_schema(), method="json_schema", include_raw=True
        )
        out = chain.invoke("who won?")

    assert isinstance(out, dict)
    assert out["parsing_error"] is None
    assert out["parsed"] == {"name": "x"}  # JsonOutputParser repairs partial JSON


def test_function_calling_malformed_arguments_become_invalid_tool_calls() -> None:
    script = [
        Reply.tool_call("Verdict", '{"winner": "A", '),  # broken JSON arguments
        Reply.tool_call("Verdict", {"winner": "A"}),  # valid JSON, schema-invalid
    ]
    with FakeOpenAIServer(script) as srv:
        chain = _llm(srv).with_structured_output(
            Verdict, method="function_calling", include_raw=True
        )
        broken = chain.invoke("who won?")
        invalid = chain.invoke("who won?")

    assert isinstance(broken, dict) and isinstance(invalid, dict)
    # broken JSON: no error at all, parsed is None, the call sits in invalid_tool_calls
    assert broken["parsed"] is None
    assert broken["parsing_error"] is None
    assert broken["raw"].invalid_tool_calls[0]["name"] == "Verdict"
    # schema-invalid: Pydantic validation error is captured as parsing_error
    assert invalid["parsed"] is None
    assert isinstance(invalid["parsing_error"], pydantic.ValidationError)
    assert len(srv.requests) == 2


def test_function_calling_structured_output() -> None:
    with FakeOpenAIServer(Reply.tool_call("Verdict", {"winner": "B", "margin": 1.5})) as srv:
        chain = _llm(srv).with_structured_output(
            Verdict, method="function_calling", include_raw=True
        )
        out = chain.invoke("who won?")

    assert isinstance(out, dict)
    assert out["parsing_error"] is None
    assert out["parsed"] == Verdict(winner="B", margin=1.5)
    req = srv.requests[0]
    assert req.schema_name == "Verdict"  # from the forced tool_choice
    assert req.tool_names == ["Verdict"]
    assert req.body["parallel_tool_calls"] is False


def test_bind_tools_round_trip_with_tool_result() -> None:
    script = ScriptedResponder(
        [
            Reply.tool_call("GetFrame", {"video": "a.mp4", "t": 1.25}),
            Reply.text("frame looks fine"),
        ]
    )
    with FakeOpenAIServer(script) as srv:
        llm = _llm(srv).bind_tools([GetFrame])
        history: list[Any] = [HumanMessage("inspect a.mp4 at 1.25s")]
        first = llm.invoke(history)
        assert first.tool_calls == [
            {
                "name": "GetFrame",
                "args": {"video": "a.mp4", "t": 1.25},
                "id": first.tool_calls[0]["id"],
                "type": "tool_call",
            }
        ]
        call_id = first.tool_calls[0]["id"]
        history += [first, ToolMessage("<jpeg bytes>", tool_call_id=call_id)]
        second = llm.invoke(history)

    assert second.content == "frame looks fine"
    script.assert_exhausted()
    req0, req1 = srv.requests
    assert req0.tool_names == ["GetFrame"]
    assert req0.schema_name is None  # tools offered, none forced
    roles = [m["role"] for m in req1.messages]
    assert roles == ["user", "assistant", "tool"]
    assert req1.messages[1]["tool_calls"][0]["id"] == call_id
    assert req1.messages[2]["tool_call_id"] == call_id


def test_route_by_schema_dispatches_and_flags_unrouted() -> None:
    router = RouteBySchema({"Verdict": Reply.json({"winner": "A", "margin": 0.0})})
    with FakeOpenAIServer(router) as srv:
        llm = _llm(srv, max_retries=2)
        verdict = llm.with_structured_output(Verdict, method="json_schema").invoke("x")
        assert verdict == Verdict(winner="A", margin=0.0)
        with pytest.raises(openai.InternalServerError, match="no route for schema"):
            llm.invoke("plain text call has no schema")
    # the unrouted 500 carries x-should-retry: false, so max_retries=2 did not retry it
    assert len(srv.requests) == 2
    assert [r.schema_name for r in router.unrouted] == [None]


def test_scripted_responder_exhaustion_is_a_clear_non_retried_error() -> None:
    script = ScriptedResponder([Reply.text("only one")])
    with FakeOpenAIServer(script) as srv:
        llm = _llm(srv, max_retries=2)
        assert llm.invoke("1").content == "only one"
        with pytest.raises(openai.InternalServerError, match="ScriptedResponder exhausted"):
            llm.invoke("2")
    assert len(srv.requests) == 2
    assert [r.index for r in script.exhausted] == [1]


def test_responder_exception_is_recorded_and_surfaced() -> None:
    def responder(req: Any) -> Reply:
        raise ValueError("boom in test responder")

    with FakeOpenAIServer(responder) as srv:
        with pytest.raises(openai.InternalServerError, match="boom in test responder"):
            _llm(srv, max_retries=2).invoke("x")
        assert len(srv.requests) == 1
        with pytest.raises(AssertionError, match="responder error"):
            srv.assert_no_errors()


# ------------------------------------------------------------------------- images


def test_image_data_url_is_recorded_and_decodes_to_same_bytes() -> None:
    png = _png_bytes()
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    msg = HumanMessage(
        content=[
            {"type": "text", "text": "what changed?"},
            {"type": "image_url", "image_url": {"url": data_url}},
        ]
    )
    with FakeOpenAIServer(Reply.text("nothing")) as srv:
        _llm(srv).invoke([msg])

    req = srv.requests[0]
    assert req.images == [png]
    assert req.image_mime_types == ["image/png"]
    assert req.text == "what changed?"


# ------------------------------------------------------------------------- faults


def test_rate_limit_then_success_is_retried_by_client() -> None:
    responder = FaultInjector.first_n(Reply.text("ok"), 1, Reply.rate_limited(retry_after=0))
    with FakeOpenAIServer(responder) as srv:
        start = time.monotonic()
        msg = _llm(srv, max_retries=2).invoke("x")
        elapsed = time.monotonic() - start

    assert msg.content == "ok"
    assert len(srv.requests) == 2
    assert responder.injected == [0]
    assert [r.headers.get("x-stainless-retry-count") for r in srv.requests] == ["0", "1"]
    assert elapsed < 1.0  # retry-after-ms honoured; no 0.5 s+ exponential backoff


def test_rate_limit_exhausting_retries_raises_rate_limit_error() -> None:
    with FakeOpenAIServer(Reply.rate_limited()) as srv:
        with pytest.raises(openai.RateLimitError):
            _llm(srv, max_retries=1).invoke("x")
        assert len(srv.requests) == 2


def test_server_error_without_retries_raises_internal_server_error() -> None:
    with FakeOpenAIServer(Reply.server_error()) as srv:
        with pytest.raises(openai.InternalServerError):
            _llm(srv, max_retries=0).invoke("x")
        assert len(srv.requests) == 1


def test_dropped_connection_raises_connection_error() -> None:
    with FakeOpenAIServer(Reply.disconnect()) as srv, pytest.raises(openai.APIConnectionError):
        _llm(srv, max_retries=0).invoke("x")


def test_delay_beyond_client_timeout_raises_quickly_and_server_closes_fast() -> None:
    start = time.monotonic()
    with FakeOpenAIServer(Reply.text("too late", delay_s=2.0)) as srv:
        with pytest.raises(openai.APITimeoutError):
            _llm(srv, timeout=0.5, max_retries=0).invoke("x")
        raised_after = time.monotonic() - start
    closed_after = time.monotonic() - start

    assert raised_after < 1.5
    # close() interrupts the handler still sleeping its 2 s delay
    assert closed_after < 1.5


# -------------------------------------------------------------------- concurrency


def test_concurrent_ainvoke_overlaps_on_server() -> None:
    n, latency = 8, 0.5

    async def run_all(llm: ChatOpenAI) -> list[Any]:
        return await asyncio.gather(*(llm.ainvoke(f"q{i}") for i in range(n)))

    with FakeOpenAIServer(Reply.text("ok"), latency_s=latency) as srv:
        start = time.monotonic()
        results = asyncio.run(run_all(_llm(srv)))
        elapsed = time.monotonic() - start

    assert [r.content for r in results] == ["ok"] * n
    assert sorted(r.text for r in srv.requests) == sorted(f"q{i}" for i in range(n))
    assert elapsed < n * latency / 2, f"{n} calls took {elapsed:.2f}s: not concurrent"


# ----------------------------------------------------------------------- streaming


def test_streaming_text_yields_chunks_and_usage() -> None:
    text = "The left diver enters the water with less splash."
    with FakeOpenAIServer(Reply.text(text, prompt_tokens=9, completion_tokens=4)) as srv:
        chunks = list(_llm(srv, stream_usage=True).stream("compare"))

    assert len([c for c in chunks if c.content]) >= 2
    total = _merge(chunks)
    assert total.content == text
    assert total.usage_metadata is not None
    assert total.usage_metadata["input_tokens"] == 9
    assert total.usage_metadata["output_tokens"] == 4
    req = srv.requests[0]
    assert req.stream and req.include_usage


def test_streaming_tool_call_reassembles() -> None:
    with FakeOpenAIServer(Reply.tool_call("GetFrame", {"video": "b.mp4", "t": 3.0})) as srv:
        chunks = list(_llm(srv).bind_tools([GetFrame]).stream("look"))

    total = _merge(chunks)
    assert total.tool_calls[0]["name"] == "GetFrame"
    assert total.tool_calls[0]["args"] == {"video": "b.mp4", "t": 3.0}
    assert srv.requests[0].stream
