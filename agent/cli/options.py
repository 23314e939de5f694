"""Command-line option groups shared by several subcommands (compare, eval, chat …)."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from viddiff.graphs.context import VidDiffContext, default_cache_dir
from viddiff.graphs.models import DEFAULT_TIMEOUT_S, ROLES, EndpointSettings
from viddiff.tools.errors import ConfigError

DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DEVICES = "auto, cpu, cuda, cuda:N or mps"


# --------------------------------------------------------------------------- value types
# argparse calls these on the text of an option: a bad value becomes "argument --fps:
# ...", usage and exit 2, never a traceback later; and the ranges are in --help.


def positive_float(text: str) -> float:
    """A finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number > 0, not {text}")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    """A whole number >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {low}, not {text}")
        return value

    parse.__name__ = f"int>={low}"
    return parse


positive_int = int_at_least(1)


def device_name(text: str) -> str:
    """A torch device CLIP can run on."""
    if not DEVICE_RE.match(text.strip().lower()):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use {DEVICES}")
    return text.strip().lower()


def add_endpoint_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model endpoint (OpenAI-compatible)")
    group.add_argument("--offline", action="store_true",
                       help="use the offline pose engine even if an endpoint is configured")
    group.add_argument("--base-url", help="endpoint URL (default $OPENAI_BASE_URL)")
    group.add_argument("--model", help="model for every role (default $VIDDIFF_MODEL or gpt-4o)")
    for role in ROLES:
        group.add_argument(f"--{role}-model", help=f"model for the {role} role")
    add_timeout_option(group)
    group.add_argument("--deadline", type=positive_float, metavar="SECONDS",
                       help="stop a comparison that has not finished after this many seconds "
                            "(> 0; exit 3; default: no deadline)")


def add_timeout_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                        help=f"seconds one model request may take (> 0; default "
                             f"$VIDDIFF_TIMEOUT or {DEFAULT_TIMEOUT_S:g}); a request that "
                             f"times out is not sent again")


def _limit(text: str) -> int | str:
    """A positive pixel/frame limit, or "none" for no limit."""
    if text.strip().lower() == "none":
        return "none"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 or 'none', got {value}")
    return value


def add_protocol_option(parser: argparse.ArgumentParser) -> None:
    """``--protocol``: a named preset of every run setting (flags override single ones)."""
    from viddiff.evals.protocols import DEFAULT_PROTOCOL, PROTOCOLS

    parser.add_argument("--protocol", choices=tuple(PROTOCOLS), default=DEFAULT_PROTOCOL,
                        help="settings preset: viddiff (default: a/b/c answers, pose "
                             "measurements, capped and downsized frames) or paper (the "
                             "reference code's settings behind the paper's numbers; needs "
                             "CLIP weights); the flags below override single settings")


