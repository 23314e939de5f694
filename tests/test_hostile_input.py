"""Hostile input and careless hands (issue 21): nothing lost, nothing escapes.

The attack cases stay here: markup in every text input (action, differences, video paths, a
model's stage names and reasons) printed literally with the result still written, cached or
not; outputs pointing at inputs or at each other refused before any work; the outputs of one
run written together or not at all; values that make no sense refused by name. The served
graph's server-owned settings are in ``tests/test_serve.py``, Ctrl-C at several moments in
``tests/test_interrupts.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests.support.cli import assert_one_line
from tests.support.videos import write_video
from viddiff.agent.cli.main import main

MARKUP_ACTION = "a lunge [/] with [bold]x"
MARKUP_DIFFERENCE = "the stance is [left] wider [/]"


@pytest.fixture(autouse=True)
def no_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "250")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err.strip()


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two clips whose paths are markup: a folder ``take [`` holding ``] a.mp4`` makes the
    path ``.../take [/] a.mp4``."""
    folder = tmp_path / "take ["
    folder.mkdir()
    return (write_video(folder / "] a.mp4", n_frames=24, fps=12),
            write_video(tmp_path / "[bold]b.mp4", n_frames=24, fps=12))


# ------------------------------------------------------------------------ markup, offline


def test_markup_in_action_differences_and_paths_is_printed_literally(capsys, tmp_path, pair):
    """Not cached, then the very same command answered from the result cache: both print
    every text as given ([left] kept) and both write the JSON."""
    a, b = pair
    out_json = tmp_path / "r.json"
    args = ["compare", str(a), str(b), "--action", MARKUP_ACTION, "-d", MARKUP_DIFFERENCE,
            "-d", "[bold]x", "--json", str(out_json), "-q"]
    for attempt in ("computed", "cached"):
        code, out, err = run(capsys, *args)
        assert code == 0, (attempt, err)
        assert "Traceback" not in out + err
        flat = " ".join(out.split())
        assert MARKUP_ACTION in flat and str(a) in flat and str(b) in flat, (attempt, out)
        assert MARKUP_DIFFERENCE in flat and "[bold]x" in flat, (attempt, out)
        result = json.loads(out_json.read_text())
        assert [d["description"] for d in result["differences"]] == [MARKUP_DIFFERENCE,
                                                                    "[bold]x"]
        assert ("read back" in out) == (attempt == "cached")
        out_json.unlink()


@pytest.mark.integration
def test_markup_from_a_model_is_printed_literally_and_the_result_written(capsys, tmp_path):
    """The VLM graph against a scripted server whose stage names, proposals and reasons are
    markup (the stage name crashed the command after six model calls)."""
    from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
    from tests.support.scripts import STAGES, standard_script

    script = standard_script()
    stages = [{**stage, "name": f"{stage['name']} [/]"} for stage in STAGES]
    script["StageTranscript"] = {"stages": stages}
    script["RefinedStages"] = {"stages": [{"name": st["name"], "retrieval_strings":
                                           st["retrieval_strings"][:4]} for st in stages]}
    script["LinkReply"] = {"links": [{"difference": d["name"], "stages": ["descent [/]"]}
                                     for d in script["ProposedDifferences"]["differences"]]}
    script["ProposedDifferences"]["differences"][0]["description"] = "the squat is [left] deeper"
    script["Verdict"] = {"reason": "[left] A goes lower [/]", "answer": "a"}
    a = write_video(tmp_path / "a.mp4", n_frames=36, fps=12)
    b = write_video(tmp_path / "b.mp4", n_frames=24, fps=12)
    out_json = tmp_path / "r.json"
    routes = RouteBySchema({name: Reply.json(reply) for name, reply in script.items()})
    with FakeOpenAIServer(routes) as srv:
        code, out, err = run(capsys, "compare", str(a), str(b), "--action", MARKUP_ACTION,
                             "--open", "2", "--base-url", srv.base_url, "--model", "test-vlm",
                             "--clip-pretrained", "none", "--no-kinematics", "--fps", "4",
                             "--json", str(out_json), "-q")
    assert code == 0, err
    flat = " ".join(out.split())
    for text in ("descent [/]", "[left] A goes lower [/]", "the squat is [left] deeper",
                 MARKUP_ACTION):
        assert text in flat, (text, out)
    result = json.loads(out_json.read_text())
    assert [s["name"] for s in result["stages"]] == [s["name"] for s in stages]


