"""Write one benchmark's section of ``bench/RESULTS.md`` without touching the others."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine_line() -> str:
    """Which machine the figures came from: CPU model, cores, Python and torch versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = "n/a"
    return (f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch_version}")


def update_section(title: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the ``## title`` section, keeping every other section as it was."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text)


def source_prelude(src: Path | None) -> str:
    """Python lines that make a child process import viddiff from ``src`` (the
    ``.mypy-src`` folder of another checkout, e.g. the commit before a change) instead of this
    editable install, so one bench invocation can time before and after side by side. Empty
    for ``None``. The child must not run from a checkout's root (its ``viddiff/`` folder
    would shadow the import)."""
    if src is None:
        return ""
    return ("import sys\n"
            f"sys.path.insert(0, {str(Path(src).resolve())!r})\n"
            "sys.meta_path[:] = [f for f in sys.meta_path\n"
            "                    if 'Editable' not in getattr(f, '__name__', '')]\n"
            "sys.path_hooks[:] = [h for h in sys.path_hooks if 'editable' not in repr(h).lower()]\n"
            "sys.path_importer_cache.clear()\n")
