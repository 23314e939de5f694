"""Repair a conversation whose last turn ended half-way, before the model sees it again.

A turn can end between the model asking for tools and the tools answering: the recursion
limit, an endpoint error, Ctrl-C. The checkpoint then holds an assistant message with
``tool_calls`` and no tool message for some of them, and OpenAI-compatible servers reject
every later request of that thread (HTTP 400: "tool_calls must be followed by tool
messages"), so one failed turn would break the conversation for good. Before each model
call this middleware answers every such dangling call with an error tool message, placed
right after the calls it answers, and writes the repaired history back to the checkpoint.
"""

from __future__ import annotations

from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState
from langchain_core.messages import AIMessage, AnyMessage, RemoveMessage, ToolMessage
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.runtime import Runtime

INTERRUPTED = ("error: this tool call was never completed (the turn that made it ended "
               "early); call the tool again if its result is still needed")


def answer_dangling_calls(messages: list[AnyMessage]) -> list[AnyMessage] | None:
    """The history with an error tool message for every unanswered tool call, or ``None``
    when nothing is missing."""
    fixed: list[AnyMessage] = []
    changed = False
    i = 0
    while i < len(messages):
        message = messages[i]
        fixed.append(message)
        i += 1
        if not (isinstance(message, AIMessage) and message.tool_calls):
            continue
        answered = set()
        while i < len(messages) and isinstance(messages[i], ToolMessage):
            answered.add(messages[i].tool_call_id)  # type: ignore[union-attr]
            fixed.append(messages[i])
            i += 1
        for call in message.tool_calls:
            if call.get("id") and call["id"] not in answered:
                fixed.append(ToolMessage(content=INTERRUPTED, tool_call_id=call["id"],
                                         name=call.get("name"), status="error"))
                changed = True
    return fixed if changed else None


class ThreadRepair(AgentMiddleware[Any, Any]):
    """Answers dangling tool calls before the model is called (see the module text)."""

    def before_model(self, state: AgentState[Any],
                     runtime: Runtime[Any]) -> dict[str, Any] | None:
        fixed = answer_dangling_calls(list(state.get("messages") or []))
        if fixed is None:
            return None
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *fixed]}

    async def abefore_model(self, state: AgentState[Any],
                            runtime: Runtime[Any]) -> dict[str, Any] | None:
        return self.before_model(state, runtime)