def test_result_table_prints_model_text_literally_in_frame_order() -> None:
    """The table for a result whose model text is markup (stage names, reasons, notes), and
    whose frames were shown out of time order."""
    from viddiff.agent.console.result_table import print_result

    result = markup_result()
    console = Console(record=True, width=250, color_system=None)
    print_result(console, result)
    out = console.export_text()
    for text in ("descent [/]", "[left] A goes lower [/]", "note: [bold]x [/] happened",
                 "the squat is [left] deeper", "0.50s, 1.00s, 1.50s"):
        assert text in out, (text, out)


def markup_result() -> Any:
    from viddiff.graphs.schemas import (
        ComparisonResult,
        DifferenceResult,
        FrameRef,
        Stage,
        VideoRef,
    )
    from viddiff.tools.segments import Segment

    ref = VideoRef(path="take [/] a.mp4", digest="0" * 64, source_fps=2.0, n_source_frames=4,
                   duration_s=2.0, width=64, height=48, target_fps=2.0,
                   indices=[0, 1, 2, 3], timestamps=[0.0, 0.5, 1.0, 1.5])
    frames = [FrameRef(sampled_index=i, source_frame=i, timestamp_s=t)
              for i, t in ((3, 1.5), (1, 0.5), (2, 1.0))]
    diff = DifferenceResult(name="depth", description="the squat is [left] deeper",
                            query_string="hips lower", num_frames="gt_1", label="a",
                            reason="[left] A goes lower [/]", frames_a=frames,
                            frames_b=frames)
    return ComparisonResult(
        action=MARKUP_ACTION, mode="closed", video_a=ref, video_b=ref, differences=[diff],
        stages=[Stage(name="descent [/]", description="down",
                      retrieval_strings=["a person"])],
        segments_a=[Segment(stage="descent [/]", start=0, end=3)],
        segments_b=[Segment(stage="descent [/]", start=0, end=3)],
        notes=["[bold]x [/] happened"])


def test_live_view_shows_node_names_literally_and_nothing_when_piped() -> None:
    from viddiff.agent.console.live_view import LiveProgress

    events = [{"event": "node", "node": "[/] odd [bold]", "status": "start"},
              {"event": "node", "node": "[/] odd [bold]", "status": "end"},
              {"event": "differences", "total": 1},
              {"event": "difference_answered", "name": "[/]", "label": "a"}]
    terminal = Console(record=True, width=120, force_terminal=True, color_system=None)
    with LiveProgress(terminal) as view:
        for event in events:
            view(event)
    assert "[/] odd [bold]" in terminal.export_text()
    piped = Console(record=True, width=120, force_terminal=False, color_system=None)
    with LiveProgress(piped) as view:
        for event in events:
            view(event)
    assert piped.export_text() == ""  # no spinner line left behind in a file or a pipe


def test_eval_progress_leaves_no_spinner_line_when_piped() -> None:
    from viddiff.evals.run_progress import RunProgress

    piped = Console(record=True, width=120, force_terminal=False, color_system=None)
    with RunProgress(piped, total=3, resumed=1, metric="accuracy"):
        pass
    assert piped.export_text() == ""


def test_chat_view_prints_a_comparison_with_markup_literally() -> None:
    from langchain_core.messages import AIMessage, ToolMessage

    from viddiff.agent.chat.stored_results import COMPARE_TOOL
    from viddiff.agent.chat.view import ChatTurnView

    console = Console(record=True, width=250, color_system=None)
    view = ChatTurnView(console, progress=False)
    view("updates", {"model": {"messages": [AIMessage(content="", tool_calls=[{
        "name": COMPARE_TOOL, "args": {"action": "[/]"}, "id": "c1"}])]}})
    view("updates", {"tools": {"messages": [ToolMessage(
        content="done [/]", tool_call_id="c1", name=COMPARE_TOOL,
        artifact=markup_result().model_dump(mode="json"))]}})
    view("updates", {"model": {"messages": [AIMessage(content="A is [left] deeper [/].")]}})
    out = console.export_text()
    assert "descent [/]" in out and "[left] A goes lower [/]" in out
    assert "action='[/]'" in out and view.model_calls == 2 and view.tool_calls == 1


# -------------------------------------------------------------------- outputs onto inputs


def _snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


