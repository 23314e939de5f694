"""The aligned replay: the time-warp maths, the MP4 it writes (decoded again, frame by frame,
to read which source frame of A and of B each output frame shows), the ghost overlay, bad
input, the ``--video`` flags, the report's player markup and the public ``write_replay``.

The synthetic clips burn their frame number into the picture (``write_counter_video``), so a
test reads the source frame straight off a decoded replay frame; B is A slowed 1.5x
(``write_variant``), so the true time map is known: ``t_b = 1.5 t_a``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from tests.support.videos import read_counter, write_counter_video, write_variant
from viddiff.agent.cli.main import main
from viddiff.agent.cli.outputs import check_outputs
from viddiff.agent.report import ReportOptions, render_html
from viddiff.agent.report import replay_video as rv
from viddiff.agent.report.replay import (
    LINEAR_NOTE,
    Event,
    Moment,
    bar_tracks,
    caption_of,
    count_frames,
    frame_at,
    moments,
    replay_frames,
    stage_spans,
    time_map,
)
from viddiff.agent.report.replay_video import (
    GHOST_PALETTE,
    KEEP_FRAMES,
    FrameReader,
    ReplayError,
    ghost_points,
    write_replay,
)
from viddiff.graphs.frames import video_ref
from viddiff.graphs.schemas import ComparisonResult, DifferenceResult
from viddiff.tools.errors import VidDiffError
from viddiff.tools.kinematics.results import Evidence, Measurement
from viddiff.tools.pose.sequence import LANDMARK_INDEX, N_LANDMARKS, PoseSequence
from viddiff.tools.segments import Segment
from viddiff.tools.video import load_video

FPS = 20
N = 60  # A: 3 s at 20 frames/s; B: the same 60 frames at 13.33 frames/s (4.5 s)
SIZE = (160, 96)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("replay-clips")
    a = write_counter_video(root / "a.mp4", N, FPS, SIZE)
    return a, write_variant(a, root / "b.mp4", slow=1.5)


def replay_result(a: Path, b: Path, *, alignment: list[tuple[float, float]] | None = None,
                  evidence: tuple[int, int] | None = None) -> ComparisonResult:
    """A result over the two clips: real sampling, two stages, the true 1.5x alignment
    unless given, and one measured difference read at A's frame ``evidence[0]`` and B's
    ``evidence[1]``."""
    ra = video_ref(load_video(a, target_fps=6.0, max_frames=96, max_side=448))
    rb = video_ref(load_video(b, target_fps=6.0, max_frames=96, max_side=448))
    diffs = []
    if evidence is not None:
        fa, fb = evidence
        m = Measurement(metric="knee_angle_min", value_a=71.0, value_b=96.0, unit="deg",
                        label="b", statement="knee angle at the bottom: A 71°, B 96°. "
                        "More bent in A: well beyond what pose resolves.",
                        evidence_a=[Evidence(source_frame=fa, timestamp_s=fa / ra.source_fps)],
                        evidence_b=[Evidence(source_frame=fb, timestamp_s=fb / rb.source_fps)])
        diffs.append(DifferenceResult(name="knees", description="the knees bend more",
                                      query_string="knees", num_frames="1", label="a",
                                      reason="measured", measurements=[m]))
    half_a, half_b = ra.n_sampled // 2, rb.n_sampled // 2
    return ComparisonResult(
        action="counting", mode="closed", engine="offline", video_a=ra, video_b=rb,
        segments_a=[Segment(stage="down", start=0, end=half_a - 1),
                    Segment(stage="up", start=half_a, end=ra.n_sampled - 1)],
        segments_b=[Segment(stage="down", start=0, end=half_b - 1),
                    Segment(stage="up", start=half_b, end=rb.n_sampled - 1)],
        differences=diffs,
        alignment=[(t / 10, 1.5 * t / 10) for t in range(31)] if alignment is None
        else alignment)


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def shown(frames: list[np.ndarray], b_x0: int) -> list[tuple[int, int]]:
    """(A's source frame, B's source frame) read off each replay frame."""
    return [(read_counter(f), read_counter(f, x0=b_x0)) for f in frames]


# ---------------------------------------------------------------------------- the maths


def test_time_map_interpolates_and_inverts() -> None:
    tmap, note = time_map([(0, 0), (1, 2), (2, 2.5)], 2.0, 2.5)
    assert note is None and not tmap.linear
    assert tmap.b_at(0.5) == pytest.approx(1.0)
    assert tmap.b_at(1.5) == pytest.approx(2.25)
    assert tmap.b_at(9.0) == pytest.approx(2.5)  # clamped to the mapped span
    assert tmap.a_at(2.25) == pytest.approx(1.5)
    assert tmap.a_at(1.0) == pytest.approx(0.5)


def test_time_map_repairs_a_map_that_runs_backwards() -> None:
    tmap, note = time_map([(1, 1.0), (0, 0), (2, 0.5), (2, 0.8), (3, float("nan"))], 3, 3)
    assert note is None
    assert tmap.t_a == (0.0, 1.0, 2.0)
    assert tmap.t_b == (0.0, 1.0, 1.0)  # B never goes back


@pytest.mark.parametrize("alignment", [[], [(0.5, 0.7)], [(1, 1), (1, 2)]])
def test_no_usable_alignment_is_linear_with_a_note(alignment: list[tuple[float, float]]) -> None:
    tmap, note = time_map(alignment, 2.0, 3.0)
    assert tmap.linear and note == LINEAR_NOTE
    assert tmap.b_at(1.0) == pytest.approx(1.5)


def test_frame_on_screen() -> None:
    assert [frame_at(t, 10, 5) for t in (0, 0.099, 0.1, 0.35, 99, -1)] == [0, 0, 1, 3, 4, 0]


def test_replay_plays_a_at_its_pace_and_holds_each_moment() -> None:
    tmap, _ = time_map([(0, 0), (2, 3)], 2, 3)
    hold = Moment(1, 1.0, 1.2, "knee angle", 10, 18)
    frames = list(replay_frames(tmap, 2.0, 10, 1.0, [hold]))
    assert len(frames) == count_frames(2.0, 10, 1.0, 1) == 20 + 5
    assert [f.index for f in frames] == list(range(25))
    held = [f for f in frames if f.held]
    assert len(held) == 5 and {(f.t_a, f.t_b, f.frame_a, f.frame_b, f.caption)
                               for f in held} == {(1.0, 1.2, 10, 18, "knee angle")}
    first = frames.index(held[0])
    assert frames[first - 1].t_a == pytest.approx(0.9)
    assert frames[first + 5].t_a == pytest.approx(1.0)  # playing resumes where it stopped
    playing = [f for f in frames if not f.held]
    assert [f.t_a for f in playing] == pytest.approx([k / 10 for k in range(20)])
    assert [f.t_b for f in playing] == pytest.approx([1.5 * k / 10 for k in range(20)])


def test_half_speed_shows_every_moment_twice_as_long() -> None:
    tmap, _ = time_map([], 2.0, 2.0)
    slow = list(replay_frames(tmap, 2.0, 10, 0.5))
    assert len(slow) == 40 == count_frames(2.0, 10, 0.5, 0)
    assert slow[7].t_a == pytest.approx(0.35)
    with pytest.raises(ValueError):
        list(replay_frames(tmap, 2.0, 10, 0.0))


def test_caption_is_the_numbers_sentence() -> None:
    assert caption_of("knee angle at the bottom: A 71°, B 96°. More bent in A: beyond.") == \
        "knee angle at the bottom: A 71°, B 96°"
    assert caption_of("stance width") == "stance width"


def test_moments_come_from_the_evidence(clips: tuple[Path, Path]) -> None:
    result = replay_result(*clips, evidence=(10, 25))
    tmap, _ = time_map(result.alignment, 3, 4.5)
    (mo,) = moments(result, tmap)
    assert (mo.frame_a, mo.frame_b) == (10, 25)
    assert mo.t_a == pytest.approx(0.5) and mo.t_b == pytest.approx(25 / (FPS / 1.5))
    assert mo.caption == "knee angle at the bottom: A 71°, B 96°"
    no_b = result.model_copy(deep=True)
    no_b.differences[0].measurements[0].evidence_b = []
    (mo,) = moments(no_b, tmap)
    assert mo.frame_b is None and mo.t_b == pytest.approx(0.75)  # from the alignment


def test_bars_show_stages_in_each_videos_seconds_and_events(clips: tuple[Path, Path]) -> None:
    result = replay_result(*clips)
    spans = stage_spans(result.video_b, result.segments_b)
    assert [s.name for s in spans] == ["down", "up"]
    assert spans[0].start_s == 0 and spans[-1].end_s == pytest.approx(4.5)
    assert spans[0].end_s == pytest.approx(spans[1].start_s)
    bar_a, bar_b = bar_tracks(result, [Event("bottom", 1.0, 1.5), {"name": "top", "t_a": 2,
                                                                   "t_b": 3}])
    assert bar_a.events == [("bottom", 1.0), ("top", 2.0)]
    assert bar_b.events == [("bottom", 1.5), ("top", 3.0)]
    assert bar_a.duration_s == pytest.approx(3.0) and bar_b.duration_s == pytest.approx(4.5)


def test_ghost_points_meet_at_the_hips_and_match_torsos() -> None:
    kp_a = np.full((N_LANDMARKS, 2), np.nan)
    for name, xy in (("left_hip", (90, 100)), ("right_hip", (110, 100)),
                     ("left_shoulder", (90, 60)), ("right_shoulder", (110, 60)),
                     ("left_knee", (90, 140))):
        kp_a[LANDMARK_INDEX[name]] = xy
    # B: the same body, twice the size, elsewhere in its (pose) frame, drawn at scale 0.5
    kp_b = (kp_a - [100, 100]) * 2 + [300, 260]
    vis = np.ones(N_LANDMARKS)
    moved = ghost_points(kp_a, vis, 1.0, kp_b, vis, 0.5)
    assert moved is not None
    seen = np.isfinite(kp_a).all(axis=1)
    np.testing.assert_allclose(moved[seen], kp_a[seen], atol=1e-6)
    hidden = vis.copy()
    hidden[LANDMARK_INDEX["left_hip"]] = 0
    assert ghost_points(kp_a, vis, 1.0, kp_b, hidden, 0.5) is None


# -------------------------------------------------------------------------- the video file


def test_replay_shows_b_warped_along_the_alignment(tmp_path: Path,
                                                   clips: tuple[Path, Path]) -> None:
    """The validation that could fail: each output frame is decoded and the burnt-in counters
    say which source frames it shows. B is A slowed 1.5x and the alignment says so, so at
    every output frame B shows the same content frame as A."""
    result = replay_result(*clips)
    info = write_replay(result, tmp_path / "r.mp4", skeletons=False)
    frames = decoded(info.path)
    assert info.frames == len(frames) == N and info.fps == FPS and info.notes == []
    assert frames[0].shape[1] == 2 * SIZE[0]  # both at one height: same width here
    assert shown(frames, SIZE[0]) == [(k, k) for k in range(N)]


def test_replay_holds_the_measured_moment(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    result = replay_result(*clips, evidence=(10, 25))
    info = write_replay(result, tmp_path / "r.mp4", skeletons=False)
    frames = decoded(info.path)
    pairs = shown(frames, SIZE[0])
    n_hold = round(0.5 * FPS)
    assert len(frames) == N + n_hold
    assert pairs.count((10, 25)) == n_hold  # B's own measured frame, not the map's 10
    start = pairs.index((10, 25))
    assert pairs[:start] == [(k, k) for k in range(10)]
    assert pairs[start + n_hold:] == [(k, k) for k in range(10, N)]
    caption_rows = slice(frames[0].shape[0] - 40, frames[0].shape[0])

    def yellow(f: np.ndarray) -> int:
        box = f[caption_rows].astype(int)
        return int(((box[..., 0] > 200) & (box[..., 1] > 180) & (box[..., 2] < 120)).sum())

    assert yellow(frames[start]) > 50 and yellow(frames[0]) == 0


def test_slow_motion_and_a_linear_fallback(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    result = replay_result(*clips, alignment=[])
    info = write_replay(result, tmp_path / "slow.mp4", speed=0.5, skeletons=False)
    assert info.notes == [LINEAR_NOTE]
    pairs = shown(decoded(info.path), SIZE[0])
    assert len(pairs) == 2 * N
    assert [a for a, _ in pairs] == [k // 2 for k in range(2 * N)]
    # the linear map of 3 s onto 4.5 s is the true one here
    assert [b for _, b in pairs] == [a for a, _ in pairs]


def test_scaled_to_one_height(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    big = write_counter_video(tmp_path / "big.mp4", 20, 10, (320, 192))
    result = replay_result(big, clips[1], alignment=[(0, 0), (2, 2)])
    info = write_replay(result, tmp_path / "r.mp4", skeletons=False)
    first = decoded(info.path)[0]
    assert first.shape[1] == 2 * SIZE[0]  # A shrunk to B's 96 pixels: 160 wide
    assert read_counter(first, cell=8) == 0  # A's cells shrunk by half


def _pose(n: int, fps: float, width: int, height: int, present: bool = True) -> PoseSequence:
    """A standing figure in the middle of each frame (or nobody)."""
    kp = np.full((n, N_LANDMARKS, 2), np.nan, dtype=np.float32)
    if present:
        cx, cy = width / 2, height / 2
        for name, (dx, dy) in {"left_shoulder": (-8, -20), "right_shoulder": (8, -20),
                               "left_hip": (-6, 10), "right_hip": (6, 10),
                               "left_knee": (-6, 25), "right_knee": (6, 25),
                               "left_ankle": (-6, 40), "right_ankle": (6, 40)}.items():
            kp[:, LANDMARK_INDEX[name]] = (cx + dx, cy + dy)
    vis = np.where(np.isfinite(kp[..., 0]), 1.0, 0.0)
    return PoseSequence(keypoints=kp, visibility=vis, present=np.full(n, present),
                        timestamps=np.arange(n) / fps, width=width, height=height,
                        indices=np.arange(n))


def _colour_pixels(frame: np.ndarray, rgb: tuple[int, int, int]) -> int:
    return int((np.abs(frame.astype(int) - rgb).max(axis=2) < 40).sum())


def test_ghost_mode_draws_b_over_a(tmp_path: Path, clips: tuple[Path, Path],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    result = replay_result(*clips)
    poses = {result.video_a.digest: _pose(N, FPS, *SIZE),
             result.video_b.digest: _pose(N, FPS / 1.5, SIZE[0] * 2, SIZE[1] * 2)}
    monkeypatch.setattr(rv, "cached_pose_of", lambda ref, ctx: poses[ref.digest])
    info = write_replay(result, tmp_path / "ghost.mp4", mode="ghost")
    frames = decoded(info.path)
    assert info.notes == [] and len(frames) == N
    assert frames[0].shape[1] == 2 * 160  # A alone, widened for the bars' words
    mid = frames[N // 2]
    assert _colour_pixels(mid, GHOST_PALETTE[0]) > 20  # B's left side in the ghost colour
    side = decoded(write_replay(result, tmp_path / "side.mp4").path)[N // 2]
    assert _colour_pixels(side, GHOST_PALETTE[0]) == 0


def test_a_clip_without_a_person_gets_no_skeleton_and_a_note(
        tmp_path: Path, clips: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    result = replay_result(*clips)
    poses = {result.video_a.digest: _pose(N, FPS, *SIZE),
             result.video_b.digest: _pose(N, FPS / 1.5, *SIZE, present=False)}
    monkeypatch.setattr(rv, "cached_pose_of", lambda ref, ctx: poses[ref.digest])
    info = write_replay(result, tmp_path / "r.mp4")
    assert info.notes == ["no person was found in video B; its replay has no skeleton"]
    assert shown(decoded(info.path), SIZE[0]) == [(k, k) for k in range(N)]


def test_the_reader_keeps_only_a_few_frames(clips: tuple[Path, Path]) -> None:
    reader = FrameReader(clips[0], SIZE)
    for k in range(N):
        assert read_counter(reader.frame(k)) == k
        assert len(reader._recent) <= KEEP_FRAMES
    assert read_counter(reader.frame(N - 3)) == N - 3 and reader.restarts == 0
    assert read_counter(reader.frame(2)) == 2 and reader.restarts == 1  # looked far back
    assert read_counter(reader.frame(N + 5)) == N - 1  # beyond the end: the last frame
    reader.close()


def test_a_gone_or_changed_video_is_one_line(tmp_path: Path, clips: tuple[Path, Path]) -> None:
    a = Path(shutil.copy(clips[0], tmp_path / "a.mp4"))
    result = replay_result(a, clips[1])
    a.write_bytes(a.read_bytes() + b"\0")
    with pytest.raises(ReplayError, match="has changed since the comparison") as err:
        write_replay(result, tmp_path / "r.mp4")
    assert len(str(err.value).splitlines()) == 1
    a.unlink()
    with pytest.raises(ReplayError, match="no longer at"):
        write_replay(result, tmp_path / "r.mp4")
    assert not (tmp_path / "r.mp4").exists()
    with pytest.raises(ReplayError, match="mode"):
        write_replay(replay_result(*clips), tmp_path / "r.mp4", mode="blend")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- command line


def _save(tmp_path: Path, result: ComparisonResult) -> Path:
    path = tmp_path / "r.json"
    path.write_text(result.model_dump_json())
    return path


def test_report_writes_the_replay(tmp_path: Path, clips: tuple[Path, Path],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    saved = _save(tmp_path, replay_result(*clips, evidence=(10, 25)))
    code = main(["report", str(saved), "--no-pose", "--video", str(tmp_path / "v.mp4"),
                 "--video-speed", "0.5"])
    assert code == 0, capsys.readouterr()
    # slow motion doubles the playing part; a hold lasts half a second of the replay
    assert len(decoded(tmp_path / "v.mp4")) == 2 * N + round(0.5 * FPS)
    out = capsys.readouterr().out
    assert "Wrote" in out and "skeleton" not in out  # --no-pose: no pose for the replay


def test_report_video_onto_an_input_or_output_is_refused(
        tmp_path: Path, clips: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a = Path(shutil.copy(clips[0], tmp_path / "a.mp4"))
    before = a.read_bytes()
    saved = _save(tmp_path, replay_result(a, clips[1]))
    for argv in (["--video", str(a)], ["--video", str(tmp_path / "r.html")],
                 ["--video", str(saved)]):
        assert main(["report", str(saved), "-o", str(tmp_path / "r.html"), *argv]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "--video" in err, err
    assert a.read_bytes() == before and not (tmp_path / "r.html").exists()


def test_report_video_of_a_changed_clip_exits_2_before_any_work(
        tmp_path: Path, clips: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a = Path(shutil.copy(clips[0], tmp_path / "a.mp4"))
    saved = _save(tmp_path, replay_result(a, clips[1]))
    a.write_bytes(a.read_bytes()[:-10])
    assert main(["report", str(saved), "--video", str(tmp_path / "v.mp4")]) == 2
    err = capsys.readouterr().err
    assert "has changed since the comparison" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "v.mp4").exists()


def test_compare_video_onto_an_input_is_refused_before_any_work(
        tmp_path: Path, clips: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, b = (Path(shutil.copy(c, tmp_path / c.name)) for c in clips)
    before = b.read_bytes()
    assert main(["compare", str(a), str(b), "--action", "x", "--offline", "-q",
                 "--video", str(b)]) == 2
    assert "would overwrite an input of this run (video B)" in capsys.readouterr().err
    assert main(["compare", str(a), str(b), "--action", "x", "--offline", "-q",
                 "--video", str(tmp_path / "o.json"), "--json", str(tmp_path / "o.json")]) == 2
    assert "--video" in (err := capsys.readouterr().err) and "also given as --json" in err
    assert b.read_bytes() == before


def test_output_check_sees_the_replay(tmp_path: Path) -> None:
    src = tmp_path / "in.mp4"
    src.write_bytes(b"x")
    (tmp_path / "link.mp4").symlink_to(src)
    with pytest.raises(VidDiffError, match=r"would overwrite an input .*\(video A\)"):
        check_outputs({"--video": tmp_path / "link.mp4"}, {"video A": src})
    with pytest.raises(VidDiffError, match="also given as --json"):
        check_outputs({"--json": tmp_path / "o", "--video": tmp_path / "." / "o"}, {})
    check_outputs({"--video": tmp_path / "v.mp4", "--json": None}, {"video A": src})


# ------------------------------------------------------------------- the report's player


def test_report_embeds_a_player_the_csp_admits(clips: tuple[Path, Path]) -> None:
    result = replay_result(*clips, evidence=(10, 25))
    page = render_html(result, ReportOptions(pose=False))
    assert page.count("<video") == 2 and "data:video/mp4;base64," in page
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp.group(1)
    assert " onclick=" not in page and "javascript:" not in page
    assert page.count('class="jump"') == 2  # in the player's list and on the difference
    assert 'data-ta="0.5000"' in page and "at most 20 MB" in page


def test_report_over_the_cap_leaves_the_player_out_with_a_note(
        clips: tuple[Path, Path]) -> None:
    result = replay_result(*clips)
    page = render_html(result, ReportOptions(pose=False, player_cap_mb=0.001))
    assert "<video" not in page and "<script>" not in page
    assert "above the 0.001 MB a self-contained report embeds" in page
    assert "<video" not in render_html(result, ReportOptions(pose=False, player=False))


def test_write_replay_is_public() -> None:
    import viddiff

    assert viddiff.write_replay is write_replay
    assert "write_replay" in viddiff.__all__


def test_the_compare_tool_hands_back_the_replay(tmp_path: Path, synthetic_pair: tuple[Path, Path],
                                                fake_embedder: object,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.messages import ToolMessage

    from tests.support.fake_chat import ScriptedChatModel
    from tests.support.scripts import standard_script
    from viddiff.agent.chat.compare_tool import make_compare_tool
    from viddiff.graphs.context import VidDiffContext
    from viddiff.graphs.engine import create_graph
    from viddiff.tools.paths import PathPolicy

    monkeypatch.setattr(rv, "cached_pose_of",
                        lambda ref, ctx: _pose(4, 12, 64, 48, present=False))
    graph = create_graph(ScriptedChatModel(script=standard_script(["knees"])),
                         clip_loader=lambda spec: fake_embedder)
    tool = make_compare_tool(graph, context=VidDiffContext(fps=6.0, cache_dir=tmp_path / "c",
                                                           kinematics=False),
                             policy=PathPolicy.from_dirs([synthetic_pair[0].parent]),
                             replay_dir=tmp_path / "replays")
    args = {"video_a": "a.mp4", "video_b": "b.mp4", "action": "a squat",
            "differences": ["the knees go further forward"]}
    plain = tool.invoke({"type": "tool_call", "id": "t0", "name": "compare_videos",
                         "args": args})
    assert "Replay video" not in plain.content
    message = tool.invoke({"type": "tool_call", "id": "t1", "name": "compare_videos",
                           "args": {**args, "replay": True}})
    assert isinstance(message, ToolMessage) and isinstance(message.artifact, ComparisonResult)
    line = next(x for x in str(message.content).splitlines() if x.startswith("Replay video"))
    path = Path(line.split("Replay video: ", 1)[1].split(" (", 1)[0])
    assert path.parent == tmp_path / "replays" and path.is_file()
    assert "no person was found" in line  # the notes travel with it
    assert len(decoded(path)) > 0


@pytest.mark.real_clips
@pytest.mark.slow
def test_real_clip_replay_with_skeletons(tmp_path: Path, clips_dir: Path,
                                         tmp_path_factory: pytest.TempPathFactory,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two views of the real lunge, as a user gets them: skeletons from the pose cache the
    comparison filled (no pose runs for the replay), both modes, every moment held."""
    pytest.importorskip("mediapipe")
    from tests.test_report import compare_real_clips, real_clip_cache
    from viddiff.agent.report.draw import LEFT_COLOUR, RIGHT_COLOUR
    from viddiff.graphs.context import VidDiffContext

    cache = real_clip_cache(tmp_path_factory)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(cache))
    result = compare_real_clips(clips_dir, tmp_path / "r.json", cache)
    monkeypatch.setattr(rv, "pose_of", lambda *a, **k: pytest.fail("pose ran again"))
    ctx = VidDiffContext(cache_dir=cache)
    side = write_replay(result, tmp_path / "side.mp4", context=ctx)
    ghost = write_replay(result, tmp_path / "ghost.mp4", context=ctx, mode="ghost")
    assert side.notes == [] and ghost.notes == []
    held = sum(1 for d in result.differences
               if any(m.evidence_a or m.evidence_b for m in d.measurements))
    assert side.frames == ghost.frames == count_frames(
        result.video_a.duration_s, side.fps, 1.0, held)
    frame = decoded(side.path)[side.frames // 3]
    assert _colour_pixels(frame, LEFT_COLOUR) > 50 and _colour_pixels(frame, RIGHT_COLOUR) > 50
    assert _colour_pixels(decoded(ghost.path)[ghost.frames // 3], GHOST_PALETTE[1]) > 50
