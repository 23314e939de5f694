"""Run a method over benchmark samples: concurrently, durably, resumably.

Per sample: make both videos playable files (cached), run the method, save its full comparison
result to ``results/`` (graph methods), append the predictions to ``predictions.jsonl``
(flushed and fsynced), score them, update the live view. Samples whose
predictions are already in the file are not run again, only re-scored (closed: arithmetic;
open: the judge's cached answers), so re-running an interrupted command finishes the job and
every sample is scored exactly once.

Where samples run is the pool's business (:mod:`viddiff.evals.jobs`): in this process, or on
Ray workers (``--ray``). This driver does the rest the same way for both: it saves results,
appends records, scores, and shows progress, so resume, ``--limit``, the sanity checks, the
summary and ``viddiff score`` do not know where a sample ran.

Failure policy: a sample whose method fails in a way that belongs to that sample (bad video,
a model that kept replying garbage) is recorded as failed and counted wrong. An unreachable or
refusing endpoint stops the run instead (every later sample would fail the same way); nothing
is recorded for the samples in flight, so the re-run retries them. A sample whose worker died
under it (Ray) is not recorded either: the run goes on without it and says so, and the re-run
redoes it.
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
from viddiff.evals.jobs import Pool, WorkerLost
from viddiff.evals.predictions import (
    Mode,
    PredictionRecord,
    PredictionStore,
    Sanity,
    check_consistent,
)
from viddiff.evals.sample_job import SampleOutcome, SampleSettings
from viddiff.evals.sample_results import RESULTS_DIR, save_result
from viddiff.evals.scoreboard import write_json
from viddiff.evals.scoring import SampleScore, Scorer
from viddiff.tools.errors import ConfigError

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
        return self.sample_settings().identity()

    def sample_settings(self) -> SampleSettings:
        """What the workers need to know of the run to record a sample."""
        return SampleSettings(mode=self.mode, method=self.method, sanity=self.sanity,
                              protocol=self.protocol)


@dataclass
class RunOutcome:
    """Every selected sample's score, and how many were run now or taken from the file."""

    scores: list[SampleScore]
    records: dict[str, PredictionRecord]
    ran: int
    resumed: int
    elapsed_s: float
    notes: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Keys of samples whose worker died under them: not recorded, redone by a re-run."""


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


def pending(samples: Sequence[BenchmarkSample], settings: RunSettings,
            store: PredictionStore | None = None
            ) -> tuple[dict[str, PredictionRecord], list[BenchmarkSample]]:
    """Records already in the predictions file (for the selected samples) and the samples
    left to run; a :class:`ConfigError` when the file holds another kind of run."""
    store = store or PredictionStore(settings.predictions_path)
    records = store.load()
    check_consistent(records.values())
    if records:
        first = next(iter(records.values()))
        found = {"mode": first.mode, "method": first.method, "sanity": first.sanity,
                 "protocol": first.protocol}
        if found != settings.identity():
            raise ConfigError(f"{store.path} holds predictions of another run "
                              f"({_describe(found)}): use another --out")
    keys = {s.sample_key for s in samples}
    done = {k: r for k, r in records.items() if k in keys
            and not (settings.retry_failed and r.status == "failed")}
    todo = [s for s in samples if s.sample_key not in done]
    return done, todo


class BenchmarkRunner:
    """Runs samples through ``pool`` (a :class:`~viddiff.evals.sample_job.SampleJob` in this
    process or on Ray workers) with at most ``settings.concurrency`` in flight."""

    def __init__(self, samples: Sequence[BenchmarkSample],
                 pool: Pool[BenchmarkSample, SampleOutcome], scorer: Scorer,
                 settings: RunSettings, on_score: ScoreCallback | None = None) -> None:
        self.samples = list(samples)
        self.pool = pool
        self.scorer = scorer
        self.settings = settings
        self.on_score = on_score
        self.store = PredictionStore(settings.predictions_path)

    def pending(self) -> tuple[dict[str, PredictionRecord], list[BenchmarkSample]]:
        """Records already in the file (for selected samples) and the samples left to run."""
        return pending(self.samples, self.settings, self.store)

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

        lost: list[str] = []

        async def run_one(sample: BenchmarkSample) -> None:
            async with gate:
                try:
                    record = await self.predict(sample)
                except WorkerLost as exc:
                    lost.append(sample.sample_key)
                    notes.append(f"{sample.sample_key}: {exc}")
                    return
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
        if lost:
            notes.append(f"{len(lost)} sample(s) lost with their workers and not recorded; "
                         "run the same command again to redo them")
        return RunOutcome(ordered, records, ran=len(todo) - len(lost), resumed=len(done),
                          elapsed_s=time.monotonic() - started, notes=notes, lost=lost)

    async def predict(self, sample: BenchmarkSample) -> PredictionRecord:
        """Run one sample in the pool, then save its result (graph methods) and return the
        record naming it. The result is written before the record that names it."""
        outcome = await self.pool.submit(sample)
        record = outcome.record
        if outcome.result is not None:
            try:
                record.result_file = await asyncio.to_thread(
                    save_result, self.settings.results_dir, sample.sample_key, outcome.result)
            except OSError as exc:
                record.notes.append(f"the comparison result was not saved ({exc})")
        return record