def add_sampling_options(parser: argparse.ArgumentParser, *, protocol: bool = True) -> None:
    """Frame, CLIP and cache settings; ``protocol`` adds ``--protocol`` (eval, compare)."""
    if protocol:
        add_protocol_option(parser)
    defaults = VidDiffContext()
    group = parser.add_argument_group(
        "frames, CLIP and cache (defaults shown are --protocol viddiff's; see README 'Two "
        "protocols' for paper's)")
    group.add_argument("--fps", type=positive_float, default=None,
                       help=f"frames sampled per second (> 0; default {defaults.fps:g})")
    group.add_argument("--max-frames", type=_limit, default=None, metavar="N|none",
                       help=f"cap on sampled frames per video (>= 1 or none; default "
                            f"{defaults.max_frames})")
    group.add_argument("--pose-fps", type=positive_float, default=None, metavar="FPS",
                       help="frames per second (> 0) the pose measurements read, their own "
                            "sampling "
                            f"(default: the source rate up to {defaults.pose_fps:g})")
    group.add_argument("--pose-max-frames", type=positive_int, default=None, metavar="N",
                       help="cap (>= 1) on pose frames per video; longer clips are read at a "
                            "lower "
                            f"rate (default {defaults.pose_max_frames})")
    group.add_argument("--max-side", type=_limit, default=None, metavar="PX|none",
                       help=f"longer side of decoded frames (default {defaults.max_side})")
    group.add_argument("--image-max-side", type=_limit, default=None, metavar="PX|none",
                       help="longer side of the images sent to the vision model (default "
                            f"{defaults.image_max_side}; none = as decoded)")
    group.add_argument("--image-detail", choices=("auto", "low", "high"), default=None,
                       help="image detail asked of the vision model (default: none sent)")
    group.add_argument("--answer-labels", choices=("abc", "ab"), default=None,
                       help="differencer answers: abc (c = similar / can't tell) or ab "
                            f"(default {defaults.answer_labels})")
    group.add_argument("--proposer-wording", choices=("at_most", "exactly"), default=None,
                       help="open mode: ask for at most N differences or exactly N (default "
                            f"{defaults.proposer_wording})")
    group.add_argument("--transcript-cache", action=argparse.BooleanOptionalAction,
                       default=None, help="reuse the stage transcript per action across "
                                          "samples and runs (default: on)")
    group.add_argument("--clip-model", default=None,
                       help=f"open_clip architecture (default {defaults.clip_model})")
    group.add_argument("--clip-pretrained", default=None,
                       help="open_clip pretrained tag; 'none' = random weights (testing only; "
                            f"default {defaults.clip_pretrained})")
    group.add_argument("--clip-checkpoint", metavar="FILE", help="local open_clip checkpoint file")
    group.add_argument("--device", type=device_name, default="auto",
                       help=f"torch device for CLIP: {DEVICES} (default %(default)s)")
    group.add_argument("--cache-dir", type=Path, default=None,
                       help=f"embedding/pose/transcript cache (default {default_cache_dir()})")
    group.add_argument("--concurrency", type=positive_int, default=VidDiffContext.max_concurrency,
                       help="model calls in flight at once (>= 1; default %(default)s)")
    group.add_argument("--localizer", choices=("auto", "clip", "pose"), default=None,
                       help="stage localizer: CLIP + Viterbi, pose phases + DTW, or auto (CLIP, "
                            "pose when CLIP weights are unavailable; default "
                            f"{defaults.localizer})")
    group.add_argument("--kinematics", action=argparse.BooleanOptionalAction, default=None,
                       help="offer pose measurements to the differencer (default: on)")


_LIMITS = ("max_frames", "max_side", "image_max_side")
_PLAIN = ("fps", "image_detail", "answer_labels", "proposer_wording", "transcript_cache",
          "clip_model", "localizer", "kinematics", "clip_checkpoint", "pose_fps",
          "pose_max_frames")


