"""``viddiff compare`` on bad input: one clear line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line
from tests.support.videos import write_video
from viddiff.agent.cli.main import main


@pytest.fixture(autouse=True)
def no_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["compare", *args, "-q"])
    out, err = capsys.readouterr()
    return code, out, err.strip()


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write_video(tmp_path / "good.mp4", n_frames=24, fps=12)


def test_missing_file(capsys, tmp_path, good):
    code, _, err = run_cli(capsys, str(tmp_path / "nope.mp4"), str(good), "--action", "x",
                           "--open", "2")
    assert code == 2
    assert_one_line(err, "nope.mp4")


def test_not_a_video(capsys, tmp_path, good):
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my training notes, not a video\n" * 20)
    code, _, err = run_cli(capsys, str(good), str(fake), "--action", "x", "--open", "2")
    assert code == 2
    assert_one_line(err, "notes.mp4")


def test_empty_file(capsys, tmp_path, good):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    code, _, err = run_cli(capsys, str(good), str(empty), "--action", "x", "--open", "2")
    assert code == 2
    assert_one_line(err, "empty.mp4")


def test_one_frame_video_is_too_short(capsys, tmp_path, good):
    one = write_video(tmp_path / "one.mp4", n_frames=1, fps=12)
    code, _, err = run_cli(capsys, str(good), str(one), "--action", "x", "--open", "2")
    assert code == 2
    assert_one_line(err, "one.mp4", "too short")


def test_directory_instead_of_video(capsys, tmp_path, good):
    code, _, err = run_cli(capsys, str(tmp_path), str(good), "--action", "x", "--open", "2")
    assert code == 2
    assert_one_line(err, str(tmp_path))


def test_nothing_to_compare(capsys, good):
    code, _, err = run_cli(capsys, str(good), str(good), "--action", "a free-text action")
    assert code == 2
    assert_one_line(err, "nothing to compare")


def test_closed_and_open_together(capsys, good):
    code, _, err = run_cli(capsys, str(good), str(good), "--action", "x", "-d", "deeper",
                           "--open", "2")
    assert code == 2
    assert_one_line(err, "not both")


def test_offline_on_a_video_with_nobody(capsys, tmp_path, good):
    """No person in frame: an honest 'not measurable', never an invented difference."""
    out_json = tmp_path / "r.json"
    code, _, err = run_cli(capsys, str(good), str(good), "--action", "a squat",
                             "-d", "the squat is deeper", "--json", str(out_json))
    assert code == 0, err
    result = json.loads(out_json.read_text())
    (diff,) = result["differences"]
    assert diff["label"] == "c" and diff["status"] == "not_measurable"
    assert result["engine"] == "offline"
    assert any("no person" in n for n in result["notes"])


def test_mismatched_fps_is_noted_not_fatal(capsys, tmp_path):
    a = write_video(tmp_path / "a.mp4", n_frames=24, fps=12)
    b = write_video(tmp_path / "b.mp4", n_frames=50, fps=25)
    out_json = tmp_path / "r.json"
    code, _, err = run_cli(capsys, str(a), str(b), "--action", "a squat", "-d", "deeper",
                           "--json", str(out_json))
    assert code == 0, err
    notes = json.loads(out_json.read_text())["notes"]
    assert any("different frame rates (A 12 fps, B 25 fps)" in n for n in notes)
