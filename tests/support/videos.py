"""Small synthetic videos made by the tests (no binary fixtures in the repo), and variants of
real clips whose difference from the original is known by construction (the validation set in
bench/validation_set.py and examples/make_variant.py use the same writer)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageFilter

from viddiff.tools.video import to_upright_ndarray

REPO = Path(__file__).resolve().parents[2]
CLIPS_DIR = REPO.parent / "shared" / "data" / "clips"


def write_video(path: Path, n_frames: int = 24, fps: int = 12, size: tuple[int, int] = (64, 48),
                moving: bool = True, rotation: int = 0) -> Path:
    """An H.264 clip of a bright square sliding across a dark background.

    ``rotation`` (counter-clockwise degrees, a multiple of 90) stores the pixels turned the
    other way and flags the container to turn them back: the clip *displays* exactly like the
    unrotated one, as a phone video does.
    """
    frames = [_square_frame(i, n_frames, size, moving) for i in range(n_frames)]
    return encode_frames(path, frames, Fraction(fps), rotation=rotation, crf=None)


def _square_frame(i: int, n_frames: int, size: tuple[int, int], moving: bool) -> np.ndarray:
    width, height = size
    frame = np.full((height, width, 3), 20, dtype=np.uint8)
    x = int((width - 16) * i / max(1, n_frames - 1)) if moving else width // 2
    frame[height // 2 - 8: height // 2 + 8, x: x + 16] = (230, 200, 40)
    frame[2:8, 2:8] = (240, 240, 240)  # a mark in the top-left corner: shows any turn or flip
    return frame


def encode_frames(path: Path, frames: list[np.ndarray], rate: Fraction, *, rotation: int = 0,
                  crf: int | None = 12, threads: int | None = None) -> Path:
    """H.264 (yuv420p) of upright RGB ``frames`` at ``rate``; ``rotation`` as in write_video;
    ``threads`` pins the encoder's threads (one: the same bytes on every machine)."""
    k = (int(rotation) // 90) % 4
    stored = [np.ascontiguousarray(np.rot90(f, k=-k)) for f in frames]
    height, width = stored[0].shape[:2]
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    options = {} if crf is None else {"crf": str(crf)}
    if threads is not None:
        options["threads"] = str(threads)
    if options:
        stream.options = options
    if k:
        stream.set_display_rotation(k * 90)
    for img in stored:
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def read_frames(src: Path, max_side: int = 448) -> tuple[list[np.ndarray], Fraction]:
    """Every frame of ``src``, upright, longer side at most ``max_side`` (even sizes), and
    the source frame rate."""
    with av.open(str(src)) as inp:
        stream = inp.streams.video[0]
        rate = Fraction(stream.average_rate or 30)
        frames: list[np.ndarray] = []
        size: tuple[int, int] | None = None
        for frame in inp.decode(stream):
            if size is None:
                turned = round(float(frame.rotation) / 90) % 2 == 1
                w, h = (frame.height, frame.width) if turned else (frame.width, frame.height)
                scale = min(1.0, max_side / max(w, h))
                size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
            frames.append(to_upright_ndarray(frame, *size))
    return frames, rate


def _shrunk(frame: np.ndarray, scale: float,
            pad: tuple[int, int, int] | None = None) -> np.ndarray:
    """``frame`` scaled by ``scale`` < 1 and centred on a canvas of the original size, padded
    with ``pad`` or else the frame's median border colour: the same scene seen from further
    away (or, with a black ``pad``, a small picture inside a black frame)."""
    h, w = frame.shape[:2]
    small = np.asarray(Image.fromarray(frame).resize(
        (max(2, round(w * scale)), max(2, round(h * scale))), Image.Resampling.LANCZOS))
    canvas = np.empty_like(frame)
    if pad is None:
        border = np.concatenate([frame[0], frame[-1], frame[:, 0], frame[:, -1]])
        canvas[:] = np.median(border, axis=0).astype(np.uint8)
    else:
        canvas[:] = np.asarray(pad, dtype=np.uint8)
    top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    canvas[top: top + small.shape[0], left: left + small.shape[1]] = small
    return canvas


def _resized(frame: np.ndarray, factor: float) -> np.ndarray:
    """The whole picture resized by ``factor`` (even sizes): fewer pixels, same framing."""
    h, w = frame.shape[:2]
    size = (max(2, round(w * factor / 2) * 2), max(2, round(h * factor / 2) * 2))
    return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.LANCZOS))


