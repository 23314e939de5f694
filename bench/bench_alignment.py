"""How well A is aligned to B, on copies of a real clip whose time map is known by construction.

Each copy of ``Demo_SinglePerson_cam01`` (../shared/data/clips) is made with
``tests/support/videos.write_variant``: slowed 1.25× and 1.5×, a still lead-in of 1 s, a
pause of 0.7 s inserted at source frame 50, re-timed to 24 fps, and played twice. For every
pose frame of the original's moving part (its first and last 0.1 s left out) the aligned time
in the copy is read off the pairs the result's ``alignment`` is made of, and compared with the
truth. Reported: the median and 90th-percentile error in milliseconds, for the free DTW path
(``align_dtw``) and the event-anchored one the engine uses (``align_movements``). Goal (issues
19 and 20): median at most one frame at 30 fps (33 ms).

    python -m bench.bench_alignment [--work DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tests.support.videos import write_variant
from viddiff.tools.pose.extract import extract_pose
from viddiff.tools.pose_phases import align_dtw, align_movements, time_pairs
from viddiff.tools.video import load_video

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips" / \
    "Demo_SinglePerson_cam01.mp4"
POSE_FPS = 30.0
PAUSE_AT_S = 50 / 60  # source frame 50 of the 60 fps clip

COPIES: dict[str, tuple[dict[str, object], Callable[[np.ndarray], np.ndarray]]] = {
    "slowed 1.25×": ({"slow": 1.25}, lambda t: 1.25 * t),
    "slowed 1.5×": ({"slow": 1.5}, lambda t: 1.5 * t),
    "still lead-in 1 s": ({"hold": (0, 1.0)}, lambda t: t + 1.0),
    "pause 0.7 s": ({"hold": (50, 0.7)}, lambda t: np.where(t < PAUSE_AT_S, t, t + 0.7)),
    "24 fps": ({"fps": 24}, lambda t: t),
    "played twice": ({"repeat": 2}, lambda t: t),
}


def errors_ms(orig, copy, truth, align) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    pairs = np.asarray(time_pairs(align(orig, copy), orig, copy))
    ts = orig.timestamps
    t_a = ts[(ts > 0.1) & (ts < ts[-1] - 0.1)]
    err = np.abs(np.interp(t_a, pairs[:, 0], pairs[:, 1]) - truth(t_a)) * 1000
    return float(np.median(err)), float(np.percentile(err, 90))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "viddiff-align")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "pose"

    def pose(path: Path):  # type: ignore[no-untyped-def]
        return extract_pose(load_video(path, target_fps=POSE_FPS, max_frames=400, max_side=448),
                            cache)

    orig = pose(CLIP)
    print("| copy | free DTW: median / p90 (ms) | events: median / p90 (ms) |")
    print("|---|---:|---:|")
    for name, (options, truth) in COPIES.items():
        path = args.work / f"{name.replace(' ', '_').replace('×', 'x')}.mp4"
        if not path.exists():
            write_variant(CLIP, path, **options)  # type: ignore[arg-type]
        copy = pose(path)
        free = errors_ms(orig, copy, truth, align_dtw)
        events = errors_ms(orig, copy, truth, align_movements)
        print(f"| {name} | {free[0]:.1f} / {free[1]:.1f} | {events[0]:.1f} / {events[1]:.1f} |")


if __name__ == "__main__":
    main()
