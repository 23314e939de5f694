"""Frames as images for a vision model: JPEG data URLs, resized on the way out."""

from __future__ import annotations

import base64
import io
from typing import Any, Literal

import numpy as np
from PIL import Image

ImageDetail = Literal["auto", "low", "high"]


def to_data_url(frame: np.ndarray, max_side: int | None) -> str:
    """JPEG data URL of one RGB frame, resized so its longer side is at most ``max_side``
    (``None``: sent at the frame's own size)."""
    image = Image.fromarray(frame)
    if max_side is not None:
        image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def image_part(frame: np.ndarray, max_side: int | None,
               detail: ImageDetail | None = None) -> dict[str, Any]:
    """One OpenAI-style ``image_url`` content part. ``detail`` is sent only when set: left
    out, the provider uses its default ("auto"); the paper's runs asked for "high"."""
    url: dict[str, Any] = {"url": to_data_url(frame, max_side)}
    if detail is not None:
        url["detail"] = detail
    return {"type": "image_url", "image_url": url}
