"""``viddiff compare-many``: compare every pair in a CSV, one result per pair, resumable.

``viddiff compare-many PAIRS.csv --out DIR [--report] [--ray ADDRESS]``

The CSV has the columns ``video_a, video_b, action`` and optionally ``differences`` (``;``
between them) and ``id`` (see :mod:`viddiff.agent.batch.pairs`). Each pair's result goes to
``DIR/results/ID.json`` (and ``DIR/reports/ID.html`` with ``--report``), each outcome to a line
of ``DIR/pairs.jsonl``; running the same command again runs only the pairs left.

Exit codes: 0 every pair compared; 1 some pairs failed (their errors are in pairs.jsonl and
the table); 2 bad input; 3 the endpoint failed (the batch stopped); 4 pairs were lost with
their Ray workers (run again to finish).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from viddiff.agent.cli import async_run
from viddiff.agent.cli.options import (
    add_cluster_options,
    add_endpoint_options,
    add_sampling_options,
    context_from_args,
    endpoint_from_args,
    engine_choice,
    positive_int,
    ray_options_from_args,
)
from viddiff.agent.cli.pools import open_pool
from viddiff.graphs.context import VidDiffContext
from viddiff.tools.errors import ConfigError

if TYPE_CHECKING:
    from viddiff.agent.batch.driver import BatchOutcome, PairOutcome
    from viddiff.agent.batch.job import CompareRecipe

EXIT_FAILED = 1
EXIT_INCOMPLETE = 4
RUN_FILE = "run.json"


def register(sub: Any) -> None:
    cm = sub.add_parser("compare-many", help="compare every pair of videos listed in a CSV",
                        description="Compare every pair in a CSV (columns video_a, video_b, "
                                    "action; optional differences, separated by ';', and id), "
                                    "one result per pair; run it again to resume.")
    cm.add_argument("pairs", type=Path, metavar="PAIRS.csv",
                    help="the pairs; relative video paths are relative to the CSV's folder")
    cm.add_argument("--out", type=Path, required=True, metavar="DIR",
                    help="output folder: results/ID.json, reports/ID.html, pairs.jsonl, "
                         "run.json")
    cm.add_argument("--open", type=positive_int, metavar="N", dest="n_open",
                    help="for pairs without differences whose action is not a benchmark key: "
                         "propose and answer up to N differences (VLM engine)")
    cm.add_argument("--report", action="store_true",
                    help="also write a self-contained HTML report per pair")
    cm.add_argument("--retry-failed", action="store_true",
                    help="on resume, run again the pairs recorded as failed")
    cm.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    add_endpoint_options(cm)
    add_sampling_options(cm)
    add_cluster_options(cm)
    cm.set_defaults(handler=handle, concurrency=4)
    for action in cm._actions:
        if action.dest == "concurrency":
            action.help = ("pairs compared at once (>= 1); also the limit on each pair's "
                           "concurrent model calls (default %(default)s)")


def check_nothing_to_compare(rows: list[Any], n_open: int | None, source: Path) -> None:
    """Before any pair runs: a row with no differences needs a benchmark action key (its
    checklist) or ``--open N``; one line naming the rows otherwise."""
    from viddiff.graphs.checklist import resolve_action

    if n_open:
        return
    empty = [f"line {r.line} ({r.pair_id})" for r in rows
             if not r.differences and resolve_action(r.action) is None]
    if empty:
        shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        raise ConfigError(f"{source}: {len(empty)} pair(s) have no differences and an action "
                          f"that is not a benchmark key (such as fitness_4): {shown}; list "
                          "differences in the CSV's differences column, or use --open N")


def build_recipe(args: argparse.Namespace, console: Console) -> CompareRecipe:
    """The batch's settings, with the engine decided here once for every worker."""
    from viddiff.agent.batch.job import CompareRecipe
    from viddiff.agent.report import ReportOptions
    from viddiff.evals.protocols import get_protocol
    from viddiff.graphs.engine import choose_engine

    endpoint = endpoint_from_args(args)
    decision = choose_engine(engine_choice(args), settings=endpoint)
    protocol = get_protocol(args.protocol)
    if decision.engine == "offline" and not args.offline:
        console.print(f"[dim]{escape(decision.reason[0].upper() + decision.reason[1:])}.[/]",
                      highlight=False)
    ctx = context_from_args(args)
    report = ReportOptions(cache_dir=ctx.cache_dir, context=ctx,
                           max_side=ctx.max_side or VidDiffContext.max_side or 448) \
        if args.report else None
    return CompareRecipe(engine=decision.engine, endpoint=endpoint, context=ctx,
                         domain_fps=protocol.domain_fps("viddiff") if args.fps is None else None,
                         n_open=args.n_open, report=report)


