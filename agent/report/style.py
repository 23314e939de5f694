"""Colours and words shared by the HTML report and the PNG contact sheet, so both read alike."""

from __future__ import annotations

#: Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
STAGE_COLOURS: tuple[str, ...] = (
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999",
)
#: Stage colour for frames outside every segment.
NO_STAGE_COLOUR = "#BBBBBB"
VIDEO_COLOURS = {"A": "#0E7490", "B": "#A21CAF"}

#: Verdict kind -> (text, background, foreground).
VERDICTS: dict[str, tuple[str, str, str]] = {
    "a": ("More true of A", "#0E7490", "#FFFFFF"),
    "b": ("More true of B", "#A21CAF", "#FFFFFF"),
    "c": ("No clear difference", "#E5E7EB", "#111827"),
    "not_measurable": ("Not measurable", "#F3F4F6", "#6B7280"),
    "failed": ("Failed", "#DC2626", "#FFFFFF"),
}


def stage_colour(order: int) -> str:
    return STAGE_COLOURS[order % len(STAGE_COLOURS)]


def hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def text_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (relative luminance)."""
    r, g, b = (v / 255 for v in hex_rgb(colour))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111111" if lum > 0.45 else "#FFFFFF"


_TICK_STEPS = (0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)


def tick_step(axis_s: float) -> float:
    """A round step (seconds) that puts at most ten labels on a time axis of ``axis_s``."""
    return next((s for s in _TICK_STEPS if axis_s / s <= 10), _TICK_STEPS[-1])
