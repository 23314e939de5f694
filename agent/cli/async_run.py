"""Run a command's coroutine so that a failed run ends the process at once.

``asyncio.run`` waits, on the way out, for every worker thread the loop started: LangGraph runs
sync nodes (CLIP embedding, pose) in them, and asyncio cannot cancel a thread. So when the
endpoint refused the first request, the command still sat there until the embedding of both
videos was done (12-89 s measured, depending on the machine's load) before it could say so.

Here the loop gets its own executor, which is shut down without waiting; the command prints its
one line, and :func:`exit_code` ends the process without joining threads still computing
results nobody will read (every file viddiff writes is written atomically, so an abandoned
thread leaves no half file behind).

Ctrl-C is handled the way ``asyncio.Runner`` does: the first SIGINT cancels the command's
task (its model calls and the graph's tasks are cancelled with it) and the run then raises
``KeyboardInterrupt`` for ``main`` to say "viddiff: interrupted". Python's own handler raised
``KeyboardInterrupt`` inside whichever task happened to be running: that task died with it,
and at exit asyncio logged it, and every other such task, as "Task exception was never
retrieved" with a traceback each (76 lines in one ``viddiff eval``). A second Ctrl-C raises at
once, for a run that does not stop; those tasks' exceptions are not logged either.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
WORKER_PREFIX = "viddiff-worker"


def _quiet_interrupts(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: a task that died of Ctrl-C is not an error to log."""
    if isinstance(context.get("exception"), KeyboardInterrupt | asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class _Interrupt:
    """SIGINT while the loop runs: cancel the main task once, raise on the next time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], *,
                 enabled: bool) -> None:
        self.loop = loop
        self.task = task
        self.enabled = enabled
        self.seen = False
        self.previous: Any = None

    def __enter__(self) -> _Interrupt:
        if (self.enabled and threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.seen or self.task.done():
            raise KeyboardInterrupt
        self.seen = True
        self.loop.call_soon_threadsafe(self.task.cancel)


def run(coro: Coroutine[Any, Any, T], *, cancel_on_interrupt: bool = True) -> T:
    """Like ``asyncio.run``, but without waiting for worker threads at the end; Ctrl-C
    cancels the run and raises ``KeyboardInterrupt`` (see the module's docstring).

    ``cancel_on_interrupt=False`` keeps Python's own SIGINT handler, for a coroutine that
    blocks the loop's thread reading a terminal (the chat's prompt), where only a raised
    ``KeyboardInterrupt`` ends the read."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(thread_name_prefix=WORKER_PREFIX)
    loop.set_default_executor(executor)
    loop.set_exception_handler(_quiet_interrupts)
    try:
        asyncio.set_event_loop(loop)
        task = loop.create_task(coro)
        with _Interrupt(loop, task, enabled=cancel_on_interrupt) as interrupt:
            try:
                result = loop.run_until_complete(task)
            except BaseException:
                if interrupt.seen:  # however the cancelled run ended, the user stopped it
                    raise KeyboardInterrupt from None
                raise
            if interrupt.seen:
                raise KeyboardInterrupt
            return result
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            asyncio.set_event_loop(None)
            loop.close()


def busy_workers(grace_s: float = 0.5) -> list[threading.Thread]:
    """Worker threads still running after a short grace period."""
    workers = [t for t in threading.enumerate()
               if t.name.startswith(WORKER_PREFIX) and t.is_alive()]
    for thread in workers:
        thread.join(grace_s / max(1, len(workers)))
    return [t for t in workers if t.is_alive()]


def exit_code(code: int) -> int:
    """``code``, after ending the process at once if abandoned workers are still busy (the
    interpreter would otherwise join them before exiting)."""
    if busy_workers():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
