"""A live view of a benchmark run: samples done of total, ETA and the score so far."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from viddiff.evals.metrics import Tally, tally
from viddiff.evals.scoring import SampleScore


class RunProgress:
    """Context manager fed one :class:`SampleScore` per finished sample.

    Resumed samples count as done from the start (the ETA is about the work left) and join
    the running score as soon as they are re-scored.
    """

    def __init__(self, console: Console, *, total: int, resumed: int, metric: str,
                 enabled: bool = True) -> None:
        self.metric = metric
        self.running = Tally(0, 0)
        self.failed = 0
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(),
                                 TextColumn("{task.fields[score]}"), console=console,
                                 disable=not (enabled and console.is_terminal))
        # not on a pipe or a file: a live display has nothing to redraw there and left its
        # last frame (a spinner line) behind in the output
        self.task = self.progress.add_task("Samples", total=total, completed=resumed,
                                           score=self._score_text())

    def _score_text(self) -> str:
        if not self.running.total:
            return f"{self.metric}: -"
        text = (f"{self.metric}: {100 * (self.running.value or 0):.1f}% "
                f"({self.running.correct}/{self.running.total} items)")
        return text + (f", {self.failed} failed" if self.failed else "")

    def __enter__(self) -> RunProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def scored(self, score: SampleScore, *, new: bool) -> None:
        """Add a sample's items to the running score; ``new`` samples also advance the bar."""
        self.running = self.running + tally(i.outcome for i in score.items)
        self.failed += score.status != "ok"
        self.progress.update(self.task, advance=1 if new else 0, score=self._score_text())
