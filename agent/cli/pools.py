"""Where a command's jobs run: this process, or Ray workers (``--ray``), behind one interface.

``eval`` and ``compare-many`` build a recipe, then ask :func:`open_pool` for the pool to submit
payloads to and for the gate their own model calls (the judge) share with the workers.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from viddiff.agent.cli.options import ray_options_from_args

if TYPE_CHECKING:
    from viddiff.evals.jobs import Pool, Recipe
    from viddiff.graphs.models import EndpointSettings
    from viddiff.graphs.transport import CallGate
    from viddiff.tools.clip.spec import ClipSpec


@contextlib.contextmanager
def open_pool(args: argparse.Namespace, recipe: Recipe[Any, Any], gate: CallGate | None, *,
              endpoint: EndpointSettings, clip: ClipSpec | None
              ) -> Iterator[tuple[Pool[Any, Any], CallGate | None]]:
    """This process with ``gate`` (the local cap on model requests), or Ray workers with the
    cluster's gate. ``clip``: the CLIP model the jobs' localizer runs (None: none), which
    decides whether embedding actors start."""
    from viddiff.evals.jobs import LocalPool, WorkerRuntime

    options = ray_options_from_args(args)
    if options is None:
        yield LocalPool(recipe, WorkerRuntime(gate=gate)), gate
        return
    from viddiff.evals.cluster.session import ray_session

    with ray_session(options, recipe, concurrency=max(1, args.concurrency),
                     llm_concurrency=args.llm_concurrency,
                     request_timeout_s=endpoint.timeout_s, clip=clip) as session:
        yield session.pool, session.gate
