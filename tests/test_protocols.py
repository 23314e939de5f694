"""Protocol presets (evals.protocols) and what each setting changes inside the graph.

The wire-level check of ``--protocol paper`` (what is actually sent) is in
test_protocol_wire.py; here the settings themselves and the nodes that read them, with the
scripted fake chat model and the fake embedder.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.fake_chat import ScriptedChatModel
from tests.support.scripts import standard_script
from viddiff.evals.protocols import (
    DOMAIN_FPS,
    PAPER,
    PAPER_JUDGE,
    PAPER_METHOD_FPS,
    PROTOCOLS,
    VIDDIFF,
    get_protocol,
    overridden,
)
from viddiff.graphs.context import VidDiffContext, settings_record
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.viddiff import build_viddiff_graph
from viddiff.tools.errors import ConfigError
from viddiff.tools.images import image_part
from viddiff.tools.video import sample_frame_indices


def test_viddiff_protocol_is_the_dataclass_defaults() -> None:
    assert VIDDIFF.build_context() == VidDiffContext()
    assert VIDDIFF.domain_fps("viddiff") == DOMAIN_FPS and VIDDIFF.judge_model is None


def test_paper_protocol_has_the_reference_settings() -> None:
    ctx = PAPER.build_context()
    assert (ctx.answer_labels, ctx.kinematics, ctx.localizer) == ("ab", False, "clip")
    assert (ctx.clip_model, ctx.clip_pretrained) == ("ViT-bigG-14", "laion2b_s39b_b160k")
    assert ctx.max_frames is None and ctx.max_side is None and ctx.image_max_side is None
    assert ctx.image_detail == "high" and ctx.proposer_wording == "exactly"
    assert ctx.transcript_cache is False
    assert PAPER.domain_fps("viddiff") == PAPER_METHOD_FPS
    assert PAPER_METHOD_FPS == {"fitness": 8.0, "ballsports": 5.0, "diving": 6.0,
                                "music": 1.0, "surgery": 1.0}
    assert PAPER.domain_fps("lmm") == DOMAIN_FPS  # the LMM baseline's config: fitness 4
    assert PAPER.judge_model == PAPER_JUDGE == "gpt-4o-2024-08-06"


def test_flags_override_single_settings_and_are_recorded() -> None:
    ctx = PAPER.build_context({"clip_model": "ViT-B-32", "clip_pretrained": None})
    assert ctx.clip_model == "ViT-B-32" and ctx.answer_labels == "ab"
    assert overridden(PAPER, ctx) == {"clip_model": "ViT-B-32", "clip_pretrained": None}
    record = settings_record(ctx)
    assert set(record) == {f.name for f in dataclasses.fields(VidDiffContext)}
    assert isinstance(record["cache_dir"], str)
    with pytest.raises(ConfigError, match="unknown setting"):
        PAPER.build_context({"frame_rate": 3})
    with pytest.raises(ConfigError, match="unknown protocol 'iclr'"):
        get_protocol("iclr")
    assert set(PROTOCOLS) == {"viddiff", "paper"}


def test_no_frame_cap_and_full_size_images() -> None:
    assert len(sample_frame_indices(1000, 30.0, 8.0, None)) == 267  # every 8 fps sample
    assert len(sample_frame_indices(1000, 30.0, 8.0, 96)) == 96
    frame = np.zeros((300, 500, 3), dtype=np.uint8)
    full = image_part(frame, None, "high")
    assert full["image_url"]["detail"] == "high"
    assert "detail" not in image_part(frame, 384)["image_url"]


# ------------------------------------------------------------------ settings inside the graph


def _run(model: ScriptedChatModel, embedder: Any, request: dict[str, Any],
         ctx: VidDiffContext) -> Any:
    graph = build_viddiff_graph(ModelRoles.single(model),
                                clip_loader=lambda spec: embedder).compile()
    return asyncio.run(run_comparison(graph, request, ctx))


def _ctx(tmp_path: Path, protocol: str, **kw: Any) -> VidDiffContext:
    base = {"fps": 6.0, "cache_dir": tmp_path / "cache", "kinematics": False, **kw}
    return get_protocol(protocol).build_context(base)


def test_paper_proposer_is_asked_to_list_n(synthetic_pair, fake_embedder, tmp_path) -> None:
    request = {"video_a": str(synthetic_pair[0]), "video_b": str(synthetic_pair[1]),
               "action": "a bodyweight squat", "n_differences": 2}
    for protocol, wording in (("paper", "List 2 differences"), ("viddiff", "at most 2")):
        model = ScriptedChatModel(script={**standard_script(),
                                          "VerdictAB": {"reason": "x", "answer": "a"}})
        _run(model, fake_embedder, request, _ctx(tmp_path / protocol, protocol))
        prompt = model.calls_for("ProposedDifferences")[0].text
        assert wording in prompt
        assert ("up to" in prompt) == (protocol == "viddiff")


def test_transcript_is_drafted_per_sample_without_the_cache(synthetic_pair, fake_embedder,
                                                            tmp_path) -> None:
    request = {"video_a": str(synthetic_pair[0]), "video_b": str(synthetic_pair[1]),
               "action": "a bodyweight squat",
               "differences": [{"description": "the squat is deeper"}]}
    for cache_on, expected in ((True, 1), (False, 2)):
        model = ScriptedChatModel(script={**standard_script(["the squat is deeper"]),
                                          "VerdictAB": {"reason": "x", "answer": "b"}})
        ctx = _ctx(tmp_path / str(cache_on), "paper", transcript_cache=cache_on)
        for _ in range(2):  # two samples of the same action
            result = _run(model, fake_embedder, request, ctx)
        assert len(model.calls_for("StageTranscript")) == expected
        assert result.differences[0].label == "b"
        assert not model.calls_for("Verdict")  # the a/b schema was asked for, not a/b/c


def test_open_budget_is_what_scoring_keeps() -> None:
    from viddiff.evals.data import parse_row
    from viddiff.evals.methods import open_budget
    from viddiff.evals.metrics import n_diff

    row = {"sample_key": "s1", "action": "fitness_4", "action_description": "a squat",
           "split": "easy", "videos": [{"path": "a.mp4"}, {"path": "b.mp4"}],
           "differences_annotated": {k: {"description": f"d{k}"} for k in "0123"},
           "differences_gt": {"0": "a", "1": "b", "2": "c", "3": "a"},
           "n_differences_open_prediction": 9}
    budget, notes = open_budget(parse_row(row))
    assert budget == n_diff(4) == 6  # ceil(1.5 x 4 labelled, c included)
    assert notes and "n_differences_open_prediction = 9" in notes[0]
    assert open_budget(parse_row({**row, "n_differences_open_prediction": 6}))[1] == []


def test_compare_takes_the_domain_rate_of_a_benchmark_action() -> None:
    from viddiff.agent.cli.cmd_compare import compare_context
    from viddiff.agent.cli.main import build_parser

    def ctx(*extra: str) -> VidDiffContext:
        args = build_parser().parse_args(["compare", "a.mp4", "b.mp4", *extra])
        return compare_context(args)

    assert ctx("--action", "fitness_4", "--protocol", "paper").fps == 8.0
    assert ctx("--action", "fitness_4").fps == 4.0
    assert ctx("--action", "fitness_4", "--protocol", "paper", "--fps", "3").fps == 3.0
    assert ctx("--action", "a golf swing", "--protocol", "paper").fps == VidDiffContext.fps
    paper = ctx("--action", "surgery_0", "--protocol", "paper", "--max-frames", "50",
                "--image-max-side", "none", "--no-kinematics")
    assert (paper.fps, paper.max_frames, paper.image_max_side) == (1.0, 50, None)
    assert paper.answer_labels == "ab"