def fingerprint_settings(recipe: CompareRecipe, model_names: dict[str, str]) -> dict[str, Any]:
    """What decides a pair's result: a change here runs the pair again on resume. How fast or
    where it runs (cache, device, concurrency) and whether a report is drawn do not."""
    from viddiff.graphs.context import result_settings

    settings = result_settings(recipe.context)
    return {"engine": recipe.engine, "models": model_names, "settings": settings,
            "domain_fps": dict(recipe.domain_fps) if recipe.domain_fps else None,
            "n_open": recipe.n_open}


async def run_batch(args: argparse.Namespace, console: Console) -> int:
    from viddiff.agent.batch.driver import BatchRunner
    from viddiff.agent.batch.pairs import read_pairs
    from viddiff.evals.out_lock import lock_out_dir
    from viddiff.evals.scoreboard import write_json
    from viddiff.graphs.engine import engine_model_names
    from viddiff.graphs.transport import LocalCallGate

    rows = read_pairs(args.pairs)
    check_nothing_to_compare(rows, args.n_open, args.pairs)
    recipe = build_recipe(args, console)
    names = engine_model_names(recipe.engine == "offline", recipe.endpoint,
                               recipe.context.understand_with)
    settings = fingerprint_settings(recipe, names)
    out_dir = Path(args.out).expanduser()
    notes: list[str] = []
    with lock_out_dir(out_dir, notes):
        for note in notes:
            console.print(f"[yellow]{escape(note)}[/]", highlight=False)
        clip = recipe.context.clip_spec() if recipe.engine == "vlm" \
            and recipe.context.localizer != "pose" else None
        gate = LocalCallGate(args.llm_concurrency)
        with open_pool(args, recipe, gate, endpoint=recipe.endpoint, clip=clip) as (pool, _):
            runner = BatchRunner(rows, pool, out_dir, settings, concurrency=args.concurrency,
                                 retry_failed=args.retry_failed)
            done, todo, _ = runner.pending()
            write_json(out_dir / RUN_FILE, {"pairs_file": str(Path(args.pairs).absolute()),
                                            "ran_on": pool.description, **settings})
            if todo and pool.description != "this process":
                console.print(f"[dim]Running on {escape(pool.description)}[/]",
                              highlight=False)
            with _Progress(console, len(rows), len(done), enabled=not args.quiet) as progress:
                runner.on_outcome = progress.advance
                outcome = await runner.run()
    return report_batch(console, outcome, rows=[r.pair_id for r in rows], out_dir=out_dir,
                        want_report=args.report)


def report_batch(console: Console, outcome: BatchOutcome, *, rows: list[str], out_dir: Path,
                 want_report: bool) -> int:
    """The table of pairs, the notes, and the exit code."""
    from rich.table import Table

    for note in outcome.notes:
        console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    table = Table(title=f"{len(rows)} pair(s)", title_justify="left")
    for column in ("pair", "status", "a", "b", "c", "failed", "result / error"):
        table.add_column(column, justify="right" if len(column) <= 6 and column not in
                         ("pair", "status") else "left")
    failed = 0
    missing_reports = 0
    for pair_id in rows:
        found: PairOutcome | None = outcome.outcomes.get(pair_id)
        if found is None:
            table.add_row(escape(pair_id), "[yellow]lost[/]", "", "", "", "",
                          "not recorded: run again")
            continue
        if found.status == "failed":
            failed += 1
        if want_report and found.status == "ok" and found.report_file is None:
            missing_reports += 1
        labels = found.labels
        where = found.result_file or found.error or ""
        table.add_row(escape(pair_id), "ok" if found.status == "ok" else "[red]failed[/]",
                      *(str(labels.get(k, 0)) if found.status == "ok" else ""
                        for k in ("a", "b", "c", "failed")),
                      escape(where))
    console.print(table)
    if missing_reports:
        console.print(f"[yellow]{missing_reports} pair(s) compared earlier without --report "
                      f"have no report: viddiff report {escape(str(out_dir))}/results/ID.json "
                      "-o ID.html draws one[/]", highlight=False)
    console.print(f"[green]Compared {outcome.ran} pair(s), resumed {outcome.resumed}; "
                  f"wrote {escape(str(out_dir / 'pairs.jsonl'))}[/]", highlight=False)
    if outcome.lost:
        return EXIT_INCOMPLETE
    return EXIT_FAILED if failed else 0


class _Progress:
    """A progress bar of pairs done (off with ``--quiet`` or when output is not a terminal)."""

    def __init__(self, console: Console, total: int, done: int, *, enabled: bool) -> None:
        from rich.progress import Progress

        self.enabled = enabled and console.is_terminal
        self.progress = Progress(console=console, transient=True, disable=not self.enabled)
        self.task = self.progress.add_task("pairs", total=total, completed=done)

    def advance(self, outcome: PairOutcome) -> None:
        self.progress.advance(self.task)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def handle(args: argparse.Namespace, console: Console) -> int:
    ray_options_from_args(args)  # contradicting options: refused before any loading
    return async_run.run(run_batch(args, console))
