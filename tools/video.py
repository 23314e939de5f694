"""Video decoding: probe, sample by timestamp, decode only the sampled frames, small.

Why this shape (docs/architecture.md, "Load"): the graph state must stay small and
serialisable, so it holds paths, digests and frame indices; the pixels live here, in an
in-process cache keyed by the file's content digest, so any node can re-fetch frames without
decoding again.

Backends: decord decodes (fast random access with ``get_batch`` and scaling inside FFmpeg, so
a full-resolution frame only ever exists transiently); PyAV (a newer FFmpeg) is the fallback
for files decord cannot open or decode, e.g. AV1. PyAV also opens every file first: it fails
quietly and precisely on non-videos, where decord prints C++ log lines and says only
"Error reading". Every failure reaches the caller as a one-line :class:`VideoError`.

Rotation: phones store the sensor's pixels as shot (usually landscape) and a display matrix
in the container saying how to turn them for viewing. Pose, CLIP, the VLM and the report must
all see the person upright, so decoding honours it: :func:`probe_video` reads the rotation
(from the first decoded frame's display-matrix side data, which is where FFmpeg puts both the
matrix and the legacy ``rotate`` tag) and reports the *displayed* width and height; PyAV's
frames are turned with :func:`upright`, and decord (0.6) applies the matrix itself and takes
the displayed size (tests/test_video.py checks that both backends give the same upright frames).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import numpy as np

from viddiff.tools.errors import VideoError, one_line
from viddiff.tools.paths import looks_like_url

try:  # decord has no wheels for some platforms (e.g. macOS arm64); PyAV then does everything.
    import decord
except ImportError:  # pragma: no cover - depends on the platform
    decord = None

Backend = Literal["decord", "pyav"]

#: Frames per decord ``get_batch`` call: bounds peak memory for long videos.
_CHUNK = 16
#: A plan keeping at least one frame in this many is decoded sequentially (see iter_frames).
_SEQUENTIAL_EVERY = 30
#: swscale's filter for frames streamed by iter_frames' sequential pass (part of the pose
#: cache key: other pixels, another pose).
STREAM_SCALING = "AREA"
_DIGEST_MEMO_SIZE = 4096
_VIDEO_CACHE_SIZE = 4


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (full resolution, source frame rate).

    ``width``/``height`` are the size as displayed, i.e. after the container's rotation;
    ``rotation`` is that rotation in degrees counter-clockwise (0, 90, 180 or 270), which the
    decoder applies to the stored pixels.
    """

    path: str
    fps: float
    n_frames: int
    duration_s: float
    width: int
    height: int
    rotation: int = 0


@dataclass
class SampledVideo:
    """Frames sampled from one video, plus where they came from.

    ``indices`` are source frame numbers, ``timestamps`` their times in seconds, ``frames`` the
    RGB uint8 pixels (T, H, W, 3), already shrunk so that max(H, W) <= the requested max side.
    """

    info: VideoInfo
    digest: str
    target_fps: float
    indices: np.ndarray
    timestamps: np.ndarray
    frames: np.ndarray

    @property
    def n_sampled(self) -> int:
        """Number of sampled frames T."""
        return int(self.indices.shape[0])

    @property
    def effective_fps(self) -> float:
        """Sampled frames per second of video: what frame spacings in seconds must use.

        Lower than ``target_fps`` when the source is slower or the ``max_frames`` cap applied.
        """
        if self.n_sampled >= 2:
            span = float(self.timestamps[-1] - self.timestamps[0])
            if span > 0:
                return (self.n_sampled - 1) / span
        return min(self.target_fps, self.info.fps)


IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
)
"""Leading bytes of still-image formats. FFmpeg opens such a file as a one-frame video, so
without this check a photo was called "video too short (1 frame)"."""


