"""One benchmark sample, start to finish, as a worker runs it: make both videos playable, run
the method, and hand back the prediction record with the full comparison result.

The worker writes nothing of the run's own files: the driver saves the result and appends the
record (:mod:`viddiff.evals.benchmark_run`), so a cluster whose workers do not share the output
folder still leaves one complete, consistent folder behind.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from viddiff.evals.data import BenchmarkSample
from viddiff.evals.methods import Method
from viddiff.evals.predictions import Mode, PredictionRecord, Sanity
from viddiff.evals.videos import VideoMaterialiser
from viddiff.graphs.runner import endpoint_error
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.errors import EndpointError, VidDiffError


@dataclass(frozen=True)
class SampleSettings:
    """What every sample of a run shares: its identity fields and the sanity check."""

    mode: Mode
    method: str
    sanity: Sanity | None = None
    protocol: str = "viddiff"

    def identity(self) -> dict[str, Any]:
        return {"mode": self.mode, "method": self.method, "sanity": self.sanity,
                "protocol": self.protocol}


@dataclass
class SampleOutcome:
    """A sample's record (``result_file`` not yet set) and the result to save beside it."""

    record: PredictionRecord
    result: ComparisonResult | None = None


class SampleJob:
    """Runs ``method`` on samples whose videos ``materialiser`` makes playable."""

    def __init__(self, method: Method, materialiser: VideoMaterialiser,
                 settings: SampleSettings) -> None:
        self.method = method
        self.materialiser = materialiser
        self.settings = settings

    async def handle(self, payload: BenchmarkSample) -> SampleOutcome:
        """The method's record for one sample; per-sample failures become failed records.

        An unreachable or refusing endpoint raises :class:`EndpointError` instead: every
        later sample would fail the same way, so the run stops and nothing is recorded for
        this sample (the re-run retries it)."""
        sample = payload
        started = time.monotonic()
        base: dict[str, Any] = {"sample_key": sample.sample_key, "split": sample.split,
                                "action": sample.action, **self.settings.identity(),
                                "fps": self.method.context_for(sample).fps}
        try:
            spec_a, spec_b = sample.videos
            if self.settings.sanity == "duplicate":
                spec_b = spec_a
            elif self.settings.sanity == "swap":
                spec_a, spec_b = spec_b, spec_a
            # absolute, so a saved result still finds its videos from another folder
            video_a = (await asyncio.to_thread(self.materialiser.prepare, spec_a)).absolute()
            video_b = (await asyncio.to_thread(self.materialiser.prepare, spec_b)).absolute()
            output = await self.method.predict(sample, str(video_a), str(video_b),
                                               self.settings.mode)
        except EndpointError:
            raise
        except VidDiffError as exc:
            return SampleOutcome(PredictionRecord(**base, status="failed", error=str(exc),
                                                  elapsed_s=round(time.monotonic() - started,
                                                                  3)))
        except Exception as exc:  # the client's transport errors: one line, and stop
            mapped = endpoint_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        record = PredictionRecord(**base, predictions=output.predictions, models=output.models,
                                  usage=output.usage, notes=list(output.notes),
                                  elapsed_s=round(time.monotonic() - started, 3))
        return SampleOutcome(record, output.result)
