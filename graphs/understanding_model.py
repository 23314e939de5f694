"""Read a statement with a language model: which catalogue metric, which way, when, which side.

The offline engine maps a free-text difference ("she squats lower") to a metric of the catalogue
(:data:`viddiff.tools.kinematics.registry.METRICS`). The phrase reader
(:func:`viddiff.tools.understanding.understand`) does it with no model; when the run asks for it
(``VidDiffContext.understand_with``) and a model was injected into the offline graph, the model
reads the statement instead: the prompt (``prompts/understand.md``) lists each metric with the
catalogue's own label, description and higher/lower wording, and the reply schema's ``metric``
is an enum of the catalogue's names, so a server that enforces schemas cannot answer outside it.

The reply is never trusted blindly: the metric must be in the catalogue, a side only selects a
variant the catalogue has, and a direction must be given. Whatever goes wrong -- a reply still
malformed after ``llm_attempts`` tries (each retry shows the model its bad reply, as every LLM
node does), a request that failed after the client's own retries (429, 5xx, timeout), a metric
outside the catalogue, the model calling the statement not measurable -- the phrase reader
answers instead, and its :class:`Understanding` says why the model's mapping was not used
(``model_note``). One statement never fails the run; after a request fails, the rest of the run
does not wait on the same endpoint again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field, create_model

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.llm import (
    Feedback,
    StructuredMethod,
    ask_structured_sync,
    attempts_summary,
    conversation,
    model_name,
    summarize_error,
)
from viddiff.graphs.schemas import UsageRecord
from viddiff.prompts import render
from viddiff.tools.errors import ConfigError
from viddiff.tools.kinematics.registry import MetricSpec
from viddiff.tools.understanding import Direction, Moment, Understanding, understand

ROLE = "reader"
"""The role its calls are recorded under in the result's usage."""


class StatementReading(BaseModel):
    """The model's reply: a catalogue metric and its direction, or "not measurable".

    Parsed leniently (``metric`` any string) so that a metric outside the catalogue is told
    apart from a malformed reply; the schema sent (:func:`wire_schema`) restricts it."""

    measurable: bool = Field(description="False when no metric of the catalogue measures what "
                                          "the statement is about.")
    metric: str | None = Field(default=None, description="The catalogue metric's name.")
    direction: Direction | None = Field(
        default=None, description="higher: the statement is truer of the video with the higher "
                                  "value of the metric; lower: of the one with the lower value.")
    moment: Moment | None = Field(default=None, description="The moment the statement names.")
    side: Literal["left", "right"] | None = Field(
        default=None, description="The side of the body the statement is about, if one.")
    reason: str = Field(default="", description="Why this metric and direction, or why the "
                                                "statement is not measurable.")


def _catalogue() -> dict[str, MetricSpec]:
    from viddiff.tools.kinematics.registry import METRICS  # the catalogue loads on first use

    return METRICS


@lru_cache(maxsize=1)
def metric_names() -> tuple[str, ...]:
    """The metrics the model may name: the catalogue's, without side variants (the reply's
    ``side`` selects one)."""
    return tuple(name for name, spec in _catalogue().items() if spec.side is None)


@lru_cache(maxsize=1)
def wire_schema() -> dict[str, Any]:
    """The JSON schema sent: :class:`StatementReading` with ``metric`` an enum of
    :func:`metric_names`."""
    names: Any = Literal[metric_names()]  # the enum: the catalogue, known once it loads
    strict = create_model("StatementReading", __base__=StatementReading,
                          metric=(names | None,
                                  Field(default=None, description="The catalogue metric's name.")))
    return strict.model_json_schema()


@lru_cache(maxsize=1)
def catalogue_text() -> str:
    """Each metric as the prompt lists it, in the catalogue's own words (label, description,
    ``more``/``less``): there is no second description of the metrics."""
    metrics = _catalogue()
    lines = []
    for name in metric_names():
        spec = metrics[name]
        sides = all(f"{name}_{s}" in metrics for s in ("left", "right"))
        lines.append(f"- `{name}`: {spec.in_words}"
                     f"{' Has left and right variants.' if sides else ''}")
    return "\n".join(lines)


