"""``viddiff compare``: two videos in, a table (and optionally JSON) of differences out."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from viddiff.agent.cli import async_run
from viddiff.agent.cli.options import (
    add_endpoint_options,
    add_sampling_options,
    context_from_args,
    endpoint_from_args,
    engine_choice,
    positive_int,
)
from viddiff.agent.cli.outputs import check_outputs, write_outputs
from viddiff.agent.cli.replay_options import add_replay_options, write_replay_from_args
from viddiff.agent.console.live_view import LiveProgress
from viddiff.agent.console.result_table import print_result
from viddiff.evals.protocols import get_protocol
from viddiff.graphs.checklist import resolve_action, unknown_action_key
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.models import build_reader, wants_reader
from viddiff.graphs.schemas import ComparisonResult, difference_fields
from viddiff.tools.errors import VidDiffError, VideoError
from viddiff.tools.paths import looks_like_url

MAX_OPEN = 20
"""The most differences ``--open`` may ask for: the benchmark's largest budget is 12, and a
budget in the thousands only buys a model reply that long (and its cost)."""


def open_budget(text: str) -> int:
    """``--open N``: a whole number from 1 to :data:`MAX_OPEN`."""
    value = positive_int(text)
    if value > MAX_OPEN:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_OPEN}, not {text}")
    return value


def register(sub: Any) -> None:
    cmp_ = sub.add_parser("compare", help="compare two videos of the same action")
    cmp_.add_argument("video_a", help="first video (A)")
    cmp_.add_argument("video_b", help="second video (B)")
    cmp_.add_argument("--action", required=True,
                      help="what the videos show, e.g. 'a bodyweight squat', or a benchmark "
                           "action key such as fitness_4 (its checklist is used when no "
                           "differences are given)")
    cmp_.add_argument("--difference", "-d", action="append", default=[], metavar="TEXT",
                      help="a difference to check (closed mode); repeat for more")
    cmp_.add_argument("--open", type=open_budget, metavar="N", dest="n_open",
                      help=f"open mode: propose and answer up to N differences (1 to "
                           f"{MAX_OPEN})")
    cmp_.add_argument("--json", type=Path, metavar="OUT.json", help="write the full result")
    cmp_.add_argument("--report", type=Path, metavar="OUT.html",
                      help="write a self-contained HTML report (frames, stages, measurements)")
    cmp_.add_argument("--quiet", "-q", action="store_true", help="no live progress")
    cmp_.add_argument("--result-cache", action=argparse.BooleanOptionalAction, default=True,
                      help="offline engine: read back the result of the very same comparison "
                           "(same video content, settings and viddiff code) from the cache "
                           "folder instead of computing it again (default: on)")
    add_replay_options(cmp_)
    add_endpoint_options(cmp_)
    add_sampling_options(cmp_)
    cmp_.set_defaults(handler=handle)


def request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    for video in (args.video_a, args.video_b):
        if looks_like_url(video):
            raise VideoError(f"URLs are not supported; download the video first ({video})")
    if args.difference and args.n_open:
        raise VidDiffError("give --difference (closed mode) or --open N, not both")
    if any(not d.strip() for d in args.difference):
        raise VidDiffError("a --difference is blank: say in words what may differ")
    unknown = unknown_action_key(args.action)
    if unknown is not None:
        raise VidDiffError(f"unknown benchmark action {unknown!r}: viddiff actions lists the "
                           f"keys --action accepts")
    return {"video_a": args.video_a, "video_b": args.video_b, "action": args.action,
            "differences": [difference_fields(d) for d in args.difference] or None,
            "n_differences": args.n_open}


def compare_context(args: argparse.Namespace) -> VidDiffContext:
    """The protocol's settings and the flags; without ``--fps``, a benchmark action key
    (``fitness_4``) gets its domain's rate from the protocol (the paper: fitness 8 fps)."""
    ctx = context_from_args(args)
    if args.fps is None:
        action = resolve_action(args.action)
        table = get_protocol(args.protocol).domain_fps("viddiff")
        if action is not None and action.domain.lower() in table:
            ctx = replace(ctx, fps=table[action.domain.lower()])
    return ctx


