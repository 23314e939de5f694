"""Which video paths a language model may make viddiff open.

The chat agent's tools, a host app's agent and the HTTP server all receive paths chosen by a
model (or by a remote client), not by the person at the keyboard. A :class:`PathPolicy` confines
them to a few allowed folders and refuses everything else with a one-line message the model can
read and act on:

* ``..`` components, anywhere in the path (even when the result would land inside a root: a
  model that writes ``..`` is probing, and a clear rule is easier to trust than a clever one);
* absolute paths outside every allowed folder;
* symlinks (at any component) whose target leaves the allowed folders;
* ``~`` home expansion, control characters, empty strings;
* URLs and FFmpeg protocol strings (``http:``, ``file:``, ``concat:``, ``pipe:`` …), unless
  http(s) URLs were explicitly allowed;
* anything that is not a regular file (directories, devices, FIFOs that would block a reader).

The policy is pure: it reads the file system (``stat``/``realpath``) but never opens, runs or
decodes anything, and no shell is involved anywhere. :meth:`PathPolicy.check` returns the
*resolved* absolute path, so what is opened later is exactly what was checked, and a file
named like an FFmpeg protocol (``concat:a|b``) can only be read as a plain file.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from viddiff.tools.errors import ConfigError, VidDiffError

__all__ = ["ALLOWED_DIRS_ENV", "ALLOW_URLS_ENV", "PathPolicy", "PathRefused", "looks_like_url"]

ALLOWED_DIRS_ENV = "VIDDIFF_ALLOWED_DIRS"
"""Environment variable: allowed folders, separated by ``os.pathsep`` (``:`` on POSIX)."""

ALLOW_URLS_ENV = "VIDDIFF_ALLOW_URLS"
"""Environment variable: ``1``/``true``/``yes`` lets http(s) URLs through."""

URL_SCHEMES = frozenset({"http", "https"})
"""The only URL schemes that can ever be allowed; ``file:``, ``data:`` and FFmpeg protocols
(``concat:``, ``pipe:``, ``subfile:`` …) are refused whatever the settings."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TRUE = {"1", "true", "yes", "on"}


class PathRefused(VidDiffError):
    """A path or URL that the policy does not let a tool open."""


def looks_like_url(text: str | os.PathLike[str]) -> bool:
    """True for ``scheme://...`` text: a URL, which no video reader here opens (``Path`` would
    collapse its slashes into a nonsense file name)."""
    return isinstance(text, str) and _URL.match(text.strip()) is not None


