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
