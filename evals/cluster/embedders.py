"""CLIP embedding on dedicated actors, so a cluster's GPUs do the embedding (``num_gpus``).

Sample workers are CPU processes (decoding, pose, waiting on model replies). The frame
localizer's CLIP embedding is the GPU work, and a big model (ViT-bigG-14, the paper's) should
be loaded once per GPU, not once per worker. So the run starts ``n`` :class:`EmbedderActor`
(each asks Ray for ``num_gpus``) and hands the workers an :class:`ActorClipLoader`: the graph
calls it like the local loader and gets a :class:`RemoteEmbedder`, which sends each video's
frames in one call (the graph already embeds a video's frames as one batch) and gets the rows
back. The embedding cache is checked in the worker before anything is sent, so a warm run
sends nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from viddiff.tools.clip.spec import ClipSpec, Embedder, ProgressFn
from viddiff.tools.errors import ConfigError, one_line

START_TIMEOUT_S = 600.0
"""How long the embedding actors may take to be placed and load their model (a big model on
a cold node downloads nothing here, but loading bigG takes a while)."""


class EmbedderActor:
    """Holds one loaded CLIP model; a load failure is kept and reported by :meth:`info`
    (one line), instead of killing the actor with a traceback."""

    def __init__(self, spec: ClipSpec) -> None:
        # torch and open_clip load in the embedding actor, never in the driver
        from viddiff.tools.clip.model import load_clip

        self.error: str | None = None
        self.embedder: Any = None
        try:
            self.embedder = load_clip(spec)
        except Exception as exc:  # ConfigError for missing weights; torch errors for devices
            self.error = one_line(exc) or type(exc).__name__

    def info(self) -> tuple[str | None, str, int]:
        """(load error, cache tag, embedding size)."""
        if self.embedder is None:
            return self.error, "", 0
        return None, self.embedder.cache_tag, int(self.embedder.dim)

    def encode_images(self, frames: np.ndarray, batch_size: int) -> np.ndarray:
        return np.asarray(self.embedder.encode_images(frames, batch_size=batch_size))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embedder.encode_texts(texts))


class RemoteEmbedder:
    """The :class:`~viddiff.tools.clip.model.Embedder` interface over an embedding actor."""

    def __init__(self, actor: Any, cache_tag: str, dim: int) -> None:
        self._actor = actor
        self._cache_tag = cache_tag
        self._dim = dim

    @property
    def cache_tag(self) -> str:
        return self._cache_tag

    @property
    def dim(self) -> int:
        return self._dim

    def encode_images(self, frames: np.ndarray, batch_size: int = 32,
                      on_progress: ProgressFn | None = None) -> np.ndarray:
        import ray

        rows = ray.get(self._actor.encode_images.remote(np.ascontiguousarray(frames),
                                                        batch_size))
        if on_progress is not None:  # one call per video: progress arrives all at once
            on_progress(len(frames), len(frames))
        return np.asarray(rows)

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import ray

        return np.asarray(ray.get(self._actor.encode_texts.remote(list(texts))))


class ActorClipLoader:
    """A :data:`~viddiff.graphs.context.ClipLoader` that spreads videos over the run's
    embedding actors (round robin); pickles, so each worker gets one."""

    def __init__(self, actors: Sequence[Any], spec: ClipSpec, cache_tag: str, dim: int) -> None:
        if not actors:
            raise ValueError("an actor loader needs at least one embedding actor")
        self.actors = list(actors)
        self.spec = spec
        self.cache_tag = cache_tag
        self.dim = dim
        self._turn = itertools.count()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_turn"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._turn = itertools.count()

    def __call__(self, spec: ClipSpec) -> Embedder:
        if spec != self.spec:  # the actors hold one model: a different one is a setup error
            raise ConfigError(f"the run's embedding actors hold {self.spec.model_name}, not "
                              f"{spec.model_name}")
        actor = self.actors[next(self._turn) % len(self.actors)]
        return RemoteEmbedder(actor, self.cache_tag, self.dim)


def start_embedders(spec: ClipSpec, count: int, *, num_gpus: float,
                    num_cpus: float = 1) -> ActorClipLoader:
    """Start ``count`` embedding actors and wait until each has loaded its model; a
    :class:`ConfigError` (one line) when any could not."""
    import ray

    have = ray.cluster_resources()
    for name, each in (("GPU", num_gpus), ("CPU", num_cpus)):
        if each and have.get(name, 0) < each * count:
            raise ConfigError(f"{count} CLIP embedding actor(s) need {each * count:g} {name} "
                              f"but the Ray cluster has {have.get(name, 0):g}: use fewer "
                              "--ray-embedders, or add nodes")
    actor_class: Any = ray.remote(EmbedderActor)
    placed = actor_class.options(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=2,
                                 max_concurrency=4)
    actors = [placed.remote(spec) for _ in range(count)]
    try:
        infos = ray.get([a.info.remote() for a in actors], timeout=START_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        for actor in actors:
            ray.kill(actor)
        raise ConfigError(f"the CLIP embedding actors did not start within "
                          f"{START_TIMEOUT_S:g} s (no node with the {num_gpus:g} GPU each "
                          "asks for is free?)") from None
    for error, _, _ in infos:
        if error is not None:
            for actor in actors:
                ray.kill(actor)
            raise ConfigError(f"the CLIP embedding actor could not load {spec.model_name}: "
                              f"{error}")
    _, tag, dim = infos[0]
    return ActorClipLoader(actors, spec, tag, dim)
