"""Run a command's coroutine so that a failed run ends the process at once.

``asyncio.run`` waits, on the way out, for every worker thread the loop started: LangGraph runs
sync nodes (CLIP embedding, pose) in them, and asyncio cannot cancel a thread. So when the
endpoint refused the first request, the command still sat there until the embedding of both
videos was done (12-89 s measured, depending on the machine's load) before it could say so.

Here the loop gets its own executor, which is shut down without waiting; the command prints its
one line, and :func:`exit_code` ends the process without joining threads still computing
results nobody will read (every file viddiff writes is written atomically, so an abandoned
thread leaves no half file behind).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
WORKER_PREFIX = "viddiff-worker"


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Like ``asyncio.run``, but without waiting for worker threads at the end."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(thread_name_prefix=WORKER_PREFIX)
    loop.set_default_executor(executor)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
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
