"""Prompt templates, kept as readable Markdown files beside this module.

Each template uses ``{name}`` placeholders filled with :func:`render`; literal braces are
doubled. Keeping prompts out of code lets people read and tune them without touching nodes.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _templates() -> dict[str, str]:
    """Every template, read once. Nodes render prompts inside the event loop, where file I/O
    would block (``langgraph dev`` refuses blocking calls), so the reads happen up front."""
    folder = resources.files(__name__)
    return {entry.name[:-3]: entry.read_text(encoding="utf-8")
            for entry in folder.iterdir() if entry.name.endswith(".md")}


def load_prompt(name: str) -> str:
    """Return the raw text of ``prompts/<name>.md``."""
    try:
        return _templates()[name]
    except KeyError as exc:  # a programming error, but say clearly which file
        raise KeyError(f"no prompt template named {name!r}") from exc


_templates()  # load at import time, outside any event loop


def render(name: str, **values: object) -> str:
    """Fill a template's placeholders; a missing value raises ``KeyError`` naming it."""
    return load_prompt(name).format(**values).strip()