def write_variant(src: Path, dst: Path, slow: float = 1.0, mirror: bool = False,
                  max_side: int = 448, *, hold: tuple[int, float] | None = None,
                  fps: float | None = None, scale: float = 1.0, rotation: int = 0,
                  repeat: int = 1, pad: tuple[int, int, int] | None = None,
                  resize: float = 1.0, crf: int = 12, turn_at: int | None = None,
                  blur: float = 0.0, gain: float = 1.0, noise: float = 0.0,
                  keep_top: float = 1.0) -> Path:
    """Re-encode ``src`` as a variant whose difference from it is known by construction.

    Frames are shrunk to ``max_side`` first (what the pipeline samples anyway), which keeps
    the encoding fast. Then, in this order:

    * ``keep_top`` < 1: only that top share of the picture kept (even rows): the bottom cut
      off, as a camera framed tighter cuts off the feet.
    * ``turn_at=frame``: the clip played up to that source frame and then backwards to its
      first frame (frames 0..k, then k-1..0): the movement turned around at that frame, every
      frame real. Turned at the bottom it is a full-depth movement down and back up; turned
      earlier, the same movement made shallower (it never reaches the later poses) and shorter.
    * ``hold=(frame, seconds)``: that source frame is shown ``seconds`` longer (a pause
      inserted at that moment; ``round(seconds × rate)`` extra copies). ``hold=(0, 1.0)`` is
      a still lead-in of one second.
    * ``repeat``: the clip played that many times in a row (two repetitions for 2).
    * ``slow``: timestamps stretched by ``slow`` (same frames, lower frame rate).
    * ``fps``: re-timed to another frame rate with the same timing (each output frame shows
      the source frame on screen at its time), e.g. 60 → 25 fps: no difference in the motion.
    * ``scale`` < 1: the picture shrunk and centred on a padded canvas (person further away),
      padded with ``pad`` (e.g. ``(0, 0, 0)``: inside a black frame) or the border colour.
    * ``resize``: the whole picture resized (e.g. 0.5: half resolution, same framing).
    * ``blur``: each frame blurred (a Gaussian of that radius in pixels, at ``max_side``):
      the same picture filmed out of focus or by a poorer lens, at the same size.
    * ``gain`` < 1 and ``noise``: each frame dimmed by that factor and given sensor noise (a
      Gaussian of that many grey levels, the same seed every time): filmed in poor light.
    * ``mirror``: each frame flipped left-right (left and right swap).
    * ``rotation``: pixels stored turned, with a display-rotation flag that turns them back.

    ``crf`` is the H.264 quality (12: near lossless; 40: heavy compression artefacts).
    """
    frames, rate = read_frames(src, max_side)
    if keep_top < 1.0:
        rows = max(2, int(frames[0].shape[0] * keep_top) // 2 * 2)
        frames = [np.ascontiguousarray(f[:rows]) for f in frames]
    if turn_at is not None:
        k = min(max(int(turn_at), 0), len(frames) - 1)
        frames = frames[: k + 1] + frames[:k][::-1]
    if hold is not None:
        index, seconds = hold
        index = min(max(int(index), 0), len(frames) - 1)
        extra = max(0, round(seconds * float(rate)))
        frames = frames[: index + 1] + [frames[index]] * extra + frames[index + 1:]
    frames = frames * max(1, int(repeat))
    rate = rate / Fraction(slow).limit_denominator(1000)
    if fps is not None and fps > 0:
        duration = len(frames) / float(rate)
        count = max(1, math.floor(duration * fps + 1e-9))
        picks = [min(len(frames) - 1, math.floor(k / fps * float(rate) + 1e-9))
                 for k in range(count)]
        frames = [frames[i] for i in picks]
        rate = Fraction(fps).limit_denominator(1001)
    if scale != 1.0:
        frames = [_shrunk(f, scale, pad) for f in frames]
    if resize != 1.0:
        frames = [_resized(f, resize) for f in frames]
    if blur > 0:
        frames = [np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(blur)))
                  for f in frames]
    if gain != 1.0 or noise > 0:
        rng = np.random.default_rng(0)

        def lit(frame: np.ndarray) -> np.ndarray:
            out = frame.astype(np.float64) * gain
            if noise > 0:
                out = out + rng.normal(0.0, noise, frame.shape)
            return np.clip(out, 0, 255).astype(np.uint8)

        frames = [lit(f) for f in frames]
    if mirror:
        frames = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
    return encode_frames(dst, frames, rate.limit_denominator(10000), rotation=rotation, crf=crf)


#: Bits of the frame counter :func:`write_counter_video` burns in, and their cell size.
COUNTER_BITS, COUNTER_CELL = 8, 16


def counter_frame(i: int, size: tuple[int, int]) -> np.ndarray:
    """A frame showing the number ``i`` as a row of black/white cells (bit 0 on the left)
    along the top, over a grey that changes with ``i`` (so consecutive frames differ)."""
    width, height = size
    frame = np.full((height, width, 3), 60 + (i * 7) % 120, dtype=np.uint8)
    for bit in range(COUNTER_BITS):
        x = bit * COUNTER_CELL
        frame[0:COUNTER_CELL, x:x + COUNTER_CELL] = 250 if (i >> bit) & 1 else 5
    return frame


def read_counter(pixels: np.ndarray, x0: int = 0, y0: int = 0, cell: float = COUNTER_CELL
                 ) -> int:
    """The number a :func:`counter_frame` shows, read from the centres of its cells in
    ``pixels`` (the frame placed at ``x0, y0``, scaled so that a cell is ``cell`` pixels)."""
    value = 0
    for bit in range(COUNTER_BITS):
        x, y = int(x0 + (bit + 0.5) * cell), int(y0 + 0.5 * cell)
        if pixels[y, x].mean() > 128:
            value |= 1 << bit
    return value


def write_counter_video(path: Path, n_frames: int, fps: float,
                        size: tuple[int, int] = (160, 96)) -> Path:
    """An H.264 clip whose frame ``i`` shows the number ``i`` (:func:`counter_frame`), so a
    test can tell which source frame any later picture of it shows."""
    frames = [counter_frame(i, size) for i in range(n_frames)]
    return encode_frames(path, frames, Fraction(fps).limit_denominator(1001))
