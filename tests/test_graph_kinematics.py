"""Pose measurements inside the VidDiff graph: the differencer's ``measure`` tool and the
pose localizer, on the real clips (a person is needed), with scripted fake models."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from tests.support.fake_chat import ScriptedChatModel
from tests.support.scripts import standard_script
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.viddiff import build_viddiff_graph
from viddiff.tools.errors import ConfigError


def tool_call(metric: str, stage: str, call_id: str = "call-1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": "measure", "id": call_id,
                                              "args": {"metric": metric, "stage": stage}}])


def compare(clips: Path, model: ScriptedChatModel, embedder: Any, tmp_path: Path,
            clip_loader: Any = None, **ctx: Any):
    graph = build_viddiff_graph(ModelRoles.single(model),
                                clip_loader=clip_loader or (lambda spec: embedder)).compile()
    request = {"video_a": str(clips / "Demo_SinglePerson_cam01.mp4"),
               "video_b": str(clips / "Demo_SinglePerson_cam02.mp4"),
               "action": "a lunge", "differences": [{"description": "the knees bend more"}]}
    context = VidDiffContext(**{"fps": 6.0, "cache_dir": tmp_path / "cache", **ctx})
    return asyncio.run(run_comparison(graph, request, context))


def test_differencer_measures_before_answering(clips_dir, fake_embedder, tmp_path):
    script = standard_script(["the knees bend more"])
    script["tools"] = tool_call("knee_angle_min", "descent")
    model = ScriptedChatModel(script=script)
    result = compare(clips_dir, model, fake_embedder, tmp_path)
    (diff,) = result.differences
    assert [m.metric for m in diff.measurements] == ["knee_angle_min"]
    m = diff.measurements[0]
    assert m.value_a is not None and m.value_b is not None and m.unit == "deg"
    assert m.stage == "descent"
    # the verdict call saw the measured numbers as a tool result
    (verdict_call,) = model.calls_for("Verdict")
    tool_results = [msg for msg in verdict_call.messages if isinstance(msg, ToolMessage)]
    assert len(tool_results) == 1 and '"knee_angle_min"' in str(tool_results[0].content)
    assert "measure the two people's poses" in model.calls_for("tools")[0].text


def test_a_bad_tool_call_is_answered_with_an_error_not_a_crash(clips_dir, fake_embedder,
                                                               tmp_path):
    script = standard_script(["the knees bend more"])
    script["tools"] = tool_call("knee_wobble", "descent")
    model = ScriptedChatModel(script=script)
    result = compare(clips_dir, model, fake_embedder, tmp_path)
    (diff,) = result.differences
    assert diff.status == "answered" and diff.measurements == []
    (verdict_call,) = model.calls_for("Verdict")
    errors = [m for m in verdict_call.messages if isinstance(m, ToolMessage)]
    assert "unknown metric 'knee_wobble'" in str(errors[0].content)


def test_no_tool_call_means_one_plain_verdict(clips_dir, fake_embedder, tmp_path):
    script = standard_script(["the knees bend more"])
    script["tools"] = AIMessage(content="I can tell from the frames.")
    model = ScriptedChatModel(script=script)
    result = compare(clips_dir, model, fake_embedder, tmp_path)
    assert result.differences[0].measurements == []
    assert len(model.calls_for("Verdict")) == 1


def test_pose_localizer_needs_no_clip(clips_dir, tmp_path):
    def no_clip(spec: Any) -> Any:
        raise AssertionError("CLIP must not be loaded with localizer='pose'")

    model = ScriptedChatModel(script=standard_script(["the knees bend more"]))
    result = compare(clips_dir, model, None, tmp_path, clip_loader=no_clip, localizer="pose",
                     kinematics=False)
    assert [s.stage for s in result.segments_a] == ["setup", "descent", "finish"]
    assert [s.stage for s in result.segments_b] == ["setup", "descent", "finish"]
    assert result.segments_a[-1].end == result.video_a.n_sampled - 1
    # the same moments as the offline engine reports: the alignment and the movement's events
    assert result.alignment and result.alignment[0] == pytest.approx((0.0, 0.0), abs=0.05)
    assert result.events, "the pose localizer's result names the movement's events"
    assert result.events[0].name == "start"
    for event in result.events:
        assert 0.0 <= event.t_a <= result.video_a.duration_s + 1e-6
        assert 0.0 <= event.t_b <= result.video_b.duration_s + 1e-6


def test_auto_localizer_falls_back_to_pose_when_clip_weights_are_missing(clips_dir, tmp_path):
    def missing(spec: Any) -> Any:
        raise ConfigError("CLIP weights 'ViT-B-32/laion2b_s34b_b79k' are not available offline")

    model = ScriptedChatModel(script=standard_script(["the knees bend more"]))
    result = compare(clips_dir, model, None, tmp_path, clip_loader=missing, kinematics=False)
    assert len(result.segments_a) == 3
    assert any("stages were localized from pose" in n for n in result.notes)


def test_clip_localizer_reports_missing_weights(clips_dir, tmp_path):
    def missing(spec: Any) -> Any:
        raise ConfigError("CLIP weights are not available offline")

    model = ScriptedChatModel(script=standard_script(["the knees bend more"]))
    with pytest.raises(ConfigError, match="not available offline"):
        compare(clips_dir, model, None, tmp_path, clip_loader=missing, localizer="clip",
                kinematics=False)
