"""``viddiff eval``: run a method over VidDiffBench samples and score it (paper §3.2).

``viddiff eval --data PATH --videos DIR --split easy --mode closed --method viddiff --out DIR``

Predictions go to ``DIR/predictions.jsonl`` one line per finished sample, so an interrupted
run resumes when the same command is run again; the scores to ``DIR/summary.json``; each
sample's full comparison result (graph methods) to ``DIR/results/``, and with ``--gallery N``
the N worst-scored of those to ``DIR/gallery.html``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from viddiff.agent.cli import async_run
from viddiff.agent.cli.options import (
    add_cluster_options,
    add_data_option,
    add_endpoint_options,
    add_gallery_option,
    add_judge_options,
    add_sampling_options,
    context_from_args,
    endpoint_from_args,
    engine_choice,
    positive_int,
    ray_options_from_args,
)
from viddiff.agent.cli.pools import open_pool
from viddiff.evals.protocols import (
    DOMAIN_FPS,
    PAPER_METHOD_FPS,
    Protocol,
    get_protocol,
    overridden,
)
from viddiff.graphs.context import VidDiffContext, settings_record
from viddiff.tools.errors import ConfigError

if TYPE_CHECKING:  # the heavier modules load when a run starts, not for --help
    from viddiff.agent.report import ReportOptions
    from viddiff.evals.predictions import PredictionRecord
    from viddiff.evals.recipe import EvalRecipe
    from viddiff.evals.sample_job import SampleSettings

EXIT_INPUT = 2
EXIT_INCOMPLETE = 4
"""Some samples were lost with their Ray workers: the re-run finishes the job."""
GALLERY_FILE = "gallery.html"


def write_run_gallery(console: Console, metrics: Mapping[str, Any],
                      records: Mapping[str, PredictionRecord], results_dir: Path,
                      out_path: Path, n: int, *, title: str = "Worst-scored pairs",
                      options: ReportOptions | None = None) -> Path | None:
    """The gallery of the ``n`` worst-scored samples that have a saved result; None (with a
    note) when there is none. Frames are decoded from the videos the results name (the run's
    materialised copies, or the originals used as they were); a video that is gone shows as a
    placeholder."""
    from viddiff.agent.report import ReportError, load_result, write_gallery
    from viddiff.evals.sample_results import sample_scores, worst_with_results

    worst = worst_with_results(sample_scores(metrics.get("per_sample", [])), records,
                               results_dir, n)
    items = []
    for key, path, score in worst:
        try:
            items.append((key, load_result(path), score))
        except ReportError as exc:
            console.print(f"[yellow]gallery: {escape(key)} left out: {escape(str(exc))}[/]",
                          highlight=False)
    if not items:
        console.print(f"[yellow]No gallery written: no scored sample has a saved result in "
                      f"{escape(str(results_dir))} (the lmm baseline saves none)[/]",
                      highlight=False)
        return None
    return write_gallery(items, out_path, options, title=title, limit=n)


def register(sub: Any) -> None:
    ev = sub.add_parser("eval", help="run and score a method on VidDiffBench samples",
                        description="Run a method over VidDiffBench samples and score it "
                                    "(paper §3.2, appendix F).")
    add_data_option(ev, "benchmark rows to evaluate on")
    ev.add_argument("--videos", type=Path, metavar="DIR",
                    help="folder the rows' video paths are relative to (default: the data "
                         "file's folder)")
    ev.add_argument("--split", choices=("easy", "medium", "hard", "all"), default="all")
    ev.add_argument("--mode", choices=("closed", "open"), default="closed")
    ev.add_argument("--method", choices=("viddiff", "lmm"), default="viddiff",
                    help="viddiff: the VidDiff graph (or the pose engine with --offline); "
                         "lmm: all frames of both videos in one VLM call (the paper's baseline)")
    ev.add_argument("--out", type=Path, required=True, metavar="DIR",
                    help="output folder: predictions.jsonl, summary.json, results/ (each "
                         "sample's comparison, viddiff method), caches")
    ev.add_argument("--action", action="append", default=[], dest="actions", metavar="KEY",
                    help="only this action (e.g. fitness_4); repeat for more")
    ev.add_argument("--domain", action="append", default=[], dest="domains", metavar="NAME",
                    help="only this domain (fitness, ballsports, diving, music, surgery)")
    ev.add_argument("--limit", type=positive_int, metavar="N", help="at most N (>= 1) samples")
    ev.add_argument("--sanity", choices=("duplicate", "swap"),
                    help="duplicate: A vs A (expect ~50%%); swap: B vs A, ground truth flipped")
    ev.add_argument("--video-cache", type=Path, metavar="DIR",
                    help="where trimmed videos and frame folders are encoded as mp4 (default "
                         "OUT/videos); share one between runs to encode each clip once")
    ev.add_argument("--retry-failed", action="store_true",
                    help="on resume, run again the samples recorded as failed")
    ev.add_argument("--skip-missing", action="store_true",
                    help="leave out samples whose videos are missing instead of stopping")
    ev.add_argument("--quiet", "-q", action="store_true", help="no live progress")
    add_gallery_option(ev)
    add_endpoint_options(ev)
    add_sampling_options(ev)
    add_judge_options(ev)
    add_cluster_options(ev)
    ev.set_defaults(handler=handle, concurrency=4, fps=None)
    for action in ev._actions:  # shared options whose meaning differs a little here
        if action.dest == "concurrency":
            action.help = ("samples evaluated at once (>= 1); also the limit on each "
                           "sample's concurrent model calls (default %(default)s)")
        elif action.dest == "fps":
            action.help = ("frames sampled per second (> 0; default: per domain, "
                           + ", ".join(f"{d} {f:g}" for d, f in DOMAIN_FPS.items())
                           + "; --protocol paper with the viddiff method: "
                           + ", ".join(f"{d} {f:g}" for d, f in PAPER_METHOD_FPS.items())
                           + ")")


def run_settings(protocol: Protocol, ctx: VidDiffContext,
                 domain_fps: Mapping[str, float] | None) -> dict[str, Any]:
    """What the run record says about settings: the protocol, every effective setting, the
    flags that departed from the protocol, and the frame rate per domain (or the fixed one)."""
    return {"protocol": protocol.name, "settings": settings_record(ctx),
            "overrides": overridden(protocol, ctx),
            "fps": dict(domain_fps) if domain_fps else ctx.fps}


def _video_root(args: argparse.Namespace) -> Path | None:
    if args.videos is not None:
        return Path(args.videos).expanduser()
    data = Path(args.data).expanduser()
    if data.exists():
        return data if data.is_dir() else data.parent
    return None


def build_recipe(args: argparse.Namespace, ctx: VidDiffContext,
                 domain_fps: Mapping[str, float] | None, settings: SampleSettings,
                 root: Path | None) -> EvalRecipe:
    """What every worker (here, or on Ray) builds its sample job from."""
    from viddiff.evals.benchmark_run import VIDEO_CACHE_DIR
    from viddiff.evals.recipe import EvalRecipe
    from viddiff.evals.videos import DEFAULT_MAX_SIDE

    engine_choice(args)  # refuses --offline with a protocol that needs the VLM engine
    recipe = EvalRecipe(
        method=args.method, offline=args.offline, endpoint=endpoint_from_args(args),
        context=ctx, settings=settings, video_root=root,
        video_cache=(args.video_cache or settings_out(args) / VIDEO_CACHE_DIR).expanduser()
        .absolute(),
        video_max_side=None if ctx.max_side is None else max(DEFAULT_MAX_SIDE, ctx.max_side),
        domain_fps=domain_fps)
    recipe.check()
    return recipe


def settings_out(args: argparse.Namespace) -> Path:
    return Path(args.out).expanduser()


def _missing_videos(args: argparse.Namespace, samples: list[Any], root: Path | None,
                    err: Console) -> tuple[list[Any], int | None]:
    """Samples whose videos all exist; or an exit code after listing every missing video."""
    from viddiff.evals.videos import find_missing, missing_report

    missing = find_missing(samples, root)
    if not missing:
        return samples, None
    lines = missing_report(missing, len(samples), root)
    if args.skip_missing:
        gone = {m.sample_key for m in missing}
        err.print(f"[yellow]{escape(lines[0])} leaving those samples out (--skip-missing)[/]",
                  highlight=False)
        return [s for s in samples if s.sample_key not in gone], None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "missing_videos.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for line in lines:
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    err.print(f"viddiff: error: {len({m.path for m in missing})} video(s) missing (listed "
              f"above and in {out / 'missing_videos.txt'}); download them, fix --videos, or "
              f"use --skip-missing", markup=False, highlight=False, soft_wrap=True)
    return samples, EXIT_INPUT


async def evaluate(args: argparse.Namespace, console: Console, samples: list[Any],
                   root: Path | None) -> int:
    """Run and score while holding the output folder's lock: a second run on the same
    ``--out`` stops at once (exit 2) instead of running every sample again."""
    from viddiff.evals.out_lock import lock_out_dir

    notes: list[str] = []
    with lock_out_dir(Path(args.out).expanduser(), notes):
        for note in notes:
            console.print(f"[yellow]{escape(note)}[/]", highlight=False)
        return await _evaluate(args, console, samples, root)


async def _evaluate(args: argparse.Namespace, console: Console, samples: list[Any],
                    root: Path | None) -> int:
    from viddiff.evals.benchmark_run import (
        JUDGE_CACHE_DIR,
        SUMMARY_FILE,
        BenchmarkRunner,
        RunSettings,
        claim_out_dir,
        pending,
    )
    from viddiff.evals.cost import merge_usage, parse_price
    from viddiff.evals.jobs import LocalPool
    from viddiff.evals.judge import build_judge, build_scorer, judge_model_name
    from viddiff.evals.recipe import method_name
    from viddiff.evals.run_progress import RunProgress
    from viddiff.evals.scoreboard import print_report, summary_document, write_json
    from viddiff.evals.summary import METRIC_NAMES, summarize
    from viddiff.graphs.transport import LocalCallGate

    prices = dict(parse_price(p) for p in args.price)
    protocol = get_protocol(args.protocol)
    # without --fps each sample gets its domain's rate from the protocol's table for this
    # method; the shared context keeps its default number for anything domain-less
    domain_fps = protocol.domain_fps(args.method) if args.fps is None else None
    ctx = context_from_args(args)
    settings = RunSettings(out_dir=settings_out(args), mode=args.mode,
                           method=method_name(args.method, args.offline),
                           sanity=args.sanity, concurrency=max(1, args.concurrency),
                           retry_failed=args.retry_failed, protocol=protocol.name)
    recipe = build_recipe(args, ctx, domain_fps, settings.sample_settings(), root)
    models = recipe.model_names()
    gate = LocalCallGate(args.llm_concurrency)
    judge_name = None
    judge = None
    if args.mode == "open":
        endpoint = endpoint_from_args(args)
        if not endpoint.configured:
            raise ConfigError("open mode is scored by an LLM judge: configure an endpoint "
                              "(OPENAI_API_KEY / OPENAI_BASE_URL or --base-url)")
        judge_name = judge_model_name(args.judge_model, endpoint, default=protocol.judge_model)
    # refuses a folder holding another run's predictions before any worker starts
    done, todo = pending(samples, settings)
    record = run_settings(protocol, ctx, domain_fps)
    started = datetime.now(UTC).isoformat()
    t0 = time.monotonic()
    uses_clip = (args.method == "viddiff" and not args.offline
                 and recipe.context.localizer != "pose")
    with open_pool(args, recipe, gate, endpoint=recipe.endpoint,
                   clip=ctx.clip_spec() if uses_clip else None) as (pool, shared_gate):
        if args.mode == "open":
            assert judge_name is not None
            judge = build_judge(endpoint, judge_name, shared_gate)
        scorer = build_scorer(args.mode, judge, settings.out_dir / JUDGE_CACHE_DIR)
        runner = BenchmarkRunner(samples, pool, scorer, settings)
        claim_out_dir(settings, {"data": str(args.data), "videos": str(root) if root else None,
                                 "split": args.split, "models": models, "judge": judge_name,
                                 "ran_on": pool.description,
                                 "workers_ready_s": round(getattr(pool, "start_s", 0.0), 2),
                                 **record})
        if todo and pool.description != LocalPool.description:
            console.print(f"[dim]Running on {escape(pool.description)}[/]", highlight=False)
        with RunProgress(console, total=len(samples), resumed=len(done),
                         metric=METRIC_NAMES[args.mode], enabled=not args.quiet) as progress:
            runner.on_score = lambda score, new: progress.scored(score, new=new)
            outcome = await runner.run()
    for note in outcome.notes:
        console.print(f"[yellow]{escape(note)}[/]", highlight=False)
    metrics = summarize(outcome.scores, args.mode)
    method_usage = merge_usage(u for r in outcome.records.values() for u in r.usage)
    judge_usage = merge_usage(u for s in outcome.scores for u in s.judge_usage)
    run = {"method": settings.method, "mode": args.mode, "sanity": args.sanity,
           "data": str(args.data), "split": args.split, "models": models,
           "judge": judge_name, "samples_selected": len(samples), "samples_run": outcome.ran,
           "samples_resumed": outcome.resumed, "started_at": started,
           "elapsed_s": round(time.monotonic() - t0, 3), **record,
           "note": "method usage counts every recorded sample (earlier runs included); judge "
                   "usage counts only calls made by this run (cached answers are free)"}
    summary = summary_document(metrics, method_usage, judge_usage, prices, run)
    path = write_json(settings.out_dir / SUMMARY_FILE, summary)
    print_report(console, metrics, method_usage + judge_usage, prices, sanity=args.sanity)
    console.print(f"[green]Ran {outcome.ran} sample(s), resumed {outcome.resumed}; wrote "
                  f"{escape(str(settings.predictions_path))} and {escape(str(path))}[/]")
    if args.gallery:
        from viddiff.agent.report import ReportOptions

        gallery = write_run_gallery(
            console, metrics, outcome.records, settings.results_dir,
            settings.out_dir / GALLERY_FILE, args.gallery,
            title=f"Worst-scored pairs: {settings.method}, {args.mode}",
            options=ReportOptions(cache_dir=ctx.cache_dir, context=ctx,
                                  max_side=ctx.max_side or VidDiffContext.max_side or 448))
        if gallery is not None:
            console.print(f"[green]Wrote the gallery of the worst-scored pairs: "
                          f"{escape(str(gallery))}[/]", highlight=False)
    if outcome.lost:
        console.print(f"[yellow]Incomplete: {len(outcome.lost)} sample(s) lost with their "
                      "workers; run the same command again to finish[/]", highlight=False)
        return EXIT_INCOMPLETE
    return 0


def handle(args: argparse.Namespace, console: Console) -> int:
    from viddiff.evals.data import load_samples, select_samples

    ray_options_from_args(args)  # contradicting options: refused before any loading

    samples = select_samples(load_samples(args.data), split=args.split, actions=args.actions,
                             domains=args.domains, limit=args.limit)
    if not samples:
        raise ConfigError(f"no samples in {args.data} match --split {args.split}"
                          + (f" --action {' '.join(args.actions)}" if args.actions else "")
                          + (f" --domain {' '.join(args.domains)}" if args.domains else ""))
    root = _video_root(args)
    samples, code = _missing_videos(args, samples, root, Console(stderr=True))
    if code is not None:
        return code
    if not samples:
        raise ConfigError("no samples left: every selected sample has a missing video")
    return async_run.run(evaluate(args, console, samples, root))
