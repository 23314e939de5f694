"""Run a method over benchmark samples: concurrently, durably, resumably.

Per sample: make both videos playable files (cached), run the method, save its full comparison
result to ``results/`` (graph methods), append the predictions to ``predictions.jsonl``
(flushed and fsynced), score them, update the live view. Samples whose
predictions are already in the file are not run again, only re-scored (closed: arithmetic;
open: the judge's cached answers), so re-running an interrupted command finishes the job and
every sample is scored exactly once.

Failure policy: a sample whose method fails in a way that belongs to that sample (bad video,
a model that kept replying garbage) is recorded as failed and counted wrong. An unreachable or
refusing endpoint stops the run instead (every later sample would fail the same way); nothing
is recorded for the samples in flight, so the re-run retries them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viddiff.evals.data import BenchmarkSample
from viddiff.evals.methods import Method
from viddiff.evals.predictions import (
    Mode,
    PredictionRecord,
    PredictionStore,
    Sanity,
    check_consistent,
)
from viddiff.evals.sample_results import RESULTS_DIR, save_result
from viddiff.evals.scoreboard import write_json
from viddiff.evals.scoring import SampleScore, Scorer
from viddiff.evals.videos import VideoMaterialiser
from viddiff.graphs.runner import endpoint_error
from viddiff.tools.errors import ConfigError, EndpointError, VidDiffError

PREDICTIONS_FILE = "predictions.jsonl"
SUMMARY_FILE = "summary.json"
RUN_FILE = "run.json"
VIDEO_CACHE_DIR = "videos"
JUDGE_CACHE_DIR = "judge_cache"
IDENTITY_DEFAULTS = {"protocol": "viddiff"}
"""Identity fields that older run records lack, read as their value at the time."""


@dataclass
class RunSettings:
    """What identifies a run (its output folder holds exactly one such run) and how to run it."""

    out_dir: Path
    mode: Mode
    method: str
    sanity: Sanity | None = None
    concurrency: int = 4
    retry_failed: bool = False
    """Run samples again whose earlier attempt was recorded as failed."""
    protocol: str = "viddiff"
    """The settings preset (``evals.protocols``); a folder holds runs of one protocol."""

    @property
    def predictions_path(self) -> Path:
        return self.out_dir / PREDICTIONS_FILE

    @property
    def results_dir(self) -> Path:
        """Each sample's full comparison result (graph methods), one JSON file per sample."""
        return self.out_dir / RESULTS_DIR

    def identity(self) -> dict[str, Any]:
        return {"mode": self.mode, "method": self.method, "sanity": self.sanity,
                "protocol": self.protocol}


@dataclass
class RunOutcome:
    """Every selected sample's score, and how many were run now or taken from the file."""

    scores: list[SampleScore]
    records: dict[str, PredictionRecord]
    ran: int
    resumed: int
    elapsed_s: float
    notes: list[str] = field(default_factory=list)


def claim_out_dir(settings: RunSettings, details: dict[str, Any]) -> None:
    """Create the output folder, or check that it holds the same kind of run (resume)."""
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    path = settings.out_dir / RUN_FILE
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            previous = {}
        old = {k: previous.get(k, IDENTITY_DEFAULTS.get(k)) for k in settings.identity()}
        if old != settings.identity():
            raise ConfigError(f"{settings.out_dir} holds another run ({_describe(old)}), not "
                              f"{_describe(settings.identity())}: use another --out")
    write_json(path, {**settings.identity(), **details})


def first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    """The first real exception inside (possibly nested) exception groups."""
    first = group.exceptions[0]
    return first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _describe(identity: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in identity.items())


ScoreCallback = Callable[[SampleScore, bool], None]


class BenchmarkRunner:
    """Runs one method over samples with at most ``settings.concurrency`` in flight."""

    def __init__(self, samples: Sequence[BenchmarkSample], method: Method, scorer: Scorer,
                 materialiser: VideoMaterialiser, settings: RunSettings,
                 on_score: ScoreCallback | None = None) -> None:
        self.samples = list(samples)
        self.method = method
        self.scorer = scorer
        self.materialiser = materialiser
        self.settings = settings
        self.on_score = on_score
        self.store = PredictionStore(settings.predictions_path)

    def pending(self) -> tuple[dict[str, PredictionRecord], list[BenchmarkSample]]:
        """Records already in the file (for selected samples) and the samples left to run."""
        records = self.store.load()
        check_consistent(records.values())
        if records:
            first = next(iter(records.values()))
            found = {"mode": first.mode, "method": first.method, "sanity": first.sanity,
                     "protocol": first.protocol}
            if found != self.settings.identity():
                raise ConfigError(f"{self.store.path} holds predictions of another run "
                                  f"({_describe(found)}): use another --out")
        keys = {s.sample_key for s in self.samples}
        done = {k: r for k, r in records.items() if k in keys
                and not (self.settings.retry_failed and r.status == "failed")}
        todo = [s for s in self.samples if s.sample_key not in done]
        return done, todo

    async def run(self) -> RunOutcome:
        started = time.monotonic()
        done, todo = self.pending()
        notes = []
        if self.store.dropped_partial:
            notes.append("dropped a cut-short last line of the predictions file (a crash "
                         "while writing); that sample runs again")
        by_key = {s.sample_key: s for s in self.samples}
        scores: dict[str, SampleScore] = {}
        records = dict(done)
        gate = asyncio.Semaphore(max(1, self.settings.concurrency))

        async def rescore(record: PredictionRecord) -> None:
            async with gate:
                score = await self.scorer.score(by_key[record.sample_key], record)
            scores[record.sample_key] = score
            if self.on_score:
                self.on_score(score, False)

        async def run_one(sample: BenchmarkSample) -> None:
            async with gate:
                record = await self.predict(sample)
                self.store.append(record)
                records[sample.sample_key] = record
                score = await self.scorer.score(sample, record)
            scores[sample.sample_key] = score
            if self.on_score:
                self.on_score(score, True)

        try:
            async with asyncio.TaskGroup() as group:
                for record in done.values():
                    group.create_task(rescore(record))
                for sample in todo:
                    group.create_task(run_one(sample))
        except BaseExceptionGroup as failure:  # one failure stops the run: report that one
            raise first_leaf(failure) from None
        ordered = [scores[s.sample_key] for s in self.samples if s.sample_key in scores]
        return RunOutcome(ordered, records, ran=len(todo), resumed=len(done),
                          elapsed_s=time.monotonic() - started, notes=notes)

    async def predict(self, sample: BenchmarkSample) -> PredictionRecord:
        """The method's record for one sample; per-sample failures become failed records."""
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
            return PredictionRecord(**base, status="failed", error=str(exc),
                                    elapsed_s=round(time.monotonic() - started, 3))
        except Exception as exc:  # the client's transport errors: one line, and stop
            mapped = endpoint_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        notes = list(output.notes)
        result_file = None
        if output.result is not None:  # written before the record that names it
            try:
                result_file = await asyncio.to_thread(save_result, self.settings.results_dir,
                                                      sample.sample_key, output.result)
            except OSError as exc:
                notes.append(f"the comparison result was not saved ({exc})")
        return PredictionRecord(**base, predictions=output.predictions, models=output.models,
                                usage=output.usage, notes=notes, result_file=result_file,
                                elapsed_s=round(time.monotonic() - started, 3))
