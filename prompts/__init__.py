"""Prompt templates, kept as readable Markdown files beside this module.

Each template uses ``{name}`` placeholders filled with :func:`render`; literal braces are
doubled. Keeping prompts out of code lets people read and tune them without touching nodes.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_prompt(name: str) -> str:
    """Return the raw text of ``prompts/<name>.md``."""
    try:
        return resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError as exc:  # a programming error, but say clearly which file
        raise KeyError(f"no prompt template named {name!r}") from exc


def render(name: str, **values: object) -> str:
    """Fill a template's placeholders; a missing value raises ``KeyError`` naming it."""
    return load_prompt(name).format(**values).strip()
