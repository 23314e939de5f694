"""A warm run (same videos, same settings, caches filled) decodes nothing and runs no pose; a
report decodes only the frames it shows, once (then they come from the frame store), and draws
skeletons from the comparison's dense pose.

Counted, not timed: every decode goes through ``iter_frames`` or ``load_video`` and every pose
inference through ``_PoseModel.process``, so the tests wrap those and count frames.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.videos import CLIPS_DIR
from viddiff.agent.cli.main import main
from viddiff.agent.report import ReportOptions, build_view, load_result
from viddiff.graphs.frames import clear_memos
from viddiff.tools import video
from viddiff.tools.pose import extract
from viddiff.tools.video import clear_video_cache

A, B = (CLIPS_DIR / f"Demo_SinglePerson_cam0{i}.mp4" for i in (1, 2))
pytestmark = pytest.mark.skipif(not A.exists(), reason="demo clips not available")


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Counter[str]:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    clear_memos()  # earlier tests may hold these clips' pose or frames in memory
    clear_video_cache()
    seen: Counter[str] = Counter()
    iter_frames, load_video = video.iter_frames, video.load_video
    process = extract._PoseModel.process

    def counted_iter(plan: video.SamplingPlan, chunk: int = 64, **kwargs: Any) -> Any:
        for indices, frames in iter_frames(plan, chunk, **kwargs):
            seen["decoded"] += len(indices)
            yield indices, frames

    def counted_load(*args: Any, **kwargs: Any) -> video.SampledVideo:
        out = load_video(*args, **kwargs)
        seen["decoded"] += out.n_sampled
        return out

    def counted_process(self: Any, frames: np.ndarray) -> Any:
        seen["posed"] += len(frames)
        return process(self, frames)

    monkeypatch.setattr(video, "iter_frames", counted_iter)
    monkeypatch.setattr(extract, "iter_frames", counted_iter)
    monkeypatch.setattr(video, "load_video", counted_load)
    monkeypatch.setattr(extract._PoseModel, "process", counted_process)
    yield seen
    clear_memos()
    clear_video_cache()


def _compare(tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "r.json"
    code = main(["compare", str(A), str(B), "--offline", "--action", "a lunge", "--difference",
                 "the knees bend more", "--json", str(out), "--quiet", *extra])
    assert code == 0
    return json.loads(out.read_text())


def _shown(result: dict[str, Any]) -> int:
    """Distinct frames a report shows: the differences' frames and each stage's middle."""
    total = 0
    for key in ("a", "b"):
        ref = result[f"video_{key}"]
        frames = {f["source_frame"] for d in result["differences"] for f in d[f"frames_{key}"]}
        frames |= {ref["indices"][(s["start"] + s["end"]) // 2]
                   for s in result[f"segments_{key}"]}
        total += len(frames)
    return total


def test_warm_run_decodes_nothing_and_runs_no_pose(counts: Counter[str],
                                                   tmp_path: Path) -> None:
    cold = _compare(tmp_path)
    dense = counts["posed"]
    assert dense > 50 and counts["decoded"] == dense  # cold: each pose frame decoded once
    clear_memos()  # a new process: only the on-disk caches remain
    clear_video_cache()
    counts.clear()
    warm = _compare(tmp_path)
    assert counts == Counter()  # nothing decoded, no pose
    assert warm["differences"] == cold["differences"]


def test_report_decodes_only_shown_frames_once_and_reuses_the_dense_pose(
        counts: Counter[str], tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    result = _compare(tmp_path, "--report", str(html))
    dense = counts["posed"]
    shown = _shown(result)
    # the report decoded only what it shows, and ran no pose of its own
    assert 0 < counts["decoded"] - dense <= shown
    assert counts["posed"] == dense
    assert html.read_text().count("<img") > 0
    clear_memos()
    clear_video_cache()
    counts.clear()
    first = html.read_text()
    _compare(tmp_path, "--report", str(html))
    assert counts == Counter()  # the shown frames come from the frame store: nothing decoded
    assert html.read_text() == first
    # a report made later (``viddiff report``) draws the skeletons from the cached pose too
    view = build_view(load_result(tmp_path / "r.json"),
                      ReportOptions(cache_dir=tmp_path / "cache"))
    cells = [f for d in view.differences for g in d.groups for f in (*g.a, *g.b)]
    assert cells and all(f.skeleton for f in cells)
    assert counts == Counter()
