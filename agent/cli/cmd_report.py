"""``viddiff report``: a saved comparison result in, a self-contained HTML report (and
optionally a PNG contact sheet) out. Frames are decoded again from the videos the result names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from viddiff.agent.cli.outputs import check_outputs, write_outputs
from viddiff.agent.cli.replay_options import (
    add_replay_options,
    check_replay_inputs,
    write_replay_from_args,
)
from viddiff.graphs.context import VidDiffContext, default_cache_dir


def register(sub: Any) -> None:
    rep = sub.add_parser("report", help="turn a --json result into an HTML report / PNG sheet")
    rep.add_argument("result", type=Path, help="result file written by 'viddiff compare --json'")
    rep.add_argument("-o", "--output", type=Path, metavar="OUT.html",
                     help="HTML report to write (default: the result's name with .html)")
    rep.add_argument("--png", type=Path, metavar="SHEET.png",
                     help="also write the report as one PNG contact sheet")
    pose = rep.add_mutually_exclusive_group()
    pose.add_argument("--pose", dest="pose", action="store_const", const=True, default=None,
                      help="draw pose skeletons on every cited frame (default: only on "
                           "frames behind measurements)")
    pose.add_argument("--no-pose", dest="pose", action="store_const", const=False,
                      help="draw no pose skeletons, in the report and the replay (skips the "
                           "pose model)")
    rep.add_argument("--max-side", type=int, default=VidDiffContext.max_side,
                     help="decode size used by the comparison, for pose-cache hits "
                          "(default %(default)s)")
    rep.add_argument("--cache-dir", type=Path, default=None,
                     help=f"pose cache (default {default_cache_dir()})")
    add_replay_options(rep)
    rep.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from viddiff.agent.report import (
        ReportOptions,
        build_view,
        contact_sheet_png,
        load_result,
        render_html,
    )

    out = args.output or args.result.with_suffix(".html")
    outputs = {"the report (-o)": out, "--png": args.png, "--video": args.video}
    check_outputs(outputs, {"the result file": args.result})
    result = load_result(args.result)
    check_outputs(outputs, {"the result file": args.result, "video A": result.video_a.path,
                            "video B": result.video_b.path})
    check_replay_inputs(args, result)
    options = ReportOptions(cache_dir=args.cache_dir, max_side=args.max_side, pose=args.pose)
    view = build_view(result, options)
    files: list[tuple[Path, bytes | str]] = [(out, render_html(view).encode("utf-8"))]
    if args.png:
        files.append((args.png, contact_sheet_png(view)))
    write_outputs(files)  # both, or neither
    for path, _ in files:
        console.print(f"Wrote {path}", style="green", markup=False, highlight=False)
    for problem in view.problems:
        console.print(f"report: {problem}", style="yellow", markup=False, highlight=False)
    ctx = VidDiffContext(cache_dir=args.cache_dir or default_cache_dir(), max_side=args.max_side)
    write_replay_from_args(args, result, ctx, console, skeletons=args.pose is not False)
    return 0
