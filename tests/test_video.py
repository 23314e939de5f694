"""Video probing, timestamp sampling and decoding (decord with PyAV fallback)."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from viddiff.tools import video as video_mod
from viddiff.tools.errors import VideoError
from viddiff.tools.video import (
    clear_video_cache,
    file_digest,
    load_video,
    load_video_cached,
    probe_video,
    sample_frame_indices,
)

CLIPS = Path(__file__).resolve().parents[2] / "shared/data/clips"
CAM01 = CLIPS / "Demo_SinglePerson_cam01.mp4"


def _grey(i: int) -> int:
    """Grey level that encodes frame number i (readable back after lossy coding)."""
    return 8 + 5 * i


def _frame_numbers(frames: np.ndarray) -> list[int]:
    return [round((float(f.mean()) - 8) / 5) for f in frames]


def write_clip(
    path: Path,
    n_frames: int,
    fps: float | Fraction,
    size: tuple[int, int] = (64, 48),
    codec: str = "libx264",
    noise: bool = False,
    options: dict[str, str] | None = None,
) -> Path:
    """Flat grey frames whose level encodes the frame number (or noise, for bulk)."""
    width, height = size
    rng = np.random.default_rng(0)
    rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(n_frames):
            if noise:
                img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            else:
                img = np.full((height, width, 3), _grey(i), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("video")
    return {
        "30fps": write_clip(root / "30fps.mp4", 40, 30),
        "ntsc": write_clip(root / "ntsc.mp4", 40, Fraction(30000, 1001)),
        "10fps": write_clip(root / "10fps.mp4", 20, 10),
        "wide": write_clip(root / "wide.mp4", 6, 10, size=(200, 120)),
    }


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    clear_video_cache()


# ------------------------------------------------------------------------------ probing


def test_probe_reports_container_facts(clips: dict[str, Path]) -> None:
    info = probe_video(clips["30fps"])
    assert (info.n_frames, info.fps, info.width, info.height) == (40, 30.0, 64, 48)
    assert info.duration_s == pytest.approx(40 / 30)
    assert info.path == str(clips["30fps"])
    assert probe_video(clips["ntsc"]).fps == pytest.approx(30000 / 1001)


def _bad_inputs(root: Path, good: Path) -> dict[str, tuple[Path, str]]:
    data = good.read_bytes()
    (root / "notes.mp4").write_text("this is not a video\n")
    (root / "zero.mp4").write_bytes(b"")
    (root / "random.mp4").write_bytes(np.random.default_rng(1).bytes(4096))
    (root / "cut.mp4").write_bytes(data[: len(data) // 2])  # index (moov) is at the end: lost
    (root / "badcodec.mp4").write_bytes(data.replace(b"avc1", b"zzzz"))
    (root / "a_dir.mp4").mkdir()
    with av.open(str(root / "noframes.mp4"), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    return {
        "missing": (root / "missing.mp4", "not found"),
        "directory": (root / "a_dir.mp4", "directory"),
        "text": (root / "notes.mp4", "not a readable video"),
        "zero-byte": (root / "zero.mp4", "empty"),
        "random-bytes": (root / "random.mp4", "not a readable video"),
        "truncated": (root / "cut.mp4", "truncated"),
        "codec": (root / "badcodec.mp4", "codec"),
        "no-frames": (root / "noframes.mp4", "no video"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "directory",
        "text",
        "zero-byte",
        "random-bytes",
        "truncated",
        "codec",
        "no-frames",
    ],
)
def test_bad_input_gives_one_line_video_error(
    case: str, clips: dict[str, Path], tmp_path: Path
) -> None:
    path, words = _bad_inputs(tmp_path, clips["30fps"])[case]
    for call in (probe_video, load_video, load_video_cached):
        with pytest.raises(VideoError) as err:
            call(path)
        message = str(err.value)
        assert path.name in message and words in message
        assert "\n" not in message


def test_truncated_after_index_fails_when_decoding(tmp_path: Path) -> None:
    """With the index at the front (faststart) the header survives; decoding must notice."""
    full = write_clip(tmp_path / "full.mp4", 60, 30, noise=True, options={"movflags": "faststart"})
    cut = tmp_path / "cut_fast.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut_fast\.mp4.*(truncated|not a readable)"):
        load_video(cut, target_fps=30)


# ----------------------------------------------------------------------------- sampling


def test_sampling_60_to_4_fps_uses_timestamps() -> None:
    np.testing.assert_array_equal(sample_frame_indices(100, 60, 4, 96), [0, 15, 30, 45, 60, 75, 90])


def test_sampling_non_integer_ratio() -> None:
    idx = sample_frame_indices(100, 29.97, 4, 96)
    expected = [math.floor(k * 29.97 / 4 + 0.5) for k in range(14)]
    np.testing.assert_array_equal(idx, expected)
    assert idx[:5].tolist() == [0, 7, 15, 22, 30]


def test_target_at_or_above_source_keeps_every_frame() -> None:
    np.testing.assert_array_equal(sample_frame_indices(10, 10, 30, 96), np.arange(10))
    np.testing.assert_array_equal(sample_frame_indices(10, 10, 10, 96), np.arange(10))


def test_max_frames_thins_uniformly() -> None:
    idx = sample_frame_indices(1000, 30, 30, 10)
    assert len(idx) == 10 and idx[0] == 0 and idx[-1] == 999
    assert np.all(np.diff(idx) >= 110) and np.all(np.diff(idx) <= 111)
    np.testing.assert_array_equal(sample_frame_indices(100, 60, 4, 3), [0, 45, 90])


def test_at_least_one_index() -> None:
    np.testing.assert_array_equal(sample_frame_indices(1, 60, 4, 96), [0])
    np.testing.assert_array_equal(sample_frame_indices(5, 30, 0.01, 96), [0])
    np.testing.assert_array_equal(sample_frame_indices(50, 30, 30, 1), [0])
    assert sample_frame_indices(0, 30, 4, 96).size == 0


def test_sampling_invariants_on_random_settings() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 3000))
        src = float(rng.uniform(0.5, 240))
        tgt = float(rng.uniform(0.1, 60))
        cap = int(rng.integers(1, 200))
        idx = sample_frame_indices(n, src, tgt, cap)
        assert 1 <= len(idx) <= cap
        assert idx[0] == 0 and idx[-1] < n
        assert np.all(np.diff(idx) > 0)
        if tgt < src and len(idx) < cap:
            assert len(idx) == pytest.approx(n * tgt / src, abs=1.5)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1, 30, 4, 10), "n_frames"),
        ((10, 0, 4, 10), "source_fps"),
        ((10, 30, float("nan"), 10), "target_fps"),
        ((10, 30, 4, 0), "max_frames"),
    ],
)
def test_sampling_rejects_bad_arguments(args: tuple[int, float, float, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sample_frame_indices(*args)


# ----------------------------------------------------------------------------- decoding


def test_load_decodes_exactly_the_sampled_frames(clips: dict[str, Path]) -> None:
    v = load_video(clips["30fps"], target_fps=4, max_frames=96, max_side=448)
    expected = sample_frame_indices(40, 30, 4, 96)
    np.testing.assert_array_equal(v.indices, expected)
    assert _frame_numbers(v.frames) == expected.tolist()
    np.testing.assert_allclose(v.timestamps, expected / 30)
    assert v.frames.dtype == np.uint8 and v.frames.shape == (len(expected), 48, 64, 3)
    assert v.digest == file_digest(clips["30fps"])
    assert v.effective_fps == pytest.approx(4, rel=0.05)


def test_load_ntsc_rate(clips: dict[str, Path]) -> None:
    v = load_video(clips["ntsc"], target_fps=4)
    assert v.indices.tolist() == [0, 7, 15, 22, 30, 37]
    assert _frame_numbers(v.frames) == v.indices.tolist()


def test_load_low_fps_source_keeps_all_frames(clips: dict[str, Path]) -> None:
    v = load_video(clips["10fps"], target_fps=30)
    assert v.indices.tolist() == list(range(20))
    assert _frame_numbers(v.frames) == list(range(20))
    assert v.effective_fps == pytest.approx(10)


def test_decoding_in_small_chunks_gives_the_same_frames(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(video_mod, "_CHUNK", 3)
    v = load_video(clips["30fps"], target_fps=30, max_frames=17)
    assert _frame_numbers(v.frames) == v.indices.tolist()
    assert len(v.indices) == 17


def test_frames_are_resized_to_max_side(clips: dict[str, Path]) -> None:
    v = load_video(clips["wide"], target_fps=10, max_side=64)
    assert v.frames.shape[1:] == (38, 64, 3)  # 200x120 → 64x38.4, aspect kept
    assert load_video(clips["wide"], max_side=1000).frames.shape[1:] == (120, 200, 3)
    small = load_video(clips["30fps"], max_side=32)
    assert small.frames.shape[1:] == (24, 32, 3)


def test_pyav_fallback_matches_decord(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_decord = load_video(clips["30fps"], target_fps=6)
    monkeypatch.setattr(video_mod, "decord", None)
    with_pyav = load_video(clips["30fps"], target_fps=6)
    np.testing.assert_array_equal(with_pyav.indices, with_decord.indices)
    assert _frame_numbers(with_pyav.frames) == with_pyav.indices.tolist()
    assert with_pyav.frames.shape == with_decord.frames.shape


def test_pyav_used_when_decord_decoding_fails(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> np.ndarray:
        raise RuntimeError("decord exploded")

    monkeypatch.setattr(video_mod, "_decode_decord", broken)
    v = load_video(clips["10fps"], target_fps=5)
    assert _frame_numbers(v.frames) == v.indices.tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]


def test_codec_decord_cannot_open_is_decoded_by_pyav(tmp_path: Path) -> None:
    """decord's bundled FFmpeg has no AV1 decoder; PyAV's has."""
    if "libsvtav1" not in av.codecs_available:
        pytest.skip("this PyAV build has no AV1 encoder to make the fixture")
    path = write_clip(tmp_path / "av1.mp4", 10, 10, codec="libsvtav1")
    v = load_video(path, target_fps=5)
    assert v.indices.tolist() == [0, 2, 4, 6, 8]
    assert _frame_numbers(v.frames) == [0, 2, 4, 6, 8]


# -------------------------------------------------------------------------------- caches


def test_file_digest_is_sha256_and_memoised(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"abc" * 1000)
    assert file_digest(path) == hashlib.sha256(b"abc" * 1000).hexdigest()
    st = path.stat()
    path.write_bytes(b"xyz" * 1000)  # same size; restore mtime → memo answers
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_digest(path) == hashlib.sha256(b"abc" * 1000).hexdigest()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert file_digest(path) == hashlib.sha256(b"xyz" * 1000).hexdigest()
    with pytest.raises(VideoError, match="not found"):
        file_digest(tmp_path / "nope.bin")


def test_cached_load_decodes_once(clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = video_mod.load_video

    def counting(path: Path, *args: object) -> video_mod.SampledVideo:
        calls.append(Path(path))
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(video_mod, "load_video", counting)
    first = load_video_cached(clips["30fps"], 4, 96, 448)
    again = load_video_cached(clips["30fps"], 4, 96, 448)
    assert again is first and len(calls) == 1
    assert not first.frames.flags.writeable
    load_video_cached(clips["30fps"], 8, 96, 448)  # other settings: decoded again
    assert len(calls) == 2


def test_cached_load_of_a_copy_reports_its_own_path(clips: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(clips["30fps"].read_bytes())
    original = load_video_cached(clips["30fps"])
    copied = load_video_cached(copy)
    assert copied.info.path == str(copy) and copied.digest == original.digest
    assert copied.frames is original.frames


# ---------------------------------------------------------------------------- real clips


@pytest.mark.real_clips
def test_real_clip_probe_and_load() -> None:
    if not CAM01.exists():
        pytest.skip(f"real clips not found at {CLIPS}")
    info = probe_video(CAM01)
    assert (info.fps, info.n_frames, info.width, info.height) == (60.0, 100, 1080, 1920)
    v = load_video(CAM01, target_fps=4, max_frames=96, max_side=448)
    assert v.indices.tolist() == [0, 15, 30, 45, 60, 75, 90]
    assert v.frames.shape == (7, 448, 252, 3)
    assert v.frames.std() > 10  # real picture content, not a blank decode


# ------------------------------------------------------------------------------------------
# Display rotation (phone videos)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rotation", [90, 180, 270])
@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_rotated_clip_decodes_upright(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      rotation: int, backend: str) -> None:
    """A clip whose pixels are stored turned, with a flag turning them back, decodes to the
    same upright frames as the plain clip, with either backend; probe reports the flag and
    the displayed size."""
    from tests.support.videos import write_video

    plain = write_video(tmp_path / "plain.mp4", n_frames=12, fps=12, size=(64, 48))
    turned = write_video(tmp_path / "turned.mp4", n_frames=12, fps=12, size=(64, 48),
                         rotation=rotation)
    if backend == "pyav":
        monkeypatch.setattr(video_mod, "decord", None)
    info = probe_video(turned)
    assert (info.rotation, info.width, info.height) == (rotation, 64, 48)
    assert probe_video(plain).rotation == 0
    ref = load_video(plain, target_fps=12)
    got = load_video(turned, target_fps=12)
    assert got.frames.shape == ref.frames.shape == (12, 48, 64, 3)
    diff = np.abs(got.frames.astype(int) - ref.frames.astype(int)).mean()
    assert diff < 4.0, diff
    # the top-left mark is where it belongs, so the picture is neither turned nor flipped
    assert got.frames[0, 2:8, 2:8].mean() > 180


@pytest.mark.real_clips
def test_rotated_copy_of_a_real_clip_gives_the_same_frames(tmp_path: Path) -> None:
    """The portrait 60 fps demo clip re-written landscape with a 90° display flag (what a
    phone stores) decodes upright: same size and the same pixels as an unflagged copy."""
    from tests.support.videos import CLIPS_DIR, write_variant

    src = CLIPS_DIR / "Demo_SinglePerson_cam01.mp4"
    if not src.exists():
        pytest.skip("real clips absent")
    plain = write_variant(src, tmp_path / "plain.mp4", max_side=320)
    turned = write_variant(src, tmp_path / "turned.mp4", max_side=320, rotation=270)
    info = probe_video(turned)
    assert info.rotation == 270 and info.height > info.width  # portrait as displayed
    a = load_video(plain, target_fps=10, max_side=320)
    b = load_video(turned, target_fps=10, max_side=320)
    assert a.frames.shape == b.frames.shape
    assert np.abs(a.frames.astype(int) - b.frames.astype(int)).mean() < 4.0


def test_make_variant_script_slows_and_pauses(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """examples/make_variant.py: a 1.5x slower copy lasts 1.5x longer with the same frames;
    a 0.5 s pause adds 0.5 s of one held frame; nonsense arguments exit 2 with one line."""
    import importlib.util

    from tests.support.videos import REPO, write_video

    spec = importlib.util.spec_from_file_location("make_variant",
                                                  REPO / "examples" / "make_variant.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    src = write_video(tmp_path / "src.mp4", n_frames=24, fps=12)
    assert script.main([str(src), str(tmp_path / "slow.mp4"), "--slow", "1.5"]) == 0
    slow = probe_video(tmp_path / "slow.mp4")
    assert slow.n_frames == 24 and slow.duration_s == pytest.approx(3.0, abs=0.01)
    assert script.main([str(src), str(tmp_path / "pause.mp4"), "--pause", "0.5",
                        "--at", "1.0"]) == 0
    paused = load_video(tmp_path / "pause.mp4", target_fps=12)
    assert paused.n_sampled == 30
    frames = paused.frames.astype(int)
    for i in range(13, 19):  # frame 12 shown 7 times (lossy coding: nearly equal pixels)
        assert np.abs(frames[i] - frames[12]).mean() < 1.0, i
    assert np.abs(frames[19] - frames[12]).mean() > 2.0  # then the motion goes on
    assert script.main([str(src), str(tmp_path / "x.mp4")]) == 2
    assert script.main([str(tmp_path / "missing.mp4"), str(tmp_path / "x.mp4"),
                        "--slow", "2"]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("rotation", [0, 90])
@pytest.mark.parametrize("every", [1, 7])
def test_iter_frames_streams_the_planned_frames_in_chunks(tmp_path: Path, rotation: int,
                                                          every: int) -> None:
    """Dense plans stream through one sequential PyAV pass, sparse ones through decord: either
    way the chunks hold exactly the planned frames, upright, as load_video decodes them."""
    from tests.support.videos import write_video
    from viddiff.tools.video import iter_frames, plan_sampling

    path = write_video(tmp_path / "v.mp4", n_frames=40, fps=20, size=(64, 48),
                       rotation=rotation)
    plan = plan_sampling(path, 20.0, None, 48)
    plan = dataclasses.replace(plan, indices=plan.indices[::every])
    chunks = list(iter_frames(plan, chunk=4))
    assert all(len(i) == len(f) <= 4 for i, f in chunks)
    indices = np.concatenate([i for i, _ in chunks])
    frames = np.concatenate([f for _, f in chunks])
    np.testing.assert_array_equal(indices, plan.indices)
    ref = load_video(path, target_fps=20, max_frames=None, max_side=48)
    assert frames.shape == (len(plan.indices), *ref.frames.shape[1:])
    diff = np.abs(frames.astype(int) - ref.frames[::every].astype(int)).mean()
    assert diff < 4.0, diff
    assert frames[0, 2:6, 2:6].mean() > 150  # the top-left mark: neither turned nor flipped


def test_iter_frames_reports_a_truncated_video(tmp_path: Path) -> None:
    from tests.support.videos import write_video
    from viddiff.tools.video import iter_frames, plan_sampling

    path = write_video(tmp_path / "v.mp4", n_frames=40, fps=20, size=(64, 48))
    plan = plan_sampling(path, 20.0, None, 48)
    plan = dataclasses.replace(plan, info=dataclasses.replace(plan.info, n_frames=80),
                               indices=np.arange(80))
    with pytest.raises(VideoError, match="truncated"):
        list(iter_frames(plan, chunk=16))