def image_format(head: bytes) -> str | None:
    """The still-image format whose signature ``head`` (a file's first bytes) starts with."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((name for sig, name in IMAGE_SIGNATURES if head.startswith(sig)), None)


def decoder_words(err: BaseException) -> str:
    """What a PyAV/FFmpeg or OS error says, in words: its message without the raw errno
    (FFmpeg's codes are four-letter tags read as numbers: "[Errno 1094995529] Invalid data
    found when processing input") and without the path, which the caller's message names."""
    words = getattr(err, "strerror", None)
    if isinstance(words, str) and words.strip():
        return one_line(words.strip(), 160)
    return one_line(re.sub(r"^\[Errno -?\d+\]\s*", "", str(err)), 160)


def _require_file(path: str | os.PathLike[str]) -> Path:
    """The path as a :class:`Path` if it names a non-empty regular file that is not a still
    image, else VideoError."""
    if looks_like_url(path):
        raise VideoError(f"URLs are not supported; download the video first ({path})")
    p = Path(path)
    if not p.exists():
        raise VideoError(f"video not found: {p}")
    if p.is_dir():
        raise VideoError(f"{p}: is a directory, not a video file")
    if not p.is_file():
        raise VideoError(f"{p}: is not a regular file")
    if p.stat().st_size == 0:
        raise VideoError(f"{p}: file is empty (0 bytes)")
    try:
        with p.open("rb") as fh:
            kind = image_format(fh.read(16))
    except OSError as err:
        raise VideoError(f"{p}: cannot read file ({decoder_words(err)})") from None
    if kind is not None:
        raise VideoError(f"{p}: is an image ({kind}), not a video")
    return p


_digest_lock = threading.Lock()
_digest_memo: OrderedDict[tuple[str, int, int], str] = OrderedDict()


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of the file content, used as the cache key for everything derived.

    Content (not the path) is the key so renamed or copied clips share caches. Memoised per
    (resolved path, size, mtime_ns), so a rewritten file is hashed again.
    """
    if looks_like_url(path):
        raise VideoError(f"URLs are not supported; download the video first ({path})")
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise VideoError(f"video not found: {p}") from None
    if p.is_dir():
        raise VideoError(f"{p}: is a directory, not a video file")
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    with _digest_lock:
        if key in _digest_memo:
            _digest_memo.move_to_end(key)
            return _digest_memo[key]
    h = hashlib.sha256()
    try:
        with p.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError as err:
        raise VideoError(f"{p}: cannot read file ({decoder_words(err)})") from None
    digest = h.hexdigest()
    with _digest_lock:
        _digest_memo[key] = digest
        while len(_digest_memo) > _DIGEST_MEMO_SIZE:
            _digest_memo.popitem(last=False)
    return digest


def _open_pyav(p: Path) -> av.container.InputContainer:
    try:
        return av.open(str(p))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise VideoError(
            f"{p}: not a readable video file, or truncated/corrupt ({decoder_words(err)})"
        ) from None


def _pyav_stream(p: Path, container: av.container.InputContainer) -> av.VideoStream:
    if not container.streams.video:
        raise VideoError(f"{p}: contains no video frames (no video stream)")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        raise VideoError(f"{p}: uses a video codec that cannot be decoded here")
    return stream


def _pyav_fps(stream: av.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and float(rate) > 0:
            return float(rate)
    return 0.0


def frame_rotation(frame: av.VideoFrame) -> int:
    """The display rotation of a decoded frame, counter-clockwise degrees in {0, 90, 180, 270}.

    FFmpeg attaches the container's display matrix to every frame; PyAV reads its rotation in
    [-180, 180]. Rotations that are not a multiple of 90° do not occur in practice and are
    rounded to the nearest quarter turn.
    """
    try:
        degrees = float(frame.rotation)
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - older PyAV
        return 0
    if not math.isfinite(degrees):
        return 0
    return round(degrees / 90.0) % 4 * 90


def upright(pixels: np.ndarray, rotation: int) -> np.ndarray:
    """``pixels`` (H, W, ...) turned ``rotation`` degrees counter-clockwise, as displayed."""
    k = (int(rotation) // 90) % 4
    return pixels if k == 0 else np.ascontiguousarray(np.rot90(pixels, k=k))


def to_upright_ndarray(frame: av.VideoFrame, width: int, height: int,
                       interpolation: str | None = None) -> np.ndarray:
    """A PyAV frame as upright RGB uint8 of the *displayed* size ``width`` x ``height``.

    The stored pixels are scaled (by swscale, ``interpolation`` one of its names, None: its
    default, bilinear) to the size that becomes ``width`` x ``height`` once turned, then
    turned; a frame without rotation is just scaled.
    """
    rotation = frame_rotation(frame)
    if rotation in (90, 270):
        width, height = height, width
    pixels = frame.to_ndarray(width=width, height=height, format="rgb24",
                              interpolation=interpolation)
    return upright(pixels, rotation)


def _first_frame_rotation(p: Path, codec: str) -> int:
    """Rotation read off the first decoded frame; also proves the stream decodes with PyAV."""
    with _open_pyav(p) as container:
        stream = _pyav_stream(p, container)
        try:
            return frame_rotation(next(iter(container.decode(stream))))
        except StopIteration:
            raise VideoError(f"{p}: video contains no frames") from None
        except av.error.FFmpegError as err:
            raise VideoError(
                f"{p}: cannot decode its {codec} video ({decoder_words(err)})") from None


_probe_memo: OrderedDict[tuple[str, int, int], tuple[VideoInfo, Backend]] = OrderedDict()


def _probe(path: str | os.PathLike[str]) -> tuple[VideoInfo, Backend]:
    """Probe a video; also say which backend will decode it. Memoised per (path, size,
    mtime_ns) like :func:`file_digest`: planning a sampling, keying the frame cache and the
    pose cache all probe, and none of them should open the container again."""
    p = _require_file(path)
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _digest_lock:
        hit = _probe_memo.get(key)
    if hit is not None:
        return hit
    result = _probe_uncached(p)
    with _digest_lock:
        _probe_memo[key] = result
        while len(_probe_memo) > _DIGEST_MEMO_SIZE:
            _probe_memo.popitem(last=False)
    return result


def _probe_uncached(p: Path) -> tuple[VideoInfo, Backend]:
    with _open_pyav(p) as container:
        stream = _pyav_stream(p, container)
        width, height = stream.codec_context.width, stream.codec_context.height
        pyav_fps = _pyav_fps(stream)
        pyav_frames = int(stream.frames or 0)
        codec = stream.codec_context.name

    backend: Backend = "pyav"
    n_frames, fps = 0, 0.0
    if decord is not None:
        try:
            reader = decord.VideoReader(str(p), ctx=decord.cpu(0))
            n_frames, fps = len(reader), float(reader.get_avg_fps())
            del reader
            backend = "decord"
        except Exception:  # decord raises bare RuntimeError/DECORDError; PyAV gets a go.
            backend = "pyav"
    rotation = 0
    try:
        rotation = _first_frame_rotation(p, codec)
    except VideoError:
        if backend == "pyav":  # decord can still decode what PyAV cannot: keep it then
            raise
    if backend == "pyav":
        fps = pyav_fps
        n_frames = pyav_frames or _count_packets(p)
    if not (math.isfinite(fps) and fps > 0):
        fps = pyav_fps  # decord reports 0 for some streams whose rate the container knows
    if n_frames <= 0:
        raise VideoError(f"{p}: video contains no frames")
    if not (math.isfinite(fps) and fps > 0):
        raise VideoError(f"{p}: video has no valid frame rate")
    if width <= 0 or height <= 0:
        raise VideoError(f"{p}: video has no valid frame size")
    if rotation in (90, 270):
        width, height = height, width
    info = VideoInfo(
        path=str(p),
        fps=fps,
        n_frames=n_frames,
        duration_s=n_frames / fps,
        width=width,
        height=height,
        rotation=rotation,
    )
    return info, backend


def _count_packets(p: Path) -> int:
    """Frame count by demuxing (no decoding) when the container does not store it."""
    with _open_pyav(p) as container:
        stream = _pyav_stream(p, container)
        try:
            return sum(1 for pkt in container.demux(stream) if pkt.size)
        except av.error.FFmpegError as err:
            raise VideoError(f"{p}: truncated or corrupt ({decoder_words(err)})") from None


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Frame count, frame rate, duration, displayed size and rotation of a video, or a
    one-line VideoError.

    Errors: missing file, directory, empty file, not a video (text, random bytes, truncated
    before the index), no video stream / no frames, codec that cannot be decoded.
    """
    return _probe(path)[0]


def sample_frame_indices(
    n_frames: int, source_fps: float, target_fps: float, max_frames: int | None
) -> np.ndarray:
    """Source frame numbers to decode, chosen by timestamp.

    Times t = 0, 1/target_fps, 2/target_fps, ... < duration map to frame round(t·source_fps)
    (clipped, deduplicated), which works for any fps ratio (29.97 → 4 included). A target at or
    above the source rate keeps every frame. More than ``max_frames`` results are thinned
    uniformly to ``max_frames`` (``None``: no cap, as in the paper's protocol). A non-empty
    video always gets at least one index.
    """
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    for name, value in (("source_fps", source_fps), ("target_fps", target_fps)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    if n_frames == 0:
        return np.empty(0, dtype=np.int64)
    if target_fps >= source_fps:
        idx = np.arange(n_frames, dtype=np.int64)
    else:
        step = source_fps / target_fps  # source frames per sample, > 1
        count = max(1, math.ceil(n_frames / step))  # samples k with k·step < n_frames
        raw = np.floor(np.arange(count) * step + 0.5).astype(np.int64)
        idx = np.unique(np.clip(raw, 0, n_frames - 1))
    if max_frames is not None and idx.shape[0] > max_frames:
        pos = np.floor(np.linspace(0, idx.shape[0] - 1, max_frames) + 0.5).astype(np.int64)
        idx = idx[pos]
    return idx


def _fit_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled so the longer side is at most ``max_side``, aspect kept
    (``None``: the source size)."""
    longer = max(width, height)
    if max_side is None or longer <= max_side:
        return width, height
    scale = max_side / longer
    return max(1, math.floor(width * scale + 0.5)), max(1, math.floor(height * scale + 0.5))


def _decode_decord(p: Path, indices: np.ndarray, width: int, height: int) -> np.ndarray:
    """Frames at ``indices`` of the displayed size: decord applies the rotation itself."""
    reader = decord.VideoReader(str(p), ctx=decord.cpu(0), width=width, height=height)
    out = np.empty((indices.shape[0], height, width, 3), dtype=np.uint8)
    for start in range(0, indices.shape[0], _CHUNK):
        chunk = indices[start : start + _CHUNK]
        batch = reader.get_batch(chunk.tolist()).asnumpy()
        if batch.shape != (chunk.shape[0], height, width, 3):
            raise RuntimeError(f"decord returned frames of shape {batch.shape}")
        out[start : start + chunk.shape[0]] = batch
    return out


def _pyav_wanted(p: Path, indices: np.ndarray, width: int, height: int, n_frames: int,
                 interpolation: str | None = None) -> Iterator[np.ndarray]:
    """Decode sequentially, yielding the wanted frames in order (scaled by swscale on the way).

    Containers often announce a frame or two more than they hold, so a short tail just ends
    the frames early; a video that stops well before its announced length is truncated, and
    that is an error (FFmpeg may just report end-of-file).
    """
    if indices.shape[0] == 0:
        return
    found = 0
    frame_no = -1
    with _open_pyav(p) as container:
        stream = _pyav_stream(p, container)
        stream.thread_type = "AUTO"
        try:
            for frame_no, frame in enumerate(container.decode(stream)):
                if frame_no != indices[found]:
                    continue
                yield to_upright_ndarray(frame, width, height, interpolation)
                found += 1
                if found == indices.shape[0]:
                    return
        except av.error.FFmpegError as err:
            raise VideoError(
                f"{p}: decoding failed after frame {frame_no}; the file may be truncated or "
                f"corrupt ({decoder_words(err)})"
            ) from None
    decoded = frame_no + 1
    if found == 0 or decoded < n_frames - max(2, math.ceil(0.02 * n_frames)):
        raise VideoError(
            f"{p}: only {decoded} of {n_frames} frames could be decoded; "
            "the file is probably truncated"
        )


def _decode_pyav(
    p: Path, indices: np.ndarray, width: int, height: int, n_frames: int
) -> tuple[np.ndarray, np.ndarray]:
    """All wanted frames at once (:func:`_pyav_wanted`); returns (frames, indices found)."""
    out = np.empty((indices.shape[0], height, width, 3), dtype=np.uint8)
    found = 0
    for found, frame in enumerate(_pyav_wanted(p, indices, width, height, n_frames), 1):
        out[found - 1] = frame
    return out[:found], indices[:found]


def load_video(
    path: str | os.PathLike[str],
    target_fps: float = 6.0,
    max_frames: int | None = 96,
    max_side: int | None = 448,
) -> SampledVideo:
    """Decode the frames sampled at ``target_fps`` (at most ``max_frames``), longer side
    at most ``max_side``, as RGB uint8. Only sampled frames are decoded, in chunks.
    ``None`` for either means no limit: every sampled frame, at the source resolution.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    p = _require_file(path)
    info, backend = _probe(p)
    digest = file_digest(p)
    indices = sample_frame_indices(info.n_frames, info.fps, target_fps, max_frames)
    width, height = _fit_size(info.width, info.height, max_side)
    frames: np.ndarray | None = None
    if backend == "decord":
        try:
            frames = _decode_decord(p, indices, width, height)
        except Exception:  # decord fails in odd ways on odd files; PyAV gets a go.
            frames = None
    if frames is None:
        frames, indices = _decode_pyav(p, indices, width, height, info.n_frames)
    return SampledVideo(
        info=info,
        digest=digest,
        target_fps=float(target_fps),
        indices=indices,
        timestamps=indices / info.fps,
        frames=frames,
    )


@dataclass(frozen=True)
class SamplingPlan:
    """Which frames of a video a reader will get, decided without decoding any: the probe,
    the content digest, the sampled source frame numbers and the decoded frame size. Caches
    of per-frame results (pose) are keyed by it, so a warm run decodes nothing."""

    info: VideoInfo
    digest: str
    target_fps: float
    indices: np.ndarray
    width: int
    height: int

    @property
    def timestamps(self) -> np.ndarray:
        return self.indices / self.info.fps


def plan_sampling(path: str | os.PathLike[str], target_fps: float, max_frames: int | None,
                  max_side: int | None) -> SamplingPlan:
    """The :class:`SamplingPlan` of ``path`` at ``target_fps`` (at most ``max_frames``
    frames, longer side at most ``max_side``, None: the source size); one-line VideoError for
    a bad file."""
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    p = _require_file(path)
    info, _ = _probe(p)
    indices = sample_frame_indices(info.n_frames, info.fps, target_fps, max_frames)
    width, height = (info.width, info.height) if max_side is None else \
        _fit_size(info.width, info.height, max_side)
    return SamplingPlan(info=info, digest=file_digest(p), target_fps=float(target_fps),
                        indices=indices, width=width, height=height)


class LazySampledVideo:
    """A :class:`SampledVideo` to be: everything but the pixels comes from the plan (no
    decoding), ``frames`` decodes through :func:`load_video_cached` on first use. Consumers
    whose result is cached (CLIP embeddings) key on the plan and never touch the pixels on a
    hit, so a warm run decodes nothing."""

    def __init__(self, plan: SamplingPlan, max_frames: int | None, max_side: int | None) -> None:
        self.plan = plan
        self.info = plan.info
        self.digest = plan.digest
        self.target_fps = plan.target_fps
        self.indices = plan.indices
        self.timestamps = plan.timestamps
        self.frame_hw = (plan.height, plan.width)
        self._settings = (max_frames, max_side)

    @property
    def n_sampled(self) -> int:
        return int(self.indices.shape[0])

    @property
    def frames(self) -> np.ndarray:
        max_frames, max_side = self._settings
        return load_video_cached(self.info.path, self.target_fps, max_frames, max_side).frames


def iter_frames(plan: SamplingPlan, chunk: int = 64, *, sequential: bool | None = None
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Decode the planned frames in chunks: ``(source frame numbers, frames)`` pairs, so a
    long video streams through a consumer (pose) in bounded memory.

    ``sequential`` (None: when the plan keeps at least one frame in
    :data:`_SEQUENTIAL_EVERY`, e.g. pose at 30 frames/s) is one sequential PyAV pass, each
    kept frame scaled and converted by swscale straight to the planned size with area
    averaging (:data:`STREAM_SCALING`, a proper downscaling filter and the fastest of
    swscale's here): decord's random access buys nothing when nearly every frame is wanted,
    and its reader's memory grew with the clip's length while a slow consumer (pose) held it
    open (1 GB for a 60 s 720p clip, against a flat ~0.4 GB this way). Otherwise (a report's
    dozen frames of a long clip) decord seeks; PyAV takes over for whatever decord could not
    give."""
    p = Path(plan.info.path)
    n = int(plan.indices.shape[0])
    if sequential is None:
        sequential = n * _SEQUENTIAL_EVERY >= plan.info.n_frames
    if sequential or decord is None:
        yield from _pyav_chunks(p, plan.indices, plan.width, plan.height, plan.info.n_frames,
                                chunk)
        return
    done = 0
    try:
        reader = decord.VideoReader(str(p), ctx=decord.cpu(0), width=plan.width,
                                    height=plan.height)
        for start in range(0, n, chunk):
            wanted = plan.indices[start:start + chunk]
            batch = reader.get_batch(wanted.tolist()).asnumpy()
            if batch.shape != (wanted.shape[0], plan.height, plan.width, 3):
                raise RuntimeError(f"decord returned frames of shape {batch.shape}")
            yield wanted, batch
            done = start + wanted.shape[0]
        return
    except Exception:  # decord fails in odd ways on odd files; PyAV gets a go
        pass
    rest = plan.indices[done:]
    if rest.shape[0] == 0:
        return
    yield from _pyav_chunks(p, rest, plan.width, plan.height, plan.info.n_frames, chunk)


def _pyav_chunks(p: Path, indices: np.ndarray, width: int, height: int, n_frames: int,
                 chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """:func:`_pyav_wanted` chunk by chunk: one sequential pass, at most ``chunk`` frames
    held, scaled with :data:`STREAM_SCALING`."""
    buffer = np.empty((min(chunk, max(indices.shape[0], 1)), height, width, 3), dtype=np.uint8)
    held = found = 0
    for frame in _pyav_wanted(p, indices, width, height, n_frames, STREAM_SCALING):
        buffer[held] = frame
        held += 1
        found += 1
        if held == buffer.shape[0]:
            yield indices[found - held:found], buffer[:held].copy()
            held = 0
    if held:
        yield indices[found - held:found], buffer[:held].copy()


def load_frames_at(path: str | os.PathLike[str], source_frames: list[int],
                   max_side: int | None) -> dict[int, np.ndarray]:
    """Exactly the given source frames (longer side at most ``max_side``), by frame number:
    the frame a measurement was read at, which the vision model's sampling may not hold."""
    plan = plan_sampling(path, 1.0, 1, max_side)
    wanted = np.array(sorted({int(f) for f in source_frames
                              if 0 <= int(f) < plan.info.n_frames}), dtype=np.int64)
    if wanted.size == 0:
        return {}
    exact = dataclasses.replace(plan, indices=wanted)
    return {int(i): frame for indices, frames in iter_frames(exact)
            for i, frame in zip(indices, frames, strict=True)}


_video_lock = threading.Lock()
_video_cache: OrderedDict[tuple[str, float, str, int | None], SampledVideo] = OrderedDict()


def load_video_cached(
    path: str | os.PathLike[str],
    target_fps: float = 6.0,
    max_frames: int | None = 96,
    max_side: int | None = 448,
) -> SampledVideo:
    """:func:`load_video` through a small in-process LRU keyed by content digest + settings.

    Graph nodes call this instead of carrying frames in the graph state. The cached frames
    are marked read-only because every caller shares the same array.
    """
    p = _require_file(path)
    key = _cache_key(p, target_fps, max_frames, max_side)
    with _video_lock:
        hit = _video_cache.get(key)
        if hit is not None:
            _video_cache.move_to_end(key)
    if hit is None:
        hit = load_video(p, target_fps, max_frames, max_side)
        hit.frames.flags.writeable = False
        with _video_lock:
            _video_cache[key] = hit
            while len(_video_cache) > _VIDEO_CACHE_SIZE:
                _video_cache.popitem(last=False)
    if hit.info.path != str(p):  # same content under another name: report the asked-for path
        hit = dataclasses.replace(hit, info=dataclasses.replace(hit.info, path=str(p)))
    return hit


def peek_video_cached(path: str | os.PathLike[str], target_fps: float,
                      max_frames: int | None, max_side: int | None) -> SampledVideo | None:
    """What :func:`load_video_cached` holds for these settings, or None; never decodes (a
    caller that needs only a few frames decodes just those when the video is not held)."""
    key = _cache_key(_require_file(path), target_fps, max_frames, max_side)
    with _video_lock:
        return _video_cache.get(key)


def _cache_key(p: Path, target_fps: float, max_frames: int | None,
               max_side: int | None) -> tuple[str, float, str, int | None]:
    """Content digest, the sampled source frames and the size: two requests that sample the
    same frames (a report asking for the comparison's frame count instead of its cap) share
    one decode."""
    info, _ = _probe(p)
    indices = sample_frame_indices(info.n_frames, info.fps, target_fps, max_frames)
    return (file_digest(p), float(target_fps),
            hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest(),
            None if max_side is None else int(max_side))


def clear_video_cache() -> None:
    """Forget cached decoded videos and digests (tests; freeing memory)."""
    with _video_lock:
        _video_cache.clear()
    with _digest_lock:
        _digest_memo.clear()
        _probe_memo.clear()
