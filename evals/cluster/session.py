"""Everything a run on Ray needs, started in order and stopped in reverse: the connection,
the gate on model requests, the CLIP embedding actors, and the worker pool.

Order matters for placement: embedding actors reserve their GPUs (and a CPU each) before the
workers take the CPUs that are left, so a small cluster never fills every CPU with workers
and leaves the embedders unplaceable.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from viddiff.evals.cluster.connect import connect
from viddiff.evals.cluster.embedders import start_embedders
from viddiff.evals.cluster.gate import RayCallGate, start_gate
from viddiff.evals.cluster.pool import RayPool, default_workers
from viddiff.evals.jobs import Recipe, WorkerRuntime
from viddiff.tools.clip.spec import ClipSpec
from viddiff.tools.errors import ConfigError


@dataclass(frozen=True)
class RayOptions:
    """How a run uses Ray (the ``--ray*`` options)."""

    address: str
    cpus: int | None = None
    """CPUs of a ``local`` instance (None: every core)."""
    workers: int | None = None
    """Worker actors (None: one per free CPU, at most the run's concurrency)."""
    embedders: int | None = None
    """CLIP embedding actors (None: one when CLIP runs on CUDA, else none: each worker embeds
    on its own CPU)."""
    gpus_per_embedder: float = 1.0
    lost_retries: int = 1
    """How many more times a payload whose worker died is sent to another worker."""


@dataclass
class RaySession:
    """A started run on Ray: the pool to submit to and the gate the driver's own calls
    (the judge) share with the workers."""

    pool: RayPool[Any, Any]
    gate: RayCallGate | None


def embedders_wanted(options: RayOptions, clip: ClipSpec | None) -> int:
    """How many embedding actors to start: none without CLIP; as asked; else one when CLIP
    runs on CUDA (where a shared GPU model pays), none on CPU."""
    if clip is None:
        return 0
    if options.embedders is not None:
        return options.embedders
    return 1 if clip.device.startswith("cuda") else 0


@contextlib.contextmanager
def ray_session(options: RayOptions, recipe: Recipe[Any, Any], *, concurrency: int,
                llm_concurrency: int | None, request_timeout_s: float,
                clip: ClipSpec | None) -> Iterator[RaySession]:
    """Connect, start the gate, the embedders and the workers; stop them all on exit (and a
    local instance with them). ``clip``: the CLIP model the job's localizer runs, or None."""
    cluster = connect(options.address, num_cpus=options.cpus)
    pool: RayPool[Any, Any] | None = None
    try:
        import ray  # connect() has checked the ray extra is there

        gate = start_gate(llm_concurrency, request_timeout_s) if llm_concurrency else None
        runtime = WorkerRuntime(gate=gate)
        count = embedders_wanted(options, clip)
        if count and clip is not None:
            gpus = options.gpus_per_embedder if clip.device.startswith("cuda") else 0.0
            runtime.clip_loader = start_embedders(clip, count, num_gpus=gpus)
        free_cpus = float(ray.available_resources().get("CPU", 0))
        workers = options.workers or default_workers(free_cpus, 1.0, concurrency)
        if workers > concurrency:
            raise ConfigError(f"--ray-workers {workers} is more than --concurrency "
                              f"{concurrency}: a worker would have nothing to do")
        pool = RayPool(cluster, recipe, runtime, workers=workers,
                       per_worker=math.ceil(concurrency / workers),
                       lost_retries=options.lost_retries)
        pool.start()
        yield RaySession(pool, gate)
    finally:
        if pool is not None:
            pool.close()
        cluster.close()
