"""Frames as images for a vision model: JPEG data URLs, resized on the way out."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_data_url(frame: np.ndarray, max_side: int) -> str:
    """JPEG data URL of one RGB frame, resized so its longer side is at most ``max_side``."""
    image = Image.fromarray(frame)
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
