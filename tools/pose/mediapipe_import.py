"""Importing MediaPipe's pose solution without its drawing helpers (and so without matplotlib).

``mediapipe/__init__`` imports every legacy solution, including ``drawing_utils``, which
imports ``matplotlib.pyplot`` at module level: about half a second of every cold pose run,
for plotting code viddiff never calls (the report draws its own skeletons). Before MediaPipe
is first imported, :func:`import_pose_solution` puts a stand-in module for each drawing
helper into ``sys.modules``; the import system takes a module found there as already
imported, so MediaPipe's package import binds the stand-ins. A stand-in imports the real
module (and matplotlib) on first attribute access, so code that does use MediaPipe's drawing
helpers still gets them, only later. Nothing else of MediaPipe is touched.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from pathlib import Path
from typing import Any

_PACKAGE = "mediapipe.python.solutions"
_DEFERRED = ("drawing_utils", "drawing_styles")
_lock = threading.RLock()


class DeferredModule(types.ModuleType):
    """A module that executes its source file on first attribute access, then forwards."""

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.__file__ = str(path)  # a real attribute: sys.modules scans (inspect) stay cheap
        self._deferred_real: types.ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._deferred_load(), attr)

    def _deferred_load(self) -> types.ModuleType:
        with _lock:
            real = self.__dict__["_deferred_real"]
            if real is not None:
                return real
            spec = importlib.util.spec_from_file_location(self.__name__, self.__file__)
            assert spec is not None and spec.loader is not None
            real = importlib.util.module_from_spec(spec)
            sys.modules[self.__name__] = real
            try:
                spec.loader.exec_module(real)
            except BaseException:
                sys.modules[self.__name__] = self
                raise
            self.__dict__["_deferred_real"] = real
            package = sys.modules.get(_PACKAGE)
            if package is not None:
                setattr(package, self.__name__.rsplit(".", 1)[1], real)
            return real


def defer_drawing_modules() -> list[str]:
    """Stand-ins for MediaPipe's drawing helpers, if MediaPipe is not imported yet and its
    files are where this version keeps them; returns the module names deferred."""
    with _lock:
        if "mediapipe" in sys.modules:
            return []
        spec = importlib.util.find_spec("mediapipe")  # locates, does not import
        if spec is None or not spec.submodule_search_locations:
            return []
        folder = Path(next(iter(spec.submodule_search_locations))) / "python" / "solutions"
        paths = {name: folder / f"{name}.py" for name in _DEFERRED}
        if not all(p.is_file() for p in paths.values()):
            return []
        for name, path in paths.items():
            sys.modules.setdefault(f"{_PACKAGE}.{name}", DeferredModule(f"{_PACKAGE}.{name}",
                                                                        path))
        return [f"{_PACKAGE}.{name}" for name in _DEFERRED]


def import_pose_solution() -> types.ModuleType:
    """``mediapipe.python.solutions.pose``, imported with the drawing helpers deferred
    (ImportError when MediaPipe is not installed)."""
    deferred = defer_drawing_modules()
    from mediapipe.python.solutions import pose

    package = sys.modules.get(_PACKAGE)
    for name in deferred:  # bind them on the package, as a normal import would have
        module = sys.modules.get(name)
        if package is not None and module is not None:
            setattr(package, name.rsplit(".", 1)[1], module)
    return pose