def _show(raw: str) -> str:
    return repr(raw if len(raw) <= 160 else raw[:157] + "...")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class PathPolicy:
    """Allowed folders (absolute, resolved) and whether http(s) URLs may pass.

    Relative paths are taken relative to the first folder. Build one with
    :meth:`from_dirs`, :meth:`from_env` or :meth:`default` (the working directory).
    """

    roots: tuple[Path, ...]
    allow_urls: bool = False

    def __post_init__(self) -> None:
        if not self.roots:
            raise ConfigError("at least one allowed folder is needed")

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_dirs(cls, dirs: Iterable[str | os.PathLike[str]], *, allow_urls: bool = False,
                  base: str | os.PathLike[str] | None = None) -> PathPolicy:
        """Folders given by a person (``--allow DIR``); each must exist. Relative folders
        are taken relative to ``base`` (default: the working directory)."""
        start = Path(base) if base is not None else Path.cwd()
        roots: list[Path] = []
        for entry in dirs:
            folder = Path(entry).expanduser()  # a person's setting: ~ is expanded here
            folder = folder if folder.is_absolute() else start / folder
            if not folder.is_dir():
                raise ConfigError(f"allowed folder {str(folder)!r} does not exist or is not a "
                                  "folder")
            resolved = folder.resolve(strict=True)
            if resolved not in roots:
                roots.append(resolved)
        if not roots:
            roots.append(start.resolve(strict=True))
        return cls(roots=tuple(roots), allow_urls=allow_urls)

    @classmethod
    def default(cls) -> PathPolicy:
        """Only the working directory, no URLs."""
        return cls.from_dirs([])

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PathPolicy:
        """``VIDDIFF_ALLOWED_DIRS`` (``os.pathsep``-separated; default: the working
        directory) and ``VIDDIFF_ALLOW_URLS`` — how the server is configured."""
        env = os.environ if env is None else env
        dirs = [d for d in (env.get(ALLOWED_DIRS_ENV) or "").split(os.pathsep) if d.strip()]
        allow = (env.get(ALLOW_URLS_ENV) or "").strip().lower() in _TRUE
        return cls.from_dirs(dirs, allow_urls=allow)

    # --------------------------------------------------------------------- checking

    @property
    def base(self) -> Path:
        """Where relative paths start."""
        return self.roots[0]

    def describe(self) -> str:
        """One line for prompts and messages: where videos may come from."""
        folders = ", ".join(str(r) for r in self.roots)
        urls = "http(s) URLs allowed" if self.allow_urls else "URLs not allowed"
        return f"allowed folders: {folders} (relative paths start at {self.base}); {urls}"

    def check(self, raw: str) -> str:
        """The resolved absolute path of an allowed regular file (or the URL, if allowed).

        Raises :class:`PathRefused` with a one-line reason otherwise.
        """
        if not isinstance(raw, str):
            raise PathRefused(f"a video path must be a string, got {type(raw).__name__}")
        text = raw.strip()
        if not text:
            raise PathRefused("empty video path")
        if _CONTROL.search(text):
            raise PathRefused(f"refused {_show(text)}: the path contains control characters")
        scheme = _SCHEME.match(text)
        if scheme is not None:
            return self._check_url(text, scheme.group(1).lower())
        if text.startswith("~"):
            raise PathRefused(f"refused {_show(text)}: '~' is not expanded; give a path "
                              f"inside the allowed folders ({self._roots_text()})")
        if ".." in PurePosixPath(text).parts:
            raise PathRefused(f"refused {_show(text)}: parent-folder components ('..') are "
                              f"not allowed; give a path inside {self._roots_text()}")
        candidate = Path(text) if os.path.isabs(text) else self.base / text
        lexical = os.path.normpath(str(candidate))
        real = os.path.realpath(lexical)  # follows every symlink component
        if not any(_inside(real, str(r)) for r in self.roots):
            if any(_inside(lexical, str(r)) for r in self.roots):
                raise PathRefused(f"refused {_show(text)}: it is a symlink (or inside one) "
                                  f"that leads outside the allowed folders "
                                  f"({self._roots_text()})")
            raise PathRefused(f"refused {_show(text)}: outside the allowed folders "
                              f"({self._roots_text()})")
        if not os.path.exists(real):
            raise PathRefused(f"no such file: {_show(text)} (looked in {self.base})")
        try:
            mode = os.stat(real).st_mode
        except OSError as exc:
            raise PathRefused(f"cannot read {_show(text)}: {exc.strerror}") from None
        if not stat.S_ISREG(mode):
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise PathRefused(f"refused {_show(text)}: {kind}; give a video file")
        return real

    def _check_url(self, text: str, scheme: str) -> str:
        if scheme not in URL_SCHEMES:
            raise PathRefused(f"refused {_show(text)}: '{scheme}:' URLs and protocols are "
                              "never opened; give a file path (write ./name for a file "
                              "whose name contains ':')")
        if not self.allow_urls:
            raise PathRefused(f"refused {_show(text)}: URLs are not allowed here (a person "
                              f"can allow them with --allow-urls or {ALLOW_URLS_ENV}=1)")
        parts = urlsplit(text)
        if not parts.netloc:
            raise PathRefused(f"refused {_show(text)}: not a complete http(s) URL")
        return text

    def _roots_text(self) -> str:
        return ", ".join(str(r) for r in self.roots)
