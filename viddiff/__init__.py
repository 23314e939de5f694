"""viddiff: say precisely how two performances of the same action differ, with evidence.

The public API, in one place::

    from viddiff import compare

    result = compare("a.mp4", "b.mp4", action="a bodyweight squat",
                     differences=["the squat is deeper"], engine="offline")

Names load on first use (PEP 562), so ``import viddiff`` is cheap: LangGraph loads with the
graph factories, torch and open_clip only when a CLIP localizer first runs. See
docs/architecture.md for the layers behind these names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"


def _checkout_layers() -> None:
    """Imported from a checkout of the repository (``python`` started in its root, which puts
    the root on ``sys.path``), this file is the package but its layers (``tools/``,
    ``graphs/`` ...) are the folders beside its own: add the root to the package's path, so
    ``viddiff.tools`` is the checkout's ``tools/`` -- as an editable install maps it -- and a
    checkout on the path does not shadow a regular install into a package without its
    layers. An installed package has its layers inside and is left alone."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    if not os.path.isdir(os.path.join(here, "tools")) \
            and os.path.isfile(os.path.join(root, "tools", "__init__.py")) \
            and os.path.isfile(os.path.join(root, "pyproject.toml")) and root not in __path__:
        __path__.append(root)


_checkout_layers()

#: public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # running a comparison
    "compare": "viddiff.graphs.compare",
    "acompare": "viddiff.graphs.compare",
    "run_comparison": "viddiff.graphs.runner",
    # graphs for host applications
    "build_graph": "viddiff.graphs.engine",
    "create_graph": "viddiff.graphs.engine",
    "choose_engine": "viddiff.graphs.engine",
    "EngineChoice": "viddiff.graphs.engine",
    "EngineDecision": "viddiff.graphs.engine",
    "guard_paths": "viddiff.graphs.engine",
    "models_from_env": "viddiff.graphs.engine",
    "build_viddiff_graph": "viddiff.graphs.viddiff",
    "build_offline_graph": "viddiff.graphs.offline",
    "build_eval_graph": "viddiff.graphs.eval.graph",
    # tools for host agents
    "create_compare_tool": "viddiff.agent.api",
    "make_localize_stages_tool": "viddiff.agent.chat.stage_tool",
    "create_chat_agent": "viddiff.agent.chat.agent",
    # what people watch
    "write_replay": "viddiff.agent.report.replay_video",
    # checkpoint serialization
    "viddiff_serde": "viddiff.graphs.serde",
    "serializable_types": "viddiff.graphs.serde",
    # settings and models
    "VidDiffContext": "viddiff.graphs.context",
    "ModelRoles": "viddiff.graphs.models",
    "EndpointSettings": "viddiff.graphs.models",
    "build_models": "viddiff.graphs.models",
    "PathPolicy": "viddiff.tools.paths",
    # results
    "ComparisonResult": "viddiff.graphs.schemas",
    "DifferenceResult": "viddiff.graphs.schemas",
    "DifferenceSpec": "viddiff.graphs.schemas",
    "FrameRef": "viddiff.graphs.schemas",
    "Measurement": "viddiff.tools.kinematics.results",
    # errors (each carries a one-line message meant for a person)
    "VidDiffError": "viddiff.tools.errors",
    "VideoError": "viddiff.tools.errors",
    "ConfigError": "viddiff.tools.errors",
    "ModelReplyError": "viddiff.tools.errors",
    "EndpointError": "viddiff.tools.errors",
    "PathRefused": "viddiff.tools.paths",
}

__all__ = [
    "ComparisonResult",
    "ConfigError",
    "DifferenceResult",
    "DifferenceSpec",
    "EndpointError",
    "EndpointSettings",
    "EngineChoice",
    "EngineDecision",
    "FrameRef",
    "Measurement",
    "ModelReplyError",
    "ModelRoles",
    "PathPolicy",
    "PathRefused",
    "VidDiffContext",
    "VidDiffError",
    "VideoError",
    "acompare",
    "build_eval_graph",
    "build_graph",
    "build_models",
    "build_offline_graph",
    "build_viddiff_graph",
    "choose_engine",
    "compare",
    "create_chat_agent",
    "create_compare_tool",
    "create_graph",
    "guard_paths",
    "make_localize_stages_tool",
    "models_from_env",
    "run_comparison",
    "serializable_types",
    "viddiff_serde",
    "write_replay",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'viddiff' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:  # what type checkers and IDEs see
    from viddiff.agent.api import create_compare_tool
    from viddiff.agent.chat.agent import create_chat_agent
    from viddiff.agent.chat.stage_tool import make_localize_stages_tool
    from viddiff.agent.report.replay_video import write_replay
    from viddiff.graphs.compare import acompare, compare
    from viddiff.graphs.context import VidDiffContext
    from viddiff.graphs.engine import (
        EngineChoice,
        EngineDecision,
        build_graph,
        choose_engine,
        create_graph,
        guard_paths,
        models_from_env,
    )
    from viddiff.graphs.eval.graph import build_eval_graph
    from viddiff.graphs.models import EndpointSettings, ModelRoles, build_models
    from viddiff.graphs.offline import build_offline_graph
    from viddiff.graphs.runner import run_comparison
    from viddiff.graphs.schemas import ComparisonResult, DifferenceResult, DifferenceSpec, FrameRef
    from viddiff.graphs.serde import serializable_types, viddiff_serde
    from viddiff.graphs.viddiff import build_viddiff_graph
    from viddiff.tools.errors import (
        ConfigError,
        EndpointError,
        ModelReplyError,
        VidDiffError,
        VideoError,
    )
    from viddiff.tools.kinematics.results import Measurement
    from viddiff.tools.paths import PathPolicy, PathRefused
