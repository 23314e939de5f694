"""The frames a result refers to, decoded again from the videos, with pose when wanted.

A result keeps only references (path, content digest, source frame numbers), never pixels. A
report made in the process that ran the comparison takes the frames it still holds; otherwise
it decodes exactly the frames it shows (a dozen, not the whole sampling), and keeps them in the
frame store (tools/frame_store.py), so the same report made again decodes nothing. Skeletons
are drawn from the comparison's dense pose (the pose cache), so a report runs no pose unless
that pose is gone. A video that is gone, changed since the comparison, or undecodable is a
*problem* the report shows; it never stops the report.
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
from viddiff.graphs.context import VidDiffContext, default_cache_dir
from viddiff.graphs.poses import cached_pose_of
from viddiff.graphs.schemas import VideoRef
from viddiff.tools.errors import VidDiffError
from viddiff.tools.frame_store import stored_frames_at
from viddiff.tools.pose.extract import extract_pose
from viddiff.tools.pose.sequence import PoseSequence
from viddiff.tools.video import (
    file_digest,
    peek_video_cached,
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
            # keypoints are in pixels of the frames pose read (the dense pose's own size)
            img = draw_skeleton(img, self._pose.keypoints[row], self._pose.visibility[row],
                                img.width / self._pose.width, highlight)
        self._images[key] = img
        return img


def load_frames(key: str, ref: VideoRef, wanted: Iterable[int], *, max_side: int,
                pose_cache: Path | None, want_pose: bool,
                context: VidDiffContext | None = None,
                frame_store: Path | None = None) -> VideoFrames:
    """The frames of ``ref`` that the report shows (``wanted`` source frame numbers): taken
    from the comparison's decoded frames when this process still holds them, else from
    ``frame_store`` (frames an earlier report stored), else exactly these frames are decoded
    (and stored). Skeletons come from the comparison's dense pose (``context``'s
    pose settings; no pose runs when it is cached); pose runs on the shown frames only when
    that pose is not to be found."""
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
        pixels = _held_frames(ref, path, wanted, max_side)
        missing = [n for n in wanted if n not in pixels]
        if missing:
            pixels.update(stored_frames_at(path, missing, max_side, frame_store))
    except (VidDiffError, av.error.FFmpegError, OSError, ValueError) as err:
        vf.problem = f"video {key} at {ref.path} cannot be decoded ({err})"
        return vf
    vf._pixels = pixels
    if want_pose and pixels:
        ctx = context or VidDiffContext(cache_dir=pose_cache.parent if pose_cache else
                                        default_cache_dir(), max_side=max_side)
        try:
            dense = cached_pose_of(ref, ctx)
            if dense is not None:
                vf._pose, vf._pose_row = dense, _pose_rows(dense, pixels, ref, ctx.pose_fps)
            else:
                vf._pose, vf._pose_row = _pose_of_shown(pixels, ref, pose_cache, max_side)
        except VidDiffError as err:
            vf.pose_note = f"no skeletons drawn on video {key}: {err}"
        except (RuntimeError, ValueError, OSError) as err:  # the model itself; frames still show
            log.warning("pose failed on %s: %s", ref.path, err)
            vf.pose_note = f"no skeletons drawn on video {key}: pose estimation failed ({err})"
    return vf


def _held_frames(ref: VideoRef, path: Path, wanted: list[int],
                 max_side: int) -> dict[int, np.ndarray]:
    """Wanted frames this process decoded already at the comparison's sampling (none held:
    an empty dict, and nothing is decoded here)."""
    if ref.target_fps <= 0 or not ref.indices:
        return {}
    video = peek_video_cached(path, ref.target_fps, len(ref.indices), max_side)
    if video is None:
        return {}
    rows = {int(n): i for i, n in enumerate(video.indices)}
    return {n: video.frames[rows[n]] for n in wanted if n in rows}


def _pose_rows(pose: PoseSequence, pixels: dict[int, np.ndarray], ref: VideoRef,
               pose_fps: float) -> dict[int, int]:
    """Row of the dense pose for each shown frame (:func:`pose_row`)."""
    exact = {int(n): i for i, n in enumerate(pose.indices)} if pose.indices is not None else {}
    rows = {}
    for n in pixels:
        row = pose_row(pose, n, ref.source_fps, pose_fps, exact)
        if row is not None:
            rows[n] = row
    return rows


def pose_row(pose: PoseSequence, source_frame: int, source_fps: float, pose_fps: float,
             exact: dict[int, int] | None = None) -> int | None:
    """Row of the dense pose for a source frame: the same source frame, else the pose frame
    nearest in time if it is within half a pose frame (a shown frame between two pose frames,
    e.g. an odd frame of a 60 frames/s video posed at 30); None when there is none.
    ``exact``: source frame -> row, when the caller looks up many frames."""
    if exact is None:
        exact = {int(n): i for i, n in enumerate(pose.indices)} \
            if pose.indices is not None else {}
    if source_frame in exact:
        return exact[source_frame]
    if not pose.n_frames:
        return None
    fps = source_fps if source_fps > 0 else 1.0
    slack = 0.5 / max(pose_fps, 1e-6) + 1e-6
    row = int(np.argmin(np.abs(pose.timestamps - source_frame / fps)))
    return row if abs(float(pose.timestamps[row]) - source_frame / fps) <= slack else None


def _pose_of_shown(pixels: dict[int, np.ndarray], ref: VideoRef, pose_cache: Path | None,
                   max_side: int) -> tuple[PoseSequence, dict[int, int]]:
    """Pose of just the shown frames (the comparison's dense pose is not cached)."""
    order = sorted(pixels)
    fps = ref.source_fps if ref.source_fps > 0 else 1.0
    frames = _Frames(digest=ref.digest or "", indices=np.array(order, dtype=np.int64),
                     timestamps=np.array(order, dtype=np.float64) / fps,
                     frames=np.stack([pixels[n] for n in order]))
    pose = extract_pose(frames, pose_cache, max_side=max_side)
    return pose, {n: i for i, n in enumerate(order)}
