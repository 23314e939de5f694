"""Library wording turned into command-line wording, where the CLI prints a message.

Messages from :mod:`viddiff.tools` are written for every caller and may name the library
call that fixes a problem (``ClipSpec(checkpoint=...)``). A person at the command line needs
the option instead; this is the one place that says which option each library hint means.
"""

from __future__ import annotations

import re

HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ClipSpec\(checkpoint=(?:\.\.\.|…)\)"), "--clip-checkpoint FILE"),
    (re.compile(r"ClipSpec\(device=(?:\.\.\.|…)\)"), "--device"),
)


def for_cli(text: str) -> str:
    """``text`` with library calls replaced by the command-line options that do the same."""
    for pattern, option in HINTS:
        text = pattern.sub(option, text)
    return text
