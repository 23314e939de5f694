"""Run a compiled comparison graph to completion and turn failures into one-line errors.

Shared by the command line, the chat tool and the eval runner, so each gets the same
behaviour: progress events forwarded to a callback, the result returned, and every way a run
can fail (bad input, unreachable endpoint, unusable replies) raised as a ``VidDiffError``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import ComparisonResult, RunError
from viddiff.tools.errors import EndpointError, ModelReplyError, VidDiffError

EventCallback = Callable[[dict[str, Any]], None]


def endpoint_error(exc: BaseException) -> EndpointError | None:
    """Map the OpenAI client's transport/auth errors to a one-line ``EndpointError``."""
    try:
        import openai
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, openai.APITimeoutError):
        return EndpointError(f"the model endpoint timed out ({exc.request.url})")
    if isinstance(exc, openai.APIConnectionError):
        return EndpointError(f"cannot reach the model endpoint ({exc.request.url}): check "
                             f"OPENAI_BASE_URL / --base-url, or use --offline")
    if isinstance(exc, openai.AuthenticationError):
        return EndpointError("the model endpoint refused the API key (HTTP 401): check "
                             "OPENAI_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return EndpointError(f"the model endpoint does not know this model or path "
                             f"(HTTP 404): {exc.message}")
    if isinstance(exc, openai.APIStatusError):
        return EndpointError(f"the model endpoint failed with HTTP {exc.status_code} after "
                             f"retries: {exc.message}")
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
    try:
        async for mode, chunk in graph.astream(request, config=run_config,  # type: ignore[call-overload]
                                               context=context,
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
        mapped = endpoint_error(exc)
        if mapped is not None:
            raise mapped from exc
        raise
    if error is not None:
        raise ModelReplyError(error.message)
    if result is None:
        raise VidDiffError("the comparison ended without a result (see the log for details)")
    return result
