"""The eval run's recipe: how a worker (this process, or a Ray worker elsewhere) builds the
job that runs benchmark samples.

A recipe holds only settings (endpoint, context, method choice, video folders), never clients
or models, so it pickles small and each worker builds its own models, with the run's shared
gate on model requests and its CLIP loader (:class:`viddiff.evals.jobs.WorkerRuntime`). The
command line builds the same recipe whether samples run here or on a cluster, which is what
makes both give the same predictions. The engine comes from :mod:`viddiff.graphs.engine`, the
same decision and graph factories as every other door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from viddiff.evals.jobs import WorkerRuntime
from viddiff.evals.methods import GraphMethod, LmmMethod
from viddiff.evals.sample_job import SampleJob, SampleSettings
from viddiff.evals.videos import VideoMaterialiser
from viddiff.graphs.context import VidDiffContext, default_clip_loader
from viddiff.graphs.engine import (
    NO_ENDPOINT,
    choose_engine,
    create_graph,
    engine_model_names,
    reader_model,
    require_clip,
)
from viddiff.graphs.models import EndpointSettings, build_models
from viddiff.tools.errors import ConfigError

MethodChoice = Literal["viddiff", "lmm"]


def method_name(method: MethodChoice, offline: bool) -> str:
    """The name a run's records carry for its method."""
    if method == "lmm":
        return "lmm"
    return "viddiff-offline" if offline else "viddiff"


@dataclass(frozen=True)
class EvalRecipe:
    """Everything a worker needs to run benchmark samples as the command line asked."""

    method: MethodChoice
    offline: bool
    endpoint: EndpointSettings
    context: VidDiffContext
    settings: SampleSettings
    video_root: Path | None
    video_cache: Path
    video_max_side: int | None
    domain_fps: Mapping[str, float] | None = None

    def check(self) -> None:
        """Refuse combinations no worker could run (before any worker starts)."""
        if self.offline and self.method == "lmm":
            raise ConfigError("--offline runs the pose engine, which is the viddiff method; "
                              "the lmm baseline needs a vision-language model endpoint")
        if not self.offline and not self.endpoint.configured:
            raise ConfigError(f"the {self.method} method needs models: {NO_ENDPOINT}; the "
                              "offline pose engine needs none (--offline)")

    def model_names(self) -> dict[str, str]:
        """The models per role, for the run's record (the same names the workers' models
        report)."""
        if self.method == "lmm" and not self.offline:
            return {"lmm": self.endpoint.models["differencer"]}
        return engine_model_names(self.offline, self.endpoint, self.context.understand_with)

    def build(self, runtime: WorkerRuntime) -> SampleJob:
        self.check()
        materialiser = VideoMaterialiser(self.video_root, self.video_cache,
                                         max_side=self.video_max_side)
        if self.offline:  # a benchmark run never falls back silently: offline was asked for
            graph = create_graph(engine=choose_engine("offline"),
                                 reader=reader_model(self.context, self.endpoint))
            method: GraphMethod | LmmMethod = GraphMethod(
                method_name("viddiff", True), graph, self.context, domain_fps=self.domain_fps)
            return SampleJob(method, materialiser, self.settings)
        models = build_models(self.endpoint, runtime.gate)
        if self.method == "lmm":
            method = LmmMethod(models.differencer, self.context, domain_fps=self.domain_fps)
            return SampleJob(method, materialiser, self.settings)
        loader = runtime.clip_loader or default_clip_loader
        require_clip(self.context, loader)
        graph = create_graph(engine=choose_engine("vlm", models), clip_loader=loader)
        method = GraphMethod(method_name("viddiff", False), graph, self.context,
                             domain_fps=self.domain_fps)
        return SampleJob(method, materialiser, self.settings)
