"""Make a slowed or paused copy of a clip, whose difference from the original is known.

The quick start's example pair is two views of one take (the right answer is "no clear
difference"). Comparing a clip with a copy made here gives a real difference to find::

    python examples/make_variant.py examples/clips/A.mp4 slow.mp4 --slow 1.5
    viddiff compare examples/clips/A.mp4 slow.mp4 --action "a lunge with a balance hold" \\
        -d "the movement is faster"            # → a: A is faster

    python examples/make_variant.py examples/clips/A.mp4 paused.mp4 --pause 0.6 --at 0.8
    viddiff compare examples/clips/A.mp4 paused.mp4 --action "a lunge with a balance hold" \\
        -d "there is a longer pause"           # → b

``--slow F`` shows the same frames F times longer; ``--pause S --at T`` holds the frame at
T seconds for S seconds. Frames are re-encoded (H.264, longer side at most ``--max-side``).
The writer is the one the test-suite and the validation benchmark use
(``tests/support/videos.py``), so run this from a checkout of the repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _writer() -> Any:
    """``write_variant`` of the repository's ``tests/support/videos.py``, loaded from its file:
    putting the checkout on ``sys.path`` instead would make its ``viddiff/`` folder (the
    package's top module only) shadow an installed viddiff, and a regular install
    (``pip install '.[pose]'``) would then find no ``viddiff.tools``."""
    path = REPO / "tests" / "support" / "videos.py"
    spec = importlib.util.spec_from_file_location("viddiff_example_videos", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: {path} not found: run this from a checkout of the repository")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_variant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--slow", type=float, default=1.0,
                        help="show every frame this many times longer (e.g. 1.5)")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds to hold a frame")
    parser.add_argument("--at", type=float, default=None,
                        help="time (s) of the held frame; default the middle of the clip")
    parser.add_argument("--max-side", type=int, default=480)
    args = parser.parse_args(argv)
    write_variant = _writer()
    from viddiff.tools.errors import VidDiffError
    from viddiff.tools.video import probe_video

    if args.slow <= 0 or args.pause < 0:
        print("error: --slow must be > 0 and --pause >= 0", file=sys.stderr)
        return 2
    if args.slow == 1.0 and args.pause == 0.0:
        print("error: give --slow and/or --pause", file=sys.stderr)
        return 2
    try:
        info = probe_video(args.source)
    except VidDiffError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    hold = None
    if args.pause > 0:
        at = info.duration_s / 2 if args.at is None else args.at
        if not 0 <= at < info.duration_s:
            print(f"error: --at {at} is outside the clip (0-{info.duration_s:.2f} s)",
                  file=sys.stderr)
            return 2
        hold = (round(at * info.fps), args.pause)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_variant(args.source, args.output, slow=args.slow, hold=hold,
                  max_side=args.max_side)
    out = probe_video(args.output)
    print(f"wrote {args.output}: {out.n_frames} frames, {out.duration_s:.2f} s "
          f"(source {info.duration_s:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
