"""Command-line option groups shared by several subcommands (compare, eval, chat …)."""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from viddiff.graphs.context import SETTINGS, Setting, VidDiffContext, default_cache_dir
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
    add_setting_options(group, "endpoint")


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
    """Every run setting of :class:`VidDiffContext` that is not an endpoint option, one flag
    each, derived from the fields' :class:`Setting`; ``protocol`` adds ``--protocol`` (eval,
    compare)."""
    if protocol:
        add_protocol_option(parser)
    group = parser.add_argument_group(
        "run settings (defaults shown are --protocol viddiff's; the paper protocol's are in "
        "docs/protocols.md)")
    add_setting_options(group, "sampling")


#: How a flag's text is read, per Setting.kind (argparse types: a bad value is one line).
_PARSERS: dict[str, Callable[[str], Any]] = {
    "number": positive_float, "count": positive_int, "count0": int_at_least(0),
    "device": device_name, "path": Path, "text": str, "optional_text": str,
}
_RANGES = {"number": "> 0", "count": ">= 1", "count0": ">= 0", "limit": ">= 1 or none"}


def _flag(name: str, info: Setting) -> str:
    return info.flag or "--" + name.replace("_", "-")


def _dest(name: str, info: Setting) -> str:
    return _flag(name, info)[2:].replace("-", "_")


def _default_text(name: str, info: Setting) -> str:
    value = CONTEXT_DEFAULTS[name]
    if info.kind == "switch":
        return "on" if value else "off"
    if name == "cache_dir":
        return str(default_cache_dir())
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _help(name: str, info: Setting) -> str:
    extra = [_RANGES[info.kind]] if info.kind in _RANGES else []
    if info.kind == "device":
        extra = [DEVICES]
    return f"{info.help} ({'; '.join([*extra, f'default {_default_text(name, info)}'])})"


def add_setting_options(group: argparse.ArgumentParser | argparse._ArgumentGroup,
                        where: str) -> None:
    """One flag per setting of ``where`` (its ``Setting.group``). The default is None (the
    protocol decides) except for settings that do not change results, whose default is the
    field's own (argparse shows it, and commands read e.g. ``args.concurrency`` directly)."""
    hints = typing.get_type_hints(VidDiffContext)
    for name, info in SETTINGS.items():
        if info.group != where:
            continue
        kwargs: dict[str, Any] = {"dest": _dest(name, info), "help": _help(name, info)}
        if not info.changes_results and name != "cache_dir":
            kwargs["default"] = CONTEXT_DEFAULTS[name]
        else:
            kwargs["default"] = None
        if info.kind == "switch":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif info.kind == "choice":
            kwargs["choices"] = tuple(v for v in _literal_values(hints[name]) if v is not None)
        elif info.kind == "limit":
            kwargs.update(type=_limit, metavar=info.metavar or "N|none")
        else:
            kwargs["type"] = _PARSERS[info.kind]
        if info.metavar and "metavar" not in kwargs:
            kwargs["metavar"] = info.metavar
        group.add_argument(_flag(name, info), **kwargs)


def _literal_values(hint: Any) -> list[Any]:
    """The values of a ``Literal[...]`` (or ``Literal[...] | None``) annotation."""
    values: list[Any] = []
    for arg in typing.get_args(hint) or ():
        values += _literal_values(arg) if typing.get_args(arg) else [arg]
    return [v for v in values if not isinstance(v, type)]


CONTEXT_DEFAULTS: dict[str, Any] = {
    f.name: None if f.default is dataclasses.MISSING else f.default
    for f in dataclasses.fields(VidDiffContext)}
"""Each setting's default (None for one made by a factory: the cache folder)."""


def context_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given explicitly on the command line (they override the protocol's)."""
    out: dict[str, Any] = {}
    for name, info in SETTINGS.items():
        value = getattr(args, _dest(name, info), None)
        if value is None:
            continue
        means_none = ((info.kind == "limit" and value == "none")
                      or (info.kind == "optional_text"
                          and str(value).strip().lower() in ("", "none")))
        out[name] = None if means_none else value
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
                            "filesystem every node sees (docs/ray.md)")
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
