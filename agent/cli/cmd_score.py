"""``viddiff score``: score saved predictions again, without running the method.

``viddiff score --data PATH --predictions DIR/predictions.jsonl --mode closed [--json OUT]
[--gallery N [--results DIR/results]]``

The predictions may also be another method's, in the benchmark's published format (a JSON list
aligned with the rows) or as JSON Lines ``{sample_key, predictions}``; see
:mod:`viddiff.evals.prediction_formats`.

Closed mode is arithmetic. Open mode runs the judge (matching and flip check), whose answers
are cached next to the predictions, so scoring a finished ``viddiff eval`` run again makes no
model calls and gives the same numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from viddiff.agent.cli import async_run
from viddiff.agent.cli.cmd_eval import GALLERY_FILE
from viddiff.agent.cli.options import (
    add_data_option,
    add_gallery_option,
    add_judge_options,
    positive_int,
)
from viddiff.agent.cli.outputs import check_outputs


def register(sub: Any) -> None:
    sc = sub.add_parser("score", help="score saved predictions again (no method run)",
                        description="Score saved predictions again without running the "
                                    "method (open mode reuses the judge's cached answers).")
    add_data_option(sc, "the benchmark rows the predictions were made for")
    sc.add_argument("--predictions", type=Path, required=True, metavar="FILE",
                    help="predictions.jsonl written by viddiff eval; the benchmark's "
                         "published format (a JSON list aligned with the rows: entry i = "
                         "{key: {description, prediction}} or, closed, {key: \"a\"|\"b\"}); "
                         "or JSON Lines {sample_key, predictions} from other tools")
    sc.add_argument("--mode", choices=("closed", "open"), required=True)
    sc.add_argument("--split", choices=("easy", "medium", "hard", "all"), default="all",
                    help="the rows the predictions are for (a JSON list is aligned with "
                         "these rows, in file order; default %(default)s)")
    sc.add_argument("--json", type=Path, metavar="OUT.json", help="write the summary here")
    sc.add_argument("--base-url", help="judge endpoint URL (default $OPENAI_BASE_URL)")
    sc.add_argument("--judge-cache", type=Path, metavar="DIR",
                    help="judge answer cache (default: judge_cache/ beside the predictions)")
    sc.add_argument("--concurrency", type=positive_int, default=4,
                    help="samples scored at once in open mode (>= 1; default %(default)s)")
    add_gallery_option(sc)
    sc.add_argument("--results", type=Path, metavar="DIR",
                    help="the run's saved comparison results, for --gallery (default: "
                         "results/ beside the predictions); the gallery is written beside "
                         "the predictions")
    add_judge_options(sc, timeout=True)
    sc.set_defaults(handler=handle)


def run_judge(predictions: Path) -> str | None:
    """The judge the run used, from its ``run.json`` beside the predictions: the model whose
    answers are in the cache, so re-scoring reproduces the run without new calls."""
    from viddiff.evals.benchmark_run import RUN_FILE

    try:
        judge = json.loads((Path(predictions).parent / RUN_FILE).read_text()).get("judge")
    except (OSError, ValueError, AttributeError):
        return None
    return judge if isinstance(judge, str) and judge else None


async def rescore(args: argparse.Namespace, console: Console) -> int:
    from viddiff.evals.benchmark_run import JUDGE_CACHE_DIR
    from viddiff.evals.cost import merge_usage, parse_price
    from viddiff.evals.data import DataError, load_samples, select_samples
    from viddiff.evals.judge import build_judge, build_scorer, judge_model_name
    from viddiff.evals.prediction_formats import read_any_predictions
    from viddiff.evals.predictions import check_consistent
    from viddiff.evals.protocols import PAPER_JUDGE
    from viddiff.evals.scoreboard import print_report, summary_document, write_json
    from viddiff.evals.scoring import SampleScore
    from viddiff.evals.summary import summarize
    from viddiff.graphs.models import EndpointSettings

    prices = dict(parse_price(p) for p in args.price)
    rows = select_samples(load_samples(args.data), split=args.split)
    records, kind = read_any_predictions(args.predictions, rows, args.mode)
    if not records:
        raise DataError(f"{args.predictions}: no predictions in this file")
    check_consistent(records.values(), mode=args.mode)
    samples = {s.sample_key: s for s in rows}
    unknown = sorted(k for k in records if k not in samples)
    if unknown:
        raise DataError(f"{len(unknown)} prediction(s) are for samples not in {args.data} "
                        f"--split {args.split} (e.g. {', '.join(unknown[:3])}): is it the same "
                        f"benchmark file?")
    judge_name = None
    judge = None
    if args.mode == "open":
        endpoint = EndpointSettings.from_env().with_overrides(base_url=args.base_url,
                                                              timeout_s=args.timeout)
        # another tool's predictions are judged as the benchmark judged them (paper, F.2)
        judge_name = judge_model_name(args.judge_model or run_judge(args.predictions), endpoint,
                                      default=None if kind == "viddiff" else PAPER_JUDGE)
        judge = build_judge(endpoint, judge_name)
    cache_dir = args.judge_cache or Path(args.predictions).parent / JUDGE_CACHE_DIR
    scorer = build_scorer(args.mode, judge, cache_dir)
    gate = asyncio.Semaphore(max(1, args.concurrency))

    async def one(key: str) -> SampleScore:
        async with gate:
            return await scorer.score(samples[key], records[key])

    scores = list(await asyncio.gather(*(one(k) for k in records)))
    metrics = summarize(scores, args.mode)
    method_usage = merge_usage(u for r in records.values() for u in r.usage)
    judge_usage = merge_usage(u for s in scores for u in s.judge_usage)
    first = next(iter(records.values()))
    print_report(console, metrics, method_usage + judge_usage, prices, sanity=first.sanity)
    if args.json:
        run = {"method": first.method, "mode": args.mode, "sanity": first.sanity,
               "data": str(args.data), "predictions": str(args.predictions),
               "judge": judge_name, "rescored": True, "predictions_format": kind,
               "protocol": first.protocol}
        path = write_json(args.json, summary_document(metrics, method_usage, judge_usage,
                                                      prices, run))
        console.print(f"Wrote {path}", style="green", markup=False, highlight=False)
    if args.gallery:
        from viddiff.agent.cli.cmd_eval import write_run_gallery
        from viddiff.evals.sample_results import RESULTS_DIR

        folder = Path(args.predictions).parent
        gallery = write_run_gallery(console, metrics, records,
                                    args.results or folder / RESULTS_DIR,
                                    folder / GALLERY_FILE, args.gallery,
                                    title=f"Worst-scored pairs: {first.method}, {args.mode}")
        if gallery is not None:
            console.print(f"Wrote the gallery of the worst-scored pairs: {gallery}",
                          style="green", markup=False, highlight=False)
    return 0


def handle(args: argparse.Namespace, console: Console) -> int:
    gallery = Path(args.predictions).parent / GALLERY_FILE if args.gallery else None
    check_outputs({"--json": args.json, "the gallery": gallery},
                  {"--data": args.data, "--predictions": args.predictions})
    return async_run.run(rescore(args, console))
