"""The one structured-output helper every LLM/VLM node uses.

A node asks its model for a reply that must fit a pydantic schema (provider-enforced where the
server supports it). When the reply does not parse or validate, the node does not raise: it
sends itself the bad reply and the error along a *retry edge* (``Command(goto=<itself>)``), so
the model sees what was wrong. After ``llm_attempts`` replies the run stops in a defined failed
state (``error`` in the graph state) with a one-line message. Transient transport errors (429,
5xx, timeouts) are a different matter: they are retried with backoff by the client and by the
node's :data:`TRANSIENT_RETRY` policy, because the reply never arrived at all.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.graph import END
from langgraph.types import Command, RetryPolicy
from pydantic import BaseModel, Field, ValidationError

from viddiff.graphs.schemas import RunError, UsageRecord, UsageSummary
from viddiff.prompts import load_prompt, render

T = TypeVar("T", bound=BaseModel)
StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]


class Feedback(BaseModel):
    """What went wrong with a node's last reply; travels back along the retry edge."""

    attempts: int
    error: str
    raw: str
    earlier: list[str] = Field(default_factory=list)
    """Errors of the attempts before the last, oldest first (for the give-up message)."""

    def errors(self) -> list[str]:
        """Every attempt's error so far, oldest first."""
        return [*self.earlier, self.error]

    @classmethod
    def after(cls, previous: Feedback | None, error: str | None, raw: str) -> Feedback:
        """The feedback of the next attempt: this reply's error, and those before it."""
        return cls(attempts=(previous.attempts if previous else 0) + 1,
                   error=error or "unusable reply", raw=raw[:4000],
                   earlier=previous.errors() if previous else [])


def attempts_summary(previous: Feedback | None, last_error: str | None) -> str:
    """Every attempt's error in one line, ``attempt 1: ...; attempts 2-3: ...`` (consecutive
    repeats merged), so a give-up message shows all that went wrong, not just the last."""
    errors = [*(previous.errors() if previous else []), last_error or "unusable reply"]
    runs: list[tuple[int, int, str]] = []
    for i, err in enumerate(errors, 1):
        if runs and runs[-1][2] == err:
            runs[-1] = (runs[-1][0], i, err)
        else:
            runs.append((i, i, err))
    return "; ".join(f"attempt {a}: {e}" if a == b else f"attempts {a}-{b}: {e}"
                     for a, b, e in runs)


def model_name(model: BaseChatModel) -> str:
    """A readable name for a chat model (``model_name`` on OpenAI clients)."""
    for attr in ("model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def is_transient(exc: BaseException) -> bool:
    """True for replies worth asking again unchanged at node level: rate limits and 5xx.

    Lost connections and timeouts are left to the client's own retries (``max_retries``):
    retrying them again per node would multiply the wait before an unreachable endpoint is
    reported, without helping.
    """
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai always brings openai
        return False
    if isinstance(exc, openai.RateLimitError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


TRANSIENT_RETRY = RetryPolicy(initial_interval=1.0, backoff_factor=2.0, max_attempts=2,
                              retry_on=is_transient)
"""Node-level retry for replies that never arrived (on top of the client's own retries)."""


def summarize_error(exc: BaseException | str) -> str:
    """One line describing why a reply was unusable, for the model and for people."""
    if isinstance(exc, str):
        return " ".join(exc.split())
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ValidationError):
            bad_json = [e for e in cause.errors() if e.get("type") == "json_invalid"]
            if bad_json:
                return f"the reply is not valid JSON ({bad_json[0].get('msg', '')})"
            parts = []
            for err in cause.errors()[:4]:
                where = ".".join(str(p) for p in err.get("loc", ())) or "reply"
                parts.append(f"{where}: {err.get('msg', 'invalid')}")
            return "the reply does not match the schema (" + "; ".join(parts) + ")"
        if isinstance(cause, json.JSONDecodeError):
            return f"the reply is not valid JSON ({cause.msg} at position {cause.pos})"
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(exc).split())
    return (text[:300] + "…") if len(text) > 300 else text or type(exc).__name__


@dataclass
class StructuredReply(Generic[T]):
    """A model's reply: the parsed object, or why there is none, plus the raw text and tokens."""

    parsed: T | None
    error: str | None
    raw_text: str
    usage: UsageRecord


def _reply_payload(raw: Any) -> tuple[str, str | None]:
    """The JSON text a reply carries (message content, or the first tool call's arguments),
    and an error when there is none to parse."""
    if not isinstance(raw, AIMessage):
        return "", "no reply message"
    if raw.tool_calls:
        return json.dumps(raw.tool_calls[0].get("args", {})), None
    invalid = getattr(raw, "invalid_tool_calls", None) or []
    if invalid:
        args = str(invalid[0].get("args") or "")
        return args, f"the tool-call arguments are not valid JSON: {invalid[0].get('error')}"
    if isinstance(raw.content, str):
        return raw.content, None
    text = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in raw.content)
    return text, None


