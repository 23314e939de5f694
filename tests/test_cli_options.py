"""Bad option values: exit 2 and one line naming the option, from argparse types (so --help
shows the ranges), for compare, eval, score and chat; output files and their folders."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.videos import write_video
from viddiff.agent.cli.main import build_parser, main
from viddiff.agent.console.wording import for_cli


@pytest.fixture(autouse=True)
def no_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")


def exit_and_err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    return code, capsys.readouterr().err.strip()


COMPARE = ["compare", "a.mp4", "b.mp4", "--action", "a squat", "-d", "deeper"]
EVAL = ["eval", "--data", "bench.jsonl", "--out", "out"]
SCORE = ["score", "--data", "bench.jsonl", "--predictions", "p.jsonl", "--mode", "closed"]


@pytest.mark.parametrize(("argv", "needles"), [
    ([*COMPARE, "--fps", "0"], ["--fps", "> 0"]),
    ([*COMPARE, "--fps", "-2"], ["--fps", "> 0"]),
    ([*COMPARE, "--fps", "nan"], ["--fps", "> 0"]),
    ([*COMPARE, "--fps", "six"], ["--fps", "not a number"]),
    ([*COMPARE, "--max-frames", "0"], ["--max-frames", ">= 1"]),
    ([*COMPARE, "--pose-fps", "0"], ["--pose-fps", "> 0"]),
    ([*COMPARE, "--pose-max-frames", "0"], ["--pose-max-frames", ">= 1"]),
    ([*COMPARE, "--concurrency", "0"], ["--concurrency", ">= 1"]),
    ([*COMPARE, "--device", "tpu"], ["--device", "unknown device 'tpu'"]),
    ([*COMPARE, "--timeout", "0"], ["--timeout", "> 0"]),
    ([*COMPARE, "--deadline", "-5"], ["--deadline", "> 0"]),
    (["compare", "a.mp4", "b.mp4", "--action", "x", "--open", "0"], ["--open", ">= 1"]),
    ([*EVAL, "--limit", "0"], ["--limit", ">= 1"]),
    ([*EVAL, "--concurrency", "0"], ["--concurrency", ">= 1"]),
    ([*EVAL, "--fps", "0"], ["--fps", "> 0"]),
    ([*EVAL, "--gallery", "-1"], ["--gallery", ">= 1"]),
    ([*SCORE, "--concurrency", "0"], ["--concurrency", ">= 1"]),
    ([*SCORE, "--timeout", "-1"], ["--timeout", "> 0"]),
    (["chat", "--device", "tpu"], ["--device"]),
])
def test_bad_values_exit_2_with_one_line(capsys, argv, needles):
    code, err = exit_and_err(capsys, argv)
    assert code == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def test_help_shows_the_ranges():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices  # type: ignore[attr-defined]
    compare_help = sub["compare"].format_help()
    for text in ("frames sampled per second (> 0;", "(>= 1 or none; default 96)",
                 "model calls in flight at once (>= 1;", "auto, cpu, cuda, cuda:N or mps",
                 "--timeout SECONDS", "VIDDIFF_TIMEOUT", "--deadline SECONDS"):
        assert text in " ".join(compare_help.split()), text
    assert "(>= 1)" in " ".join(sub["eval"].format_help().split())
    assert "--timeout SECONDS" in sub["score"].format_help()


def test_good_device_names_pass():
    args = build_parser().parse_args([*COMPARE, "--device", "CUDA:1"])
    assert args.device == "cuda:1"


@pytest.mark.parametrize("url", ["https://example.com/a.mp4", "rtsp://cam/stream"])
def test_a_url_as_a_video_says_download_it_first(capsys, tmp_path, url):
    good = write_video(tmp_path / "v.mp4")
    code, err = exit_and_err(capsys, ["compare", url, str(good), "--action", "x", "-d", "y",
                                      "-q"])
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "URLs are not supported; download the video first" in err and url in err


def test_clip_localizer_with_offline_is_refused(capsys, tmp_path):
    good = write_video(tmp_path / "v.mp4")
    code, err = exit_and_err(capsys, ["compare", str(good), str(good), "--action", "x",
                                      "-d", "y", "--offline", "--localizer", "clip", "-q"])
    assert code == 2 and len(err.splitlines()) == 1
    assert "--localizer clip" in err and "--offline" in err


def test_json_into_a_missing_folder_creates_it_and_says_so(capsys, tmp_path):
    good = write_video(tmp_path / "v.mp4")
    out = tmp_path / "new" / "deeper" / "r.json"
    report = tmp_path / "new" / "deeper" / "r.html"
    code = main(["compare", str(good), str(good), "--action", "a squat", "-d", "deeper",
                 "--json", str(out), "--report", str(report), "-q"])
    printed = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert f"Created the folder {out.parent}" in printed
    assert json.loads(out.read_text())["differences"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask == \
        stat.S_IMODE(report.stat().st_mode)


def test_json_where_a_file_blocks_the_folder_is_one_line(capsys, tmp_path):
    good = write_video(tmp_path / "v.mp4")
    (tmp_path / "blocker").write_text("a file, not a folder")
    code, err = exit_and_err(capsys, ["compare", str(good), str(good), "--action", "x",
                                      "-d", "y", "--json", str(tmp_path / "blocker" / "r.json"),
                                      "-q"])
    assert code == 2 and len(err.splitlines()) == 1 and "is not a folder" in err


def test_result_file_mode_follows_the_umask(tmp_path):
    """0644 under the usual umask, 0600 under 077: like any file the user's shell makes."""
    good = write_video(tmp_path / "v.mp4")
    out = tmp_path / "r.json"
    script = ("import os, sys; os.umask(0o077); from viddiff.agent.cli.main import main; "
              "sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "VIDDIFF_CACHE_DIR": str(tmp_path / "cache")}
    subprocess.run([sys.executable, "-c", script, "compare", str(good), str(good),
                    "--action", "x", "-d", "deeper", "--json", str(out), "-q"], check=True,
                   env=env, capture_output=True)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_clip_weights_note_names_the_option():
    library = ("CLIP weights ViT-B-32/laion2b are not in the local cache and the model hub is "
               "unreachable; download them once with network access (...) or pass a local "
               "checkpoint file (ClipSpec(checkpoint=...))")
    assert for_cli(library).endswith("or pass a local checkpoint file (--clip-checkpoint FILE)")


def test_missing_clip_weights_name_the_cli_option(capsys, tmp_path, monkeypatch):
    """Through the real command: CLIP weights not cached and the hub marked offline."""
    from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
    from tests.support.scripts import standard_script

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    good = write_video(tmp_path / "v.mp4")
    routes = RouteBySchema({k: Reply.json(v) for k, v in standard_script().items()})
    with FakeOpenAIServer(routes) as srv:
        code, err = exit_and_err(capsys, [
            "compare", str(good), str(good), "--action", "x", "-d", "deeper", "--base-url",
            srv.base_url, "--localizer", "clip", "--no-kinematics", "-q"])
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "--clip-checkpoint FILE" in err and "ClipSpec" not in err


def _non_default(name: str, kind: str, default: object) -> tuple[str, object]:
    """A flag text for setting ``name`` and the value the context must then hold."""
    from typing import get_type_hints

    from viddiff.agent.cli.options import _literal_values
    from viddiff.graphs.context import VidDiffContext

    if kind == "switch":
        return ("", not default)
    if kind == "choice":
        value = next(v for v in _literal_values(get_type_hints(VidDiffContext)[name])
                     if v is not None and v != default)
        return (str(value), value)
    if kind in ("count", "count0"):
        return ("7", 7)
    if kind == "number":
        return ("0.75", 0.75)
    if kind == "limit":
        return ("none", None) if default is not None else ("123", 123)
    if kind == "device":
        return ("cpu", "cpu")
    if kind == "path":
        return ("/tmp/somewhere", Path("/tmp/somewhere"))
    if kind == "optional_text":
        return ("none", None)
    return ("some-text", "some-text")


def test_every_setting_has_a_flag_that_reaches_the_context(monkeypatch):
    """VidDiffContext is the single source: each field's flag is generated from its Setting,
    and the value given on the command line is the value the run gets."""
    import dataclasses

    from viddiff.agent.cli.options import _flag, context_from_args
    from viddiff.graphs.context import SETTINGS, VidDiffContext

    parser = build_parser()
    defaults = VidDiffContext()
    for name, info in SETTINGS.items():
        text, expected = _non_default(name, info.kind, getattr(defaults, name))
        flag = _flag(name, info)
        if info.kind == "switch":
            argv = [f"--no-{flag[2:]}" if getattr(defaults, name) else flag]
        else:
            argv = [flag, text]
        args = parser.parse_args([*COMPARE, *argv])
        ctx = context_from_args(args)
        assert getattr(ctx, name) == expected, (name, argv)
        others = {f.name for f in dataclasses.fields(ctx)} - {name}
        assert all(getattr(ctx, o) == getattr(defaults, o) for o in others
                   if o != "cache_dir"), name
    flags = [_flag(n, i) for n, i in SETTINGS.items()]
    assert len(flags) == len(set(flags))
