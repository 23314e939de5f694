"""The driver of ``viddiff compare-many``: which pairs are left, and every outcome on disk.

Output folder::

    OUT/run.json          the batch's settings (engine, models, every effective setting)
    OUT/pairs.jsonl       one line per finished pair (fsynced): status, files, fingerprint
    OUT/results/ID.json   each pair's full comparison result (as ``compare --json`` writes)
    OUT/reports/ID.html   each pair's report (``--report``)

A re-run of the same command skips every pair whose last line says ``ok`` with the same
fingerprint (same videos, action, differences and settings); a pair whose inputs changed runs
again, and failed pairs run again with ``--retry-failed``. Results are written before the line
that names them, so a line never points at a missing file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from viddiff.agent.batch.job import PairResult
from viddiff.agent.batch.pairs import PairRow
from viddiff.evals.jobs import Pool, WorkerLost
from viddiff.tools.errors import ConfigError
from viddiff.tools.files import write_atomic
from viddiff.tools.jsonl import JsonLinesLog

LOG_FILE = "pairs.jsonl"
RESULTS_DIR = "results"
REPORTS_DIR = "reports"


class PairOutcome(BaseModel):
    """One line of ``pairs.jsonl``."""

    pair_id: str
    fingerprint: str
    status: Literal["ok", "failed"]
    error: str | None = None
    video_a: str = ""
    video_b: str = ""
    action: str = ""
    result_file: str | None = None
    report_file: str | None = None
    labels: dict[str, int] = Field(default_factory=dict)
    """How many differences got each label (a, b, c, failed)."""
    notes: list[str] = Field(default_factory=list)
    elapsed_s: float = 0.0
    finished_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


def outcome_log(out_dir: Path) -> JsonLinesLog[PairOutcome]:
    return JsonLinesLog(out_dir / LOG_FILE, PairOutcome, lambda o: o.pair_id,
                        what="pair outcome", error=ConfigError)


@dataclass
class BatchOutcome:
    outcomes: dict[str, PairOutcome]
    ran: int
    resumed: int
    lost: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


OutcomeCallback = Callable[[PairOutcome], None]


def label_counts(result: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for diff in result.differences:
        key = "failed" if diff.status == "failed" else (diff.label or "none")
        counts[key] = counts.get(key, 0) + 1
    return counts


class BatchRunner:
    """Runs the pairs left through ``pool``, at most ``concurrency`` at once."""

    def __init__(self, rows: Sequence[PairRow], pool: Pool[PairRow, PairResult], out_dir: Path,
                 settings: dict[str, Any], *, concurrency: int, retry_failed: bool = False,
                 on_outcome: OutcomeCallback | None = None) -> None:
        self.rows = list(rows)
        self.pool = pool
        self.out_dir = out_dir
        self.settings = settings
        self.concurrency = max(1, concurrency)
        self.retry_failed = retry_failed
        self.on_outcome = on_outcome
        self.log = outcome_log(out_dir)
        self.fingerprints = {r.pair_id: r.fingerprint(settings) for r in self.rows}

    def pending(self) -> tuple[dict[str, PairOutcome], list[PairRow], list[str]]:
        """Outcomes that stand, the pairs to run, and notes (pairs whose inputs changed)."""
        earlier = self.log.load()
        done: dict[str, PairOutcome] = {}
        todo: list[PairRow] = []
        notes: list[str] = []
        for row in self.rows:
            old = earlier.get(row.pair_id)
            if old is not None and old.fingerprint != self.fingerprints[row.pair_id]:
                notes.append(f"{row.pair_id}: its videos, action, differences or the settings "
                             "changed since it ran; running it again")
                old = None
            if old is None or (self.retry_failed and old.status == "failed"):
                todo.append(row)
            else:
                done[row.pair_id] = old
        return done, todo, notes

    async def run(self) -> BatchOutcome:
        started = time.monotonic()
        done, todo, notes = self.pending()
        if self.log.dropped_partial:
            notes.append("dropped a cut-short last line of pairs.jsonl (a crash while "
                         "writing); that pair runs again")
        outcomes = dict(done)
        lost: list[str] = []
        gate = asyncio.Semaphore(self.concurrency)

        async def run_one(row: PairRow) -> None:
            async with gate:
                try:
                    result = await self.pool.submit(row)
                except WorkerLost as exc:
                    lost.append(row.pair_id)
                    notes.append(f"{row.pair_id}: {exc}")
                    return
                outcome = await asyncio.to_thread(self.save, row, result)
                self.log.append(outcome)
            outcomes[row.pair_id] = outcome
            if self.on_outcome:
                self.on_outcome(outcome)

        try:
            async with asyncio.TaskGroup() as group:
                for row in todo:
                    group.create_task(run_one(row))
        except BaseExceptionGroup as failure:  # one failure stops the batch: report that one
            from viddiff.evals.benchmark_run import first_leaf

            raise first_leaf(failure) from None
        if lost:
            notes.append(f"{len(lost)} pair(s) lost with their workers and not recorded; run "
                         "the same command again to redo them")
        return BatchOutcome(outcomes, ran=len(todo) - len(lost), resumed=len(done), lost=lost,
                            notes=notes, elapsed_s=time.monotonic() - started)

    def save(self, row: PairRow, result: PairResult) -> PairOutcome:
        """Write the pair's files, then return the line that names them."""
        outcome = PairOutcome(pair_id=row.pair_id, fingerprint=self.fingerprints[row.pair_id],
                              status=result.status, error=result.error,
                              video_a=str(row.video_a), video_b=str(row.video_b),
                              action=row.action, notes=list(result.notes),
                              elapsed_s=result.elapsed_s)
        if result.result is not None:
            name = f"{row.pair_id}.json"
            write_atomic(self.out_dir / RESULTS_DIR / name,
                         result.result.model_dump_json(indent=2), durable=True)
            outcome.result_file = f"{RESULTS_DIR}/{name}"
            outcome.labels = label_counts(result.result)
        if result.report_html is not None:
            name = f"{row.pair_id}.html"
            write_atomic(self.out_dir / REPORTS_DIR / name, result.report_html, durable=True)
            outcome.report_file = f"{REPORTS_DIR}/{name}"
        return outcome
