"""``viddiff compare-many``: the CSV checked up front, one result per pair, resume.

The end-to-end tests use the offline engine on the real clips (skipped when absent) with a
copy slowed 1.5x, whose answer is known by construction ("the movement is faster": a).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.videos import write_variant
from viddiff.agent.batch.pairs import read_pairs
from viddiff.agent.cli.main import main
from viddiff.tools.errors import ConfigError

HEADER = "id,video_a,video_b,action,differences\n"


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        (folder / name).write_bytes(b"not really a video")
    return folder


def write_csv(folder: Path, text: str, name: str = "pairs.csv") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------- the CSV


def test_rows_are_read_with_paths_relative_to_the_csv(videos: Path) -> None:
    path = write_csv(videos, "\ufeffVideo_A, video_b ,ACTION,differences\n"  # BOM, odd case
                             "a.mp4,b.mp4,a squat,the squat is deeper; the feet are wider\n"
                             ",,,\n"  # blank row
                             f"{videos / 'b.mp4'},a.mp4,fitness_4,\n")
    first, second = read_pairs(path)
    assert first.pair_id == "row-0001" and second.pair_id == "row-0003"
    assert first.video_a == videos / "a.mp4" and second.video_a == videos / "b.mp4"
    assert first.differences == ("the squat is deeper", "the feet are wider")
    assert second.differences == () and second.action == "fitness_4"


def test_every_problem_is_named_in_one_line(videos: Path) -> None:
    path = write_csv(videos, HEADER
                     + "p1,a.mp4,gone.mp4,a squat,x\n"
                     + "p2,https://example.com/v.mp4,b.mp4,a squat,x\n"
                     + "p1,a.mp4,b.mp4,a squat,x\n"
                     + "bad id!,a.mp4,b.mp4,,x\n")
    with pytest.raises(ConfigError) as info:
        read_pairs(path)
    message = str(info.value)
    assert "\n" not in message and "5 problem(s)" in message
    assert "line 2: video_b not found" in message and "gone.mp4" in message
    assert "line 3: video_a is a URL" in message
    assert "line 4: id 'p1' is used again (first on line 2)" in message
    assert "line 5: action is empty" in message and "line 5: id 'bad id!'" in message


@pytest.mark.parametrize(("text", "expected"), [
    ("video_a,action\na.mp4,x\n", "no column video_b"),
    ("video_a,video_b,action\n", "no pairs"),
])
def test_unusable_files(videos: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        read_pairs(write_csv(videos, text))


def test_missing_or_binary_csv(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pairs file not found"):
        read_pairs(tmp_path / "nope.csv")
    binary = tmp_path / "pairs.csv"
    binary.write_bytes(b"\xff\xfe\x00video_a")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_pairs(binary)


def test_rows_without_differences_need_a_benchmark_action_or_open(
        videos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(videos, HEADER + "p1,a.mp4,b.mp4,a squat,\n")
    code = main(["compare-many", str(path), "--out", str(tmp_path / "out"), "--offline"])
    err = capsys.readouterr().err
    assert code == 2 and "line 2 (p1)" in err and "--open N" in err
    assert not (tmp_path / "out").exists()  # nothing ran, nothing written


# ------------------------------------------------------------------ end to end, offline


@pytest.fixture(scope="module")
def real_pairs(clips_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mediapipe", reason="the offline engine needs the 'pose' extra")
    folder = tmp_path_factory.mktemp("pairs")
    original = write_variant(clips_dir / "Demo_SinglePerson_cam01.mp4", folder / "orig.mp4")
    write_variant(clips_dir / "Demo_SinglePerson_cam01.mp4", folder / "slow.mp4", slow=1.5)
    (folder / "broken.mp4").write_bytes(b"this is not a video")
    write_csv(folder, HEADER
              + f"faster,{original.name},slow.mp4,a bodyweight squat,"
                "the movement is faster\n"
              + "broken,orig.mp4,broken.mp4,a bodyweight squat,the movement is faster\n")
    return folder / "pairs.csv"


def outcomes(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]


def test_offline_batch_writes_a_result_per_pair_and_resumes(
        real_pairs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "250")
    out = tmp_path / "out"
    args = ["compare-many", str(real_pairs), "--out", str(out), "--offline", "--report"]
    assert main(args) == 1  # one pair failed
    printed = capsys.readouterr().out
    assert "failed" in printed and "broken.mp4" in printed
    by_id = {o["pair_id"]: o for o in outcomes(out)}
    assert by_id["faster"]["status"] == "ok" and by_id["faster"]["labels"] == {"a": 1}
    assert by_id["broken"]["status"] == "failed" and "broken.mp4" in str(by_id["broken"]["error"])
    result = json.loads((out / "results" / "faster.json").read_text())
    assert result["engine"] == "offline" and result["differences"][0]["label"] == "a"
    assert (out / "reports" / "faster.html").read_text().lower().startswith("<!doctype html>")
    run = json.loads((out / "run.json").read_text())
    assert run["engine"] == "offline" and run["ran_on"] == "this process"

    # the same command again: nothing runs (the failed pair stays failed without the flag)
    assert main(args) == 1
    assert len(outcomes(out)) == 2
    assert "Compared 0 pair(s), resumed 2" in capsys.readouterr().out

    # the broken video repaired, and --retry-failed: only that pair runs
    (real_pairs.parent / "broken.mp4").write_bytes((real_pairs.parent / "orig.mp4").read_bytes())
    assert main([*args, "--retry-failed"]) == 0
    lines = outcomes(out)
    assert len(lines) == 3 and lines[-1]["pair_id"] == "broken" and lines[-1]["status"] == "ok"

    # a changed setting changes every pair's fingerprint: both run again
    assert main([*args, "--pose-fps", "15"]) == 0
    assert "changed since it ran" in capsys.readouterr().out
    assert len(outcomes(out)) == 5