def prompt(statement: str, action: str) -> str:
    """The request for one statement (``prompts/understand.md``)."""
    return render("understand", action=action or "(not given)", statement=statement,
                  metrics=catalogue_text())


def checked(text: str, reading: StatementReading, model: str) -> Understanding | str:
    """The model's reading as an :class:`Understanding` once it passes the catalogue, or why
    it cannot be used."""
    if not reading.measurable:
        why = f": {reading.reason}" if reading.reason else ""
        return f"the model found it not measurable{why}"
    metrics = _catalogue()
    if reading.metric is None:
        return "the model named no metric"
    if reading.metric not in metrics:
        return f"the model named {reading.metric!r}, which is not a metric of the catalogue"
    if reading.direction is None:
        return f"the model named {reading.metric} but no direction"
    metric, side, reason = reading.metric, reading.side, reading.reason
    base = metrics[metric].side is None
    if not base:  # it named a side variant itself
        side = metrics[metric].side
    elif side is not None:
        if f"{metric}_{side}" in metrics:
            metric = f"{metric}_{side}"
        else:
            reason = (f"{reason} " if reason else "") + \
                f"({metric} has no {side}-side variant: it is read as the catalogue defines it)"
            side = None
    return Understanding(text=text, metric=metric, direction=reading.direction,
                         moment=reading.moment, side=side, read_by=model,
                         model_reason=reason[:300] or None)


@dataclass
class ModelReader:
    """A statement reader backed by ``model``, with the phrase reader as its fallback.

    Called like :func:`viddiff.tools.understanding.understand` (``reader(text)``); the calls'
    token counts collect in :attr:`usage` for the result."""

    model: BaseChatModel
    action: str = ""
    attempts: int = 3
    method: StructuredMethod = "json_schema"
    usage: list[UsageRecord] = field(default_factory=list)
    broken: str | None = None
    """Why a request failed; set once, so later statements go straight to the phrase reader."""

    @property
    def name(self) -> str:
        return model_name(self.model)

    def __call__(self, text: str) -> Understanding:
        reading, problem = self.ask(text)
        if reading is not None:
            understood = checked(text, reading, self.name)
            if isinstance(understood, Understanding):
                return understood
            problem = understood
        return understand(text, self.action).model_copy(update={"model_note": problem})

    def ask(self, text: str) -> tuple[StatementReading | None, str]:
        """The model's parsed reply, or None and why there is none."""
        if self.broken is not None:
            return None, f"not asked, as a request failed earlier in this run ({self.broken})"
        feedback: Feedback | None = None
        message = prompt(text, self.action)
        attempts = max(self.attempts, 1)
        for attempt in range(1, attempts + 1):
            try:
                reply = ask_structured_sync(self.model, StatementReading,
                                            conversation(message, feedback), role=ROLE,
                                            method=self.method, wire_schema=wire_schema())
            except Exception as exc:  # any failed request: fall back, never fail the run
                self.broken = summarize_error(exc)
                return None, f"the request to {self.name!r} failed ({self.broken})"
            self.usage.append(reply.usage)
            if reply.parsed is not None:
                return reply.parsed, ""
            if attempt == attempts:
                return None, (f"no usable reply from {self.name!r} after {attempts} attempts "
                              f"({attempts_summary(feedback, reply.error)})")
            feedback = Feedback.after(feedback, reply.error, reply.raw_text)
        raise AssertionError("unreachable: the last attempt returns")


def reader_for(ctx: VidDiffContext, model: BaseChatModel | None,
               action: str = "") -> ModelReader | None:
    """The model-backed reader a run asks for (``ctx.understand_with``), or None for the
    phrase reader alone: ``phrases``, or ``auto`` with no model injected. ``model`` with no
    model injected is a :class:`ConfigError` (the edge builds the model only when an endpoint
    is configured)."""
    if ctx.understand_with == "phrases":
        return None
    if model is None:
        if ctx.understand_with == "model":
            raise ConfigError("understand_with='model' needs a model endpoint (--base-url, "
                              "OPENAI_BASE_URL or OPENAI_API_KEY); 'phrases' reads statements "
                              "without one")
        return None
    return ModelReader(model, action=action, attempts=ctx.llm_attempts,
                       method=ctx.structured_output)
