"""Checkpoint serialization that knows viddiff's records.

State is plain data (paths, indices, pydantic records), so any checkpointer can persist a
comparison. LangGraph's msgpack serializer restores a pydantic record only when its type is
registered, and in ``LANGGRAPH_STRICT_MSGPACK`` mode refuses any other; :func:`viddiff_serde`
registers exactly the types a viddiff state (comparison or evaluation graph) can hold, so
checkpoints round-trip to the same objects without "unregistered type" warnings.
"""

from __future__ import annotations

import inspect

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel

from viddiff.graphs import llm, schemas
from viddiff.graphs.eval import state as eval_state
from viddiff.tools import segments
from viddiff.tools.kinematics import results as kinematics_results

__all__ = ["serializable_types", "viddiff_serde"]


def serializable_types() -> list[tuple[str, str]]:
    """(module, class) of every pydantic record a viddiff state can hold (the evaluation
    graph's records included: they travel in its checkpoints)."""
    found: list[tuple[str, str]] = []
    for module in (schemas, llm, kinematics_results, segments, eval_state):
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                found.append((module.__name__, name))
    return found


def viddiff_serde(*extra: tuple[str, str]) -> JsonPlusSerializer:
    """A checkpoint serializer that restores viddiff's records as pydantic objects and
    refuses other unregistered types; add your own ``(module, class)`` pairs as ``extra``."""
    return JsonPlusSerializer(allowed_msgpack_modules=[*serializable_types(), *extra])
