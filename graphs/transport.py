"""HTTP transport of the model clients: fail in seconds when the endpoint is gone or hung.

The ``openai`` client retries every failure the same way: up to ``max_retries`` more tries
with a growing backoff, whether the server said "429, slow down" or nobody listens on the
port at all, and a request that timed out is sent again in full. That is right for rate
limits and 5xx replies, which pass, and wrong for the two ways an endpoint is simply not
there: a refused connection (nothing listens: one quick retry covers a server restarting,
more only delays the message) and a request that got no answer within ``--timeout`` (a
hung server answers the next try no better; four tries made a run wait 8 minutes).

This transport sits under the client's retry loop: it retries a refused connection once
after a short pause, then raises the ``openai`` error itself, which the client passes on
without retrying (it never retries its own ``OpenAIError``s). HTTP replies (429, 5xx) go
up unchanged to the client's own backoff.

A :class:`CallGate` may sit above all that: every request waits for one of a fixed number of
slots before it is sent and frees it when the reply (or the error) is back, so a whole run, or
a whole cluster of workers sharing one gate (``viddiff.evals.cluster.gate``), never has more
requests in flight than the API's rate limit allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

import httpx2
import openai

from viddiff.tools.errors import one_line

CONNECT_RETRY_DELAY_S = 0.5
"""Pause before the one retry of a refused connection."""


def _connection_error(request: httpx2.Request, exc: BaseException,
                      attempts: int) -> openai.APIConnectionError:
    return openai.APIConnectionError(
        message=f"{one_line(exc) or type(exc).__name__}; tried {attempts} times",
        request=request)


def _timeout_error(request: httpx2.Request, timeout_s: float | None) -> openai.APITimeoutError:
    err = openai.APITimeoutError(request=request)
    if timeout_s:
        err.message = f"no answer within {timeout_s:g} s"
    return err


def _read_timeout(request: httpx2.Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    value = timeouts.get("read") if isinstance(timeouts, dict) else None
    return float(value) if isinstance(value, int | float) else None


class CallGate(Protocol):
    """Caps the model requests in flight: ``async with gate.slot(): send one request``."""

    def slot(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class LocalCallGate:
    """A :class:`CallGate` for one process and one event loop: at most ``limit`` requests in
    flight (``None``: no cap)."""

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("a call gate needs a limit >= 1 (or None)")
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit) if limit else None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._semaphore is None:
            yield
            return
        async with self._semaphore:
            yield


class GatedAsyncTransport(httpx2.AsyncBaseTransport):
    """Holds one of ``gate``'s slots for each request, from before it is sent until its reply
    is read (a reply read later, by streaming, is read inside the slot too)."""

    def __init__(self, gate: CallGate, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.gate = gate
        self.inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        async with self.gate.slot():
            response = await self.inner.handle_async_request(request)
            await response.aread()  # the body is the slow part of a streamed reply
            return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class FailFastAsyncTransport(httpx2.AsyncBaseTransport):
    """Async transport: one quick retry of a refused connection, no retry of a timeout."""

    def __init__(self, inner: httpx2.AsyncBaseTransport | None = None, *,
                 connect_retries: int = 1,
                 retry_delay_s: float = CONNECT_RETRY_DELAY_S) -> None:
        self.inner = inner or httpx2.AsyncHTTPTransport()
        self.connect_retries = connect_retries
        self.retry_delay_s = retry_delay_s

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.inner.handle_async_request(request)
            except httpx2.ConnectError as exc:  # nothing was sent: safe to try again
                if attempt > self.connect_retries:
                    raise _connection_error(request, exc, attempt) from exc
                await asyncio.sleep(self.retry_delay_s)
            except httpx2.TimeoutException as exc:
                raise _timeout_error(request, _read_timeout(request)) from exc

    async def aclose(self) -> None:
        await self.inner.aclose()


class FailFastTransport(httpx2.BaseTransport):
    """The same rules for the synchronous client (``invoke`` instead of ``ainvoke``)."""

    def __init__(self, inner: httpx2.BaseTransport | None = None, *,
                 connect_retries: int = 1,
                 retry_delay_s: float = CONNECT_RETRY_DELAY_S) -> None:
        self.inner = inner or httpx2.HTTPTransport()
        self.connect_retries = connect_retries
        self.retry_delay_s = retry_delay_s

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.inner.handle_request(request)
            except httpx2.ConnectError as exc:
                if attempt > self.connect_retries:
                    raise _connection_error(request, exc, attempt) from exc
                time.sleep(self.retry_delay_s)
            except httpx2.TimeoutException as exc:
                raise _timeout_error(request, _read_timeout(request)) from exc

    def close(self) -> None:
        self.inner.close()


def http_clients(timeout_s: float, gate: CallGate | None = None) -> dict[str, Any]:
    """``http_client`` / ``http_async_client`` arguments for ``ChatOpenAI``. With a ``gate``
    the async client's requests (every graph and eval call) wait for its slots; the sync
    client (``invoke``, used by nothing in a run) is not gated."""
    inner = GatedAsyncTransport(gate) if gate is not None else None
    return {
        "http_client": openai.DefaultHttpx2Client(transport=FailFastTransport(),
                                                  timeout=timeout_s),
        "http_async_client": openai.DefaultAsyncHttpx2Client(
            transport=FailFastAsyncTransport(inner), timeout=timeout_s),
    }
