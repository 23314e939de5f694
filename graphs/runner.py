"""Run a compiled comparison graph to completion and turn failures into one-line errors.

Shared by the command line, the chat tool and the eval runner, so each gets the same
behaviour: progress events forwarded to a callback, the result returned, and every way a run
can fail (bad input, unreachable endpoint, unusable replies) raised as a ``VidDiffError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import run_scope
from viddiff.graphs.schemas import ComparisonResult, RunError
from viddiff.tools.errors import EndpointError, ModelReplyError, VidDiffError, one_line

EventCallback = Callable[[dict[str, Any]], None]


def _where(exc: Any) -> str:
    """The endpoint a client error is about: scheme, host, port and path of its request."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None)
    return str(url) if url is not None else "the model endpoint"


def _detail(exc: BaseException) -> str:
    """The most specific message in the error's chain: langchain-openai re-raises the
    client's errors as new ones with a generic text ("Request timed out."), while the one
    underneath, raised by :mod:`viddiff.graphs.transport`, says what happened."""
    message = str(getattr(exc, "message", "") or exc)
    cause = exc.__cause__
    while cause is not None:
        if type(cause).__module__.startswith("openai") and getattr(cause, "message", None):
            message = str(cause.message)  # type: ignore[attr-defined]
        cause = cause.__cause__
    return one_line(message)


def endpoint_error(exc: BaseException) -> EndpointError | None:
    """Map the OpenAI client's transport/auth errors to a one-line ``EndpointError`` that
    names the endpoint and what happened."""
    try:
        import openai
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, openai.APITimeoutError):
        return EndpointError(f"the model endpoint {_where(exc)} did not answer in time "
                             f"({_detail(exc)}): raise --timeout / VIDDIFF_TIMEOUT "
                             f"or check the server")
    if isinstance(exc, openai.APIConnectionError):
        return EndpointError(f"cannot reach the model endpoint {_where(exc)} "
                             f"({_detail(exc)}): check OPENAI_BASE_URL / "
                             f"--base-url, or use --offline")
    if isinstance(exc, openai.AuthenticationError):
        return EndpointError(f"the model endpoint {_where(exc)} refused the API key "
                             f"(HTTP 401): check OPENAI_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return EndpointError(f"the model endpoint {_where(exc)} does not know this model or "
                             f"path (HTTP 404): {one_line(exc.message)}")
    if isinstance(exc, openai.APIStatusError):
        return EndpointError(f"the model endpoint {_where(exc)} failed with HTTP "
                             f"{exc.status_code} after retries: {one_line(exc.message)}")
    return None


async def run_comparison(
    graph: CompiledStateGraph[Any, Any, Any, Any],
    request: dict[str, Any],
    context: VidDiffContext,
    on_event: EventCallback | None = None,
    config: dict[str, Any] | None = None,
) -> ComparisonResult:
    """Stream the graph, forwarding custom progress events; return the result or raise."""
    result: ComparisonResult | None = None
    error: RunError | None = None
    run_config: dict[str, Any] = {"max_concurrency": context.max_concurrency,
                                  "recursion_limit": 200, **(config or {})}
    deadline = asyncio.timeout(context.deadline_s)
    try:
        with run_scope():  # on any way out, work still going in threads stops
            async with deadline:
                async for mode, chunk in graph.astream(  # type: ignore[call-overload]
                        request, config=run_config, context=context,
                        stream_mode=["custom", "updates"]):
                    if mode == "custom":
                        if on_event is not None and isinstance(chunk, dict):
                            on_event(chunk)
                        continue
                    for update in (chunk or {}).values():
                        if not isinstance(update, dict):
                            continue
                        if update.get("result") is not None:
                            result = update["result"]
                        if update.get("error") is not None:
                            error = update["error"]
    except VidDiffError:
        raise
    except Exception as exc:
        if isinstance(exc, TimeoutError) and deadline.expired():
            raise EndpointError(f"the run did not finish within its deadline of "
                                f"{context.deadline_s:g} s (--deadline)") from None
        mapped = endpoint_error(exc)
        if mapped is not None:
            raise mapped from exc
        raise
    if error is not None:
        raise ModelReplyError(error.message)
    if result is None:
        raise VidDiffError("the comparison ended without a result (see the log for details)")
    return result
