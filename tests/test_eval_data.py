"""Benchmark rows, video materialisation and the predictions file (no models involved)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.support.videos import write_video
from viddiff.evals.data import (
    DataError,
    VideoSpec,
    load_samples,
    parse_row,
    read_rows,
    select_samples,
)
from viddiff.evals.predictions import (
    PredictedLabel,
    PredictionRecord,
    PredictionStore,
    check_consistent,
)
from viddiff.evals.videos import VideoMaterialiser, find_missing, missing_report
from viddiff.tools.errors import ConfigError, VideoError
from viddiff.tools.video import probe_video


def row(key: str, split: str = "easy", action: str = "fitness_4", domain: str = "fitness",
        videos: tuple[str, str] = ("a.mp4", "b.mp4"), as_strings: bool = True,
        trim: list[int | None] | None = None) -> dict[str, Any]:
    annotated: dict[str, Any] = {
        "0": {"name": "wider stance", "description": "the feet stance is wider",
              "query_string": "wider feet stance", "num_frames": 1},
        "1": {"name": "deeper", "description": "the squat is deeper",
              "query_string": "the hips are lower", "num_frames": "1"},
        "2": None,
        "3": {"name": "faster", "description": "the motion is faster",
              "query_string": "moves faster", "num_frames": "gt_1"},
    }
    gt = {"0": "a", "1": "c", "2": None, "3": "b"}
    vids = [{"path": v, "frames_trim": trim or [0, None], "fps_original": 12.0}
            for v in videos]
    out: dict[str, Any] = {
        "sample_key": key, "sample_hash": 123, "action": action, "action_name": "squat",
        "action_description": "a bodyweight squat", "source_dataset": "humman",
        "domain": domain, "split": split, "videos": vids,
        "retrieval_frames": [{"0": 1}, {"0": 2}], "differences_annotated": annotated,
        "differences_gt": gt, "n_differences_open_prediction": 5}
    if as_strings:
        for field in ("videos", "retrieval_frames", "differences_annotated", "differences_gt"):
            out[field] = json.dumps(out[field])
    return out


def test_parse_row_decodes_json_fields() -> None:
    sample = parse_row(row("s1"))
    assert sample.videos[0].path == "a.mp4" and sample.videos[0].fps_original == 12.0
    assert sample.labelled == {"0": "a", "1": "c", "3": "b"}  # None is not annotated
    assert sample.scored_keys == ["0", "3"]  # c is annotated but not scored
    assert sample.open_budget == 5
    assert sample.differences_annotated["0"].num_frames == "1"  # type: ignore[union-attr]
    assert [g.key for g in sample.ground_truth()] == ["0", "1", "3"]
    assert parse_row(row("s1", as_strings=False)) == sample


def test_bad_rows_name_the_sample_and_field() -> None:
    bad = row("s9")
    bad["differences_gt"] = "{not json"
    with pytest.raises(DataError, match=r"sample s9.*'differences_gt' is not valid JSON"):
        parse_row(bad)
    bad = row("s8")
    bad["differences_gt"] = json.dumps({"0": "a", "2": "b"})  # 2 has no annotation
    with pytest.raises(DataError, match="sample s8: difference '2' has a ground-truth label"):
        parse_row(bad)
    bad = row("s7")
    bad["differences_gt"] = json.dumps({"0": "x"})
    with pytest.raises(DataError, match=r"sample s7: differences_gt\.0"):
        parse_row(bad)


def test_read_json_jsonl_and_folders(tmp_path: Path) -> None:
    rows = [row("s1"), row("s2", split="medium")]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    (tmp_path / "more.jsonl").write_text("\n".join(json.dumps(r) for r in
                                                   [row("s3", split="hard")]) + "\n\n")
    columns = {k: [r[k] for r in rows] for k in rows[0]}
    (tmp_path / "cols").mkdir()
    (tmp_path / "cols" / "c.json").write_text(json.dumps(columns))
    assert [r["sample_key"] for r in read_rows(tmp_path / "rows.json")] == ["s1", "s2"]
    assert [s.sample_key for s in load_samples(tmp_path)] == ["s3", "s1", "s2"]
    assert [s.sample_key for s in load_samples(tmp_path / "cols")] == ["s1", "s2"]
    (tmp_path / "dup.jsonl").write_text(json.dumps(row("s1")) + "\n")
    with pytest.raises(DataError, match="more than once: s1"):
        load_samples(tmp_path)
    with pytest.raises(DataError, match="unknown benchmark file type"):
        read_rows(tmp_path / "x.csv")


def test_parquet_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="Parquet input needs pyarrow (datasets extra)")
    import pyarrow.parquet as pq

    rows = [row("s1"), row("s2", split="hard")]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "test-00000.parquet")
    samples = load_samples(tmp_path / "test-00000.parquet")
    assert [s.sample_key for s in samples] == ["s1", "s2"]
    assert samples[1].split == "hard" and samples[0].scored_keys == ["0", "3"]


def test_parquet_needs_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ConfigError, match=r"reading Parquet .* needs the 'datasets' extra.*"
                                          r"no module 'pyarrow'.*viddiff\[datasets\]"):
        load_samples(path)


def test_hub_needs_the_datasets_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(ConfigError, match=r"viddiff\[datasets\]"):
        load_samples("jmhb/VidDiffBench")
    with pytest.raises(DataError, match="benchmark not found"):
        load_samples("no/such/file.json")


def test_select_samples() -> None:
    samples = [parse_row(r) for r in (row("e1"), row("e2"), row("m1", split="medium",
                                                                 action="ballsports_0",
                                                                 domain="ballsports"))]
    assert [s.sample_key for s in select_samples(samples, split="easy")] == ["e1", "e2"]
    assert [s.sample_key for s in select_samples(samples, actions=["ballsports_0"])] == ["m1"]
    assert [s.sample_key for s in select_samples(samples, domains=["Fitness"])] == ["e1", "e2"]
    assert [s.sample_key for s in select_samples(samples, limit=2)] == ["e1", "e2"]


def test_missing_videos_are_all_listed(tmp_path: Path) -> None:
    write_video(tmp_path / "a.mp4", n_frames=6)
    (tmp_path / "empty_frames").mkdir()
    samples = [parse_row(row("s1")), parse_row(row("s2", videos=("c.mp4", "empty_frames"))),
               parse_row(row("s3", videos=("a.mp4", "c.mp4")))]
    missing = find_missing(samples, tmp_path)
    assert [(m.sample_key, m.which) for m in missing] == [
        ("s1", "B"), ("s2", "A"), ("s2", "B"), ("s3", "B")]
    lines = missing_report(missing, len(samples), tmp_path)
    assert lines[0].startswith("3 video(s) under") and "3 of 3 sample(s)" in lines[0]
    assert len(lines) == 5 and "empty_frames" in lines[3]


def _frames_folder(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        image = np.full((50, 66, 3), 10 * i, dtype=np.uint8)
        Image.fromarray(image).save(folder / f"{i:05d}.jpg")
    (folder / "notes.txt").write_text("not a frame")
    return folder


def test_materialise_trim_fps_and_folders(tmp_path: Path) -> None:
    src = write_video(tmp_path / "clip.mp4", n_frames=24, fps=12)
    mat = VideoMaterialiser(tmp_path, tmp_path / "cache")
    # untrimmed, same rate: the file itself, no copy
    assert mat.prepare(VideoSpec(path="clip.mp4", frames_trim=[0, None],
                                 fps_original=12.0)) == src
    trimmed = mat.prepare(VideoSpec(path="clip.mp4", frames_trim=[4, 16], fps_original=12.0))
    info = probe_video(trimmed)
    assert trimmed.parent == tmp_path / "cache"
    assert info.n_frames == 12 and info.fps == pytest.approx(12.0)
    # the same spec again is the cached file, not a new encode
    stamp = trimmed.stat().st_mtime_ns
    assert mat.prepare(VideoSpec(path="clip.mp4", frames_trim=[4, 16],
                                 fps_original=12.0)) == trimmed
    assert trimmed.stat().st_mtime_ns == stamp
    # a different source rate is honoured (timestamps follow fps_original)
    slow = probe_video(mat.prepare(VideoSpec(path="clip.mp4", fps_original=6.0)))
    assert slow.n_frames == 24 and slow.fps == pytest.approx(6.0)
    # negative bounds work as Python slices
    assert probe_video(mat.prepare(VideoSpec(path="clip.mp4", frames_trim=[-5, None],
                                             fps_original=12.0))).n_frames == 5
    # a folder of frames (alphabetical order) with a trim
    _frames_folder(tmp_path / "frames", 10)
    clip = probe_video(mat.prepare(VideoSpec(path="frames", frames_trim=[2, 8],
                                             fps_original=5.0)))
    assert clip.n_frames == 6 and clip.fps == pytest.approx(5.0)
    assert (clip.width, clip.height) == (66, 50)
    with pytest.raises(VideoError, match="selects no frames"):
        mat.prepare(VideoSpec(path="clip.mp4", frames_trim=[30, 40], fps_original=12.0))
    with pytest.raises(DataError, match="needs fps_original"):
        mat.prepare(VideoSpec(path="frames"))


def _record(key: str, **kw: Any) -> PredictionRecord:
    return PredictionRecord(sample_key=key, method="lmm", mode="closed",
                            predictions={"0": PredictedLabel(label="a")}, **kw)


def test_store_survives_a_cut_short_last_line(tmp_path: Path) -> None:
    store = PredictionStore(tmp_path / "p.jsonl")
    store.append(_record("s1"))
    store.append(_record("s2"))
    with store.path.open("a") as fh:
        fh.write(_record("s3").model_dump_json()[:40])  # a crash mid-write
    again = PredictionStore(store.path)
    assert list(again.load()) == ["s1", "s2"] and again.dropped_partial
    again.append(_record("s3"))
    assert list(PredictionStore(store.path).load()) == ["s1", "s2", "s3"]
    assert store.path.read_text().count("\n") == 3
    # a complete last line whose newline never landed is kept, and the newline added
    with store.path.open("a") as fh:
        fh.write(_record("s4").model_dump_json())
    assert list(PredictionStore(store.path).load()) == ["s1", "s2", "s3", "s4"]
    assert store.path.read_text().endswith("\n")
    # the last line for a sample wins (a failed sample run again)
    store.append(_record("s1", status="failed", error="boom"))
    assert PredictionStore(store.path).load()["s1"].status == "failed"


def test_store_refuses_a_corrupt_middle_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("garbage\n" + _record("s1").model_dump_json() + "\n")
    with pytest.raises(DataError, match=r"p.jsonl:1: not a prediction record"):
        PredictionStore(path).load()


def test_one_file_holds_one_kind_of_run() -> None:
    a = _record("s1")
    b = a.model_copy(update={"sample_key": "s2", "mode": "open"})
    with pytest.raises(DataError, match="mix several runs"):
        check_consistent([a, b])
    with pytest.raises(DataError, match="made in closed mode"):
        check_consistent([a], mode="open")
