"""Optional extras: which feature needs which, and one line that says how to get it.

viddiff's core install compares two videos offline and runs the VidDiff graph with the pose
localizer. Heavier or narrower features live in extras (``pyproject.toml``). A feature whose
extra is missing must not crash deep inside an import with a traceback: it calls
:func:`require_extra` first, which looks the modules up without importing them (cheap, so it
can run before any work) and raises :class:`MissingExtraError`, a one-line
:class:`~viddiff.tools.errors.ConfigError` naming the extra and the install command. The
command line turns it into exit 2, like any other bad setting.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from viddiff.tools.errors import ConfigError

__all__ = ["EXTRAS", "Extra", "MissingExtraError", "missing_modules", "require_extra"]


@dataclass(frozen=True)
class Extra:
    """One optional extra: its name in ``pip install 'viddiff[NAME]'`` and the modules it
    brings that viddiff imports (one of them missing means the extra is not installed)."""

    name: str
    modules: tuple[str, ...]
    what: str


EXTRAS: dict[str, Extra] = {extra.name: extra for extra in (
    Extra("pose", ("mediapipe",), "MediaPipe pose estimation (measurements, offline engine)"),
    Extra("clip", ("torch", "torchvision", "open_clip"),
          "the CLIP frame localizer (torch, torchvision, open_clip)"),
    Extra("chat", ("langchain", "langgraph.checkpoint.sqlite", "aiosqlite"),
          "the chat agent and its memory"),
    Extra("server", ("langgraph_api", "langgraph_runtime_inmem"),
          "serving the graphs with langgraph dev / viddiff serve"),
    Extra("ray", ("ray",), "running eval and compare-many on a Ray cluster"),
    Extra("datasets", ("datasets", "pyarrow"), "reading the benchmark from the Hub or Parquet"),
)}
"""Every optional extra, by name (kept in step with ``pyproject.toml`` by a test)."""


class MissingExtraError(ConfigError):
    """A feature was asked for whose optional extra is not installed."""

    def __init__(self, extra: str, feature: str, module: str) -> None:
        self.extra, self.feature, self.module = extra, feature, module
        super().__init__(f"{feature} needs the '{extra}' extra, which is not installed "
                         f"(no module {module!r}): pip install 'viddiff[{extra}]'")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module blocked
        return False


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be found (empty: the extra is installed)."""
    return [module for module in EXTRAS[extra].modules if not _installed(module)]


def require_extra(extra: str, feature: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise :class:`MissingExtraError` unless every module of ``extra`` (or only
    ``modules`` of it, for a feature that needs part of the extra) can be found.

    ``feature`` is what the user asked for, in words ("viddiff chat", "--localizer clip"),
    so the line says both what failed and how to fix it.
    """
    wanted = modules or EXTRAS[extra].modules
    missing = [m for m in missing_modules(extra) if m in wanted]
    if missing:
        raise MissingExtraError(extra, feature, missing[0])
