"""Progress events a node sends while it works (LangGraph's ``stream_mode="custom"``), and
the signal that tells work still running in threads that its run is over.

The command line's live view and the chat view read them (through ``run_comparison``'s
``on_event``); a node never prints. Event names and fields are listed in docs/architecture.md.

Why a cancellation signal: sync nodes (frame embedding, pose) run in worker threads, which
asyncio cannot cancel. When a run ends early (the endpoint is unreachable, the deadline
passed) those threads would otherwise run to the end, and ``asyncio.run`` waits for them
before the process can exit: a refused connection took 12-89 s to report, depending on how
busy the CPU was. :func:`run_scope` marks the run's context; every :func:`emit` (sent after
each embedded batch, for example) first checks it and stops the thread's work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langgraph.runtime import Runtime

_RUN_OVER: ContextVar[threading.Event | None] = ContextVar("viddiff_run_over", default=None)


class RunCancelled(Exception):
    """Raised inside work of a run that has already ended (nobody will read its result)."""


@contextmanager
def run_scope() -> Iterator[threading.Event]:
    """The extent of one run: on leaving it (result, error or cancellation) the event is set,
    and work of the run still going in threads stops at its next :func:`check_cancelled`.
    Worker threads see the event because LangGraph copies the context into them."""
    over = threading.Event()
    token = _RUN_OVER.set(over)
    try:
        yield over
    finally:
        over.set()
        _RUN_OVER.reset(token)


def check_cancelled() -> None:
    """Raise :class:`RunCancelled` when the current run has ended."""
    over = _RUN_OVER.get()
    if over is not None and over.is_set():
        raise RunCancelled("the run has ended")


def emit(runtime: Runtime[Any], event: str, **data: Any) -> None:
    """Send a custom progress event (``stream_mode="custom"``); silent when nobody listens.
    Raises :class:`RunCancelled` when the run has ended, so long loops that report progress
    stop with it."""
    check_cancelled()
    runtime.stream_writer({"event": event, **data})
