"""Conversation memory of finished comparisons, as agent middleware.

Follow-up questions must be answered from the last result, not by running the videos again.
The ``compare_videos`` tool already returns the full result as its tool message's artifact;
this middleware copies each new one into the agent state under ``comparisons`` (a plain,
checkpointable dict id → :class:`ComparisonResult`, the newest :data:`MAX_STORED` kept) and
tells the model, in the system message of every call, which comparisons it can consult with
``get_result``. So a conversation resumed from SQLite after a restart still knows them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NotRequired, cast

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from viddiff.agent.chat.stored_results import as_result, results_in
from viddiff.graphs.schemas import ComparisonResult

MAX_STORED = 20
"""Comparisons kept in the state; older ones stay readable from their tool messages."""


def merge_comparisons(left: dict[str, ComparisonResult] | None,
                      right: dict[str, ComparisonResult] | None
                      ) -> dict[str, ComparisonResult]:
    """Newer results replace older ones with the same id; only the newest few are kept."""
    merged = dict(left or {})
    for cid, result in (right or {}).items():
        merged.pop(cid, None)
        merged[cid] = result
    return dict(list(merged.items())[-MAX_STORED:])


class ChatState(AgentState[Any]):
    """The agent state plus the comparisons of this conversation."""

    comparisons: NotRequired[Annotated[dict[str, ComparisonResult], merge_comparisons]]


def listing(comparisons: dict[str, Any]) -> str:
    """One line per stored comparison, newest last, for the system message."""
    lines = []
    for cid, value in comparisons.items():
        result = as_result(value)
        if result is None:
            continue
        answers = ", ".join(f"{d.name}={d.label or d.status}" for d in result.differences[:8])
        lines.append(f"- {cid}: {result.action!r}, A={result.video_a.path}, "
                     f"B={result.video_b.path}; {answers}")
    return "\n".join(lines)


class ComparisonMemory(AgentMiddleware[ChatState, Any]):
    """Keeps ``comparisons`` in the state and lists them to the model."""

    state_schema = ChatState

    def before_model(self, state: ChatState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Store the results that arrived in this turn (since the last user message)."""
        messages = list(state.get("messages") or [])
        last_user = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)),
                        default=-1)
        known = state.get("comparisons") or {}
        new = {cid: result for cid, result in results_in(messages[last_user + 1:]).items()
               if as_result(known.get(cid)) != result}  # a re-run replaces the stored one
        return {"comparisons": new} if new else None

    async def abefore_model(self, state: ChatState,
                            runtime: Runtime[Any]) -> dict[str, Any] | None:
        return self.before_model(state, runtime)

    def _with_listing(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        text = listing(cast(dict[str, Any], request.state.get("comparisons") or {}))
        if not text:
            return request
        base = request.system_message.text if request.system_message is not None else ""
        note = ("Comparisons already run in this conversation (use get_result with these ids "
                "for follow-up questions):\n" + text)
        return request.override(system_message=SystemMessage(f"{base}\n\n{note}".strip()))

    def wrap_model_call(self, request: ModelRequest[Any],
                        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
                        ) -> ModelResponse[Any]:
        return handler(self._with_listing(request))

    async def awrap_model_call(
        self, request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        return await handler(self._with_listing(request))
