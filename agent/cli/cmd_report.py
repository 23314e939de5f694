"""``viddiff report``: a saved comparison result in, a self-contained HTML report (and
optionally a PNG contact sheet) out. Frames are decoded again from the videos the result names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from viddiff.agent.cli.outputs import check_outputs
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
        ReportError,
        ReportOptions,
        build_view,
        load_result,
        write_contact_sheet,
        write_report,
    )

    out = args.output or args.result.with_suffix(".html")
    if out.expanduser().resolve() == args.result.expanduser().resolve():
        raise ReportError(f"the report would overwrite its input {args.result}; give -o OUT.html")
    result = load_result(args.result)
    check_outputs({"the result": args.result, "video A": result.video_a.path,
                   "video B": result.video_b.path},
                  {"-o": out, "--png": args.png, "--video": args.video})
    check_replay_inputs(args, result)
    options = ReportOptions(cache_dir=args.cache_dir, max_side=args.max_side, pose=args.pose)
    view = build_view(result, options)
    write_report(view, out)
    console.print(f"Wrote {out}", style="green", markup=False, highlight=False)
    if args.png:
        write_contact_sheet(view, args.png)
        console.print(f"Wrote {args.png}", style="green", markup=False, highlight=False)
    for problem in view.problems:
        console.print(f"report: {problem}", style="yellow", markup=False, highlight=False)
    ctx = VidDiffContext(cache_dir=args.cache_dir or default_cache_dir(), max_side=args.max_side)
    write_replay_from_args(args, result, ctx, console, skeletons=args.pose is not False)
    return 0
