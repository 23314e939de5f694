"""Building the chat at the edge: models from settings, the comparison graph, the SQLite store.

The terminal chat (``viddiff chat``) and the server (``langgraph dev``) both start here, so
they pick models, engines and persistence the same way. Everything below this layer takes
what it needs as arguments.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viddiff.graphs.models import EndpointSettings, build_models
from viddiff.tools.errors import ConfigError

if TYPE_CHECKING:  # the model and graph stack loads when a chat starts, not at --help
    from langchain_core.language_models import BaseChatModel
    from langgraph.graph.state import CompiledStateGraph

    from viddiff.graphs.context import VidDiffContext
    from viddiff.graphs.engine import Engine

CHAT_MODEL_ENV = "VIDDIFF_CHAT_MODEL"
CHAT_DB_ENV = "VIDDIFF_CHAT_DB"


def default_chat_db(env: Mapping[str, str] | None = None) -> Path:
    """``VIDDIFF_CHAT_DB``, else ``$XDG_STATE_HOME/viddiff/chat.sqlite`` (~/.local/state)."""
    env = os.environ if env is None else env
    if env.get(CHAT_DB_ENV):
        return Path(env[CHAT_DB_ENV]).expanduser()
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state).expanduser() / "viddiff" / "chat.sqlite"


def chat_model(settings: EndpointSettings, name: str | None = None,
               env: Mapping[str, str] | None = None) -> BaseChatModel:
    """The chat model: ``name``, else ``VIDDIFF_CHAT_MODEL``, else the proposer's model, on
    the same endpoint as the comparison models. Needs a configured endpoint."""
    if not settings.configured:
        raise ConfigError("viddiff chat needs a chat model: set OPENAI_API_KEY and/or "
                          "OPENAI_BASE_URL (or pass --base-url)")
    env = os.environ if env is None else env
    chosen = name or env.get(CHAT_MODEL_ENV) or settings.models["proposer"]
    return build_models(settings.with_overrides(model=chosen)).proposer


def comparison_graph(settings: EndpointSettings, *, offline: bool = False,
                     context: VidDiffContext | None = None,
                     ) -> tuple[CompiledStateGraph[Any, Any, Any, Any], Engine]:
    """The compiled graph ``compare_videos`` runs, from :func:`viddiff.graphs.engine.
    choose_engine`: VidDiff with models from ``settings``, or the offline pose engine when
    asked or when no endpoint is configured (reading statements with the endpoint's model
    when ``context.understand_with`` asks for it)."""
    # LangGraph: at chat start
    from viddiff.graphs.engine import choose_engine, create_graph, reader_model

    decision = choose_engine("offline" if offline else "auto", settings=settings)
    reader = reader_model(context, settings) if context is not None \
        and decision.engine == "offline" else None
    return create_graph(engine=decision, reader=reader), decision.engine


@asynccontextmanager
async def sqlite_checkpointer(path: Path) -> AsyncIterator[Any]:
    """An async SQLite checkpointer at ``path`` (created, with its folder) that restores
    viddiff's records as pydantic objects."""
    # the SQLite checkpointer and LangGraph load when a chat starts, not at --help
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from viddiff.graphs.serde import viddiff_serde

    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        yield AsyncSqliteSaver(conn, serde=viddiff_serde())
