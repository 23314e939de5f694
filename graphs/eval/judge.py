"""What the evaluation nodes share: the judge's conversation and an on-disk answer cache.

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
from pathlib import Path
from typing import Any, Protocol

from langchain_core.messages import BaseMessage

from viddiff.graphs.llm import Feedback, StructuredReply, conversation
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