def _strip_fences(text: str) -> str:
    """Some servers wrap JSON in a Markdown fence even in JSON mode; unwrap it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()


def _usage(raw: Any, role: str, model: str) -> UsageRecord:
    meta = getattr(raw, "usage_metadata", None) or {}
    return UsageRecord(role=role, model=model, input_tokens=int(meta.get("input_tokens", 0)),
                       output_tokens=int(meta.get("output_tokens", 0)))


async def ask_structured(
    model: BaseChatModel,
    schema: type[T],
    messages: Sequence[BaseMessage],
    *,
    role: str,
    method: StructuredMethod = "json_schema",
    validate: Callable[[T], T] | None = None,
    wire_schema: dict[str, Any] | None = None,
) -> StructuredReply[T]:
    """Ask ``model`` for a ``schema`` reply; never raises for a bad reply, only for transport.

    The schema goes to the provider as a plain JSON schema (so the server enforces it where it
    can), but the reply is parsed here, strictly: langchain's own parsers either raise from
    inside the client (pydantic path) or silently accept truncated JSON (dict path), and both
    would lose the raw text the model needs to see on a retry. ``validate`` adds checks the
    schema cannot express (unique names) and repairs what it safely can; its ``ValueError``
    counts as a bad reply. ``wire_schema`` replaces the schema sent (same shape, tighter
    bounds the server should enforce, e.g. ``maxItems``), while ``schema`` parses leniently.
    """
    runnable = _structured_runnable(model, schema, method, wire_schema)
    out = await runnable.ainvoke(list(messages))
    return _structured_reply(out, model, schema, role=role, validate=validate)


def ask_structured_sync(
    model: BaseChatModel,
    schema: type[T],
    messages: Sequence[BaseMessage],
    *,
    role: str,
    method: StructuredMethod = "json_schema",
    validate: Callable[[T], T] | None = None,
    wire_schema: dict[str, Any] | None = None,
) -> StructuredReply[T]:
    """:func:`ask_structured` for sync nodes, which LangGraph runs in worker threads: they
    have no event loop of their own to await on, and the client's async connections belong
    to another loop."""
    runnable = _structured_runnable(model, schema, method, wire_schema)
    out = runnable.invoke(list(messages))
    return _structured_reply(out, model, schema, role=role, validate=validate)


def _structured_runnable(model: BaseChatModel, schema: type[T], method: StructuredMethod,
                         wire_schema: dict[str, Any] | None) -> Any:
    """The structured-output call both :func:`ask_structured` and its sync twin make: the
    wire schema (or the parsing schema's) sent, the raw reply kept for parsing here."""
    spec = wire_schema if wire_schema is not None else schema.model_json_schema()
    return model.with_structured_output(spec, method=method, include_raw=True)


def _structured_reply(out: Any, model: BaseChatModel, schema: type[T], *, role: str,
                      validate: Callable[[T], T] | None) -> StructuredReply[T]:
    """The parsed reply of one structured-output call, or why there is none (see
    :func:`ask_structured`)."""
    raw = out.get("raw") if isinstance(out, dict) else out
    usage = _usage(raw, role, model_name(model))
    text, error = _reply_payload(raw)
    if error is not None:
        return StructuredReply(None, error, text, usage)
    if not text.strip():
        return StructuredReply(None, "the reply was empty", text, usage)
    try:
        parsed = schema.model_validate_json(_strip_fences(text))
    except ValidationError as exc:
        return StructuredReply(None, summarize_error(exc), text, usage)
    if validate is not None:
        try:
            parsed = validate(parsed)
        except ValueError as exc:
            return StructuredReply(None, summarize_error(str(exc)), text, usage)
    return StructuredReply(parsed, None, text, usage)


def conversation(prompt: str, feedback: Feedback | None,
                 images: Sequence[dict[str, Any]] = (), *,
                 system: str = "system") -> list[BaseMessage]:
    """System + user prompt, then — on a retry — the bad reply and what was wrong with it.

    ``system`` names the system-prompt template (the eval judge has its own)."""
    content: str | list[str | dict[Any, Any]] = prompt
    if images:
        content = [{"type": "text", "text": prompt}, *images]
    messages: list[BaseMessage] = [SystemMessage(load_prompt(system).strip()),
                                   HumanMessage(content=content)]
    if feedback is not None:
        messages.append(AIMessage(content=feedback.raw or "(empty reply)"))
        messages.append(HumanMessage(content=render("retry", error=feedback.error)))
    return messages


def retry_or_fail(
    node: str,
    reply: StructuredReply[Any],
    previous: Feedback | None,
    *,
    max_attempts: int,
    model: str,
    retry_goto: Any = None,
    extra_update: dict[str, Any] | None = None,
) -> Command[Any]:
    """Route a bad reply back to ``node`` (the retry edge) or, past the limit, end the run.

    ``retry_goto`` overrides the retry destination (a ``Send`` for fanned-out nodes, whose
    feedback travels in the payload instead of the state).
    """
    feedback = Feedback.after(previous, reply.error, reply.raw_text)
    attempts = feedback.attempts
    update: dict[str, Any] = {"usage": [reply.usage], **(extra_update or {})}
    if attempts < max_attempts:
        if retry_goto is None:
            update["feedback"] = {node: feedback}
            return Command(update=update, goto=node)
        return Command(update=update, goto=retry_goto(feedback))
    message = (f"{node}: model '{model}' gave no usable reply after {attempts} attempts "
               f"({attempts_summary(previous, reply.error)})")
    update["error"] = RunError(node=node, message=message)
    return Command(update=update, goto=END)


def summarize_usage(records: list[UsageRecord]) -> list[UsageSummary]:
    """Tokens per (role, model), in the order roles were first used."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for rec in records:
        t = totals[(rec.role, rec.model)]
        t[0] += 1
        t[1] += rec.input_tokens
        t[2] += rec.output_tokens
    return [UsageSummary(role=r, model=m, calls=c, input_tokens=i, output_tokens=o)
            for (r, m), (c, i, o) in totals.items()]
