"""One cap on model requests in flight for a whole run, shared by every Ray worker.

A cluster of workers, each with its own clients, would multiply the requests an API sees;
rate limits are per key, not per worker. So the run's gate is one small actor holding the
slots (:class:`LeasedSlots`), and every worker's HTTP transport asks it for a slot before each
request (:class:`RayCallGate`, a :class:`viddiff.graphs.transport.CallGate`).

Slots are leases: a worker that dies holding slots cannot give them back, so a slot not
returned within ``lease_s`` (longer than any request may take: the endpoint's timeout plus a
margin) is taken back, and the run never slowly starves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

LEASE_MARGIN_S = 30.0
"""Added to the endpoint's timeout to make a lease: a request never legitimately holds a slot
longer than its own timeout allows."""


class LeasedSlots:
    """``limit`` slots handed out as leases: ``await acquire()`` gives a token (waiting while
    all are out), ``release(token)`` returns it, and a lease older than ``lease_s`` is taken
    back by the next caller that needs a slot."""

    def __init__(self, limit: int, lease_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or lease_s <= 0:
            raise ValueError("slots need a limit >= 1 and a lease > 0 s")
        self.limit = limit
        self.lease_s = lease_s
        self._clock = clock
        self._held: dict[str, float] = {}  # token -> when its lease ends
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.expired = 0
        """Leases taken back because their holder never returned them."""
        self.peak = 0
        """Most slots out at once."""

    def _reclaim(self) -> float | None:
        """Take back expired leases; seconds until the next one ends (None: none held)."""
        now = self._clock()
        for token, until in list(self._held.items()):
            if until <= now:
                del self._held[token]
                self.expired += 1
        return min(self._held.values()) - now if self._held else None

    async def acquire(self) -> str:
        while True:
            next_end = self._reclaim()
            if len(self._held) < self.limit:
                token = str(next(self._ids))
                self._held[token] = self._clock() + self.lease_s
                self.peak = max(self.peak, len(self._held))
                return token
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                # woken by a release; else at the next lease's end, checking at least each
                # second (a clock that jumps, a lease that ends early)
                await asyncio.wait_for(self._changed.wait(),
                                       timeout=min(max(next_end or 0, 0.01), 1.0))

    def release(self, token: str) -> bool:
        """Return a slot; False when its lease had already been taken back."""
        found = self._held.pop(token, None) is not None
        self._changed.set()
        return found

    def stats(self) -> dict[str, int]:
        return {"limit": self.limit, "in_flight": len(self._held), "peak": self.peak,
                "expired": self.expired}


class GateActor:
    """The Ray actor holding the run's slots (an async actor: waiting costs no thread)."""

    def __init__(self, limit: int, lease_s: float) -> None:
        self.slots = LeasedSlots(limit, lease_s)

    async def acquire(self) -> str:
        return await self.slots.acquire()

    async def release(self, token: str) -> bool:
        return self.slots.release(token)


class RayCallGate:
    """A :class:`~viddiff.graphs.transport.CallGate` backed by the run's :class:`GateActor`;
    pickles (an actor handle), so every worker gets the same gate."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        token = await self.actor.acquire.remote()
        try:
            yield
        finally:
            await self.actor.release.remote(token)


def start_gate(limit: int, timeout_s: float) -> RayCallGate:
    """Start the run's gate actor (no CPU reserved: it only counts)."""
    import ray

    actor_class: Any = ray.remote(GateActor)
    actor = actor_class.options(num_cpus=0, max_concurrency=100_000)
    return RayCallGate(actor.remote(limit, timeout_s + LEASE_MARGIN_S))
