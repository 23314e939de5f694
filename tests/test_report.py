"""Visual report: reading results back, the HTML page, the PNG contact sheet, the eval gallery,
and the ``viddiff report`` / ``compare --report`` command lines.

Synthetic clips (a sliding square) and results built here keep these fast; the browser checks
live in ``test_report_browser.py`` and the real-clip run at the end of this file.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.videos import write_video
from viddiff.agent.cli.main import main
from viddiff.agent.report import (
    ReportError,
    ReportOptions,
    ResultFormatError,
    build_view,
    contact_sheet,
    contact_sheet_png,
    load_result,
    parse_result,
    render_html,
    write_contact_sheet,
    write_gallery,
    write_report,
)
from viddiff.agent.report.html import PLAYER_JS, PLAYER_JS_HASH
from viddiff.agent.report.sheet import WIDTH
from viddiff.graphs.frames import frame_refs, video_ref
from viddiff.graphs.schemas import ComparisonResult, DifferenceResult, Stage
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.segments import Segment
from viddiff.tools.video import load_video

NASTY = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
NO_POSE = ReportOptions(pose=False)


# ------------------------------------------------------------------------------------ fixtures


def make_result(path_a: Path, path_b: Path, *, action: str = "a square sliding") -> \
        ComparisonResult:
    """A result like the engines write: real sampling of the two clips, three stages, and one
    difference of each kind (measured A, unmeasured c, failed, not measurable, B)."""
    ra = video_ref(load_video(path_a, target_fps=6.0, max_frames=96, max_side=448))
    rb = video_ref(load_video(path_b, target_fps=6.0, max_frames=96, max_side=448))
    na, nb = ra.n_sampled, rb.n_sampled
    seg_a = [Segment(stage="setup", start=0, end=na // 3 - 1),
             Segment(stage="slide", start=na // 3, end=2 * na // 3 - 1),
             Segment(stage="finish", start=2 * na // 3, end=na - 1)]
    seg_b = [Segment(stage="setup", start=0, end=nb // 3 - 1),
             Segment(stage="slide", start=nb // 3, end=2 * nb // 3 - 1),
             Segment(stage="finish", start=2 * nb // 3, end=nb - 1)]
    measured = Measurement(metric="knee_angle_min", stage="slide", value_a=140.0, value_b=165.0,
                           unit="deg", uncertainty=3.0, label="b", uncertainty_a=2.0,
                           uncertainty_b=2.2, threshold=9.0,
                           statement="knee angle at its most bent (slide): A 140°, B 165°")
    diffs = [
        DifferenceResult(name="speed", description="the square moves faster",
                         query_string="the square moves faster", num_frames="gt_1", label="a",
                         reason="A crosses the frame in less time", stages=["setup", "slide"],
                         frames_a=frame_refs(ra, [1, na // 3 + 1]),
                         frames_b=frame_refs(rb, [1, nb // 3 + 1])),
        DifferenceResult(name="colour", description="the square is brighter",
                         query_string="the square is brighter", num_frames="1", label="c",
                         reason="both squares look alike", stages=["finish"],
                         frames_a=frame_refs(ra, [na - 2]), frames_b=frame_refs(rb, [nb - 2])),
        DifferenceResult(name="spin", description="the square spins more", query_string="spin",
                         num_frames="gt_1", label="c", status="failed",
                         reason="the model kept replying garbage"),
        DifferenceResult(name="grip", description="the grip is wider", query_string="grip",
                         num_frames="1", label="c", status="not_measurable",
                         reason="not measurable offline: no pose metric covers it"),
        DifferenceResult(name="knees", description=f"the knees bend more {NASTY}",
                         query_string="knees", num_frames="1", label="b",
                         reason=f"measured {NASTY}", stages=["slide"],
                         frames_a=frame_refs(ra, [na // 2]), frames_b=frame_refs(rb, [nb // 2]),
                         measurements=[measured]),
    ]
    return ComparisonResult(
        action=action, mode="closed", engine="offline", video_a=ra, video_b=rb,
        stages=[Stage(name=s, description=s, retrieval_strings=[]) for s in
                ("setup", "slide", "finish")],
        segments_a=seg_a, segments_b=seg_b, differences=diffs,
        models={"engine": "test"}, notes=[f"a note {NASTY}"])


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("report-clips")
    return (write_video(root / "a.mp4", n_frames=36, fps=12, size=(96, 64)),
            write_video(root / "b.mp4", n_frames=24, fps=12, size=(96, 64)))


@pytest.fixture(scope="module")
def result(clips: tuple[Path, Path]) -> ComparisonResult:
    return make_result(*clips)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


# ------------------------------------------------------------------------------ reading input


def test_result_round_trips_through_json(tmp_path: Path, result: ComparisonResult) -> None:
    path = tmp_path / "r.json"
    path.write_text(result.model_dump_json(indent=2))
    assert load_result(path) == result


def _one_line(message: str, *needles: str) -> None:
    assert len(message.splitlines()) == 1, message
    for needle in needles:
        assert needle in message, message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ResultFormatError) as err:
        load_result(tmp_path / "nope.json")
    _one_line(str(err.value), "not found", "nope.json")
    with pytest.raises(ResultFormatError) as err:
        load_result(tmp_path)
    _one_line(str(err.value), "directory")


@pytest.mark.parametrize(("content", "needles"), [
    ("this is not json", ["not JSON"]),
    (b"\xff\xfe\x00garbage", ["not JSON"]),
    ("[1, 2, 3]", ["expected a JSON object", "list"]),
    ('"a string"', ["expected a JSON object", "str"]),
    ("{}", ["missing fields", "action", "mode", "video_a", "video_b"]),
])
def test_not_a_result(tmp_path: Path, content: str | bytes, needles: list[str]) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ResultFormatError) as err:
        load_result(path)
    _one_line(str(err.value), "bad.json", *needles)


def test_older_result_names_missing_and_wrong_fields(result: ComparisonResult) -> None:
    data = json.loads(result.model_dump_json())
    del data["video_a"]["digest"], data["video_b"]["timestamps"]
    del data["differences"][1]["reason"]
    data["differences"][0]["label"] = "maybe"
    data["segments_a"] = "setup"
    with pytest.raises(ResultFormatError) as err:
        parse_result(data, source="old.json")
    message = str(err.value)
    _one_line(message, "old.json", "video_a.digest", "video_b.timestamps",
              "differences[1].reason", "differences[0].label", "segments_a")
    assert message.index("missing fields") < message.index("wrong values")


def test_long_lists_of_problems_are_shortened() -> None:
    with pytest.raises(ResultFormatError) as err:
        parse_result('{"action": "x", "mode": "open", "video_a": {}, "video_b": {}}', "r.json")
    _one_line(str(err.value), "video_a.path", "more")


# ---------------------------------------------------------------------------------- the view


def test_frames_are_aligned_by_stage(result: ComparisonResult) -> None:
    view = build_view(result, NO_POSE)
    speed = view.differences[0]
    assert [g.stage for g in speed.groups] == ["setup", "slide"]
    for group in speed.groups:
        assert len(group.a) == len(group.b) == 1
        assert all(f.stage == group.stage for f in (*group.a, *group.b))
        assert all(f.image is not None for f in (*group.a, *group.b))
    assert [d.verdict for d in view.differences] == ["a", "c", "failed", "not_measurable", "b"]
    assert view.differences[2].groups == []  # failed: no frames cited, none invented
    assert [g.stage for g in view.overview] == ["setup", "slide", "finish"]
    assert view.problems == []


def test_timeline_bars_follow_segments(result: ComparisonResult) -> None:
    view = build_view(result, NO_POSE)
    track_a, track_b = view.tracks
    ts = result.video_a.timestamps
    first, second, last = track_a.bars
    assert (first.stage, first.start_s, first.end_s) == ("setup", ts[0], ts[6])
    assert second.start_s == first.end_s  # bars tile the time line
    assert last.end_s == pytest.approx(result.video_a.duration_s)
    assert track_b.duration_s < track_a.duration_s == view.axis_s
    assert first.colour != second.colour != last.colour
    assert first.colour == track_b.bars[0].colour  # same stage, same colour in A and B


def test_measurements_keep_numbers_and_uncertainty(result: ComparisonResult) -> None:
    (row,) = build_view(result, NO_POSE).differences[4].measurements
    assert (row.value_a, row.value_b) == ("140 ± 2.0°", "165 ± 2.2°")
    assert row.delta == "-25 ± 3.0°"
    assert row.needed == "> 9°"
    assert row.verdict == "More true of B"


def test_frames_match_the_comparison_sampling(clips: tuple[Path, Path],
                                              result: ComparisonResult) -> None:
    """The report shows the very source frames the result cites (sampling redone exactly)."""
    view = build_view(result, NO_POSE)
    frame = view.differences[0].groups[1].a[0]
    src = load_video(clips[0], target_fps=6.0, max_frames=96, max_side=448)
    assert frame.image is not None
    expected = Image.fromarray(src.frames[frame.ref.sampled_index]).resize(frame.image.size)
    diff = np.abs(np.asarray(frame.image, np.int16) - np.asarray(expected, np.int16))
    assert diff.mean() < 3


def test_unreproducible_sampling_decodes_exact_frames(result: ComparisonResult) -> None:
    """A result sampled with other settings (here: a cap) still shows its own source frames."""
    odd = result.model_copy(deep=True)
    odd.video_a.indices = odd.video_a.indices[::2]
    view = build_view(odd, NO_POSE)
    assert view.problems == []
    assert all(f.image is not None for g in view.differences[0].groups for f in g.a)


def test_missing_video_gets_a_placeholder(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    gone = shutil.copy(clips[0], tmp_path / "gone.mp4")
    res = make_result(Path(gone), clips[1])
    Path(gone).unlink()
    view = build_view(res, NO_POSE)
    assert len(view.problems) == 1 and "no longer at" in view.problems[0]
    frames = [f for g in view.differences[0].groups for f in (*g.a, *g.b)]
    assert all(f.image is None for f in frames if f.video == "A")
    assert all(f.image is not None for f in frames if f.video == "B")
    page = render_html(view)
    assert 'class="ph"' in page and "video A not available" in page
    assert "gone.mp4" in page
    sheet = contact_sheet(view)
    assert sheet.image.width == WIDTH


def test_changed_video_is_not_shown(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    path = Path(shutil.copy(clips[1], tmp_path / "b.mp4"))
    res = make_result(clips[0], path)
    write_video(path, n_frames=24, fps=12, size=(96, 64), moving=False)
    view = build_view(res, NO_POSE)
    assert len(view.problems) == 1 and "changed since the comparison" in view.problems[0]


def test_segments_beyond_the_frames_do_not_break_the_report(result: ComparisonResult) -> None:
    odd = result.model_copy(deep=True)
    odd.segments_b.append(Segment(stage="extra", start=500, end=600))
    odd.differences[0].frames_b[0].source_frame = 10_000
    view = build_view(odd, NO_POSE)
    assert [b.stage for b in view.tracks[1].bars] == ["setup", "slide", "finish"]
    missing = view.differences[0].groups[0].b[0]
    assert missing.image is None and "not in the video" in missing.note
    assert "not in the video" in render_html(view)


# ------------------------------------------------------------------------------------ the page


def test_html_is_self_contained_and_escaped(result: ComparisonResult) -> None:
    page = render_html(result.model_copy(update={"action": f"a lunge {NASTY}"}), NO_POSE)
    assert page.startswith("<!doctype html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    # the one script is the player's, admitted by its hash (nothing injected runs)
    assert re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S | re.I) == [PLAYER_JS]
    assert f"script-src 'sha256-{PLAYER_JS_HASH}'" in page and "<link" not in page.lower()
    assert "onerror=" not in page.replace("onerror=alert(1)&gt;", "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "url(" not in page  # no CSS fetch either
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert srcs and all(s.startswith("data:image/jpeg;base64,") for s in srcs)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    for text in ("More true of A", "More true of B", "No clear difference", "Failed",
                 "Not measurable", "140 ± 2.0°", "A crosses the frame in less time",
                 "Stages over time", "setup", "slide", "finish"):
        assert text in page, text


def test_html_images_decode(result: ComparisonResult) -> None:
    import base64

    page = render_html(result, NO_POSE)
    for src in set(re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', page)):
        Image.open(io.BytesIO(base64.b64decode(src))).verify()


def test_write_report_is_atomic_and_readable(tmp_path: Path, result: ComparisonResult) -> None:
    out = write_report(result, tmp_path / "deep" / "dir" / "report.html", NO_POSE)
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert out.stat().st_mode & 0o044  # others may read a report meant to be shared
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_unwritable_output_is_one_line(tmp_path: Path, result: ComparisonResult) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError) as err:
        write_report(result, blocker / "report.html", NO_POSE)
    _one_line(str(err.value), "cannot write")


def test_skeletons_only_where_asked(result: ComparisonResult, tmp_path: Path) -> None:
    """Auto pose runs for measured differences; on clips without a person it says so."""
    pytest.importorskip("mediapipe")
    view = build_view(result, ReportOptions(cache_dir=tmp_path))
    measured = view.differences[4].groups[0].a[0]
    assert measured.note == "no person found" and not measured.skeleton
    assert view.differences[0].groups[0].a[0].note == ""  # unmeasured: no skeleton attempted
    everywhere = build_view(result, ReportOptions(cache_dir=tmp_path, pose=True))
    assert everywhere.differences[0].groups[0].a[0].note == "no person found"
    assert "Pose skeletons:" not in render_html(everywhere)  # nothing drawn, no legend


# ------------------------------------------------------------------------------ the PNG sheet


def _crop(img: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(img.crop(box).convert("RGB"), dtype=np.int16)


def test_contact_sheet_png(result: ComparisonResult) -> None:
    png = contact_sheet_png(result, NO_POSE)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(png))
    img.load()
    assert img.width == WIDTH and 800 < img.height < 6000
    sheet = contact_sheet(result, NO_POSE)
    assert sheet.image.size == img.size
    names = set(sheet.panels)
    assert {"header", "timeline", "overview", *(f"diff-{i}" for i in range(1, 6))} <= names
    for box in sheet.panels.values():
        assert 0 <= box[0] < box[2] <= WIDTH and 0 <= box[1] < box[3] <= img.height


def test_contact_sheet_panels_show_different_content(result: ComparisonResult) -> None:
    sheet = contact_sheet(result, NO_POSE)
    img = sheet.image
    frames = {k: v for k, v in sheet.panels.items() if k.startswith("diff-1:")}
    a = [v for k, v in frames.items() if ":A:" in k]
    b = [v for k, v in frames.items() if ":B:" in k]
    assert len(a) == len(b) == 2
    # the square sits elsewhere in each cited frame: panels differ, and they are not blank
    crops = [_crop(img, box) for box in (*a, *b)]
    assert all(c.std() > 10 for c in crops)
    size = min(c.shape[0] for c in crops), min(c.shape[1] for c in crops)
    small = [c[: size[0], : size[1]] for c in crops]
    assert np.abs(small[0] - small[1]).mean() > 2
    # the timeline carries the stage colours; the header is mostly background
    timeline = _crop(img, sheet.panels["timeline"]).reshape(-1, 3)
    for colour in ((230, 159, 0), (86, 180, 233), (0, 158, 115)):
        assert (np.abs(timeline - colour).sum(axis=1) < 6).sum() > 500, colour
    assert not np.array_equal(_crop(img, sheet.panels["diff-1"]),
                              _crop(img, sheet.panels["diff-2"])[: sheet.panels["diff-1"][3]
                                                                 - sheet.panels["diff-1"][1]])


def test_write_contact_sheet(tmp_path: Path, result: ComparisonResult) -> None:
    out = write_contact_sheet(result, tmp_path / "sheet.png", NO_POSE)
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width == WIDTH


# -------------------------------------------------------------------------------- the gallery


def test_gallery_orders_worst_first(tmp_path: Path, result: ComparisonResult) -> None:
    items = [("good-pair", result, 0.9), (f"bad {NASTY}", result, 0.1),
             ("unscored", result, float("nan"))]
    out = write_gallery(items, tmp_path / "gallery.html", NO_POSE)
    page = out.read_text(encoding="utf-8")
    assert page.index("unscored") < page.index("bad &lt;script") < page.index("good-pair")
    assert "<script" not in page
    assert page.count('class="diff"') == 3 * len(result.differences)
    ids = re.findall(r'id="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # anchors of different samples never clash
    worst = write_gallery(items, tmp_path / "worst.html", NO_POSE, limit=1).read_text()
    assert "unscored" in worst and "good-pair" not in worst


def test_empty_gallery(tmp_path: Path) -> None:
    page = write_gallery([], tmp_path / "g.html").read_text()
    assert "No samples" in page


# ------------------------------------------------------------------------------ command lines


def test_cli_report(tmp_path: Path, result: ComparisonResult,
                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text(result.model_dump_json())
    assert main(["report", str(path), "--png", str(tmp_path / "s.png"), "--no-pose"]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert Image.open(tmp_path / "s.png").width == WIDTH
    out = capsys.readouterr().out
    assert "r.html" in out and "s.png" in out


@pytest.mark.parametrize("content", ["not json at all", '{"action": "x"}', "[]"])
def test_cli_report_bad_input(tmp_path: Path, content: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    assert main(["report", str(path), "-o", str(tmp_path / "out.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    _one_line(err, "r.json")
    assert not (tmp_path / "out.html").exists()


def test_cli_report_refuses_to_overwrite_its_input(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.html"
    path.write_text("{}")
    assert main(["report", str(path)]) == 2
    _one_line(capsys.readouterr().err.strip(), "overwrite")
    assert path.read_text() == "{}"


def test_compare_writes_report(tmp_path: Path, clips: tuple[Path, Path],
                               capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mediapipe")
    out = tmp_path / "cmp.html"
    code = main(["compare", str(clips[0]), str(clips[1]), "--action", "a squat",
                 "--difference", "the knees bend more", "-q", "--offline", "--report", str(out)])
    assert code == 0, capsys.readouterr().err
    page = out.read_text()
    assert "the knees bend more" in page and "Stages over time" in page
    assert "a.mp4" in page and "b.mp4" in page


def compare_real_clips(clips_dir: Path, out: Path, cache: Path, *extra: str) -> ComparisonResult:
    """Offline comparison of two views of the real lunge, as a user would run it (closed mode:
    open mode rightly finds nothing to state between two views of one take)."""
    code = main(["compare", str(clips_dir / "Demo_SinglePerson_cam01.mp4"),
                 str(clips_dir / "Demo_SinglePerson_cam02.mp4"), "--action", "a lunge",
                 "-d", "the knees bend more", "-d", "the movement is faster",
                 "-d", "the stance is wider", "-q", "--offline", "--json", str(out),
                 "--cache-dir", str(cache), *extra])
    assert code == 0
    return load_result(out)


def real_clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the real-clip report tests: the pose model runs once per session."""
    path = tmp_path_factory.getbasetemp() / "report-real-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.mark.real_clips
