"""What the two judge nodes share: one judge step (ask, validate, retry or repair, cache),
the judge's conversation and an on-disk answer cache.

Why a cache: open-mode scoring asks an LLM judge to match and flip-check statements. Re-scoring
the same predictions (a new report, a resumed run, ``viddiff score``) must give the same numbers
without paying again, so each node stores its *resolved* answer (after validation and any
repair) under a key made of the node, the judge model and the full rendered prompt, which
contains every input. A changed prompt template, input or model is a different key.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel

from viddiff.graphs.eval.state import EvalContext, EvalState
from viddiff.graphs.events import emit
from viddiff.graphs.llm import (
    Feedback,
    StructuredReply,
    ask_structured,
    conversation,
    model_name,
    retry_or_fail,
)
from viddiff.graphs.schemas import UsageRecord
from viddiff.tools.files import write_atomic


class JudgeCache(Protocol):
    """Where evaluation nodes keep resolved judge answers (a JSON object per key)."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryJudgeCache:
    """A dict-backed cache (tests, one-off runs)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.entries[key] = value


class DiskJudgeCache:
    """One small JSON file per answer under ``root``; written atomically, so a killed run
    never leaves a half-written entry that a later run would trust."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        path = self._path(key)
        with self._lock:
            write_atomic(path, json.dumps(value))


def cache_key(node: str, model: str, prompt: str) -> str:
    """The cache key of one judge question: node, judge model and the rendered prompt."""
    blob = json.dumps({"node": node, "model": model, "prompt": prompt}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def judge_conversation(prompt: str, feedback: Feedback | None) -> list[BaseMessage]:
    """The judge's system prompt and task; on a retry, its bad reply and what was wrong."""
    return conversation(prompt, feedback, system="eval_system")


def reject(reply: StructuredReply[Any], problems: list[str]) -> StructuredReply[Any]:
    """A reply that parsed but broke a rule, turned into a bad reply for the retry edge."""
    return StructuredReply(None, "; ".join(problems), reply.raw_text, reply.usage)


R = TypeVar("R", bound=BaseModel)


@dataclass
class JudgeAnswer:
    """A judge node's resolved answer: ``value`` (JSON-able, as cached), the notes of any
    repair, and the usage of the call (none on a cache hit)."""

    value: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    repaired: bool = False
    usage: UsageRecord | None = None
    cached: bool = False

    def update(self, node: str) -> dict[str, Any]:
        """The state update every judge node makes with its answer."""
        out: dict[str, Any] = {"notes": self.notes}
        if self.cached:
            out["cache_hits"] = [node]
        else:
            out["usage"] = [self.usage] if self.usage else []
            out["feedback"] = {node: None}
        if self.repaired:  # only ever set, never cleared: the other judge node may have repaired
            out["repaired"] = True
        return out


@dataclass(frozen=True)
class JudgeStep(Generic[R]):
    """One judge call of an evaluation node: what to ask and how to check the reply.

    ``check`` turns a parsed reply into the resolved answer (a JSON object) and the rules it
    broke; a reply that breaks rules goes back along the retry edge while attempts remain,
    and the last one is used as repaired (``check``'s answer is the repair), with
    ``repair_note`` and the problems in the notes.
    """

    node: str
    schema: type[R]
    check: Callable[[R], tuple[dict[str, Any], list[str]]]
    repair_note: str


async def ask_judge(step: JudgeStep[R], model: BaseChatModel, prompt: str, state: EvalState,
                    runtime: Runtime[EvalContext],
                    cache: JudgeCache | None) -> JudgeAnswer | Command[Any]:
    """Ask the judge (or the cache) for ``step``; a ``Command`` is a retry or the failure."""
    judge = model_name(model)
    ctx = runtime.context
    key = cache_key(step.node, judge, prompt)
    previous = (state.get("feedback") or {}).get(step.node)
    if previous is None and cache is not None:
        hit = cache.get(key)
        if hit is not None:
            # entries written before the shared step kept the value's fields at top level
            return JudgeAnswer(value=hit.get("value", hit),
                               notes=list(hit.get("notes", [])),
                               repaired=bool(hit.get("repaired")), cached=True)
    emit(runtime, "node", node=step.node, status="start")
    reply = await ask_structured(model, step.schema, judge_conversation(prompt, previous),
                                 role="judge", method=ctx.structured_output)
    if reply.parsed is None:
        return retry_or_fail(step.node, reply, previous, max_attempts=ctx.llm_attempts,
                             model=judge)
    value, problems = step.check(reply.parsed)
    attempts = (previous.attempts if previous else 0) + 1
    notes: list[str] = []
    if problems:
        if attempts < ctx.llm_attempts:
            return retry_or_fail(step.node, reject(reply, problems), previous,
                                 max_attempts=ctx.llm_attempts, model=judge)
        notes.append(f"{step.repair_note} after {attempts} judge replies: "
                     + "; ".join(problems))
    if cache is not None:
        cache.put(key, {"value": value, "notes": notes, "repaired": bool(problems)})
    emit(runtime, "node", node=step.node, status="end")
    return JudgeAnswer(value=value, notes=notes, repaired=bool(problems), usage=reply.usage)
