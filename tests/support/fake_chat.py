"""Scripted fake chat models for fast unit tests of LLM nodes.

``ScriptedChatModel`` subclasses langchain's ``FakeMessagesListChatModel`` so the graph sees a
real ``BaseChatModel``: ``with_structured_output`` (json_schema / json_mode / function_calling
shapes, ``include_raw``) and ``bind_tools`` behave like langchain-openai's. Replies are scripted
per reply schema, because nodes run concurrently and a single ordered list would race.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, Field, PrivateAttr

Reply = str | dict[str, Any] | BaseModel | AIMessage | Callable[[list[BaseMessage]], Any]


@dataclass
class Call:
    schema: str | None
    messages: list[BaseMessage]

    @property
    def images(self) -> list[str]:
        """Data URLs of every image in the call."""
        urls = []
        for message in self.messages:
            if isinstance(message.content, list):
                urls += [p["image_url"]["url"] for p in message.content
                         if isinstance(p, dict) and p.get("type") == "image_url"]
        return urls

    @property
    def text(self) -> str:
        parts = []
        for message in self.messages:
            if isinstance(message.content, str):
                parts.append(message.content)
            else:
                parts += [p.get("text", "") for p in message.content if isinstance(p, dict)]
        return "\n".join(parts)


class ScriptedChatModel(FakeMessagesListChatModel):
    """A fake chat model whose replies are scripted per structured-output schema name.

    ``script`` maps a schema name (e.g. ``"StageTranscript"``) to a list of replies used in
    order (the last one repeats) or to one reply. A reply is a JSON string (sent verbatim, so
    malformed JSON can be scripted), a dict or pydantic object (dumped as JSON), an
    ``AIMessage``, or a callable taking the messages and returning any of those. Calls made
    through ``bind_tools`` use the ``"tools"`` entry (script an ``AIMessage`` with tool calls).
    """

    responses: list[BaseMessage] = Field(default_factory=list)
    model_name: str = "scripted-model"
    script: dict[str, Any] = Field(default_factory=dict)
    _calls: list[Call] = PrivateAttr(default_factory=list)
    _counts: dict[str, int] = PrivateAttr(default_factory=lambda: defaultdict(int))

    @property
    def calls(self) -> list[Call]:
        return self._calls

    def calls_for(self, schema: str) -> list[Call]:
        return [c for c in self._calls if c.schema == schema]

    def _next_reply(self, schema: str | None, messages: list[BaseMessage]) -> AIMessage:
        key = schema or "text"
        if key not in self.script:
            raise AssertionError(f"no scripted reply for schema {key!r}")
        entry = self.script[key]
        if isinstance(entry, list):
            n = self._counts[key]
            self._counts[key] += 1
            entry = entry[min(n, len(entry) - 1)]
        if callable(entry) and not isinstance(entry, BaseModel):
            entry = entry(messages)
        if isinstance(entry, AIMessage):
            return entry
        if isinstance(entry, BaseModel):
            entry = entry.model_dump_json()
        elif isinstance(entry, dict | list):
            entry = json.dumps(entry)
        return AIMessage(content=str(entry), usage_metadata={
            "input_tokens": 100, "output_tokens": 20, "total_tokens": 120})

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        schema = kwargs.get("schema_name") or ("tools" if kwargs.get("tools") else None)
        self._calls.append(Call(schema, list(messages)))
        return ChatResult(generations=[ChatGeneration(message=self._next_reply(schema,
                                                                              list(messages)))])

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, Any]:
        """Replies to tool-bound calls come from the script's ``"tools"`` entry."""
        return self.bind(tools=[getattr(t, "name", None) or t["function"]["name"]
                                for t in tools], **kwargs)

    def with_structured_output(self, schema: Any, *, include_raw: bool = False,
                               method: str = "json_schema", **kwargs: Any) -> Runnable[Any, Any]:
        """Same output shape as langchain-openai's, parsing the reply text as JSON.

        ``schema`` is a pydantic class or a JSON schema dict (named by its ``title``)."""
        if isinstance(schema, dict):
            llm = self.bind(schema_name=schema.get("title"))
            parser: Runnable[Any, Any] = JsonOutputParser()
        else:
            llm = self.bind(schema_name=schema.__name__)
            parser = PydanticOutputParser(pydantic_object=schema)
        if not include_raw:
            return llm | parser
        parse = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser,
                                           parsing_error=lambda _: None)
        none = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parse.with_fallbacks([none], exception_key="parsing_error")


_tool_call_ids = itertools.count(1)


def tool_call(name: str, args: dict[str, Any] | None = None, *, call_id: str | None = None,
              content: str = "") -> AIMessage:
    """A scripted reply that calls one tool, for the ``"tools"`` entry of a script.

    Agent conversations are scripted as a list under ``"tools"``: each model call takes the
    next reply, e.g. ``[tool_call("compare_videos", {...}), "B squats deeper.", ...]`` (a
    plain string is the final text answer of that turn).
    """
    return AIMessage(content=content, tool_calls=[{
        "name": name, "args": dict(args or {}), "id": call_id or f"call_{next(_tool_call_ids)}",
        "type": "tool_call"}])
