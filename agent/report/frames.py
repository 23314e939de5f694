"""The frames a result refers to, decoded again from the videos, with pose when wanted.

A result keeps only references (path, content digest, source frame numbers), never pixels, so a
report decodes again. It samples the way the comparison did (same target fps and frame count,
so the same source frames and, with the same ``max_side``, a pose-cache hit), and falls back to
decoding exactly the referenced source frames when that sampling no longer matches. A video
that is gone, changed since the comparison, or undecodable is a *problem* the report shows; it
never stops the report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image

from viddiff.agent.report.draw import draw_skeleton, fit_size
from viddiff.graphs.schemas import VideoRef
from viddiff.tools.errors import VidDiffError
from viddiff.tools.pose.mediapipe_runner import extract_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.video import (
    file_digest,
    frame_rotation,
    load_video_cached,
    to_upright_ndarray,
)

log = logging.getLogger(__name__)


@dataclass
class _Frames:
    """Decoded frames in the shape :func:`extract_pose` expects."""

    digest: str
    indices: np.ndarray
    timestamps: np.ndarray
    frames: np.ndarray


@dataclass
class VideoFrames:
    """Frames of one video of a result, by source frame number, ready to be shown.

    ``problem`` is a sentence for the reader when nothing can be shown; ``pose_note`` when the
    frames show but skeletons cannot be drawn.
    """

    key: str
    ref: VideoRef
    problem: str | None = None
    pose_note: str | None = None
    _pixels: dict[int, np.ndarray] = field(default_factory=dict)
    _pose: PoseSequence | None = None
    _pose_row: dict[int, int] = field(default_factory=dict)
    _images: dict[tuple[int, bool, frozenset[int], int, int], Image.Image] = field(
        default_factory=dict)

    @property
    def available(self) -> bool:
        return self.problem is None

    def has_frame(self, source_frame: int) -> bool:
        return source_frame in self._pixels

    def person_found(self, source_frame: int) -> bool | None:
        """Whether pose found someone in the frame; None when pose was not run."""
        row = self._pose_row.get(source_frame)
        if self._pose is None or row is None:
            return None
        return bool(self._pose.present[row])

    def image(self, source_frame: int, box: tuple[int, int], *, skeleton: bool = False,
              highlight: frozenset[int] = frozenset()) -> Image.Image | None:
        """The frame fitted into ``box`` (w, h), with the pose drawn if asked and found."""
        key = (source_frame, skeleton, highlight, *box)
        if key in self._images:
            return self._images[key]
        pixels = self._pixels.get(source_frame)
        if pixels is None:
            return None
        h, w = pixels.shape[:2]
        img = Image.fromarray(np.asarray(pixels)).resize(fit_size(w, h, *box),
                                                         Image.Resampling.LANCZOS)
        row = self._pose_row.get(source_frame)
        if skeleton and self._pose is not None and row is not None and self._pose.present[row]:
            img = draw_skeleton(img, self._pose.keypoints[row], self._pose.visibility[row],
                                img.width / w, highlight)
        self._images[key] = img
        return img


def decode_source_frames(path: str | Path, wanted: Iterable[int],
                         max_side: int) -> dict[int, np.ndarray]:
    """Exactly the given source frame numbers (decode order), longer side <= ``max_side``,
    upright (the container's display rotation applied, as everywhere else).

    The fallback when the comparison's sampling cannot be reproduced; one sequential pass.
    """
    todo = {int(i) for i in wanted if int(i) >= 0}
    out: dict[int, np.ndarray] = {}
    if not todo:
        return out
    last = max(todo)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for number, frame in enumerate(container.decode(stream)):
            if number > last:
                break
            if number in todo:
                shown = (frame.height, frame.width) if frame_rotation(frame) in (90, 270) \
                    else (frame.width, frame.height)
                w, h = fit_size(*shown, max_side, max_side)
                out[number] = to_upright_ndarray(frame, w, h)
                if len(out) == len(todo):
                    break
    return out


def load_frames(key: str, ref: VideoRef, wanted: Iterable[int], *, max_side: int,
                pose_cache: Path | None, want_pose: bool) -> VideoFrames:
    """Decode the frames of ``ref`` that the report shows (``wanted`` source frame numbers)."""
    vf = VideoFrames(key=key, ref=ref)
    wanted = sorted({int(i) for i in wanted})
    path = Path(ref.path).expanduser()
    if not path.is_file():
        vf.problem = f"video {key} is no longer at {ref.path}; its frames cannot be shown"
        return vf
    try:
        if ref.digest and file_digest(path) != ref.digest:
            vf.problem = (f"video {key} at {ref.path} has changed since the comparison "
                          "(its content differs); its frames are not shown")
            return vf
        frames = _sampled_like_comparison(ref, path, max_side)
    except (VidDiffError, av.error.FFmpegError, OSError, ValueError) as err:
        vf.problem = f"video {key} at {ref.path} cannot be decoded ({err})"
        return vf
    rows = {int(n): i for i, n in enumerate(frames.indices)}
    missing = [n for n in wanted if n not in rows]
    if missing:  # sampling differs from the comparison's: decode exactly what is shown
        try:
            exact = decode_source_frames(path, wanted, max_side)
        except (av.error.FFmpegError, OSError, ValueError, IndexError) as err:
            vf.problem = f"video {key} at {ref.path} cannot be decoded ({err})"
            return vf
        order = sorted(exact)
        fps = ref.source_fps if ref.source_fps > 0 else 1.0
        frames = _Frames(digest=ref.digest or "", indices=np.array(order, dtype=np.int64),
                         timestamps=np.array(order, dtype=np.float64) / fps,
                         frames=np.stack([exact[n] for n in order]) if order
                         else np.zeros((0, 1, 1, 3), np.uint8))
        rows = {n: i for i, n in enumerate(order)}
    vf._pixels = {n: frames.frames[rows[n]] for n in wanted if n in rows}
    if want_pose and vf._pixels:
        try:
            vf._pose = extract_pose(frames, pose_cache, max_side=max_side)
            vf._pose_row = rows
        except VidDiffError as err:
            vf.pose_note = f"no skeletons drawn on video {key}: {err}"
        except (RuntimeError, ValueError, OSError) as err:  # the model itself; frames still show
            log.warning("pose failed on %s: %s", ref.path, err)
            vf.pose_note = f"no skeletons drawn on video {key}: pose estimation failed ({err})"
    return vf


def _sampled_like_comparison(ref: VideoRef, path: Path, max_side: int) -> _Frames:
    """The comparison's own sampling: same target fps and frame count give the same frames."""
    if ref.target_fps <= 0 or not ref.indices:
        return _Frames(ref.digest, np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 1, 1, 3)))
    video = load_video_cached(path, target_fps=ref.target_fps, max_frames=len(ref.indices),
                              max_side=max_side)
    return _Frames(digest=video.digest, indices=np.asarray(video.indices),
                   timestamps=np.asarray(video.timestamps), frames=video.frames)