def context_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given explicitly on the command line (they override the protocol's)."""
    out: dict[str, Any] = {}
    for name in _PLAIN:
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    for name in _LIMITS:
        value = getattr(args, name, None)
        if value is not None:
            out[name] = None if value == "none" else value
    pretrained = getattr(args, "clip_pretrained", None)
    if pretrained is not None:
        out["clip_pretrained"] = None if str(pretrained).lower() in ("", "none") else pretrained
    out["device"] = args.device
    out["max_concurrency"] = args.concurrency
    if getattr(args, "deadline", None) is not None:
        out["deadline_s"] = args.deadline
    if args.cache_dir is not None:
        out["cache_dir"] = args.cache_dir
    return out


def check_engine_options(args: argparse.Namespace) -> None:
    """Options that contradict each other: one line, exit 2."""
    if getattr(args, "offline", False) and getattr(args, "localizer", "auto") == "clip":
        raise ConfigError("--localizer clip needs the vision-language engine; --offline runs "
                          "the pose engine, which localizes stages from pose (drop one of "
                          "them)")


def engine_choice(args: argparse.Namespace) -> Literal["offline", "vlm", "auto"]:
    """The engine the command line asks for: ``--offline``; the VLM engine when the protocol
    needs it (never a silent fallback to the pose engine); else ``auto``. ``--offline`` with
    such a protocol is refused (one line, exit 2)."""
    from viddiff.evals.protocols import get_protocol

    protocol = get_protocol(getattr(args, "protocol", None) or "viddiff")
    if args.offline and protocol.requires_vlm:
        raise ConfigError(f"--protocol {protocol.name} runs the VidDiff method with a "
                          "vision-language model; --offline (the pose engine) is not part of it")
    return "offline" if args.offline else "vlm" if protocol.requires_vlm else "auto"


def context_from_args(args: argparse.Namespace) -> VidDiffContext:
    """The run's settings: the ``--protocol`` preset, then the explicit flags."""
    from viddiff.evals.protocols import get_protocol

    check_engine_options(args)
    return get_protocol(getattr(args, "protocol", None) or "viddiff").build_context(
        context_overrides(args))


def endpoint_from_args(args: argparse.Namespace) -> EndpointSettings:
    return EndpointSettings.from_env().with_overrides(
        base_url=args.base_url, model=args.model,
        role_models={r: getattr(args, f"{r}_model") for r in ROLES},
        timeout_s=getattr(args, "timeout", None))


def add_data_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--data``: where benchmark rows come from (eval and score)."""
    parser.add_argument("--data", required=True,
                        help=f"{what}: a .json/.jsonl/.parquet file or folder, or a Hub "
                             "dataset name such as jmhb/VidDiffBench (needs the 'datasets' "
                             "extra)")


def add_judge_options(parser: argparse.ArgumentParser, *, timeout: bool = False) -> None:
    """Options of the open-mode judge and of the cost estimate (eval and score)."""
    group = parser.add_argument_group("scoring")
    group.add_argument("--judge-model", metavar="NAME",
                       help="LLM that matches and flip-checks open-mode statements (default: "
                            "for score, the judge the run used; with --protocol paper or "
                            "another tool's predictions, gpt-4o-2024-08-06 as in the paper; "
                            "else $VIDDIFF_JUDGE_MODEL, else the run's model)")
    if timeout:  # commands without the endpoint options (score) need their own
        add_timeout_option(group)
    group.add_argument("--price", action="append", default=[], metavar="MODEL=IN,OUT",
                       help="price in USD per million input,output tokens for the cost "
                            "estimate (overrides the built-in table); repeat for more")


def add_gallery_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gallery", type=positive_int, metavar="N",
                        help="after scoring, write gallery.html: the N (>= 1) worst-scored samples "
                             "(closed accuracy / open recall per sample) with their frames "
                             "and verdicts, from the results/ the viddiff method saves (not "
                             "the lmm baseline, which keeps no result; its gallery is skipped)")


DEFAULT_LLM_CONCURRENCY = 32
"""Model requests in flight at most, across the whole run (every worker of a cluster)."""


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``--ray`` and its companions (eval and compare-many), and the run-wide cap on model
    requests that applies with or without Ray."""
    from viddiff.evals.cluster.connect import ray_address

    group = parser.add_argument_group("running on Ray (needs the 'ray' extra)")
    group.add_argument("--ray", type=ray_address, metavar="ADDRESS",
                       help="run on Ray: auto (the cluster this machine belongs to), "
                            "ray://host:port (a remote cluster, Ray Client) or local (a Ray "
                            "instance for this run); videos and --cache-dir should be on a "
                            "filesystem every node sees (README: Running on Ray)")
    group.add_argument("--ray-cpus", type=positive_int, metavar="N",
                       help="CPUs of the --ray local instance (default: every core)")
    group.add_argument("--ray-workers", type=positive_int, metavar="N",
                       help="worker actors, each taking 1 CPU and a share of --concurrency "
                            "(default: one per free CPU, at most --concurrency)")
    group.add_argument("--ray-embedders", type=int_at_least(0), metavar="N",
                       help="CLIP embedding actors, each on its own GPU with --device cuda "
                            "(default: 1 with --device cuda, else 0: workers embed on their "
                            "own CPU)")
    group.add_argument("--ray-lost-retries", type=int_at_least(0), default=1, metavar="N",
                       help="times a sample (or pair) whose worker died is sent to another "
                            "worker before it is left unrecorded for the re-run (default "
                            "%(default)s)")
    group.add_argument("--llm-concurrency", type=positive_int,
                       default=DEFAULT_LLM_CONCURRENCY, metavar="N",
                       help="model requests in flight at most across the whole run, every "
                            "Ray worker and the judge included, to stay under the API's rate "
                            "limit (default %(default)s)")


def ray_options_from_args(args: argparse.Namespace) -> Any:
    """The ``RayOptions`` of the command line, or None without ``--ray`` (then the other
    ``--ray-*`` options are refused: they would be silently ignored)."""
    from viddiff.evals.cluster.session import RayOptions

    if args.ray is None:
        given = [f"--{n.replace('_', '-')}" for n in ("ray_cpus", "ray_workers", "ray_embedders")
                 if getattr(args, n, None) is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply with --ray ADDRESS")
        return None
    return RayOptions(address=args.ray, cpus=args.ray_cpus, workers=args.ray_workers,
                      embedders=args.ray_embedders, lost_retries=args.ray_lost_retries)
