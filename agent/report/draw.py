"""Pixels for the report: pose skeletons on frames, placeholders, fonts, text wrapping.

Drawing uses PIL only (already a dependency), so the report needs no browser, no OpenCV and no
MediaPipe drawing utilities; the skeleton edges are MediaPipe's 33-landmark body topology.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from viddiff.tools.pose.sequence import LANDMARK_INDEX, LANDMARK_NAMES

#: Landmarks below this visibility are not drawn (same threshold the metrics use).
MIN_VISIBILITY = 0.5

#: Body edges of MediaPipe Pose (the face mesh is left out: it clutters small frames).
BODY_EDGES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_wrist", "left_index"), ("right_wrist", "right_index"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"), ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"),
    ("left_ear", "left_eye"), ("left_eye", "nose"), ("nose", "right_eye"),
    ("right_eye", "right_ear"),
)  # fmt: skip

LEFT_COLOUR = (255, 159, 28)
RIGHT_COLOUR = (46, 196, 241)
CENTRE_COLOUR = (240, 240, 240)
HIGHLIGHT_COLOUR = (255, 235, 59)

#: Words in a metric name -> body parts whose joints the metric is about.
_METRIC_PARTS: dict[str, tuple[str, ...]] = {
    "knee": ("knee",), "hip": ("hip",), "elbow": ("elbow",), "shoulder": ("shoulder",),
    "wrist": ("wrist",), "hand": ("wrist", "index"), "ankle": ("ankle",),
    "stance": ("ankle", "heel"), "trunk": ("shoulder", "hip"), "head": ("nose", "ear"),
    "thigh": ("hip", "knee"), "upper_arm": ("shoulder", "elbow"), "jump": ("ankle", "hip"),
}


def joints_for_metric(metric: str) -> frozenset[int]:
    """Landmark indices a metric is about (for highlighting), guessed from its name."""
    side = "left" if "_left" in metric else "right" if "_right" in metric else None
    sides = (side,) if side else ("left", "right")
    out: set[int] = set()
    for word, parts in _METRIC_PARTS.items():
        if word in metric:
            for part in parts:
                names = [part] if part in LANDMARK_INDEX else [f"{s}_{part}" for s in sides]
                out.update(LANDMARK_INDEX[n] for n in names if n in LANDMARK_INDEX)
    return frozenset(out)


#: (left, right, centre) colours of a skeleton.
Palette = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]
PALETTE: Palette = (LEFT_COLOUR, RIGHT_COLOUR, CENTRE_COLOUR)
#: The second person's skeleton drawn over the first one's (the replay's ghost mode).
GHOST_PALETTE: Palette = ((244, 114, 182), (132, 204, 22), (250, 250, 250))


def _edge_colour(a: str, b: str, palette: Palette = PALETTE) -> tuple[int, int, int]:
    if a.startswith("left") and b.startswith("left"):
        return palette[0]
    if a.startswith("right") and b.startswith("right"):
        return palette[1]
    return palette[2]


def draw_skeleton(image: Image.Image, keypoints: np.ndarray, visibility: np.ndarray,
                  scale: float, highlight: Iterable[int] = (), *,
                  palette: Palette = PALETTE, in_place: bool = False) -> Image.Image:
    """A copy of ``image`` with the pose drawn; keypoints are pixels of the frame it was made
    from, ``scale`` maps them onto ``image``. Highlighted joints get a larger yellow dot.
    ``palette``: left, right and centre colours (a second person drawn over a first one gets
    other colours); ``in_place``: draw on ``image`` itself (an RGB image), as a video
    renderer drawing one frame after another does, instead of on a copy."""
    out = image if in_place and image.mode == "RGB" else image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    width = max(2, round(min(out.size) / 90))
    pts = np.asarray(keypoints, dtype=np.float64) * scale
    seen = (np.asarray(visibility) >= MIN_VISIBILITY) & np.isfinite(pts).all(axis=1)

    def xy(name: str) -> tuple[float, float] | None:
        i = LANDMARK_INDEX[name]
        return (float(pts[i, 0]), float(pts[i, 1])) if seen[i] else None

    for a, b in BODY_EDGES:
        pa, pb = xy(a), xy(b)
        if pa is None or pb is None:
            continue
        draw.line([pa, pb], fill=(0, 0, 0), width=width + 2)
        draw.line([pa, pb], fill=_edge_colour(a, b, palette), width=width)
    marked = set(highlight)
    for i in range(len(LANDMARK_NAMES)):
        if not seen[i] or (i < LANDMARK_INDEX["left_shoulder"] and i not in marked):
            continue
        r = width * (2.2 if i in marked else 1.0)
        x, y = float(pts[i, 0]), float(pts[i, 1])
        fill = HIGHLIGHT_COLOUR if i in marked else _edge_colour(LANDMARK_NAMES[i],
                                                                  LANDMARK_NAMES[i], palette)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=(0, 0, 0))
    return out


def fit_size(width: int, height: int, max_w: int, max_h: int) -> tuple[int, int]:
    """(w, h) scaled to fit in max_w x max_h (never enlarged), aspect kept."""
    scale = min(max_w / width, max_h / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


@functools.lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A scalable sans font: DejaVu or Liberation when installed, else Pillow's own."""
    names = (("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf") if bold
             else ("DejaVuSans.ttf", "LiberationSans-Regular.ttf"))
    for name in names:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def wrap(draw: ImageDraw.ImageDraw, text: str, fnt: ImageFont.FreeTypeFont | ImageFont.ImageFont,
         width: float, max_lines: int | None = None) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}" if line else word
            if draw.textlength(trial, font=fnt) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        lines.append(line)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(draw, lines[-1] + " …", fnt, width)
    return lines


def ellipsize(draw: ImageDraw.ImageDraw, text: str,
              fnt: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> str:
    """``text`` cut with an ellipsis so it fits in ``width`` pixels ("" if nothing fits)."""
    if draw.textlength(text, font=fnt) <= width:
        return text
    while text and draw.textlength(text + "…", font=fnt) > width:
        text = text[:-1]
    return text + "…" if text else ""


def placeholder(size: tuple[int, int], text: str) -> Image.Image:
    """A grey tile with a short message, where a frame cannot be shown."""
    img = Image.new("RGB", size, (226, 228, 232))
    draw = ImageDraw.Draw(img)
    fnt = font(max(10, min(size) // 14))
    lines = wrap(draw, text, fnt, size[0] - 12, max_lines=4)
    line_h = fnt.size + 4 if isinstance(fnt, ImageFont.FreeTypeFont) else 14
    y = (size[1] - line_h * len(lines)) / 2
    for line in lines:
        w = draw.textlength(line, font=fnt)
        draw.text(((size[0] - w) / 2, y), line, fill=(75, 85, 99), font=fnt)
        y += line_h
    return img