@pytest.mark.slow
def test_real_clips_report_with_skeletons(tmp_path: Path, clips_dir: Path,
                                          tmp_path_factory: pytest.TempPathFactory,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("mediapipe")
    cache = real_clip_cache(tmp_path_factory)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(cache))
    res = compare_real_clips(clips_dir, tmp_path / "r.json", cache,
                             "--report", str(tmp_path / "r.html"))
    measured = next(d for d in res.differences if d.measurements)
    number = res.differences.index(measured)
    with_pose = build_view(res)  # pose cache filled by the comparison: no model run
    without = build_view(res, NO_POSE)
    assert with_pose.problems == []
    a = with_pose.differences[number].groups[0].a[0]
    b = without.differences[number].groups[0].a[0]
    assert a.skeleton and a.note == "" and a.image is not None and b.image is not None
    drawn = np.abs(np.asarray(a.image, np.int16) - np.asarray(b.image, np.int16)).sum(axis=2)
    assert (drawn > 60).mean() > 0.005  # a skeleton's worth of pixels changed
    page = (tmp_path / "r.html").read_text()
    assert "Pose skeletons:" in page


def test_failed_difference_is_shown_as_failed_with_its_reason(result: ComparisonResult) -> None:
    """A difference whose model calls failed is no answer: label null in the JSON, "Failed"
    and the reason in the HTML and in the contact sheet's verdicts, never "no clear
    difference"."""
    spin = next(d for d in result.differences if d.name == "spin")
    assert spin.label is None and spin.status == "failed"
    assert json.loads(result.model_dump_json())["differences"][2]["label"] is None
    view = build_view(result, NO_POSE)
    card = next(d for d in view.differences if d.title.startswith("the square spins"))
    assert card.verdict == "failed"
    html = render_html(view)
    section = html[html.index("the square spins more"):]
    assert "Failed" in section[:3000] and "the model kept replying garbage" in section
