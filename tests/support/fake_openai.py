"""A local, scriptable OpenAI-compatible HTTP server for tests and benchmarks.

Why a real HTTP server instead of mocking ``ChatOpenAI``: the agent's failure modes
(retries on 429/5xx, client timeouts, structured-output parsing, concurrency limits,
token accounting) live in ``langchain_openai`` and the ``openai`` client.  Mocks above
that layer would silently skip all of it.  This server speaks the Chat Completions
wire format on ``127.0.0.1`` with an ephemeral port, so the *real* client stack runs
end to end with no internet access.

Typical use::

    with FakeOpenAIServer(ScriptedResponder([Reply.json({"a": 1})])) as srv:
        llm = ChatOpenAI(base_url=srv.base_url, api_key="test", model="m")
        ...
        assert srv.requests[0].schema_name == "MySchema"

A *responder* is any callable ``(RecordedRequest) -> Reply``.  ``Reply`` describes both
normal answers and faults (HTTP errors, latency, malformed content, dropped
connections).  ``ScriptedResponder``, ``RouteBySchema`` and ``FaultInjector`` compose.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:  # pragma: no cover - import only for annotations
    from langchain_openai import ChatOpenAI

__all__ = [
    "FakeOpenAIServer",
    "FaultInjector",
    "RecordedRequest",
    "Reply",
    "Responder",
    "RouteBySchema",
    "ScriptedResponder",
    "as_responder",
]

# Header the ``openai`` client obeys before anything else when deciding to retry.
# Sent on replies that signal a *test bug* (exhausted script, responder exception) so
# the client fails fast instead of retrying a deterministic failure.
_NO_RETRY = {"x-should-retry": "false"}


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class RecordedRequest:
    """One chat-completions request as the server received it.

    Kept as the raw parsed JSON body plus read-only helpers, so assertions can look
    at exactly what ``langchain_openai`` put on the wire rather than at what we
    *think* it sends.
    """

    body: dict[str, Any]
    headers: dict[str, str]  # lower-cased names
    index: int  # 0-based, per server, in arrival order (retries count)
    path: str = "/v1/chat/completions"
    received_at: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def response_format(self) -> dict[str, Any] | None:
        rf = self.body.get("response_format")
        return rf if isinstance(rf, dict) else None

    @property
    def tools(self) -> list[dict[str, Any]]:
        return list(self.body.get("tools") or [])

    @property
    def tool_names(self) -> list[str]:
        """Names of the function tools offered to the model."""
        return [
            t["function"]["name"]
            for t in self.tools
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ]

    @property
    def tool_choice(self) -> str | dict[str, Any] | None:
        return self.body.get("tool_choice")

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def include_usage(self) -> bool:
        opts = self.body.get("stream_options")
        return bool(isinstance(opts, dict) and opts.get("include_usage"))

    @property
    def forced_tool(self) -> str | None:
        """Name of the tool ``tool_choice`` forces, if any.

        ``with_structured_output(method="function_calling")`` forces its schema tool this
        way, so this is how such a request announces which schema it wants.
        """
        tc = self.tool_choice
        if isinstance(tc, dict):
            fn = tc.get("function")
            if isinstance(fn, dict) and isinstance(fn.get("name"), str):
                return fn["name"]
            return None
        if isinstance(tc, str) and tc not in {"auto", "none", "required", "any"}:
            return tc
        return None

    @property
    def schema_name(self) -> str | None:
        """The structured-output schema this request asks for.

        ``response_format.json_schema.name`` for ``method="json_schema"``, else the
        forced tool name (``method="function_calling"``), else ``None``.  Responders
        route on this because it identifies *which* agent step is calling.
        """
        rf = self.response_format
        if rf is not None and rf.get("type") == "json_schema":
            js = rf.get("json_schema")
            if isinstance(js, dict) and isinstance(js.get("name"), str):
                return js["name"]
        return self.forced_tool

    @property
    def json_schema(self) -> dict[str, Any] | None:
        """The JSON schema requested (response_format schema or forced tool parameters)."""
        rf = self.response_format
        if rf is not None and rf.get("type") == "json_schema":
            js = rf.get("json_schema") or {}
            schema = js.get("schema")
            return schema if isinstance(schema, dict) else None
        forced = self.forced_tool
        for tool in self.tools:
            fn = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(fn, dict) and fn.get("name") == forced:
                params = fn.get("parameters")
                return params if isinstance(params, dict) else None
        return None

    def _content_parts(self, roles: set[str] | None = None) -> Iterator[dict[str, Any] | str]:
        for msg in self.messages:
            if roles is not None and msg.get("role") not in roles:
                continue
            content = msg.get("content")
            if isinstance(content, str):
                yield content
            elif isinstance(content, list):
                yield from (p for p in content if isinstance(p, dict | str))

    def _joined_text(self, roles: set[str] | None = None) -> str:
        out: list[str] = []
        for part in self._content_parts(roles):
            if isinstance(part, str):
                out.append(part)
            elif part.get("type") == "text" and isinstance(part.get("text"), str):
                out.append(part["text"])
        return "\n".join(out)

    @property
    def text(self) -> str:
        """All text content of all messages, joined with newlines (for substring checks)."""
        return self._joined_text()

    @property
    def system_text(self) -> str:
        """Text of system/developer messages only (prompt-template assertions)."""
        return self._joined_text({"system", "developer"})

    @property
    def user_text(self) -> str:
        """Text of user messages only."""
        return self._joined_text({"user"})

    @property
    def image_urls(self) -> list[str]:
        """Raw ``image_url.url`` values of every image part, in message order."""
        urls: list[str] = []
        for part in self._content_parts():
            if isinstance(part, dict) and part.get("type") == "image_url":
                iu = part.get("image_url")
                url = iu.get("url") if isinstance(iu, dict) else iu
                if isinstance(url, str):
                    urls.append(url)
        return urls

    @property
    def images(self) -> list[bytes | str]:
        """Images sent in ``image_url`` parts: decoded bytes for base64 data URLs.

        Non-data URLs (``http://...``) are returned unchanged as ``str``.  Decoding lets
        tests compare against the exact frame bytes the agent encoded.
        """
        return [_decode_data_url(u) for u in self.image_urls]

    @property
    def image_mime_types(self) -> list[str | None]:
        """MIME type of each image part (``None`` for non-data URLs)."""
        out: list[str | None] = []
        for url in self.image_urls:
            if url.startswith("data:"):
                out.append(url[5:].split(",", 1)[0].split(";", 1)[0] or None)
            else:
                out.append(None)
        return out


def _decode_data_url(url: str) -> bytes | str:
    if not url.startswith("data:") or "," not in url:
        return url
    meta, data = url[5:].split(",", 1)
    if meta.endswith(";base64"):
        try:
            return base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            return url
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(data)


# ----------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request — a normal completion or a fault.

    ``status >= 400`` sends an OpenAI-style error body (``error_body`` or a default for
    the status).  ``delay_s`` sleeps before answering (latency / client-timeout
    injection); the sleep is interrupted when the server closes, so tests never hang.
    ``raw_body`` sends bytes verbatim (e.g. a proxy's HTML 502 page) and
    ``drop_connection`` closes the socket without any response.
    """

    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    status: int = 200
    error_body: dict[str, Any] | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int | None = None  # None: estimated from the request text
    completion_tokens: int | None = None  # None: estimated from the reply
    finish_reason: str | None = None  # None: "tool_calls" if tool_calls else "stop"
    refusal: str | None = None
    raw_body: bytes | str | None = None
    drop_connection: bool = False

    # -- convenience constructors -------------------------------------------------
    @classmethod
    def json(cls, obj: Any, **kw: Any) -> Reply:
        """Content is ``json.dumps(obj)`` — the normal structured-output answer."""
        return cls(content=json.dumps(obj), **kw)

    @classmethod
    def text(cls, s: str, **kw: Any) -> Reply:
        return cls(content=s, **kw)

    @classmethod
    def malformed(cls, content: str = '{"name": "x", ', **kw: Any) -> Reply:
        """A 200 whose content is truncated JSON, as a model cut off mid-object would send."""
        return cls(content=content, **kw)

    @classmethod
    def tool_call(cls, name: str, args: Mapping[str, Any] | str, **kw: Any) -> Reply:
        """One function call; ``args`` may be a dict or a raw (possibly broken) JSON string."""
        arguments = args if isinstance(args, str) else json.dumps(dict(args))
        return cls(tool_calls=[{"name": name, "arguments": arguments}], **kw)

    @classmethod
    def rate_limited(cls, retry_after: float = 0, **kw: Any) -> Reply:
        """429 with OpenAI's error body and retry headers.

        ``retry-after-ms`` is what the ``openai`` client reads first; it ignores a
        delay of exactly 0 and falls back to ~0.5 s exponential backoff, so 0 is sent
        as 1 ms to make retries effectively immediate.
        """
        ms = max(1, round(retry_after * 1000))
        headers = {"retry-after": str(max(0, round(retry_after))), "retry-after-ms": str(ms)}
        headers.update(kw.pop("headers", {}))
        body = _error_body(
            "Rate limit reached for m in organization org-fake on requests per min (RPM): "
            "Limit 1, Used 1, Requested 1.",
            "requests",
            code="rate_limit_exceeded",
        )
        return cls(status=429, error_body=body, headers=headers, **kw)

    @classmethod
    def server_error(cls, status: int = 500, message: str | None = None, **kw: Any) -> Reply:
        """5xx that the ``openai`` client treats as retryable.

        Retries back off ~0.5 s, 1 s, ... unless you pass ``headers={"retry-after-ms": "1"}``.
        """
        return cls(status=status, error_body=_default_error_body(status, message), **kw)

    @classmethod
    def disconnect(cls, **kw: Any) -> Reply:
        """Close the connection without answering (client sees ``APIConnectionError``)."""
        return cls(drop_connection=True, **kw)


def _error_body(
    message: str, type_: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _default_error_body(status: int, message: str | None = None) -> dict[str, Any]:
    kinds = {
        400: ("invalid_request_error", "Invalid request."),
        401: ("invalid_request_error", "Incorrect API key provided."),
        403: ("invalid_request_error", "You are not allowed to access this resource."),
        404: ("invalid_request_error", "The model does not exist or you do not have access."),
        408: ("server_error", "Request timed out."),
        429: ("requests", "Rate limit reached."),
        503: ("server_error", "The engine is currently overloaded, please try again later."),
    }
    default = (
        ("server_error", "The server had an error while processing your request. Sorry about that!")
        if status >= 500
        else ("invalid_request_error", f"HTTP {status}")
    )
    type_, default_msg = kinds.get(status, default)
    return _error_body(message or default_msg, type_)


Responder = Callable[[RecordedRequest], Reply]
"""Anything that maps a request to a reply.  Called on server threads, concurrently."""

ResponderLike = Responder | Reply | Sequence[Reply]


def as_responder(spec: ResponderLike) -> Responder:
    """Normalise a ``Reply`` (always answered) or a list (scripted) into a responder."""
    if isinstance(spec, Reply):
        return lambda _req: spec
    if isinstance(spec, Sequence) and not isinstance(spec, str | bytes):
        return ScriptedResponder(spec)
    if callable(spec):
        return spec
    raise TypeError(f"not a responder: {spec!r}")


def _test_bug(message: str) -> Reply:
    """500 that the client will not retry: the failure is in the test script, not the API."""
    return Reply(
        status=500, error_body=_error_body(message, "fake_server_error"), headers=dict(_NO_RETRY)
    )


class ScriptedResponder:
    """Answers requests with ``replies`` in arrival order, one each.

    When the script runs out it answers a non-retryable 500 naming the extra request
    (so the client error says what went wrong) and records it in ``exhausted``;
    ``assert_exhausted()`` / ``remaining`` let tests check the script was fully used.
    """

    def __init__(self, replies: Sequence[Reply]) -> None:
        self._replies = list(replies)
        self._total = len(self._replies)
        self._lock = threading.Lock()
        self.exhausted: list[RecordedRequest] = []

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._replies)

    def __call__(self, req: RecordedRequest) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.pop(0)
            self.exhausted.append(req)
        return _test_bug(
            f"ScriptedResponder exhausted: request #{req.index} (schema={req.schema_name!r}) "
            f"arrived but only {self._total} replies were scripted"
        )

    def assert_exhausted(self) -> None:
        """Every scripted reply was used and no request went unanswered."""
        assert not self.exhausted, f"{len(self.exhausted)} request(s) beyond the script"
        assert self.remaining == 0, f"{self.remaining} scripted reply(ies) never requested"


class RouteBySchema:
    """Dispatches on ``RecordedRequest.schema_name``.

    Routes may be responders, a single ``Reply`` (always), or a list of replies
    (scripted per route).  Requests with no route go to ``default``; without a default
    they get a non-retryable 500 and are recorded in ``unrouted``.
    """

    def __init__(
        self,
        routes: Mapping[str | None, ResponderLike],
        default: ResponderLike | None = None,
    ) -> None:
        self.routes: dict[str | None, Responder] = {k: as_responder(v) for k, v in routes.items()}
        self.default = as_responder(default) if default is not None else None
        self.unrouted: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def __call__(self, req: RecordedRequest) -> Reply:
        name = req.schema_name
        if name in self.routes:
            return self.routes[name](req)
        if self.default is not None:
            return self.default(req)
        with self._lock:
            self.unrouted.append(req)
        return _test_bug(
            f"RouteBySchema: no route for schema {name!r} (request #{req.index}); "
            f"routes: {sorted(map(str, self.routes))}"
        )


class FaultInjector:
    """Replaces the N-th request (0-based ``RecordedRequest.index``) with a fault reply.

    The index is counted per server over *all* chat-completion requests, retries
    included — so ``first_n(inner, 1, Reply.rate_limited())`` means "the first call is
    rate limited, its retry reaches ``inner``".  Indices actually hit are in ``injected``.
    """

    def __init__(self, inner: ResponderLike, faults: Mapping[int, Reply]) -> None:
        self.inner = as_responder(inner)
        self.faults = dict(faults)
        self.injected: list[int] = []
        self._lock = threading.Lock()

    @classmethod
    def first_n(cls, inner: ResponderLike, n: int, reply: Reply) -> FaultInjector:
        return cls(inner, {i: reply for i in range(n)})

    def __call__(self, req: RecordedRequest) -> Reply:
        fault = self.faults.get(req.index)
        if fault is not None:
            with self._lock:
                self.injected.append(req.index)
            return fault
        return self.inner(req)


# ------------------------------------------------------------------------------ server


class _Closing(Exception):
    """Raised on a handler thread when the server closes during an injected delay."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # handler threads never block interpreter exit
    block_on_close = False  # server_close() must not join sleeping handlers
    request_queue_size = 256  # listen backlog: many concurrent connects must not stall
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects (timeouts, cancelled tasks) are expected, not errors.
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError | _Closing):
            return
        if exc is not None:
            self.owner._record_error(exc)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive like the real API; httpx pools connections
    server: _HTTPServer
    server_version = "FakeOpenAI/1.0"

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        """Silence per-request logging; tests inspect ``srv.requests`` instead."""

    # -- plumbing -------------------------------------------------------------------
    def _send_bytes(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", f"req_fake_{id(self):x}")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_json(self, status: int, obj: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        return self.rfile.read(int(length))

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    # -- endpoints ------------------------------------------------------------------
    def do_GET(self) -> None:
        if self._path() == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake-openai"}
                for m in self.server.owner.models
            ]
            self._send_json(200, {"object": "list", "data": data})
            return
        self._not_found()

    def do_POST(self) -> None:
        if self._path() != "/v1/chat/completions":
            self._read_body()
            self._not_found()
            return
        owner = self.server.owner
        try:
            raw = self._read_body()
        except ValueError:
            raw = None
        body, problem = _validate(raw)
        if problem is not None:
            owner._count_rejected()
            self._send_json(400, problem)
            return
        assert body is not None
        req = owner._record(body, {k.lower(): v for k, v in self.headers.items()}, self.path)
        try:
            reply = owner.responder(req)
            if not isinstance(reply, Reply):
                raise TypeError(f"responder returned {type(reply).__name__}, expected Reply")
        except Exception as exc:  # surfaced via srv.errors and a 500
            owner._record_error(exc)
            reply = _test_bug(f"responder raised {type(exc).__name__}: {exc}")
        try:
            owner._sleep(owner.latency_s + reply.delay_s)
            self._answer(req, reply)
        except _Closing:
            self.close_connection = True

    def _not_found(self) -> None:
        body = _error_body(f"Invalid URL ({self.command} {self.path})", "invalid_request_error")
        self._send_json(404, body)

    def _answer(self, req: RecordedRequest, reply: Reply) -> None:
        if reply.drop_connection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.raw_body is not None:
            payload = reply.raw_body.encode() if isinstance(reply.raw_body, str) else reply.raw_body
            headers = {"Content-Type": "text/plain", **reply.headers}
            ctype = headers.pop("Content-Type")
            self._send_bytes(reply.status, payload, ctype, headers)
            return
        if reply.status >= 400:
            error = reply.error_body or _default_error_body(reply.status)
            self._send_json(reply.status, error, reply.headers)
            return
        completion = _completion(req, reply)
        if req.stream:
            self._stream(req, completion, reply.headers)
        else:
            self._send_json(reply.status, completion, reply.headers)

    def _stream(
        self, req: RecordedRequest, completion: dict[str, Any], headers: Mapping[str, str]
    ) -> None:
        """Server-sent events with chunked transfer encoding, as the real API streams."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        for event in _stream_events(completion, include_usage=req.include_usage):
            self._write_chunk(f"data: {json.dumps(event)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _validate(raw: bytes | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Reject what the real API rejects with 400, so client-side payload bugs surface."""
    parse_msg = (
        "We could not parse the JSON body of your request. (HINT: This likely means you "
        "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
        "but what was sent was not valid JSON. If you have trouble figuring out how to fix "
        "this, please contact us through our help center at help.openai.com.)"
    )
    if not raw:
        return None, _error_body(parse_msg, "invalid_request_error")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None, _error_body(parse_msg, "invalid_request_error")
    if not isinstance(body, dict):
        return None, _error_body(parse_msg, "invalid_request_error")

    def missing(param: str) -> dict[str, Any]:
        return _error_body(
            f"Missing required parameter: '{param}'.",
            "invalid_request_error",
            param=param,
            code="missing_required_parameter",
        )

    def invalid(param: str, msg: str) -> dict[str, Any]:
        return _error_body(msg, "invalid_request_error", param=param, code="invalid_value")

    if not body.get("model"):
        return None, missing("model")
    if not isinstance(body.get("model"), str):
        return None, invalid("model", "Invalid type for 'model': expected a string.")
    messages = body.get("messages")
    if messages is None:
        return None, missing("messages")
    if not isinstance(messages, list) or not messages:
        return None, invalid("messages", "Invalid 'messages': expected a non-empty array.")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or "role" not in msg:
            return None, missing(f"messages[{i}].role")
    broken = _tool_sequence_error(messages)
    if broken is not None:
        return None, invalid("messages", broken)
    rf = body.get("response_format")
    if rf is not None:
        if not isinstance(rf, dict) or rf.get("type") not in {"text", "json_object", "json_schema"}:
            return None, invalid("response_format.type", "Invalid 'response_format.type'.")
        if rf["type"] == "json_schema":
            js = rf.get("json_schema")
            if not isinstance(js, dict) or not js.get("name"):
                return None, missing("response_format.json_schema.name")
    tools = body.get("tools")
    names: set[str] = set()
    if tools is not None:
        if not isinstance(tools, list):
            return None, invalid("tools", "Invalid 'tools': expected an array.")
        for i, tool in enumerate(tools):
            fn = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(fn, dict) or not fn.get("name"):
                return None, missing(f"tools[{i}].function.name")
            names.add(fn["name"])
    tc = body.get("tool_choice")
    if isinstance(tc, dict):
        fn = tc.get("function")
        forced = fn.get("name") if isinstance(fn, dict) else None
        if forced not in names:
            return None, invalid(
                "tool_choice", f"Invalid value for 'tool_choice': no function named {forced!r}."
            )
    return body, None


def _tool_sequence_error(messages: list[dict[str, Any]]) -> str | None:
    """The real API's rule: an assistant message with ``tool_calls`` must be followed by one
    ``tool`` message per call id, and a ``tool`` message must answer such a call."""
    i = 0
    while i < len(messages):
        msg = messages[i]
        i += 1
        if msg.get("role") == "tool":
            return ("Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.")
        calls = msg.get("tool_calls") if msg.get("role") == "assistant" else None
        if not calls:
            continue
        wanted = [c.get("id") for c in calls if isinstance(c, dict)]
        answered = set()
        while i < len(messages) and messages[i].get("role") == "tool":
            answered.add(messages[i].get("tool_call_id"))
            i += 1
        missing_ids = [c for c in wanted if c not in answered]
        if missing_ids:
            return ("An assistant message with 'tool_calls' must be followed by tool messages "
                    "responding to each 'tool_call_id'. The following tool_call_ids did not "
                    f"have response messages: {', '.join(map(str, missing_ids))}")
    return None


def _estimate_tokens(text: str) -> int:
    """Deterministic ~4 chars/token estimate; tests that care set counts explicitly."""
    return max(1, len(text) // 4)


def _completion(req: RecordedRequest, reply: Reply) -> dict[str, Any]:
    tool_calls = None
    if reply.tool_calls:
        tool_calls = [_normalise_tool_call(req, i, tc) for i, tc in enumerate(reply.tool_calls)]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": reply.refusal,
        "annotations": [],
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    finish = reply.finish_reason or ("tool_calls" if tool_calls else "stop")
    out_text = (reply.content or "") + "".join(
        tc["function"]["arguments"] for tc in tool_calls or []
    )
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else _estimate_tokens(req.text)
    completion = (
        reply.completion_tokens
        if reply.completion_tokens is not None
        else _estimate_tokens(out_text)
    )
    return {
        "id": f"chatcmpl-fake{req.index:06d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": req.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _normalise_tool_call(req: RecordedRequest, i: int, tc: Mapping[str, Any]) -> dict[str, Any]:
    """Accept ``{"name", "arguments"}`` or the full OpenAI shape; arguments stay a string."""
    nested = tc.get("function")
    fn: Mapping[str, Any] = nested if isinstance(nested, Mapping) else tc
    args = fn.get("arguments", "{}")
    if not isinstance(args, str):
        args = json.dumps(args)
    return {
        "id": tc.get("id") or f"call_fake{req.index:04d}_{i}",
        "type": "function",
        "function": {"name": fn["name"], "arguments": args},
    }


def _pieces(s: str, n: int = 3) -> list[str]:
    """Split into up to ``n`` pieces so streaming consumers really see several deltas."""
    if not s:
        return []
    size = max(1, -(-len(s) // n))
    return [s[i : i + size] for i in range(0, len(s), size)]


def _stream_events(completion: dict[str, Any], *, include_usage: bool) -> Iterator[dict[str, Any]]:
    base = {k: completion[k] for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"
    message = completion["choices"][0]["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        ev = {**base, "choices": [choice]}
        if include_usage:
            ev["usage"] = None
        return ev

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for piece in _pieces(message.get("content") or ""):
        yield chunk({"content": piece})
    for i, tc in enumerate(message.get("tool_calls") or []):
        head = {
            "index": i,
            "id": tc["id"],
            "type": "function",
            "function": {"name": tc["function"]["name"], "arguments": ""},
        }
        yield chunk({"tool_calls": [head]})
        for piece in _pieces(tc["function"]["arguments"]):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    yield chunk({}, completion["choices"][0]["finish_reason"])
    if include_usage:
        yield {**base, "choices": [], "usage": completion["usage"]}


class FakeOpenAIServer:
    """OpenAI-compatible server on ``127.0.0.1:<ephemeral>`` running in a daemon thread.

    ``latency_s`` is added to every chat reply (on top of ``Reply.delay_s``); each
    request is served on its own thread, so concurrent clients overlap for real —
    that is what makes concurrency benchmarks meaningful.  ``close()`` interrupts
    injected sleeps and severs open keep-alive connections, so a test that timed out
    on the client side never waits for the server.
    """

    def __init__(
        self,
        responder: ResponderLike | None = None,
        *,
        latency_s: float = 0.0,
        models: Sequence[str] = ("m",),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.responder: Responder = as_responder(
            responder if responder is not None else Reply.text("ok")
        )
        self.latency_s = latency_s
        self.models = list(models)
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._counter = itertools.count()
        self._rejected = 0
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._closing = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> Self:
        """Bind and serve; returns ``self`` so ``srv = FakeOpenAIServer(r).start()`` works."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits at most one poll
            name=f"FakeOpenAIServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; idempotent.  Never blocks on in-flight (sleeping) handlers."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._closing.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = dict(self._conns)
        for conn in conns:  # wake handlers blocked reading an idle keep-alive socket
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        # Handlers are daemon threads and now have nothing to wait on; a short join
        # keeps teardown tidy (no stray threads in the next test) but is bounded.
        deadline = time.monotonic() + 1.0
        for thread in conns.values():
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addresses -------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running (use start() or `with`)")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to ``ChatOpenAI`` / ``openai.OpenAI``."""
        return f"{self.url}/v1"

    # -- observations ------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot (a copy) of the chat-completion requests received, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise AssertionError("FakeOpenAIServer received no chat-completion requests")
            return self._requests[-1]

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by responders (each was answered with a non-retryable 500)."""
        with self._lock:
            return list(self._errors)

    @property
    def rejected_count(self) -> int:
        """Chat requests answered 400 because the body was missing or invalid."""
        with self._lock:
            return self._rejected

    def assert_no_errors(self) -> None:
        """Re-raise the first responder exception, so test assertions inside responders count."""
        errors = self.errors
        if errors:
            raise AssertionError(f"{len(errors)} responder error(s); first: {errors[0]!r}") from (
                errors[0]
            )

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests arrived (for tests driving clients on threads)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"got {len(self._requests)} of {n} requests")
                self._cond.wait(left)
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded requests/errors and restart request numbering at 0."""
        with self._lock:
            self._requests.clear()
            self._errors.clear()
            self._rejected = 0
            self._counter = itertools.count()

    def chat_openai(self, **kwargs: Any) -> ChatOpenAI:
        """A real ``ChatOpenAI`` pointed at this server (defaults: model "m", no retries)."""
        from langchain_openai import ChatOpenAI

        params: dict[str, Any] = {"model": "m", "api_key": "test", "max_retries": 0}
        params.update(kwargs)
        return ChatOpenAI(base_url=self.base_url, **params)

    # -- called from handler threads ----------------------------------------------------
    def _record(self, body: dict[str, Any], headers: dict[str, str], path: str) -> RecordedRequest:
        with self._cond:
            req = RecordedRequest(
                body=body, headers=headers, index=next(self._counter), path=path.split("?")[0]
            )
            self._requests.append(req)
            self._cond.notify_all()
            return req

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def _count_rejected(self) -> None:
        with self._lock:
            self._rejected += 1

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._conns[conn] = threading.current_thread()
            else:
                self._conns.pop(conn, None)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._closing.wait(seconds):
            raise _Closing
        if self._closing.is_set():
            raise _Closing


class PeakCounter:
    """Wraps a responder: holds each request ``hold_s`` seconds and counts how many it held at
    once (``peak``): what a cap on requests in flight looks like from the server."""

    def __init__(self, inner: ResponderLike, hold_s: float = 0.3) -> None:
        self.inner = as_responder(inner)
        self.hold_s = hold_s
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def __call__(self, req: RecordedRequest) -> Reply:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(self.hold_s)
        with self._lock:
            self.in_flight -= 1
        return self.inner(req)
