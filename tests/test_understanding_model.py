"""The model-backed statement reader (graphs/understanding_model.py): the model's mapping is
used when the catalogue accepts it, and the phrase reader answers, saying why, whenever it is not
(not measurable, a metric outside the catalogue, replies that stay malformed, failed requests).
The scripted fake chat model covers the rules; tests/test_understanding_wire.py covers what the
real client sends and the faults it meets."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from tests.support.fake_chat import ScriptedChatModel
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.measured_answers import query_for
from viddiff.graphs.understanding_model import (
    ModelReader,
    StatementReading,
    catalogue_text,
    metric_names,
    reader_for,
    wire_schema,
)
from viddiff.tools.errors import ConfigError
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.understanding import understand

SCHEMA = "StatementReading"


def reading(metric: str | None = "thigh_angle_max", direction: str | None = "higher",
            **extra: Any) -> dict[str, Any]:
    return {"measurable": True, "metric": metric, "direction": direction, "moment": None,
            "side": None, "reason": "the thighs reach further past level", **extra}


def reader(*replies: Any, **kwargs: Any) -> tuple[ModelReader, ScriptedChatModel]:
    model = ScriptedChatModel(script={SCHEMA: list(replies)})
    return ModelReader(model, action="a bodyweight squat", **kwargs), model


def test_the_models_mapping_is_used_when_the_catalogue_accepts_it() -> None:
    text = "she squats lower"
    assert understand(text).metric != "thigh_angle_max"  # so the model's answer is visible
    read, model = reader(reading(moment="bottom"))
    u = read(text)
    assert (u.metric, u.direction, u.moment, u.read_by) == ("thigh_angle_max", "higher",
                                                            "bottom", "scripted-model")
    assert u.query is not None and u.query.stage_hint == "bottom"
    assert u.why.startswith("understood by the model 'scripted-model' as thigh_angle_max "
                            "(higher) at the bottom")
    assert u.model_note is None
    (call,) = model.calls_for(SCHEMA)
    assert text in call.text and "a bodyweight squat" in call.text
    assert len(read.usage) == 1 and read.usage[0].role == "reader"


def test_the_prompt_lists_the_catalogues_own_words_for_every_metric() -> None:
    text = catalogue_text()
    for name in metric_names():
        spec = METRICS[name]
        assert f"`{name}`: {spec.in_words}" in text  # the catalogue's one description
        assert f"{spec.label} [{spec.unit}]: {spec.description}" in spec.in_words
        assert f"Higher: {spec.more}. Lower: {spec.less}." in spec.in_words
    assert not any(spec.side and f"`{spec.name}`" in text for spec in METRICS.values())
    enum = wire_schema()["properties"]["metric"]["anyOf"][0]["enum"]
    assert enum == list(metric_names()) and set(enum) < set(METRICS)


def test_a_metric_outside_the_catalogue_falls_back_with_the_reason() -> None:
    text = "she squats lower"
    read, _ = reader(reading(metric="squat_depth_score"))
    u = read(text)
    phrases = understand(text)
    assert (u.metric, u.direction, u.read_by) == (phrases.metric, phrases.direction, None)
    assert u.model_note == ("the model named 'squat_depth_score', which is not a metric of "
                            "the catalogue")
    assert "the model's mapping was not used: the model named 'squat_depth_score'" in u.why


def test_not_measurable_falls_back_to_the_phrase_reader() -> None:
    read, _ = reader({"measurable": False, "reason": "the ball is not tracked"},
                     {"measurable": False, "reason": "unsure"})
    refused = read("the ball spins more")
    assert refused.query is None and refused.read_by is None
    assert "the model found it not measurable: the ball is not tracked" in refused.help_text()
    answered = read("she squats lower")  # the phrase reader still maps what it can
    assert answered.metric == understand("she squats lower").metric
    assert answered.model_note == "the model found it not measurable: unsure"


def test_sides_select_a_variant_only_when_the_catalogue_has_one() -> None:
    read, _ = reader(reading(metric="knee_angle_min", direction="lower", side="left"))
    u = read("the left knee bends more")
    assert (u.metric, u.side) == ("knee_angle_min_left", "left")
    no_variant = "stance_width"
    assert f"{no_variant}_left" not in METRICS
    read, _ = reader(reading(metric=no_variant, side="left"))
    u = read("the left foot steps wider")
    assert (u.metric, u.side, u.read_by) == (no_variant, None, "scripted-model")
    assert "stance_width has no left-side variant" in (u.model_reason or "")


def test_a_malformed_reply_is_retried_with_the_error_then_used() -> None:
    read, model = reader('{"measurable": tr', reading())
    u = read("she squats lower")
    assert u.metric == "thigh_angle_max"
    _, second = model.calls_for(SCHEMA)
    assert "could not be used" in second.text and '{"measurable": tr' in second.text
    assert len(read.usage) == 2


def test_replies_that_stay_malformed_fall_back_after_llm_attempts() -> None:
    read, model = reader('{"measurable": tr', '{"metric": 3}', "not json", attempts=3)
    u = read("she squats lower")
    assert len(model.calls_for(SCHEMA)) == 3
    assert u.read_by is None and u.metric == understand("she squats lower").metric
    assert (u.model_note or "").startswith("no usable reply from 'scripted-model' after 3 "
                                           "attempts (attempt 1: the reply is not valid JSON")


def test_a_failed_request_falls_back_and_later_statements_do_not_wait_on_it() -> None:
    def refuse(_: list[BaseMessage]) -> Any:
        raise ConnectionError("connection refused")

    read, model = reader(refuse)
    first = read("she squats lower")
    second = read("the stance is wider")
    assert first.metric == understand("she squats lower").metric
    assert "the request to 'scripted-model' failed (connection refused)" in (first.model_note
                                                                            or "")
    assert second.metric == understand("the stance is wider").metric
    assert "not asked, as a request failed earlier" in (second.model_note or "")
    assert len(model.calls) == 1


def test_query_for_uses_the_reader_for_free_text_only() -> None:
    read, model = reader(reading())
    query, why = query_for("", "", "she squats lower", reader=read)
    assert query is not None and query.metric == "thigh_angle_max"
    assert why.startswith("understood by the model 'scripted-model'")
    calls = len(model.calls)
    query, why = query_for("deeper squat", "the squat is deeper", "the squat is deeper",
                           action_key="fitness_4", diff_key="1", reader=read)
    assert why == "taxonomy" and len(model.calls) == calls  # the table, no model call


def test_reader_for_follows_understand_with() -> None:
    model = ScriptedChatModel(script={})
    assert reader_for(VidDiffContext(), model) is None  # phrases: the default
    assert reader_for(VidDiffContext(understand_with="auto"), None) is None
    built = reader_for(VidDiffContext(understand_with="auto", llm_attempts=2,
                                      structured_output="json_mode"), model, "a squat")
    assert built is not None and (built.attempts, built.method, built.action) == (
        2, "json_mode", "a squat")
    with pytest.raises(ConfigError, match="needs a model endpoint"):
        reader_for(VidDiffContext(understand_with="model"), None)


def test_the_reply_schema_parses_not_measurable_alone() -> None:
    parsed = StatementReading.model_validate_json('{"measurable": false, "reason": "gaze"}')
    assert parsed.metric is None and parsed.reason == "gaze"


def test_the_default_reads_no_environment_and_builds_no_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from viddiff.graphs.engine import engine_model_names, reader_model
    from viddiff.graphs.models import EndpointSettings
    from viddiff.graphs.offline import OFFLINE_MODELS

    def no_env(*_: Any, **__: Any) -> EndpointSettings:
        raise AssertionError("the environment was read for a phrases-only run")

    monkeypatch.setattr(EndpointSettings, "from_env", no_env)
    assert reader_model(VidDiffContext()) is None
    configured = EndpointSettings(base_url="http://127.0.0.1:9/v1")
    assert reader_model(VidDiffContext(), configured) is None
    assert reader_model(VidDiffContext(understand_with="auto"), EndpointSettings()) is None
    assert engine_model_names(True, configured) == OFFLINE_MODELS
    assert engine_model_names(True, configured, "auto")["reader"] == configured.models["linker"]
