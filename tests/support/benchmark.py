"""A tiny benchmark in VidDiffBench's schema, built from the real clips, for eval tests.

One row trims both videos, one uses a folder of frame images, one uses whole files; the
differences' ground truth is fixed here so scores can be checked by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from viddiff.evals.videos import encode_mp4
from viddiff.tools.video import load_video

ANNOTATED = {
    "0": {"name": "wider stance", "description": "the feet stance is wider",
          "query_string": "the feet are further apart", "num_frames": "1"},
    "1": {"name": "deeper lunge", "description": "the lunge is deeper",
          "query_string": "the hips are lower", "num_frames": "1"},
    "2": None,
    "3": {"name": "faster", "description": "the motion is faster",
          "query_string": "the person moves faster", "num_frames": "gt_1"},
    "4": {"name": "arms higher", "description": "the arms are raised higher",
          "query_string": "the hands are higher", "num_frames": "1"},
}
GT = {"0": "a", "1": "c", "2": None, "3": "a", "4": "b"}
SCORED = ["0", "3", "4"]


def bench_row(key: str, split: str, videos: list[tuple[str, list[int | None], float]]
              ) -> dict[str, Any]:
    return {
        "sample_key": key, "sample_hash": abs(hash(key)) % 10**9, "action": "fitness_7",
        "action_name": "lunge", "action_description": "a forward lunge with a balance hold",
        "source_dataset": "pose2sim-demo", "domain": "fitness", "split": split,
        "videos": json.dumps([{"path": p, "frames_trim": t, "fps_original": f}
                              for p, t, f in videos]),
        "retrieval_frames": json.dumps([{}, {}]),
        "differences_annotated": json.dumps(ANNOTATED),
        "differences_gt": json.dumps(GT),
        "n_differences_open_prediction": 6,
    }


def make_bench(clips_dir: Path, root: Path) -> Path:
    """bench.jsonl beside a videos/ folder under ``root``: three samples over two splits."""
    videos = root / "videos"
    videos.mkdir()
    for n in (1, 2, 3):  # smaller copies (same 60 fps, 100 frames) keep decoding cheap
        clip = load_video(clips_dir / f"Demo_SinglePerson_cam0{n}.mp4", target_fps=60,
                          max_frames=200, max_side=320)
        encode_mp4(iter(clip.frames), videos / f"cam0{n}.mp4", 60.0)
    frames = videos / "cam04_frames"
    frames.mkdir()
    clip = load_video(clips_dir / "Demo_SinglePerson_cam04.mp4", target_fps=12,
                      max_frames=40, max_side=240)
    for i, frame in enumerate(clip.frames):
        Image.fromarray(frame).save(frames / f"frame_{i:04d}.jpg")
    rows = [
        bench_row("s1", "easy", [("cam01.mp4", [0, 60], 60.0), ("cam02.mp4", [10, 90], 60.0)]),
        bench_row("s2", "easy", [("cam03.mp4", [0, None], 60.0), ("cam04_frames", [2, 18],
                                                                   12.0)]),
        bench_row("s3", "medium", [("cam02.mp4", [0, None], 60.0),
                                   ("cam03.mp4", [0, None], 60.0)]),
    ]
    data = root / "bench.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data



def eval_args(data: Path, out: Path, base_url: str, *extra: str, method: str = "lmm",
              mode: str = "closed", fps: str | None = "2") -> list[str]:
    return ["eval", "--data", str(data), "--videos", str(data.parent / "videos"),
            "--video-cache", str(data.parent / "video_cache"),
            "--mode", mode, "--method", method, "--out", str(out), "--base-url", base_url,
            "--model", "test-vlm", *(("--fps", fps) if fps else ()), "--clip-pretrained",
            "none", "--quiet", *extra]
