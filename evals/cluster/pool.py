"""Worker actors that run a run's job on a Ray cluster, with the :class:`LocalPool` interface.

Each worker is an async actor that builds the job once from the run's recipe (its own model
clients, graph, CLIP or a remote embedder) and then handles up to ``per_worker`` payloads at a
time on its event loop: a sample mostly waits on model replies, and the CPU work inside it
(decoding, pose) already runs in threads. The driver sends each payload to the worker with the
fewest in flight and awaits the reply; it alone writes the run's files.

Failures keep their meaning across the wire: a per-sample failure is a failed record made by
the job itself, an endpoint failure (:class:`EndpointError`) re-raises in the driver and stops
the run as it does locally, and a worker that dies (killed, out of memory, node lost) loses
only its payloads in flight. Those are sent once more to a live worker (``lost_retries``);
when that fails too, :class:`WorkerLost` tells the driver to leave the payload unrecorded, so
the next run of the same command redoes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from viddiff.evals.cluster.connect import RayCluster
from viddiff.evals.jobs import Recipe, WorkerLost, WorkerRuntime
from viddiff.tools.errors import ConfigError, VidDiffError, one_line

P = TypeVar("P")
R = TypeVar("R")

READY_TIMEOUT_S = 600.0
"""How long the workers may take to be placed and to build their job."""


def viddiff_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("viddiff")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


class JobActor:
    """One worker: builds the job at start (a failure is kept and reported by :meth:`ready`,
    one line, instead of a crashed actor), then handles payloads."""

    def __init__(self, recipe: Recipe[Any, Any], runtime: WorkerRuntime,
                 driver_version: str) -> None:
        self.error: str | None = None
        self.job: Any = None
        mine = viddiff_version()
        if mine != driver_version:
            self.error = (f"this worker runs viddiff {mine} but the driver runs "
                          f"{driver_version}: install the same version on every node")
            return
        try:
            self.job = recipe.build(runtime)
        except Exception as exc:
            self.error = one_line(exc) or type(exc).__name__

    async def ready(self) -> str | None:
        """The build error, or None when the worker is ready."""
        return self.error

    async def handle(self, payload: Any) -> Any:
        return await self.job.handle(payload)


@dataclass
class _Worker:
    actor: Any
    in_flight: int = 0
    down: bool = False
    """Died under a payload; Ray restarts it, and it gets payloads again once it answers."""
    gone: bool = False
    """Died for good (out of restarts): never asked again."""


def default_workers(cluster_cpus: float, cpus_per_worker: float, concurrency: int) -> int:
    """Workers to start: one per free ``cpus_per_worker``, never more than payloads that may
    be in flight at once, at least one."""
    fitting = math.floor(cluster_cpus / cpus_per_worker) if cpus_per_worker > 0 else concurrency
    return max(1, min(concurrency, fitting))


class RayPool(Generic[P, R]):
    """Runs payloads on ``workers`` Ray actors, each handling up to ``per_worker`` at once."""

    def __init__(self, cluster: RayCluster, recipe: Recipe[P, R], runtime: WorkerRuntime, *,
                 workers: int, per_worker: int, cpus_per_worker: float = 1.0,
                 lost_retries: int = 1) -> None:
        self.cluster = cluster
        self.recipe = recipe
        self.runtime = runtime
        self.lost_retries = lost_retries
        self.per_worker = max(1, per_worker)
        self.cpus_per_worker = cpus_per_worker
        self.count = max(1, workers)
        self.workers: list[_Worker] = []
        self.lost = 0
        """Payload attempts that died with their worker (retried or not)."""
        self.start_s = 0.0
        """Seconds the workers took to be placed and build their job."""
        self.description = (f"{self.count} Ray worker(s) × {self.per_worker} on "
                            f"{cluster.describe()}")

    def start(self) -> None:
        """Start the workers and wait until each has built its job; a :class:`ConfigError`
        naming the first failure (the same error on every worker is the usual case)."""
        import ray

        started = time.monotonic()
        actor_class: Any = ray.remote(JobActor)
        placed = actor_class.options(num_cpus=self.cpus_per_worker,
                                     max_concurrency=self.per_worker + 2,  # + ready()
                                     max_restarts=3, max_task_retries=0)
        version = viddiff_version()
        actors = [placed.remote(self.recipe, self.runtime, version)
                  for _ in range(self.count)]
        try:
            infos = ray.get([a.ready.remote() for a in actors], timeout=READY_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            self._kill(actors)
            raise ConfigError(f"the Ray workers did not start within {READY_TIMEOUT_S:g} s "
                              f"(each asks for {self.cpus_per_worker:g} CPU)") from None
        except ray.exceptions.RayError as exc:
            self._kill(actors)
            raise ConfigError(f"the Ray workers did not start: {one_line(exc)}") from None
        for error in infos:
            if error is not None:
                self._kill(actors)
                raise ConfigError(f"a Ray worker could not set up the run: {error}")
        self.workers = [_Worker(a) for a in actors]
        self.start_s = time.monotonic() - started

    async def submit(self, payload: P) -> R:
        import ray

        lost_errors = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                       ray.exceptions.WorkerCrashedError,
                       ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError,
                       ray.exceptions.OwnerDiedError, ray.exceptions.OutOfMemoryError)
        last: BaseException | None = None
        for _ in range(self.lost_retries + 1):
            worker = await self._choose()
            worker.in_flight += 1
            try:
                return await worker.actor.handle.remote(payload)  # type: ignore[no-any-return,unused-ignore]
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause
                if isinstance(cause, VidDiffError):  # EndpointError, ConfigError: as locally
                    raise cause from None
                raise
            except lost_errors as exc:
                self.lost += 1
                last = exc
                worker.down = True
            finally:
                worker.in_flight -= 1
        raise WorkerLost(f"its Ray worker died ({one_line(str(last))[:200]}), "
                         f"{self.lost_retries + 1} time(s); not recorded, a re-run redoes it")

    async def _choose(self) -> _Worker:
        """The live worker with the fewest payloads in flight. When every worker is down,
        wait until one is back: Ray restarts a killed actor, which takes as long as building
        its job, and a payload sent during the restart would be lost too."""
        import ray

        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        while True:
            live = [w for w in self.workers if not (w.down or w.gone)]
            if live:
                return min(live, key=lambda w: w.in_flight)
            if all(w.gone for w in self.workers):
                raise WorkerLost("every Ray worker of the run died for good")
            if asyncio.get_running_loop().time() > deadline:
                raise WorkerLost(f"no Ray worker came back within {READY_TIMEOUT_S:g} s")
            for worker in self.workers:
                if worker.gone:
                    continue
                try:
                    await asyncio.wait_for(worker.actor.ready.remote(), timeout=5)
                    worker.down = False
                except ray.exceptions.ActorDiedError:
                    worker.gone = True
                except (ray.exceptions.RayError, TimeoutError):
                    continue
            if all(w.down or w.gone for w in self.workers):
                await asyncio.sleep(0.5)

    def close(self) -> None:
        self._kill([w.actor for w in self.workers])
        self.workers = []

    @staticmethod
    def _kill(actors: Sequence[Any]) -> None:
        import ray

        for actor in actors:
            with contextlib.suppress(Exception):  # already gone
                ray.kill(actor, no_restart=True)