def result_json(result: ComparisonResult) -> str:
    """The ``--json`` file's text."""
    return result.model_dump_json(indent=2)


def prepare_output(path: Path, console: Console) -> None:
    """Create the missing folder of an output file (and say so), before the run, so a bad
    path costs no model calls; a path that cannot be written is one line, exit 2."""
    folder = path.expanduser().parent
    if folder.is_dir():
        return
    if folder.exists():
        raise VidDiffError(f"cannot write {path}: {folder} is not a folder")
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise VidDiffError(f"cannot create the folder {folder} for {path}: "
                           f"{exc.strerror or exc}") from None
    console.print(Text(f"Created the folder {folder} for {path}.", style="dim"))


async def compare(args: argparse.Namespace, console: Console) -> ComparisonResult:
    from viddiff.graphs.checklist import expand_request

    ctx = compare_context(args)
    request = expand_request(request_from_args(args))
    choice = engine_choice(args)
    endpoint = endpoint_from_args(args)
    offline = choice == "offline" or (choice == "auto" and not endpoint.configured)
    # a model's reading of the statements is not a function of the cache key: not cached
    reads_with_model = offline and wants_reader(ctx.understand_with, endpoint)
    key = None
    if offline and args.result_cache and not reads_with_model:  # before the graph is imported
        from viddiff.graphs.result_cache import load_result, offline_components, result_key

        key = result_key(request, ctx, offline_components())
        stored = load_result(ctx, key)
        if stored is not None:
            console.print(Text("The same comparison ran before (same videos, settings and "
                               "code): its result is read back (--no-result-cache computes it "
                               "again).", style="dim"))
            return stored
    # the graph factories load LangGraph: only now, after the result cache missed
    from viddiff.graphs.engine import choose_engine, create_graph, require_clip
    from viddiff.graphs.runner import run_comparison

    decision = choose_engine(choice, settings=endpoint)
    if decision.engine == "offline" and not args.offline:
        console.print(Text(f"{decision.reason[0].upper()}{decision.reason[1:]}.", style="dim"))
    if decision.engine == "vlm":
        require_clip(ctx)
    reader = build_reader(endpoint) if decision.engine == "offline" and reads_with_model \
        else None
    graph = create_graph(engine=decision, reader=reader)
    with LiveProgress(console, enabled=not args.quiet) as progress:
        result = await run_comparison(graph, request, ctx, on_event=progress)
    if key is not None and decision.engine == "offline":
        from viddiff.graphs.result_cache import save_result

        save_result(ctx, key, result)
    return result


def report_html(args: argparse.Namespace, result: ComparisonResult) -> bytes:
    """The ``--report`` page (frames decoded again from the videos)."""
    from viddiff.agent.report import ReportOptions, render_html

    ctx = context_from_args(args)
    return render_html(result, ReportOptions(
        cache_dir=ctx.cache_dir, max_side=ctx.max_side or VidDiffContext.max_side or 448,
        context=ctx)).encode("utf-8")


def handle(args: argparse.Namespace, console: Console) -> int:
    check_outputs({"--json": args.json, "--report": args.report, "--video": args.video},
                  {"video A": args.video_a, "video B": args.video_b})
    for out in (args.json, args.report, args.video):
        if out is not None:
            prepare_output(out, console)
    result = async_run.run(compare(args, console))
    print_result(console, result)
    files: list[tuple[Path, bytes | str]] = []  # made in full first, then written together
    if args.json:
        files.append((args.json, result_json(result)))
    if args.report:
        files.append((args.report, report_html(args, result)))
    write_outputs(files)
    for path, _ in files:
        console.print(Text(f"Wrote {path}", style="green"))
    write_replay_from_args(args, result, context_from_args(args), console)
    return 0