@pytest.mark.parametrize("outputs", [
    ("--json", "{a}"),
    ("--report", "{b}"),
    ("--json", "{dir}/./../{dir_name}/a.mp4"),
    ("--json", "{link}"),
    ("--json", "{out}", "--report", "./{out_rel}"),
    ("--json", "{dir}"),
])
def test_compare_refuses_outputs_onto_inputs_before_any_work(capsys, tmp_path, monkeypatch,
                                                             outputs):
    folder = tmp_path / "clips"
    folder.mkdir()
    a = write_video(folder / "a.mp4")
    b = write_video(folder / "b.mp4")
    (tmp_path / "link.mp4").symlink_to(a)
    monkeypatch.chdir(tmp_path)
    names = {"a": a, "b": b, "dir": folder, "dir_name": folder.name, "link": tmp_path / "link.mp4",
             "out": tmp_path / "r.out", "out_rel": "r.out"}
    flags = [text.format(**names) for text in outputs]
    before = _snapshot(a, b)
    code, out, err = run(capsys, "compare", str(a), str(b), "--action", "a squat", "-d",
                         "deeper", *flags, "-q")
    assert code == 2
    assert_one_line(err)
    assert "overwrite" in err or "also given" in err or "is a folder" in err, err
    assert out == ""  # refused before any work: no table, nothing computed
    assert not (tmp_path / "cache").exists()
    assert _snapshot(a, b) == before and not (tmp_path / "r.out").exists()


@pytest.fixture
def saved_result(capsys, tmp_path: Path) -> Path:
    a = write_video(tmp_path / "a.mp4")
    b = write_video(tmp_path / "b.mp4")
    path = tmp_path / "r.json"
    code, _, err = run(capsys, "compare", str(a), str(b), "--action", "a squat", "-d",
                       "deeper", "--json", str(path), "-q")
    assert code == 0, err
    return path


@pytest.mark.parametrize("flags", [("--png", "{a}"), ("-o", "{b}"),
                                   ("-o", "{same}", "--png", "{same}"), ("-o", "{result}")])
def test_report_refuses_outputs_onto_inputs(capsys, tmp_path, saved_result, flags):
    names = {"a": tmp_path / "a.mp4", "b": tmp_path / "b.mp4", "same": tmp_path / "x.out",
             "result": saved_result}
    before = _snapshot(tmp_path / "a.mp4", tmp_path / "b.mp4", saved_result)
    code, _, err = run(capsys, "report", str(saved_result),
                         *(text.format(**names) for text in flags))
    assert code == 2
    assert_one_line(err)
    assert _snapshot(*before) == before and not (tmp_path / "x.out").exists()
    assert not saved_result.with_suffix(".html").exists()


@pytest.mark.parametrize("target", ["data", "predictions"])
def test_score_refuses_a_summary_onto_its_own_inputs(capsys, tmp_path, monkeypatch, target):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "bench.jsonl"
    predictions = tmp_path / "predictions.jsonl"
    data.write_text('{"sample_key": "s1"}\n')
    predictions.write_text('{"sample_key": "s1"}\n')
    before = _snapshot(data, predictions)
    summary = f"./{data.name}" if target == "data" else str(predictions)  # any spelling
    code, _, err = run(capsys, "score", "--data", str(data), "--predictions", str(predictions),
                       "--mode", "closed", "--json", summary)
    assert code == 2
    assert_one_line(err, "would overwrite", f"--{target}")
    assert _snapshot(data, predictions) == before


def test_out_folder_that_is_a_file_is_refused(capsys, tmp_path):
    """compare-many --out naming its own pairs file (eval's --out takes the same lock)."""
    from viddiff.evals.out_lock import lock_out_dir
    from viddiff.tools.errors import ConfigError

    video = write_video(tmp_path / "a.mp4")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"video_a,video_b,action,differences\n{video},{video},a squat,deeper\n")
    before = _snapshot(pairs, video)
    code, _, err = run(capsys, "compare-many", str(pairs), "--out", str(pairs), "-q")
    assert code == 2
    assert "Traceback" not in err and "is a file, not a folder" in err.splitlines()[-1]
    with pytest.raises(ConfigError, match="is a file, not a folder"), lock_out_dir(video):
        pass
    assert _snapshot(pairs, video) == before


