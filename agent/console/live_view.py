"""A rich live view of a running comparison, fed by the graph's custom stream events.

Only on a terminal: piped into a file or another program, a live display has nothing to
redraw and left its last frame (a spinner line) behind in the output. Task descriptions are
shown literally (node names come from events, not from trusted markup).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

NODE_LABELS = {
    "load_videos": "Decoding videos",
    "propose": "Proposing differences",
    "stage_transcript": "Writing stage transcript",
    "refine_stages": "Refining retrieval strings",
    "embed_frames": "Embedding frames (CLIP)",
    "link": "Linking differences to stages",
    "localize": "Localizing stages",
    "localize_phases": "Finding the movement's phases",
    "estimate_pose": "Estimating pose",
    "measure_differences": "Measuring the differences",
}


class LiveProgress:
    """Context manager: shows which node runs, frames embedded n/N, differences answered k/K
    (nothing when ``enabled`` is false or the console is not a terminal)."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled and console.is_terminal
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                                 BarColumn(),
                                 MofNCompleteColumn(), console=console, transient=False,
                                 disable=not self.enabled)
        self.nodes: dict[str, Any] = {}
        self.frames: dict[tuple[str, str], Any] = {}
        self.differences: Any = None

    def __enter__(self) -> LiveProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def __call__(self, event: dict[str, Any]) -> None:
        """Handle one event from the graph's ``custom`` stream."""
        kind = event.get("event")
        if kind == "node":
            self._node(event)
        elif kind in ("frames_embedded", "frames_posed"):
            verb = "Embedding" if kind == "frames_embedded" else "Estimating pose on"
            key = (kind, event.get("video", "?"))
            if key not in self.frames:
                self.frames[key] = self.progress.add_task(
                    f"{verb} frames of video {str(key[1]).upper()}", total=event.get("total"))
            self.progress.update(self.frames[key], completed=event.get("done", 0),
                                 total=event.get("total"))
        elif kind == "differences":
            self.differences = self.progress.add_task("Answering differences",
                                                      total=event.get("total", 0))
        elif kind == "difference_answered" and self.differences is not None:
            self.progress.advance(self.differences)

    def _node(self, event: dict[str, Any]) -> None:
        name = str(event.get("node"))
        status = event.get("status")
        label = NODE_LABELS.get(name, name)
        if name not in self.nodes:
            self.nodes[name] = self.progress.add_task(label, total=1)
        task = self.nodes[name]
        if status == "start" and event.get("attempt", 1) > 1:
            self.progress.update(task, description=f"{label} (retry {event['attempt'] - 1})")
        elif status in ("end", "cached"):
            suffix = " (cached)" if status == "cached" else ""
            self.progress.update(task, completed=1, description=label + suffix)
