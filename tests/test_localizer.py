"""Stage localisation from embeddings, and the LangChain ``localize`` tool."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import av
import numpy as np
import pytest
from langchain_core.tools import BaseTool

from viddiff.agent.chat.stage_tool import make_localize_stages_tool
from viddiff.tools.clip.cache import EmbeddingCache, clear_embedding_memo
from viddiff.tools.clip.model import ClipSpec, load_clip
from viddiff.tools.errors import ConfigError
from viddiff.tools.localizer import (
    Segment,
    labels_to_segments,
    localize_stages,
    normalize_stage_scores,
    stage_scores,
)
from viddiff.tools.paths import PathPolicy
from viddiff.tools.video import clear_video_cache

CLIPS = Path(__file__).resolve().parents[2] / "shared/data/clips"


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


# --------------------------------------------------------------------------- scoring


def test_stage_scores_are_mean_cosines() -> None:
    rng = np.random.default_rng(0)
    frames = _unit(rng.normal(size=(7, 16)))
    stages = [_unit(rng.normal(size=(n, 16))) for n in (1, 3, 5)]
    S = stage_scores(frames, stages)
    assert S.shape == (3, 7)
    for k, texts in enumerate(stages):
        for t in range(7):
            assert S[k, t] == pytest.approx(np.mean([frames[t] @ s for s in texts]), abs=1e-6)


def test_stage_scores_validate_shapes() -> None:
    frames = np.ones((4, 8), np.float32)
    with pytest.raises(ValueError, match="stage 1"):
        stage_scores(frames, [np.ones((2, 8)), np.ones((2, 7))])
    with pytest.raises(ValueError, match="stage 0"):
        stage_scores(frames, [np.ones((0, 8))])
    with pytest.raises(ValueError, match="at least one stage"):
        stage_scores(frames, [])


def test_normalisation_is_min_max_per_row_with_guards() -> None:
    S = np.array([[0.2, 0.4, 0.3], [0.5, 0.5, 0.5], [-1.0, 1.0, 0.0]])
    P = normalize_stage_scores(S, eps=1e-6)
    np.testing.assert_allclose(P[0], [1e-6, 1.0, 0.5])
    np.testing.assert_allclose(P[1], [0.5, 0.5, 0.5])  # constant row: no information
    np.testing.assert_allclose(P[2], [1e-6, 1.0, 0.5])
    assert P.min() > 0
    with pytest.raises(ValueError, match="NaN"):
        normalize_stage_scores(np.array([[0.1, np.nan]]))


# ----------------------------------------------------------------------- localisation


def test_frames_equal_to_stage_texts_are_localised_exactly() -> None:
    """Frame embeddings are the stage text embeddings, in order: the answer is known."""
    rng = np.random.default_rng(1)
    texts = [_unit(rng.normal(size=(3, 32))) for _ in range(4)]
    truth = np.repeat(np.arange(4), [3, 5, 2, 6])
    frames = np.stack([texts[k][t % 3] for t, k in enumerate(truth)])
    segments = localize_stages(frames, texts, ["setup", "down", "bottom", "up"])
    assert segments == [
        Segment(stage="setup", start=0, end=2),
        Segment(stage="down", start=3, end=7),
        Segment(stage="bottom", start=8, end=9),
        Segment(stage="up", start=10, end=15),
    ]


def test_noisy_frames_still_follow_the_order() -> None:
    rng = np.random.default_rng(2)
    basis = np.eye(16, dtype=np.float32)
    texts = [_unit(basis[k] + 0.1 * rng.normal(size=(4, 16))) for k in range(3)]
    truth = np.repeat(np.arange(3), [6, 6, 6])
    frames = _unit(basis[truth] + 0.15 * rng.normal(size=(18, 16)))
    segments = localize_stages(frames, texts, ["a", "b", "c"])
    assert [(s.start, s.end) for s in segments] == [(0, 5), (6, 11), (12, 17)]


def test_segments_cover_every_frame_in_order() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        K, T = int(rng.integers(1, 6)), int(rng.integers(6, 40))
        frames = _unit(rng.normal(size=(T, 8)))
        texts = [_unit(rng.normal(size=(2, 8))) for _ in range(K)]
        names = [f"s{k}" for k in range(K)]
        segments = localize_stages(frames, texts, names)
        assert [s.stage for s in segments] == names
        assert segments[0].start == 0 and segments[-1].end == T - 1
        assert all(a.end + 1 == b.start for a, b in itertools.pairwise(segments))


def test_more_stages_than_frames() -> None:
    basis = np.eye(8, dtype=np.float32)
    texts = [np.stack([basis[k], basis[k]]) for k in range(5)]
    frames = basis[[1, 2, 4]]
    segments = localize_stages(frames, texts, list("abcde"))
    assert [(s.stage, s.start, s.end) for s in segments] == [
        ("b", 0, 0),
        ("c", 1, 1),
        ("e", 2, 2),
    ]


def test_degenerate_inputs() -> None:
    texts = [np.eye(4, dtype=np.float32)[:1]]
    assert localize_stages(np.zeros((0, 4), np.float32), texts, ["only"]) == []
    one = localize_stages(np.eye(4, dtype=np.float32)[:3], texts, ["only"])
    assert one == [Segment(stage="only", start=0, end=2)]
    with pytest.raises(ValueError, match="stage names"):
        localize_stages(np.eye(4, dtype=np.float32), texts, ["a", "b"])


def test_labels_to_segments() -> None:
    segs = labels_to_segments(np.array([0, 0, 2, 2, 2, 3]), ["a", "b", "c", "d"])
    assert [(s.stage, s.start, s.end, s.middle) for s in segs] == [
        ("a", 0, 1, 0),
        ("c", 2, 4, 3),
        ("d", 5, 5, 5),
    ]


# -------------------------------------------------------------------------------- tool

LEVELS = {"dark": 30, "mid": 120, "bright": 220}


def _phase_video(path: Path) -> Path:
    """36 frames at 12 fps: 12 dark, 12 mid-grey, 12 bright."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for level in LEVELS.values():
            for _ in range(12):
                img = np.full((48, 64, 3), level, np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _angle(level: float) -> np.ndarray:
    theta = np.pi / 2 * level / 255
    return np.array([np.cos(theta), np.sin(theta)], np.float32)


class BrightnessEmbedder:
    """Frames embed by brightness, strings by the level they name: a known answer."""

    cache_tag = "brightness-v1"
    dim = 2

    def __init__(self) -> None:
        self.image_calls = 0

    def encode_images(
        self,
        frames: np.ndarray,
        batch_size: int = 32,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        self.image_calls += 1
        return np.stack([_angle(float(f.mean())) for f in frames])

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([_angle(LEVELS[t.split()[-1]]) for t in texts])


STAGES = [
    {"name": "start", "retrieval_strings": ["a frame that is dark"]},
    {"name": "middle", "retrieval_strings": ["grey mid", "a frame that is mid"]},
    {"name": "end", "retrieval_strings": ["bright"]},
]


@pytest.fixture
def phase_video(tmp_path: Path) -> Path:
    clear_video_cache()
    clear_embedding_memo()
    return _phase_video(tmp_path / "phases.mp4")


def test_tool_schema() -> None:
    tool = make_localize_stages_tool(BrightnessEmbedder)
    assert isinstance(tool, BaseTool) and tool.name == "localize_stages"
    schema = tool.get_input_schema().model_json_schema()
    assert set(schema["properties"]) == {"video_path", "stages"}


def test_tool_localises_a_video(phase_video: Path, tmp_path: Path) -> None:
    fake = BrightnessEmbedder()
    made: list[int] = []

    def factory() -> BrightnessEmbedder:
        made.append(1)
        return fake

    cache = EmbeddingCache(tmp_path / "emb")
    tool = make_localize_stages_tool(factory, target_fps=6, cache=cache, policy=_inside(tmp_path))
    result = tool.invoke({"video_path": str(phase_video), "stages": STAGES})
    assert isinstance(result, dict)
    json.dumps(result)  # JSON-able
    assert result["n_sampled"] == 18 and result["source_fps"] == 12
    segs = [(s["stage"], s["start"], s["end"]) for s in result["segments"]]
    assert segs == [("start", 0, 5), ("middle", 6, 11), ("end", 12, 17)]
    middle = result["segments"][1]
    assert (middle["start_frame"], middle["end_frame"]) == (12, 22)
    assert (middle["start_s"], middle["end_s"]) == (1.0, pytest.approx(22 / 12, abs=1e-3))
    assert result["missing_stages"] == []
    tool.invoke({"video_path": str(phase_video), "stages": STAGES})
    assert fake.image_calls == 1 and len(made) == 1  # embeddings and embedder reused


def _inside(folder: Path) -> PathPolicy:
    return PathPolicy.from_dirs([folder])


def test_tool_errors_are_strings_not_tracebacks(phase_video: Path, tmp_path: Path) -> None:
    tool = make_localize_stages_tool(BrightnessEmbedder, policy=_inside(tmp_path))
    missing = tool.invoke({"video_path": str(tmp_path / "nope.mp4"), "stages": STAGES})
    assert isinstance(missing, str) and "no such file" in missing
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    bad = tool.invoke({"video_path": str(not_video), "stages": STAGES})
    assert isinstance(bad, str) and "notes.mp4" in bad
    empty_stages = tool.invoke({"video_path": str(phase_video), "stages": []})
    assert isinstance(empty_stages, str)
    no_strings = tool.invoke(
        {"video_path": str(phase_video), "stages": [{"name": "x", "retrieval_strings": []}]}
    )
    assert isinstance(no_strings, str)

    def no_weights() -> BrightnessEmbedder:
        raise ConfigError("CLIP weights ViT-B-32/laion2b_s34b_b79k are not in the local cache")

    result = make_localize_stages_tool(no_weights, policy=_inside(tmp_path)).invoke(
        {"video_path": str(phase_video), "stages": STAGES}
    )
    assert isinstance(result, str) and "not in the local cache" in result


def test_tool_refuses_paths_outside_its_policy_before_opening(phase_video: Path,
                                                              tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "escape.mp4").symlink_to(phase_video)  # a link out of the allowed folder
    fake = BrightnessEmbedder()
    tool = make_localize_stages_tool(lambda: fake, policy=_inside(allowed))
    for path in (str(phase_video), "/etc/passwd", "../phases.mp4", "escape.mp4",
                 "https://example.com/a.mp4", "concat:a.mp4|b.mp4"):
        answer = tool.invoke({"video_path": path, "stages": STAGES})
        assert isinstance(answer, str) and "\n" not in answer, path
    assert fake.image_calls == 0  # nothing was decoded or embedded


@pytest.mark.real_clips
def test_tool_with_random_weight_clip_on_a_real_clip(tmp_path: Path) -> None:
    clip = CLIPS / "Demo_SinglePerson_cam01.mp4"
    if not clip.exists():
        pytest.skip(f"real clips not found at {CLIPS}")
    tool = make_localize_stages_tool(
        lambda: load_clip(ClipSpec(pretrained=None, device="cpu")),
        policy=_inside(CLIPS),
        target_fps=4,
        cache=EmbeddingCache(tmp_path),
    )
    stages = [
        {"name": n, "retrieval_strings": [f"a photo of a person {n}", f"a person {n}"]}
        for n in ("standing", "crouching", "jumping")
    ]
    result = tool.invoke({"video_path": str(clip), "stages": stages})
    assert isinstance(result, dict), result
    segs = result["segments"]
    assert [s["stage"] for s in segs] == ["standing", "crouching", "jumping"]
    assert segs[0]["start"] == 0 and segs[-1]["end"] == result["n_sampled"] - 1 == 6
    assert segs[-1]["end_frame"] == 90 and segs[-1]["end_s"] == 1.5
