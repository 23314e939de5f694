"""The replay flags (``--video``, ``--video-speed``, ``--video-mode``) that ``viddiff
compare`` and ``viddiff report`` share, and writing the replay they ask for."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from viddiff.agent.cli.options import positive_float
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import ComparisonResult


def add_replay_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("aligned replay (a side-by-side MP4)")
    group.add_argument("--video", type=Path, metavar="OUT.mp4",
                       help="write an aligned replay: A at its own pace beside B time-warped "
                            "to match, with skeletons, stage bars and each measured moment "
                            "held with its caption (H.264 MP4)")
    group.add_argument("--video-speed", type=positive_float, default=1.0, metavar="X",
                       help="replay speed, e.g. 0.5 for slow motion (default 1)")
    group.add_argument("--video-mode", choices=("side", "ghost"), default="side",
                       help="side: the two videos side by side; ghost: B's skeleton over A's "
                            "video, hips aligned and scaled by torso length (default side)")


def check_replay_inputs(args: argparse.Namespace, result: ComparisonResult) -> None:
    """Before any work: the videos a replay needs are where the result says and unchanged
    (one line, exit 2, when not)."""
    if args.video is None:
        return
    from viddiff.agent.report.replay_video import check_video

    check_video("A", result.video_a)
    check_video("B", result.video_b)


def write_replay_from_args(args: argparse.Namespace, result: ComparisonResult,
                           ctx: VidDiffContext, console: Console, *,
                           skeletons: bool = True) -> None:
    """Write the replay ``--video`` asks for (nothing when it is not given)."""
    if args.video is None:
        return
    from viddiff.agent.report.replay_video import write_replay

    info = write_replay(result, args.video, speed=args.video_speed, mode=args.video_mode,
                        context=ctx, skeletons=skeletons)
    console.print(f"Wrote {info.path} ({info.frames} frames at {info.fps:g}/s)",
                  style="green", markup=False, highlight=False)
    for note in info.notes:
        console.print(f"replay: {note}", style="yellow", markup=False, highlight=False)
