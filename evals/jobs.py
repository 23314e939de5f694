"""Where the work of a run happens: in this process, or on the workers of a Ray cluster.

A run (``viddiff eval``, ``viddiff compare-many``) is a driver that decides what to do and
writes every outcome durably, and workers that do it. What a worker does with one payload (a
benchmark sample, a pair of videos) is a :class:`Job`; a job is not sent to a worker, its
:class:`Recipe` is: a small picklable description (settings, endpoint, context) from which
each worker builds the job once, with the worker's own clients, caches and models. The same
recipe runs in this process through :class:`LocalPool` and on a cluster through
:class:`viddiff.evals.cluster.pool.RayPool`, so both give exactly the same outcome for a
payload.

What the worker shares with the rest of the run comes in a :class:`WorkerRuntime`: the gate
that caps model requests in flight (one for the whole run, even across machines) and, on a
cluster, the loader that sends CLIP embedding to GPU actors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # annotations only: the command line reads this module, and the
    # transport behind CallGate loads the OpenAI client
    from viddiff.graphs.context import ClipLoader
    from viddiff.graphs.transport import CallGate

P = TypeVar("P")
R = TypeVar("R")
P_contra = TypeVar("P_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


@dataclass
class WorkerRuntime:
    """What a worker's job shares with the rest of the run."""

    gate: CallGate | None = None
    """Caps the model requests in flight across the run (``None``: no cap)."""
    clip_loader: ClipLoader | None = None
    """Builds the CLIP embedder (``None``: load it in the worker's own process)."""


class Job(Protocol[P_contra, R_co]):
    """Does one unit of a run's work; built once per worker, called for many payloads."""

    async def handle(self, payload: P_contra) -> R_co: ...


class Recipe(Protocol[P_contra, R_co]):
    """How a worker builds its :class:`Job`. Must pickle (it travels to Ray workers) and be
    importable there (defined at module level in viddiff)."""

    def build(self, runtime: WorkerRuntime) -> Job[P_contra, R_co]: ...


class WorkerLost(RuntimeError):
    """The worker running a payload died with it (a crashed process, a lost node): nothing
    was recorded for the payload, so running the same command again redoes it."""


class Pool(Protocol[P_contra, R_co]):
    """Runs payloads through a job; :class:`LocalPool` and the Ray pool have this shape."""

    @property
    def description(self) -> str: ...

    async def submit(self, payload: P_contra) -> R_co: ...

    def close(self) -> None: ...


class LocalPool(Generic[P, R]):
    """Runs payloads in this process (the event loop's concurrency is the caller's)."""

    description = "this process"

    def __init__(self, recipe: Recipe[P, R], runtime: WorkerRuntime | None = None) -> None:
        self.job = recipe.build(runtime or WorkerRuntime())

    async def submit(self, payload: P) -> R:
        return await self.job.handle(payload)

    def close(self) -> None:
        return None
