"""Open and closed mode on the constructed copies of two more real clips: jumping jacks and a walk.

Every threshold, rule and table in viddiff was developed on one take (the four pose2sim
cameras of one lunge), so the open-mode figures of :mod:`bench.bench_open_mode` say how well it
does on the footage it grew up with. This bench makes the same copies (smaller, framed,
compressed, re-timed, mirrored, with a still lead-in; slowed, paused, played twice:
:data:`bench.open_mode_set.VARIANTS`, less the turned-early copies, which need a movement
that goes down and up once) of footage nothing was tuned on: other people, other movements
(two jumping jacks; a walk, whose steps run into one another with no rest between), outdoors,
against the light, at 30 frames/s, small in the picture.

The clips are cut from ``Sports2D/Demo/demo.mp4`` of the **sports2d** wheel, version 0.8.34,
BSD-3-Clause (David Pagnon), checked by its sha256 (:data:`CUTS` says which frames and which
part of the picture: each leaves out the other person). The wheel is downloaded with pip
unless ``--wheel`` names one; the clips and their copies are written under ``--work``
(nothing is committed).

Usage::

    python -m bench.bench_second_clip [--wheel sports2d-0.8.34-py3-none-any.whl] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bench.bench_open_mode import evaluate, publish
from bench.open_mode_set import VARIANTS, build
from tests.support.videos import encode_frames
from viddiff.graphs.context import default_cache_dir

VERSION = "0.8.34"
MEMBER = "Sports2D/Demo/demo.mp4"
SOURCE_SHA256 = "d9a66417185647b112304b57093f0c180f37a768e6a14daca75ca541f3b78039"


@dataclass(frozen=True)
class Cut:
    """A clip cut from the demo: its frames ``[first, stop)`` cropped to ``rows, cols`` of the
    1768x994 source, and the action named for it."""

    name: str
    action: str
    first: int
    stop: int
    rows: slice
    cols: slice


#: Two jumping jacks by the man on the roof before he turns and jumps down (3.5 s), and the
#: woman walking across the lawn below, right to left (4.5 s), each cropped to leave the other
#: person out.
CUTS: tuple[Cut, ...] = (
    Cut("jumping_jacks", "jumping jacks", 0, 106, slice(0, 500), slice(400, 950)),
    Cut("walking", "walking", 44, 180, slice(480, 994), slice(0, 1500)),
)
SECTION = "Second real clip: jumping jacks and walking (sports2d)"
JSON_OUT = Path(__file__).with_name("second_clip_results.json")
#: Every copy of the open-mode set but the turned-early ones.
VARIANT_NAMES = tuple(v.name for v in VARIANTS if v.turn_fraction is None)
ABOUT = (
    "Offline engine, default settings, `python -m bench.bench_second_clip`: the copies of "
    "bench/open_mode_set.py made of clips nothing was tuned on, cut from the sports2d demo "
    f"video (version {VERSION}, BSD-3-Clause; bench/bench_second_clip.py), 30 frames/s, "
    "outdoors against the light: two jumping jacks by a man small in the picture (3.5 s, "
    "action \"jumping jacks\") and a woman walking across the lawn (4.5 s, action "
    "\"walking\"). Scored from the result JSON only (bench/open_mode_score.py).")


#: What the figures say, written with them (the clip is 30 frames/s, so there is no pose-fps
#: rerun to report).
READING = (
    "Reading: these clips are where stop 27's fixes came from, each general and tested on "
    "synthetic figures: the jumping jacks' 24 frames/s copy read \"the hands are held higher "
    "on the body\" (stillness, tools/kinematics/holds.py); the walk's copies read \"the "
    "movement is faster\" three times, its steps timed one by one in one recording and as one "
    "movement in the other (now not compared: tools/kinematics/comparison.py), and its "
    "mirror image \"more repetitions\" (6 against 3: two steps each split in two where the "
    "body did not come back to rest; now counted once with the uncertainty that it may be "
    "two: tools/kinematics/movement.py). Their slowed copies were then not stated: a "
    "jumping jack's movement time is about 0.77 s and a step's 0.38 s, so slowed by a "
    "quarter each repetition is slower by about its own resolution; the whole movement's "
    "time (first repetition's start to last one's end, movement_span), added for that, "
    "finds them. Mirrored sided statements stay c/c, as on the lunge: a mirror cannot be "
    "told from a camera on the other side.")


def fetch_wheel(dest: Path) -> Path:
    """Download the pinned sports2d wheel with pip (no dependencies)."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "-q", "-d", str(dest), f"sports2d=={VERSION}"], check=True)
    return next(dest.glob(f"sports2d-{VERSION}-*.whl"))


def write_clips(wheel: Path, cuts: Sequence[Cut], paths: Mapping[str, Path]) -> None:
    """Each of ``cuts`` to its path, near-losslessly encoded at the source's 30 frames/s."""
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{MEMBER}: sha256 {digest} differs from sports2d {VERSION}'s")
    with tempfile.NamedTemporaryFile(suffix=".mp4") as src:
        src.write(data)
        src.flush()
        with av.open(src.name) as inp:
            stream = inp.streams.video[0]
            rate = Fraction(stream.average_rate or 30)
            frames = [f.to_ndarray(format="rgb24")
                      for _, f in zip(range(max(c.stop for c in cuts)), inp.decode(stream),
                                      strict=False)]
    for cut in cuts:
        dst = paths[cut.name]
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp.mp4")
        encode_frames(tmp, [np.ascontiguousarray(f[cut.rows, cut.cols])
                            for f in frames[cut.first:cut.stop]], rate, threads=1)
        tmp.replace(dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a local sports2d wheel (else pip downloads)")
    parser.add_argument("--work", type=Path, default=default_cache_dir() / "second_clip",
                        help="where the clip, its copies and the pose cache are written")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave RESULTS.md and the JSON alone")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    paths = {cut.name: args.work / f"{cut.name}.mp4" for cut in CUTS}
    missing = [cut for cut in CUTS if not paths[cut.name].exists()]
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            write_clips(args.wheel or fetch_wheel(Path(tmp)), missing, paths)
    pairs = build(args.work, names=VARIANT_NAMES, sources=paths)
    # 30 frames/s clips: --pose-fps 60 reads no more frames than 30: nothing to compare
    report = evaluate(pairs, args.work / "cache", pose_fps_60=False,
                      actions={cut.name: cut.action for cut in CUTS})
    publish(report, start, write=not args.no_write, text=READING, json_out=JSON_OUT,
            section=SECTION, about=ABOUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
