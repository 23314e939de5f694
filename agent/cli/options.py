"""Command-line option groups shared by several subcommands (compare, eval, chat …)."""

from __future__ import annotations

import argparse
from pathlib import Path

from viddiff.graphs.context import VidDiffContext, default_cache_dir
from viddiff.graphs.models import ROLES, EndpointSettings


def add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model endpoint (OpenAI-compatible)")
    group.add_argument("--offline", action="store_true",
                       help="use the offline pose engine even if an endpoint is configured")
    group.add_argument("--base-url", help="endpoint URL (default $OPENAI_BASE_URL)")
    group.add_argument("--model", help="model for every role (default $VIDDIFF_MODEL or gpt-4o)")
    for role in ROLES:
        group.add_argument(f"--{role}-model", help=f"model for the {role} role")


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frames, CLIP and cache")
    group.add_argument("--fps", type=float, default=VidDiffContext.fps,
                       help="frames sampled per second (default %(default)s)")
    group.add_argument("--max-frames", type=int, default=VidDiffContext.max_frames,
                       help="cap on sampled frames per video (default %(default)s)")
    group.add_argument("--clip-model", default=VidDiffContext.clip_model)
    group.add_argument("--clip-pretrained", default=VidDiffContext.clip_pretrained,
                       help="open_clip pretrained tag; 'none' = random weights (testing only)")
    group.add_argument("--clip-checkpoint", help="local open_clip checkpoint file")
    group.add_argument("--device", default="auto", help="torch device for CLIP (auto|cpu|cuda)")
    group.add_argument("--cache-dir", type=Path, default=None,
                       help=f"embedding/pose/transcript cache (default {default_cache_dir()})")
    group.add_argument("--concurrency", type=int, default=VidDiffContext.max_concurrency,
                       help="model calls in flight at once (default %(default)s)")
    group.add_argument("--localizer", choices=("auto", "clip", "pose"),
                       default=VidDiffContext.localizer,
                       help="stage localizer: CLIP + Viterbi, pose phases + DTW, or auto (CLIP, "
                            "pose when CLIP weights are unavailable; default %(default)s)")
    group.add_argument("--no-kinematics", dest="kinematics", action="store_false",
                       help="do not offer pose measurements to the differencer")


def context_from_args(args: argparse.Namespace) -> VidDiffContext:
    pretrained = args.clip_pretrained
    ctx = VidDiffContext(fps=args.fps, max_frames=args.max_frames, clip_model=args.clip_model,
                         clip_pretrained=None if str(pretrained).lower() in ("", "none")
                         else pretrained,
                         clip_checkpoint=args.clip_checkpoint, device=args.device,
                         max_concurrency=args.concurrency, localizer=args.localizer,
                         kinematics=args.kinematics)
    if args.cache_dir is not None:
        ctx.cache_dir = args.cache_dir
    return ctx


def endpoint_from_args(args: argparse.Namespace) -> EndpointSettings:
    return EndpointSettings.from_env().with_overrides(
        base_url=args.base_url, model=args.model,
        role_models={r: getattr(args, f"{r}_model") for r in ROLES})


def add_data_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--data``: where benchmark rows come from (eval and score)."""
    parser.add_argument("--data", required=True,
                        help=f"{what}: a .json/.jsonl/.parquet file or folder, or a Hub "
                             "dataset name such as jmhb/VidDiffBench (needs the 'datasets' "
                             "extra)")


def add_judge_options(parser: argparse.ArgumentParser) -> None:
    """Options of the open-mode judge and of the cost estimate (eval and score)."""
    group = parser.add_argument_group("scoring")
    group.add_argument("--judge-model", metavar="NAME",
                       help="LLM that matches and flip-checks open-mode statements (default: "
                            "for score, the judge the run used; else $VIDDIFF_JUDGE_MODEL, "
                            "else the run's model; the paper used gpt-4o-2024-08-06)")
    group.add_argument("--price", action="append", default=[], metavar="MODEL=IN,OUT",
                       help="price in USD per million input,output tokens for the cost "
                            "estimate (overrides the built-in table); repeat for more")


def add_gallery_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gallery", type=int, metavar="N",
                        help="after scoring, write gallery.html: the N worst-scored samples "
                             "(closed accuracy / open recall per sample) with their frames "
                             "and verdicts, from the results/ the viddiff method saves (not "
                             "the lmm baseline, which keeps no result; its gallery is skipped)")
