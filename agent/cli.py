"""The ``viddiff`` command line.

``viddiff compare A.mp4 B.mp4 --action "..." [--difference "..." ...] [--open N]``

With an OpenAI-compatible endpoint configured (``OPENAI_API_KEY`` and/or ``OPENAI_BASE_URL``)
the VidDiff graph runs (LLM proposer, CLIP localizer, VLM differencer). With none, or with
``--offline``, the offline engine answers with pose measurements instead. Every failure a user
can cause prints one line and exits non-zero: 2 for bad input or settings, 3 for the endpoint.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from viddiff.agent.progress import LiveProgress
from viddiff.agent.render import print_result
from viddiff.graphs.context import VidDiffContext, default_cache_dir
from viddiff.graphs.models import EndpointSettings
from viddiff.graphs.schemas import ComparisonResult
from viddiff.tools.errors import EndpointError, ModelReplyError, VidDiffError

EXIT_INPUT = 2
EXIT_ENDPOINT = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="viddiff", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmp_ = sub.add_parser("compare", help="compare two videos of the same action")
    cmp_.add_argument("video_a", help="first video (A)")
    cmp_.add_argument("video_b", help="second video (B)")
    cmp_.add_argument("--action", required=True,
                      help="what the videos show, e.g. 'a bodyweight squat', or a benchmark "
                           "action key such as fitness_4")
    cmp_.add_argument("--difference", "-d", action="append", default=[], metavar="TEXT",
                      help="a difference to check (closed mode); repeat for more")
    cmp_.add_argument("--open", type=int, metavar="N", dest="n_open",
                      help="open mode: propose and answer up to N differences")
    cmp_.add_argument("--json", type=Path, metavar="OUT.json", help="write the full result")
    cmp_.add_argument("--offline", action="store_true",
                      help="use the offline pose engine even if an endpoint is configured")
    cmp_.add_argument("--base-url", help="OpenAI-compatible endpoint (default $OPENAI_BASE_URL)")
    cmp_.add_argument("--model", help="model for every role (default $VIDDIFF_MODEL or gpt-4o)")
    for role in ("proposer", "stages", "linker", "differencer"):
        cmp_.add_argument(f"--{role}-model", help=f"model for the {role} role")
    cmp_.add_argument("--fps", type=float, default=VidDiffContext.fps,
                      help="frames sampled per second (default %(default)s)")
    cmp_.add_argument("--max-frames", type=int, default=VidDiffContext.max_frames)
    cmp_.add_argument("--clip-model", default=VidDiffContext.clip_model)
    cmp_.add_argument("--clip-pretrained", default=VidDiffContext.clip_pretrained,
                      help="open_clip pretrained tag; 'none' = random weights (testing only)")
    cmp_.add_argument("--clip-checkpoint", help="local open_clip checkpoint file")
    cmp_.add_argument("--device", default="auto", help="torch device for CLIP (auto|cpu|cuda)")
    cmp_.add_argument("--cache-dir", type=Path, default=None,
                      help=f"embedding/pose cache (default {default_cache_dir()})")
    cmp_.add_argument("--concurrency", type=int, default=VidDiffContext.max_concurrency)
    cmp_.add_argument("--quiet", "-q", action="store_true", help="no live progress")
    return parser


def context_from_args(args: argparse.Namespace) -> VidDiffContext:
    ctx = VidDiffContext(fps=args.fps, max_frames=args.max_frames, clip_model=args.clip_model,
                         clip_pretrained=None if str(args.clip_pretrained).lower() in ("", "none")
                         else args.clip_pretrained,
                         clip_checkpoint=args.clip_checkpoint, device=args.device,
                         max_concurrency=args.concurrency)
    if args.cache_dir is not None:
        ctx.cache_dir = args.cache_dir
    return ctx


def request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    if args.n_open is not None and args.n_open < 1:
        raise VidDiffError("--open needs a number of differences >= 1")
    if args.difference and args.n_open:
        raise VidDiffError("give --difference (closed mode) or --open N, not both")
    return {"video_a": args.video_a, "video_b": args.video_b, "action": args.action,
            "differences": [{"description": d} for d in args.difference] or None,
            "n_differences": args.n_open}


def write_json(path: Path, result: ComparisonResult) -> None:
    """Atomic write, so an interrupted run never leaves a truncated result behind."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(result.model_dump_json(indent=2))
    os.replace(tmp, path)


async def compare(args: argparse.Namespace, console: Console) -> ComparisonResult:
    from viddiff.graphs.checklist import expand_request
    from viddiff.graphs.runner import run_comparison

    ctx = context_from_args(args)
    request = expand_request(request_from_args(args))
    settings = EndpointSettings.from_env().with_overrides(
        base_url=args.base_url, model=args.model,
        role_models={r: getattr(args, f"{r}_model") for r in
                     ("proposer", "stages", "linker", "differencer")})
    if args.offline or not settings.configured:
        from viddiff.graphs.offline import build_offline_graph

        graph = build_offline_graph().compile()
        if not args.offline:
            console.print("[dim]No model endpoint configured (OPENAI_API_KEY / OPENAI_BASE_URL):"
                          " using the offline pose engine.[/]")
    else:
        from viddiff.graphs.models import build_models
        from viddiff.graphs.viddiff import build_viddiff_graph

        graph = build_viddiff_graph(build_models(settings)).compile()
    with LiveProgress(console, enabled=not args.quiet) as progress:
        return await run_comparison(graph, request, ctx, on_event=progress)


def quiet_native_logs() -> None:
    """MediaPipe/TFLite log INFO lines from C++ to stderr; keep the terminal for people."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    quiet_native_logs()
    args = build_parser().parse_args(argv)
    console = Console(stderr=False)
    err = Console(stderr=True)
    try:
        if args.command == "compare":
            result = asyncio.run(compare(args, console))
            print_result(console, result)
            if args.json:
                write_json(args.json, result)
                console.print(f"[green]Wrote {args.json}[/]")
            return 0
    except KeyboardInterrupt:
        err.print("viddiff: interrupted")
        return 130
    except (EndpointError, ModelReplyError) as exc:
        err.print(f"viddiff: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_ENDPOINT
    except VidDiffError as exc:
        err.print(f"viddiff: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_INPUT
    return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
