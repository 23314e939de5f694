"""Connecting to Ray, with one-line errors, and nothing imported until ``--ray`` is used.

``auto`` joins the cluster this machine belongs to (``ray start`` ran here, or
``RAY_ADDRESS`` says where); ``ray://host:port`` reaches a remote head through Ray Client;
``local`` starts a Ray instance for this run alone and stops it at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from viddiff.tools.errors import ConfigError, one_line
from viddiff.tools.extras import require_extra

NAMESPACE = "viddiff"
_CLIENT_ADDRESS = re.compile(r"^ray://[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def ray_address(text: str) -> str:
    """An argparse type: ``auto``, ``local`` or ``ray://host:port``."""
    value = text.strip()
    if value in ("auto", "local") or _CLIENT_ADDRESS.match(value):
        return value
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a Ray address: use auto (the cluster this machine belongs to), "
        "local (a Ray instance for this run) or ray://host:port (Ray Client)")


def import_ray() -> ModuleType:
    """The ``ray`` module, or a :class:`ConfigError` saying how to install it."""
    require_extra("ray", "--ray")
    import ray

    return ray


@dataclass
class RayCluster:
    """A connection made for one run; :meth:`close` disconnects (and stops a local instance)."""

    address: str
    cpus: float
    gpus: float
    started_here: bool
    owned: bool = True
    """Whether this run made the connection (and so closes it); a host application that
    connected to Ray itself keeps its connection."""

    def describe(self) -> str:
        where = "a local Ray instance" if self.started_here else f"the Ray cluster at " \
                                                                  f"{self.address}"
        return f"{where} ({self.cpus:g} CPU, {self.gpus:g} GPU)"

    def close(self) -> None:
        ray = import_ray()
        if self.owned and ray.is_initialized():
            ray.shutdown()


LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch between "a cluster node" (listen on every interface, advertise the machine's
address) and "local Ray only" (loopback). Linux defaults to the first; a run's own ``local``
instance needs nothing beyond this machine, so it asks for the second. Read by ``ray`` when it
is imported, in this process and in every process the instance starts."""


def loopback_only() -> None:
    """Make a local instance started from here listen on 127.0.0.1 only."""
    os.environ[LOOPBACK_ENV] = "0"
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None and hasattr(constants, "ENABLE_RAY_CLUSTER"):
        # ray was imported before the variable was set
        setattr(constants, "ENABLE_RAY_CLUSTER", False)  # noqa: B010 (untyped module)


def connect(address: str, *, num_cpus: int | None = None) -> RayCluster:
    """Connect for this run. ``num_cpus`` sizes a ``local`` instance (default: every core)."""
    if num_cpus is not None and address != "local":
        raise ConfigError("--ray-cpus sizes a local instance (--ray local); a cluster's size "
                          "is its own")
    if address == "local":
        loopback_only()
    ray = import_ray()
    if ray.is_initialized():  # an embedding host already connected: use its connection
        resources = ray.cluster_resources()
        return RayCluster(address, float(resources.get("CPU", 0)),
                          float(resources.get("GPU", 0)), started_here=False, owned=False)
    options: dict[str, Any] = {"namespace": NAMESPACE, "logging_level": logging.WARNING,
                               "log_to_driver": False}
    if address == "local":
        options.update(num_cpus=num_cpus, include_dashboard=False)
    try:
        ray.init(address=address, **options)
    except Exception as exc:  # ConnectionError, RuntimeError, ValueError, grpc errors...
        hint = ("start one with `ray start --head`, set RAY_ADDRESS, or use --ray local"
                if address == "auto" else "check the address and that the head runs Ray "
                                          "Client (port 10001 by default)")
        if address == "local":
            hint = "see Ray's logs under /tmp/ray"
        reason = one_line(exc).split(". ")[0].rstrip(".")  # Ray's advice follows; ours is below
        raise ConfigError(f"cannot connect to Ray ({address}): {reason}; {hint}") from None
    resources = ray.cluster_resources()
    return RayCluster(address, float(resources.get("CPU", 0)), float(resources.get("GPU", 0)),
                      started_here=address == "local")