def test_outputs_of_one_run_appear_together_or_not_at_all(capsys, tmp_path, monkeypatch):
    """The report fails after the JSON is ready: neither file changes (before, the new JSON
    was left beside the report of an older run)."""
    from viddiff.agent.cli import cmd_compare
    from viddiff.agent.report import ReportError

    a = write_video(tmp_path / "a.mp4")
    out_json, report = tmp_path / "r.json", tmp_path / "r.html"
    out_json.write_text("old result")
    report.write_text("old report")

    def broken(*_: Any) -> bytes:
        raise ReportError("injected: the report could not be made")

    monkeypatch.setattr(cmd_compare, "report_html", broken)
    code, _, err = run(capsys, "compare", str(a), str(a), "--action", "a squat", "-d", "deeper",
                       "--json", str(out_json), "--report", str(report), "-q")
    assert code == 2 and "injected" in err
    assert out_json.read_text() == "old result" and report.read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    monkeypatch.undo()
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    code, _, err = run(capsys, "compare", str(a), str(a), "--action", "a squat", "-d", "deeper",
                       "--json", str(out_json), "--report", str(report), "-q")
    assert code == 0, err
    assert json.loads(out_json.read_text())["action"] == "a squat"
    assert "<html" in report.read_text().lower()


def test_write_all_atomic_changes_nothing_when_one_file_fails(tmp_path):
    from viddiff.tools.files import write_all_atomic

    first = tmp_path / "first.json"
    first.write_text("old")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where a folder should be")
    with pytest.raises(OSError):
        write_all_atomic([(first, "new"), (blocked / "second.html", "new")])
    assert first.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "not-a-folder"]
    write_all_atomic([(first, "new"), (tmp_path / "second.html", b"new")])
    assert first.read_text() == "new" and (tmp_path / "second.html").read_text() == "new"


# ----------------------------------------------------------------- values that make no sense


def test_open_budget_is_capped_and_the_cap_is_in_help(capsys, tmp_path):
    a = write_video(tmp_path / "a.mp4")
    code, _, err = run(capsys, "compare", str(a), str(a), "--action", "x", "--open", "10000")
    assert code == 2
    assert_one_line(err, "--open", "at most 20")
    assert main(["compare", "--help"]) == 0
    assert "1 to 20" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_difference_is_refused(capsys, tmp_path, blank):
    a = write_video(tmp_path / "a.mp4")
    code, out, err = run(capsys, "compare", str(a), str(a), "--action", "a squat", "-d", "deeper",
                         "-d", blank, "-q")
    assert code == 2 and out == ""
    assert_one_line(err, "blank")


def test_unknown_benchmark_key_is_named_and_the_actions_are_listed(capsys, tmp_path):
    from viddiff.tools.taxonomy import load_actions

    a = write_video(tmp_path / "a.mp4")
    code, _, err = run(capsys, "compare", str(a), str(a), "--action", "fitness_99", "-q")
    assert code == 2
    assert_one_line(err, "'fitness_99'", "viddiff actions")
    code, out, _ = run(capsys, "actions")
    assert code == 0
    keys = load_actions()
    assert len(keys) == 18 and all(key in out for key in keys)
    assert "Hip circle anticlockwise" in out


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_an_image_is_called_an_image(capsys, tmp_path, kind):
    import numpy as np
    from PIL import Image

    good = write_video(tmp_path / "good.mp4")
    image = tmp_path / "photo.mp4"  # the name does not decide: the content does
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(image, format=kind)
    code, _, err = run(capsys, "compare", str(good), str(image), "--action", "x", "-d", "y",
                       "-q")
    assert code == 2
    assert_one_line(err, "photo.mp4", f"is an image ({kind}), not a video")


def test_unreadable_video_error_has_no_raw_errno(capsys, tmp_path):
    good = write_video(tmp_path / "good.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4096))
    code, _, err = run(capsys, "compare", str(good), str(junk), "--action", "x", "-d", "y", "-q")
    assert code == 2
    assert_one_line(err, "junk.mp4", "not a readable video file")
    assert "Errno" not in err and "1094995529" not in err


def test_version(capsys):
    from viddiff.agent.cli.main import _version

    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"viddiff {_version()}"


# ------------------------------------------------------------------------------ chat words


def test_unknown_metric_names_the_three_closest(tmp_path):
    from viddiff.graphs.measurement import UnknownMetric, check_metric
    from viddiff.tools.kinematics.registry import METRICS

    with pytest.raises(UnknownMetric) as info:
        check_metric("knee_angel_min")
    message = str(info.value)
    assert "knee_angle_min" in message
    assert sum(name in message.split() or f"{name}," in message for name in METRICS) <= 3
    assert len(message) < 200
