"""How sharp and how contrasted the picture of the person is, so that a comparison knows when
one video was filmed blurrier, or in poorer light, than the other.

The pose model reads a blurred picture differently: on copies of the shared lunge clip blurred
by a 2-pixel Gaussian (same size, same frames) the trunk's lean, the head's position and the
movement's timing moved by more than the pose jitter explains, and the answer changed with
the pose rate. Size and frame rate are known from the video; sharpness is not, so it is
measured here on the frames the model reads.

The measure is the ratio of the picture's second derivative to its first (mean absolute
Laplacian over mean gradient magnitude) inside the box around the person's landmarks: blur
takes the fine detail first, so the ratio falls, while the picture's contrast and brightness
cancel out. It depends on the picture, not only on the camera, so it is read as a ratio
between two clips and a large one only says that one is clearly blurrier (on the shared
clips: a 2-pixel blur halves it; the four views of one take agree within 7 %; the same take
at 60 % size, inside a black frame, re-timed or mirrored within 10 %; half the resolution
with heavy compression within 18 %).

Contrast is the grey levels' standard deviation in the same box: a copy of each clip three
times darker, with sensor noise and compression, reads 3.4-3.7 times less; different scenes
differ too (the walk's 27 against the lunge clips' 50-57), so only a ratio beyond 2.5 counts.
"""

from __future__ import annotations

import numpy as np

#: Frames of a clip the sharpness is read on (evenly spaced): enough for a median.
SHARPNESS_FRAMES = 24
#: The box around the landmarks grows by this share of its size on each side (the body's
#: outline, not only the joints).
BOX_MARGIN = 0.15
#: A box smaller than this (pixels, either side) says nothing.
MIN_BOX = 8


def sharpness_rows(n: int) -> np.ndarray:
    """The rows of an ``n``-frame clip whose sharpness is read."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n - 1, min(n, SHARPNESS_FRAMES))).astype(np.int64))


def _person_box(frame: np.ndarray, keypoints: np.ndarray) -> np.ndarray | None:
    """The grey picture inside the box around the landmarks, or None (nobody, or too small)."""
    ok = np.isfinite(keypoints).all(axis=1)
    if ok.sum() < 5:
        return None
    grey = frame.astype(np.float64).mean(axis=2)
    (x0, y0), (x1, y1) = keypoints[ok].min(axis=0), keypoints[ok].max(axis=0)
    w, h = x1 - x0, y1 - y0
    left, right = int(max(0, x0 - BOX_MARGIN * w)), int(min(grey.shape[1], x1 + BOX_MARGIN * w))
    top, bottom = int(max(0, y0 - BOX_MARGIN * h)), int(min(grey.shape[0], y1 + BOX_MARGIN * h))
    box = grey[top:bottom, left:right]
    return box if min(box.shape) >= MIN_BOX else None


def frame_picture(frame: np.ndarray, keypoints: np.ndarray) -> tuple[float, float]:
    """The sharpness and the contrast of the person's picture in one RGB ``frame`` (H, W, 3)
    whose landmarks are ``keypoints`` (33, 2) pixels, from one box around them; NaN for both
    when nobody was found or the box is too small.

    Sharpness: mean |Laplacian| over mean |gradient|. Contrast: the grey levels' standard
    deviation (0-255); a picture filmed in poor light is dim and flat."""
    box = _person_box(frame, keypoints)
    if box is None:
        return float("nan"), float("nan")
    gradient = np.hypot(np.diff(box, axis=1)[:-1, :], np.diff(box, axis=0)[:, :-1])
    laplacian = (box[1:-1, :-2] + box[1:-1, 2:] + box[:-2, 1:-1] + box[2:, 1:-1]
                 - 4.0 * box[1:-1, 1:-1])
    edges = float(gradient.mean())
    sharpness = float(np.abs(laplacian).mean() / edges) if edges > 0 else float("nan")
    return sharpness, float(box.std())


def frame_sharpness(frame: np.ndarray, keypoints: np.ndarray) -> float:
    """The sharpness of :func:`frame_picture`."""
    return frame_picture(frame, keypoints)[0]


def frame_contrast(frame: np.ndarray, keypoints: np.ndarray) -> float:
    """The contrast of :func:`frame_picture`."""
    return frame_picture(frame, keypoints)[1]


def clip_picture(readings: list[tuple[float, float]]) -> tuple[float, float]:
    """The clip's sharpness and contrast: the medians of its frames' :func:`frame_picture`
    readings (NaN where none could be read)."""
    return clip_median([r[0] for r in readings]), clip_median([r[1] for r in readings])


def clip_median(values: list[float]) -> float:
    """The median of the finite ``values`` (NaN when there are none)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.median(finite)) if finite else float("nan")
