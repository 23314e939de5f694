"""Chat models per role, from any OpenAI-compatible endpoint.

Built once at the edge (command line, server, eval runner) and injected into the graph
factories. Any server speaking the OpenAI Chat Completions API works: OpenAI itself, vLLM,
Ollama, LM Studio, llama.cpp's server. Settings follow the usual environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from viddiff.tools.errors import ConfigError

if TYPE_CHECKING:  # the command line reads settings from here; clients load when built
    from langchain_core.language_models import BaseChatModel

    from viddiff.graphs.transport import CallGate

ROLES = ("proposer", "stages", "linker", "differencer")
DEFAULT_MODEL = "gpt-4o"
DEFAULT_TIMEOUT_S = 60.0


def parse_timeout(text: str, source: str = "VIDDIFF_TIMEOUT") -> float:
    """Seconds per request from text; a ``ConfigError`` naming ``source`` when not > 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{source} must be a number of seconds > 0, not {text!r}")
    return value


@dataclass(frozen=True)
class ModelRoles:
    """The four models the graph uses; often one model plays every role."""

    proposer: BaseChatModel
    stages: BaseChatModel
    linker: BaseChatModel
    differencer: BaseChatModel

    @classmethod
    def single(cls, model: BaseChatModel) -> ModelRoles:
        return cls(proposer=model, stages=model, linker=model, differencer=model)

    def names(self) -> dict[str, str]:
        from viddiff.graphs.llm import model_name

        return {role: model_name(getattr(self, role)) for role in ROLES}


@dataclass(frozen=True)
class EndpointSettings:
    """Where the models live and which model plays which role.

    Environment: ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``VIDDIFF_MODEL`` (every role),
    ``VIDDIFF_<ROLE>_MODEL`` (one role: PROPOSER, STAGES, LINKER, DIFFERENCER) and
    ``VIDDIFF_TIMEOUT`` (seconds per request).
    """

    api_key: str | None = None
    base_url: str | None = None
    models: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(ROLES, DEFAULT_MODEL))
    timeout_s: float = DEFAULT_TIMEOUT_S
    """Seconds one request may take before it fails (not retried: a hung server stays hung)."""
    max_retries: int = 3
    """Retries of a 429 / 5xx reply, with the client's backoff. A refused connection gets one
    quick retry and a timeout none, whatever this says (see :mod:`viddiff.graphs.transport`)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EndpointSettings:
        env = os.environ if env is None else env
        default = env.get("VIDDIFF_MODEL") or DEFAULT_MODEL
        models = {role: env.get(f"VIDDIFF_{role.upper()}_MODEL") or default for role in ROLES}
        timeout = env.get("VIDDIFF_TIMEOUT")
        return cls(api_key=env.get("OPENAI_API_KEY") or None,
                   base_url=env.get("OPENAI_BASE_URL") or None, models=models,
                   timeout_s=parse_timeout(timeout) if timeout else DEFAULT_TIMEOUT_S)

    @property
    def configured(self) -> bool:
        """True when an endpoint is set: a key (OpenAI) or a base URL (local servers)."""
        return bool(self.api_key or self.base_url)

    def with_overrides(self, *, base_url: str | None = None, model: str | None = None,
                       role_models: Mapping[str, str | None] | None = None,
                       timeout_s: float | None = None) -> EndpointSettings:
        models = dict(self.models)
        if model:
            models = dict.fromkeys(ROLES, model)
        for role, name in (role_models or {}).items():
            if name:
                models[role] = name
        return replace(self, base_url=base_url or self.base_url, models=models,
                       timeout_s=timeout_s or self.timeout_s)


def build_models(settings: EndpointSettings, gate: CallGate | None = None) -> ModelRoles:
    """One ``ChatOpenAI`` client per distinct model name; retries 429/5xx with backoff, a
    refused connection once, a timeout never (:mod:`viddiff.graphs.transport`). With a
    ``gate``, every request waits for one of its slots (a cap on requests in flight that a
    whole run, or a cluster of workers, shares)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    from viddiff.graphs.transport import http_clients

    clients: dict[str, BaseChatModel] = {}
    for name in dict.fromkeys(settings.models[r] for r in ROLES):
        clients[name] = ChatOpenAI(
            model=name,
            api_key=SecretStr(settings.api_key or "not-needed"),  # local servers accept any key
            base_url=settings.base_url,
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
            stream_usage=True,
            **http_clients(settings.timeout_s, gate),
        )
    return ModelRoles(**{role: clients[settings.models[role]] for role in ROLES})


READER_ROLE = "linker"
"""Whose model reads free-text differences for the offline engine (``understand_with``): a
text-only mapping onto a fixed list, as the linker's is onto the stages."""


def wants_reader(understand_with: str, settings: EndpointSettings) -> bool:
    """Whether the offline engine reads statements with the endpoint's model: ``model`` (a
    ``ConfigError`` when no endpoint is configured), ``auto`` when one is; ``phrases`` never,
    so nothing is built and nothing leaves the machine."""
    if understand_with == "phrases":
        return False
    if settings.configured:
        return True
    if understand_with == "model":
        raise ConfigError("--understand-with model needs a model endpoint (--base-url, "
                          "OPENAI_BASE_URL or OPENAI_API_KEY); 'phrases' reads statements "
                          "without one")
    return False


def build_reader(settings: EndpointSettings, gate: CallGate | None = None) -> BaseChatModel:
    """The one client that reads statements: the :data:`READER_ROLE`'s model, with the same
    timeout and retries as every other (:func:`build_models`)."""
    name = settings.models[READER_ROLE]
    return build_models(replace(settings, models=dict.fromkeys(ROLES, name)), gate).linker

