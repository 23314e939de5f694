"""Named evaluation protocols: every setting a benchmark run depends on, as one preset.

``viddiff`` (the default) keeps the choices we think serve users better; ``paper`` is what the
reference code (jmhb0/viddiff) ran to produce the paper's numbers. A protocol sets
:class:`VidDiffContext` fields, the per-domain frame rates of each method and the open-mode
judge; explicit command-line flags still override single settings, and the run record lists
the protocol's name with every effective setting, so a number can always be traced to how it
was made. Why the two differ is written up in docs/protocols.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from viddiff.graphs.context import SETTINGS, VidDiffContext, result_settings
from viddiff.tools.errors import ConfigError

PAPER_JUDGE = "gpt-4o-2024-08-06"
"""The LLM that matched and flip-checked open-mode statements in the paper (appendix F.2)."""


DOMAIN_FPS = {"fitness": 4.0, "ballsports": 5.0, "diving": 6.0, "music": 1.0, "surgery": 1.0}
"""Frames per second the paper's LMM evaluation protocol samples per domain (appendix G.3;
reference ``lmms/configs/config.yaml``): higher for short clips, 1 fps for the long music and
surgery videos. viddiff's own protocol uses it for both methods."""
PAPER_METHOD_FPS = {"fitness": 8.0, "ballsports": 5.0, "diving": 6.0, "music": 1.0,
                    "surgery": 1.0}
"""Frames per second the paper's VidDiff method ran at (reference
``viddiff_method/configs/config.yaml`` ``fps_inference``): fitness at its full 8 fps."""


@dataclass(frozen=True)
class Protocol:
    """A named preset of run settings."""

    name: str
    summary: str
    context: Mapping[str, Any] = field(default_factory=dict)
    """:class:`VidDiffContext` fields that differ from the dataclass defaults."""
    method_fps: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Per method (``viddiff``, ``lmm``): frames per second by benchmark domain."""
    judge_model: str | None = None
    """Default open-mode judge; ``None``: ``$VIDDIFF_JUDGE_MODEL``, else the run's model."""
    requires_vlm: bool = False
    """Only the VidDiff method with a vision-language model (no offline pose engine)."""

    def domain_fps(self, method: str) -> dict[str, float]:
        """Frames per second by domain for ``method`` (the offline engine uses viddiff's)."""
        table = self.method_fps.get(method) or self.method_fps.get("viddiff") or DOMAIN_FPS
        return dict(table)

    def build_context(self, overrides: Mapping[str, Any] | None = None) -> VidDiffContext:
        """The protocol's settings with ``overrides`` (explicit flags) applied on top."""
        names = set(SETTINGS)
        values = {**self.context, **(overrides or {})}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)} for protocol "
                              f"{self.name!r}")
        return VidDiffContext(**values)


VIDDIFF = Protocol(
    name="viddiff",
    summary="viddiff's defaults: a/b/c answers, pose measurements, CLIP localizer with pose "
            "fallback, frames capped and downsized, transcripts cached per action",
    method_fps={"viddiff": DOMAIN_FPS, "lmm": DOMAIN_FPS},
)

PAPER = Protocol(
    name="paper",
    summary="the reference code's settings behind the paper's numbers",
    context={
        "answer_labels": "ab",          # stage3 prompt_key 4: "The 'answer' must be 'a' or 'b'"
        "kinematics": False,            # no measure tool existed
        "localizer": "clip",            # CLIP + Viterbi only; missing weights are an error
        "clip_model": "ViT-bigG-14",    # retriever model_config.model
        "clip_pretrained": "laion2b_s39b_b160k",  # apis/clip_server.py CLIP_DATASET
        "max_frames": None,             # no cap: the whole clip at the domain's rate
        "max_side": None,               # frames decoded at the source resolution ...
        "image_max_side": None,         # ... and sent at that size
        "image_detail": "high",         # apis/openai_api.py call_gpt(detail="high")
        "proposer_wording": "exactly",  # "List {n_differences} differences."
        "transcript_cache": False,      # one transcript per sample (stage1 query_2_subactions)
    },
    method_fps={"viddiff": PAPER_METHOD_FPS, "lmm": DOMAIN_FPS},
    judge_model=PAPER_JUDGE,
    requires_vlm=True,
)

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (VIDDIFF, PAPER)}
DEFAULT_PROTOCOL = VIDDIFF.name


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ConfigError(f"unknown protocol {name!r}: use one of "
                          f"{', '.join(PROTOCOLS)}") from None






def overridden(protocol: Protocol, ctx: VidDiffContext) -> dict[str, Any]:
    """The settings where ``ctx`` departs from ``protocol`` (explicit flags), for the record;
    operational ones (cache folder, device, concurrency) are listed only under settings."""
    base = result_settings(protocol.build_context())
    return {k: v for k, v in result_settings(ctx).items() if base.get(k) != v}
