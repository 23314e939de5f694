"""The measurement service behind the ``measure`` and ``measure_pose`` tools
(graphs/measurement.py): one request model, one way to find the stage, one pose check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.test_kinematics import squat_clip
from viddiff.graphs.measurement import (
    MetricAtStage,
    UnknownMetric,
    check_metric,
    pose_readiness,
    stage_segments,
)
from viddiff.graphs.nodes.measure_tool import MeasureArgs, measure_tool
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.segments import Segment

A = [Segment(stage="stand", start=0, end=9), Segment(stage="descent", start=10, end=19),
     Segment(stage="bottom", start=20, end=29)]
B = [Segment(stage="stand", start=0, end=4), Segment(stage="descent", start=5, end=14)]


def test_the_measure_tool_sends_the_shared_model() -> None:
    params = measure_tool()["function"]["parameters"]
    assert params["title"] == "MeasureArgs" and params["required"] == ["metric", "stage"]
    assert params["properties"] == MetricAtStage.model_json_schema()["properties"]
    assert params["properties"]["metric"]["enum"] == sorted(METRICS)
    assert MeasureArgs.model_fields.keys() == MetricAtStage.model_fields.keys()


def test_unknown_metrics_are_refused() -> None:
    check_metric("knee_angle_min")
    with pytest.raises(UnknownMetric, match="unknown metric 'nonsense'"):
        check_metric("nonsense")


def test_a_stage_in_both_videos_is_measured_there() -> None:
    assert stage_segments("Descent", (A, B)) == (A[1], B[1], None)


@pytest.mark.parametrize("stage", ["whole clip", "Whole", "all", "  "])
def test_whole_clip_words_need_no_stages(stage: str) -> None:
    assert stage_segments(stage, (A, B)) == (None, None, None)
    assert stage_segments(stage, None) == (None, None, None)


def test_a_stage_missing_somewhere_means_both_whole_clips() -> None:
    assert stage_segments("bottom", (A, B)) == (None, None, "not in both")  # only in A
    assert stage_segments("flight", (A, B)) == (None, None, "not in both")  # in neither
    assert stage_segments("descent", (A, [])) == (None, None, "not in both")
    assert stage_segments("descent", None) == (None, None, "no stages")


def test_pose_readiness_gives_the_reason() -> None:
    steady = squat_clip(depth_knee=80.0, fps=30.0)
    assert pose_readiness({"a": steady, "b": steady}, 0.5).ready

    blank = dataclasses.replace(steady, present=np.zeros_like(steady.present),
                                keypoints=np.full_like(steady.keypoints, np.nan))
    check = pose_readiness({"a": steady, "b": blank}, 0.5)
    assert not check.ready
    assert check.notes == ["no pose measurements: a person was found in too few frames of "
                           "video B"]

    present = steady.present.copy()
    present[: int(0.7 * present.size)] = False
    kp = steady.keypoints.copy()
    kp[~present] = np.nan
    sparse = dataclasses.replace(steady, keypoints=kp, present=present)
    check = pose_readiness({"a": sparse, "b": steady}, 0.2)  # enough frames, but a problem
    assert not check.ready and check.notes[0].startswith("no pose measurements: video A: ")
