"""Errors that reach the user.

Every exception viddiff raises on purpose derives from :class:`VidDiffError` and carries a
single-line message that names the problem (which file, which model, what was wrong). The
command line prints that line and exits non-zero; library users can catch the base class.
"""

from __future__ import annotations


class VidDiffError(Exception):
    """Base class; ``str(err)`` is a one-line message meant for a person."""


class VideoError(VidDiffError):
    """A video cannot be used: missing, not a video, empty, unreadable codec, too short."""


class ConfigError(VidDiffError):
    """The run configuration is inconsistent (bad model name, missing weights, bad option)."""


class ModelReplyError(VidDiffError):
    """A language model kept replying with something unusable after all retries."""


class EndpointError(VidDiffError):
    """The OpenAI-compatible endpoint cannot be reached or refuses the request."""


def one_line(err: BaseException | str, limit: int = 200) -> str:
    """The first non-empty line of an error's text, at most ``limit`` characters; the
    exception's class name when it has no text. Library errors are squeezed through this
    before they reach a person or a model, so no multi-line dump ever does."""
    text = err if isinstance(err, str) else str(err)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ("" if isinstance(err, str) else type(err).__name__)
    return line if len(line) <= limit else line[: limit - 3] + "..."
