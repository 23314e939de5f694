"""Pose and offline-engine benchmark: pose speed on this machine and the validation cases.

Run ``python -m bench.bench_pose``. Prints markdown and writes it as the section
"## Pose and offline engine" of bench/RESULTS.md (other sections are kept).

Why these numbers: pose extraction is the offline engine's only heavy step (the metrics take
milliseconds), so its frames/s decides how long ``viddiff compare --offline`` takes; the
validation cases (a)-(d) on the real demo clips are the engine's known-answer checks:
(a) two views of one take must show no timing difference, (b) a copy slowed 1.5x must be
found slower by 1.5x, (c) a clip against itself must give only "c", (d) a mirrored clip must
swap left and right.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bench.results import machine_line, update_section
from viddiff.tools.kinematics import METRICS, ClipContext, compare_metric, compare_values
from viddiff.tools.offline import answer_offline, propose_offline
from viddiff.tools.pose import PoseSequence, extract_pose, run_pose_model
from viddiff.tools.pose_phases import localize_pair
from viddiff.tools.taxonomy import load_differences
from viddiff.tools.video import load_video

REPO = Path(__file__).resolve().parents[1]
CLIPS = REPO.parent / "shared" / "data" / "clips"
EXAMPLES = REPO / "examples" / "clips"
TITLE = "Pose and offline engine"
TIME_FAMILIES = {"duration", "tempo", "pause", "speed", "speed_wrist", "speed_ankle",
                 "speed_hip", "peak_speed_wrist", "peak_speed_ankle"}


def write_variant(src: Path, dst: Path, slow: float = 1.0, mirror: bool = False) -> Path:
    """Same frames (shrunk to 448 px), timestamps stretched by ``slow``, optionally mirrored."""
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        rate = Fraction(stream.average_rate or 30)
        scale = min(1.0, 448 / max(stream.width, stream.height))
        size = (round(stream.width * scale / 2) * 2, round(stream.height * scale / 2) * 2)
        frames = [f.to_ndarray(width=size[0], height=size[1], format="rgb24")
                  for f in inp.decode(stream)]
    with av.open(str(dst), mode="w") as out:
        enc = out.add_stream("libx264", rate=(rate / Fraction(slow)).limit_denominator(10000))
        enc.width, enc.height, enc.pix_fmt = size[0], size[1], "yuv420p"
        enc.options = {"crf": "12"}
        for frame in frames:
            img = np.ascontiguousarray(frame[:, ::-1]) if mirror else frame
            for packet in enc.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in enc.encode():
            out.mux(packet)
    return dst


def pose_speed(paths: list[Path], fps: float, max_side: int,
               repeats: int = 3) -> tuple[float, int, float]:
    """(frames/s of the pose model alone, frames, frames/s of decoding) over the clips; the
    best of ``repeats`` runs, since other work on a 2-core machine only ever slows it down."""
    videos, decode_s = [], 0.0
    for path in paths:
        t0 = time.perf_counter()
        videos.append(load_video(path, target_fps=fps, max_frames=400, max_side=448))
        decode_s += time.perf_counter() - t0
    n = sum(v.frames.shape[0] for v in videos)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for video in videos:
            run_pose_model(video.frames, max_side=max_side)
        best = min(best, time.perf_counter() - t0)
    return n / best, n, n / decode_s


def cases(cache: Path, tmp: Path, fps: float) -> list[tuple[str, str, str]]:
    """Rows (case, result, details) for the validation cases (a)-(d)."""
    def pose(path: Path) -> PoseSequence:
        return extract_pose(load_video(path, target_fps=fps, max_frames=400), cache)

    cams = {c: pose(CLIPS / f"Demo_SinglePerson_cam0{c}.mp4") for c in (1, 2, 3, 4)}
    rows: list[tuple[str, str, str]] = []

    # (a) two views of one take
    timing, proposals, faster_c = 0, 0, 0
    durations = {c: compare_metric("motion_duration", p, p).value_a for c, p in cams.items()}
    pairs = list(itertools.combinations(cams, 2))
    for ca, cb in pairs:
        a, b = cams[ca], cams[cb]
        sa, sb = localize_pair(a, b, 4)
        props = propose_offline(a, b, sa, sb, n=100)
        proposals += len(props)
        timing += sum(METRICS[p.measurements[0].metric].family in TIME_FAMILIES for p in props)
        ans = answer_offline("speed", "", "the motion is faster", a, b, sa, sb)
        faster_c += ans.label == "c"
    rows.append(("(a) 6 pairs of views of one take: timing/speed/duration differences proposed",
                 f"**{timing}**",
                 f"{proposals} differences proposed in all (2-D angles and widths differ by "
                 f"viewpoint); movement time per view "
                 + ", ".join(f"cam{c} {d:.2f} s" for c, d in durations.items() if d)))
    rows.append(("(a) 'the motion is faster' on the 6 view pairs", f"**c** in {faster_c}/6", ""))

    # (b) slowed copy
    slow = pose(write_variant(CLIPS / "Demo_SinglePerson_cam01.mp4", tmp / "slow.mp4",
                              slow=1.5))
    orig = cams[1]
    so, ss = localize_pair(orig, slow, 4)
    ans = answer_offline("speed", "", "the motion is faster", orig, slow, so, ss)
    ratios = []
    for metric in ("stage_duration", "motion_duration", "mean_speed"):
        m = compare_metric(metric, orig, slow)
        if m.value_a and m.value_b:
            ratios.append(f"{metric} B/A = {m.value_b / m.value_a:.3f}")
    rows.append(("(b) cam01 vs a copy slowed to 1.5x: 'the motion is faster'",
                 f"**{ans.label}** (original)", ans.reason.split(" [")[0]))
    rows.append(("(b) measured ratios (expected 1.5, 1.5, 0.667)", "; ".join(ratios), ""))

    # (c) clip against itself
    segs = localize_pair(orig, orig, 4)[0]
    labels = [answer_offline(d.name, d.description, d.query_string, orig, orig, segs, segs,
                             action_key=d.action, diff_key=d.diff_key).label
              for d in load_differences()]
    props = propose_offline(orig, orig, segs, segs, n=20)
    rows.append(("(c) cam01 vs itself: 148 taxonomy differences answered",
                 f"**{labels.count('c')}/148 c**", f"{len(props)} differences proposed"))

    # (d) mirror
    mirror = pose(write_variant(CLIPS / "Demo_SinglePerson_cam01.mp4", tmp / "mirror.mp4",
                                mirror=True))
    ctx_o, ctx_m = ClipContext.of(orig), ClipContext.of(mirror)
    agree = total = 0
    for name, spec in METRICS.items():
        if spec.side != "left":
            continue
        twin = METRICS[name.replace("_left", "_right")]
        for left, right in ((spec, twin), (twin, spec)):
            m = compare_values(left, left.compute(orig, ctx_o, None),
                               right.compute(mirror, ctx_m, None), "higher")
            total += 1
            agree += m.label == "c"
    lr = compare_metric("knee_raise_left_minus_right", orig, mirror)
    unsided = [s for s in METRICS.values() if s.side is None and s.family != "knee_raise_side"]
    same = sum(compare_metric(s.name, orig, mirror).label == "c" for s in unsided)
    rows.append(("(d) cam01 vs its mirror: left metric of A = right metric of B",
                 f"**{agree}/{total}** pairs agree (c)",
                 f"left-minus-right knee raise: A {lr.value_a:.0f}°, B {lr.value_b:.0f}° "
                 f"(label {lr.label}); side-free metrics equal in {same}/{len(unsided)}"))
    return rows


def example_rows(cache: Path, fps: float) -> list[tuple[str, str, str]]:
    a_path, b_path = EXAMPLES / "A.mp4", EXAMPLES / "B.mp4"
    if not (a_path.exists() and b_path.exists()):
        return []
    a = extract_pose(load_video(a_path, target_fps=fps, max_frames=400), cache)
    b = extract_pose(load_video(b_path, target_fps=fps, max_frames=400), cache)
    sa, sb = localize_pair(a, b, 3, ["start", "middle", "end"])
    props = propose_offline(a, b, sa, sb, n=5)
    ans = answer_offline("speed", "", "the motion is faster", a, b, sa, sb)
    return [("examples/clips A vs B (cam01 vs cam02, same take): 'the motion is faster'",
             f"**{ans.label}**", ans.reason.split(" [")[0]),
            ("examples/clips A vs B: open mode, top differences",
             str(len(props)), "; ".join(p.measurements[0].statement for p in props[:3]))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=15.0, help="sampling rate for the cases")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    clips = sorted(CLIPS.glob("Demo_SinglePerson_cam0*.mp4"))
    if len(clips) < 4:
        print(f"real clips not found in {CLIPS}")
        return 1
    run_pose_model(np.zeros((1, 64, 64, 3), np.uint8))  # load the model once before timing
    speed_rows = []
    for fps, side in ((30.0, 448), (15.0, 448), (6.0, 448), (30.0, 256)):
        rate, n, dec = pose_speed(clips, fps, side)
        speed_rows.append((f"pose, {fps:g} fps sampling, model input ≤ {side} px",
                           f"**{rate:.0f} frames/s**",
                           f"{n} frames of 4 clips (448x252 sampled); decoding alone "
                           f"{dec:.0f} frames/s"))
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "pose"
        t0 = time.perf_counter()
        rows = cases(cache, Path(tmp), args.fps)
        elapsed = time.perf_counter() - t0
        rows += example_rows(cache, args.fps)
    table = ["| measurement | result | details |", "|---|---|---|"]
    table += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in speed_rows + rows]
    body = "\n".join([
        machine_line() + "; mediapipe 0.10.21 (pose_landmark_full, tracking mode, smoothing "
        "off). Command: `python -m bench.bench_pose`.",
        "",
        *table,
        "",
        f"Cases use the four demo clips (60 fps, 100 frames) sampled at {args.fps:g} fps; the "
        f"slowed and mirrored copies are re-encoded with PyAV from the same frames. Pose for "
        f"the cases plus all the measuring took {elapsed:.1f} s. Frames/s counts the pose "
        "model alone, best of 3 runs (detector on the first frame of each clip, then landmark "
        "tracking; a lower sampling rate means larger jumps between frames and more "
        "re-detection), on frames already decoded and shrunk to 448 px.",
    ])
    print(body)
    if not args.no_write:
        update_section(TITLE, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
