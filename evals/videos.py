"""Benchmark videos as plain files the VidDiff graph can open.

A benchmark video is a path (a video file *or* a folder of frame images, relative to the
user's video root), a ``frames_trim`` slice and the source frame rate ``fps_original``. The
graphs take plain video paths, so each (path, trim, fps) that is not already exactly a
playable file is *materialised* once: the selected frames are encoded to a small H.264 mp4 in
a cache under the run's output folder, keyed by a hash of the source and the settings, and
reused by every later sample, run and re-run.

Missing videos are found before anything runs, all of them at once (users download the
benchmark videos separately, and learning about a missing one after an hour of paid model
calls is the failure this prevents).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from viddiff.evals.data import BenchmarkSample, DataError, VideoSpec
from viddiff.tools.errors import VideoError
from viddiff.tools.video import probe_video, to_upright_ndarray

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MATERIALISE_VERSION = "v1"
"""Bump when the encoding changes, so old cached clips are not reused."""
DEFAULT_MAX_SIDE = 960
"""Longer side of materialised clips: above what the graphs decode (448) or send (384)."""
FPS_TOLERANCE = 0.01


# --------------------------------------------------------------------------- paths


def resolve_path(spec: VideoSpec, root: Path | None) -> Path:
    """Where a benchmark video lives: its path, relative to ``root`` unless absolute."""
    path = Path(spec.path).expanduser()
    if path.is_absolute() or root is None:
        return path
    return root / path


@dataclass(frozen=True)
class MissingVideo:
    sample_key: str
    which: str
    path: Path


def find_missing(samples: Sequence[BenchmarkSample], root: Path | None) -> list[MissingVideo]:
    """Every video of ``samples`` that does not exist (or is an empty folder), in order."""
    missing = []
    for sample in samples:
        for which, spec in zip("AB", sample.videos, strict=True):
            path = resolve_path(spec, root)
            if not path.exists() or (path.is_dir() and not frame_files(path)):
                missing.append(MissingVideo(sample.sample_key, which, path))
    return missing


def missing_report(missing: Sequence[MissingVideo], n_samples: int,
                   root: Path | None) -> list[str]:
    """Lines for a person: a count, then every missing video."""
    n_videos = len({m.path for m in missing})
    n_hit = len({m.sample_key for m in missing})
    where = f" under {root}" if root is not None else ""
    lines = [f"{n_videos} video(s){where} are missing, needed by {n_hit} of {n_samples} "
             f"sample(s):"]
    lines += [f"  {m.sample_key} video {m.which}: {m.path}" for m in missing]
    return lines


def frame_files(folder: Path) -> list[Path]:
    """Frame images of a folder in alphabetical order (how the benchmark orders them)."""
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError:
        return []


# --------------------------------------------------------------------------- materialising


def _even_fit(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Output size: longer side at most ``max_side`` (``None``: the source size), both even
    (H.264 4:2:0 needs it)."""
    scale = 1.0 if max_side is None else min(1.0, max_side / max(width, height))
    w = max(2, int(width * scale) // 2 * 2)
    h = max(2, int(height * scale) // 2 * 2)
    return w, h


def _trim_slice(spec: VideoSpec) -> slice:
    return slice(*spec.frames_trim) if spec.frames_trim else slice(None)


def _file_frames(path: Path, wanted: range, size: tuple[int, int]) -> Iterator[np.ndarray]:
    targets = set(wanted)
    last = max(wanted) if len(wanted) else -1
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for n, frame in enumerate(container.decode(stream)):
            if n in targets:
                yield to_upright_ndarray(frame, size[0], size[1])  # size is as displayed
            if n >= last:
                break


def _folder_frames(files: Sequence[Path], size: tuple[int, int]) -> Iterator[np.ndarray]:
    for file in files:
        try:
            with Image.open(file) as image:
                rgb = image.convert("RGB")
        except OSError as exc:
            raise VideoError(f"{file}: not a readable image ({exc})") from None
        if rgb.size != size:
            rgb = rgb.resize(size, Image.Resampling.BILINEAR)
        yield np.asarray(rgb)


def encode_mp4(frames: Iterator[np.ndarray], out: Path, fps: float) -> int:
    """Write RGB frames (all one size) as H.264 to ``out`` atomically; the frame count.

    An odd width or height loses its last column or row (H.264 4:2:0 needs even sizes).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.{threading.get_ident()}.tmp.mp4")
    count = 0
    height = width = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "17", "preset": "veryfast"}
            for frame in frames:
                if count == 0:
                    height, width = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
                    if not (height and width):
                        raise VideoError(f"{out.name}: frames of {frame.shape[1]}x"
                                         f"{frame.shape[0]} are too small to encode")
                    stream.height, stream.width = height, width
                video_frame = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(frame[:height, :width]), format="rgb24")
                for packet in stream.encode(video_frame):
                    container.mux(packet)
                count += 1
            if count:
                for packet in stream.encode():
                    container.mux(packet)
        if count == 0:
            raise VideoError(f"{out.name}: no frames selected")
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return count


class VideoMaterialiser:
    """Turns benchmark video specs into playable files, caching what it had to encode.

    Thread-safe: samples that share a video (same source, trim and rate) encode it once.
    """

    def __init__(self, root: Path | None, cache_dir: Path,
                 max_side: int | None = DEFAULT_MAX_SIDE) -> None:
        self.root = root
        self.cache_dir = Path(cache_dir)
        self.max_side = max_side
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def prepare(self, spec: VideoSpec) -> Path:
        """A playable video file showing exactly the spec's frames at its frame rate."""
        source = resolve_path(spec, self.root)
        if source.is_dir():
            return self._from_folder(spec, source)
        if not source.exists():
            raise VideoError(f"video not found: {source}")
        return self._from_file(spec, source)

    def _key(self, spec: VideoSpec, source: Path, fingerprint: object) -> str:
        blob = json.dumps({"source": str(source.resolve()), "fingerprint": fingerprint,
                           "trim": spec.frames_trim, "fps": spec.fps_original,
                           "max_side": self.max_side, "version": MATERIALISE_VERSION},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]

    def _target(self, source: Path, key: str) -> Path:
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.stem)[:40]
        return self.cache_dir / f"{stem}-{key}.mp4"

    def _from_file(self, spec: VideoSpec, source: Path) -> Path:
        info = probe_video(source)
        wanted = range(info.n_frames)[_trim_slice(spec)]
        fps = spec.fps_original or info.fps
        same_rate = abs(fps - info.fps) <= FPS_TOLERANCE * info.fps
        if same_rate and wanted == range(info.n_frames):
            return source  # already exactly the benchmark's video: no copy
        if len(wanted) == 0:
            raise VideoError(f"{source}: frames_trim {spec.frames_trim} selects no frames "
                             f"(the video has {info.n_frames})")
        st = source.stat()
        key = self._key(spec, source, [st.st_size, st.st_mtime_ns])
        out = self._target(source, key)
        with self._lock(key):
            if not out.exists():
                size = _even_fit(info.width, info.height, self.max_side)
                try:
                    encode_mp4(_file_frames(source, wanted, size), out, fps)
                except av.error.FFmpegError as exc:
                    raise VideoError(f"{source}: cannot decode the trimmed frames ({exc})") \
                        from None
        return out

    def _from_folder(self, spec: VideoSpec, source: Path) -> Path:
        files = frame_files(source)
        if not files:
            raise VideoError(f"{source}: folder holds no frame images "
                             f"({', '.join(IMAGE_SUFFIXES)})")
        if not spec.fps_original or not math.isfinite(spec.fps_original):
            raise DataError(f"{source}: a folder of frames needs fps_original in the benchmark")
        chosen = files[_trim_slice(spec)]
        if not chosen:
            raise VideoError(f"{source}: frames_trim {spec.frames_trim} selects no frames "
                             f"(the folder has {len(files)})")
        fingerprint = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in chosen]
        key = self._key(spec, source, fingerprint)
        out = self._target(source, key)
        with self._lock(key):
            if not out.exists():
                try:
                    with Image.open(chosen[0]) as first:
                        size = _even_fit(*first.size, self.max_side)
                except OSError as exc:
                    raise VideoError(f"{chosen[0]}: not a readable image ({exc})") from None
                encode_mp4(_folder_frames(chosen, size), out, spec.fps_original)
        return out
