"""The aligned replay as an H.264 MP4: A at its own pace, B warped along the alignment.

Rendered frame by frame as a stream -- decode the frame of A and of B an output frame needs,
draw, encode, forget -- so memory stays flat however long the clips are (each reader keeps
its last few frames, for a held moment that looks back). Which moment each output frame
shows comes from :mod:`viddiff.agent.report.replay`; skeletons are the comparison's own dense
pose (the pose cache, :func:`viddiff.graphs.poses.cached_pose_of`) drawn by the report's one
skeleton drawer (:func:`viddiff.agent.report.draw.draw_skeleton`).

Two layouts: ``side`` (A left, B right, both scaled to one height) and ``ghost`` (A's video
with B's skeleton drawn over A's, moved and scaled so the hips meet and the torsos are the
same length: it overlays two people filmed from different distances, which a transparency
overlay of the two videos cannot).
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from PIL import Image, ImageDraw

from viddiff.agent.report.draw import GHOST_PALETTE, draw_skeleton, ellipsize, font, wrap
from viddiff.agent.report.frames import pose_row
from viddiff.agent.report.load import ReportError
from viddiff.agent.report.replay import (
    BarTrack,
    Event,
    OutFrame,
    bar_tracks,
    count_frames,
    frame_at,
    moments,
    output_fps,
    replay_frames,
    result_time_map,
    span_at,
)
from viddiff.agent.report.style import NO_STAGE_COLOUR, VIDEO_COLOURS, hex_rgb, stage_colour
from viddiff.agent.report.view import stage_order
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.poses import cached_pose_of, pose_of
from viddiff.graphs.schemas import ComparisonResult, VideoRef
from viddiff.tools.errors import VidDiffError
from viddiff.tools.pose.sequence import LANDMARK_INDEX, PoseSequence
from viddiff.tools.video import file_digest, to_upright_ndarray

log = logging.getLogger(__name__)

ReplayMode = Literal["side", "ghost"]
MODES: tuple[ReplayMode, ...] = ("side", "ghost")
#: Default height of each video in the replay (never enlarged above the smaller source).
DEFAULT_HEIGHT = 720
#: How many recent decoded frames a reader keeps (a held moment a little behind the stream).
KEEP_FRAMES = 8
_BG = (17, 24, 39)
_INK = (243, 244, 246)
_MUTED = (156, 163, 175)


class ReplayError(ReportError):
    """The replay cannot be made (a video gone or changed, a file that cannot be written)."""


@dataclass
class ReplayInfo:
    """What :func:`write_replay` wrote: the file, its frame count and rate, and notes for
    the reader (a linear fallback, a clip without a person)."""

    path: Path
    frames: int
    fps: float
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- decoding


class FrameReader:
    """Frames of one video by source frame number, decoded in one forward pass.

    Frame numbers count decoded frames from 0, as everywhere in viddiff. Only frames near a
    requested one are converted (the others are skipped undecoded into pixels); the last
    :data:`KEEP_FRAMES` are kept. A request behind those starts the pass again (a held
    moment looking back), which costs time, never memory.
    """

    def __init__(self, path: Path, size: tuple[int, int]) -> None:
        self.path, self.size = path, size
        self._recent: OrderedDict[int, np.ndarray] = OrderedDict()
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._next = 0
        self.restarts = 0

    def _open(self) -> None:
        self.close()
        try:
            self._container = av.open(str(self.path))
            stream = self._container.streams.video[0]
            stream.thread_type = "AUTO"
            self._frames = self._container.decode(stream)
        except (av.error.FFmpegError, OSError, IndexError) as err:
            raise ReplayError(f"{self.path}: cannot be decoded for the replay ({err})") from None
        self._next = 0

    def frame(self, index: int) -> np.ndarray:
        """The frame ``index`` (the last one the file holds, beyond its end)."""
        hit = self._recent.get(index)
        if hit is not None:
            return hit
        if self._frames is None or index < self._next:
            if self._frames is not None:
                self.restarts += 1
            self._open()
        assert self._frames is not None
        while self._next <= index:
            try:
                decoded = next(self._frames)
            except StopIteration:
                break
            except av.error.FFmpegError as err:
                raise ReplayError(f"{self.path}: decoding failed at frame {self._next} "
                                  f"({err})") from None
            if self._next >= index - KEEP_FRAMES:
                self._recent[self._next] = to_upright_ndarray(decoded, *self.size)
                self._recent.move_to_end(self._next)
                while len(self._recent) > KEEP_FRAMES:
                    self._recent.popitem(last=False)
            self._next += 1
        if index in self._recent:
            return self._recent[index]
        if not self._recent:
            raise ReplayError(f"{self.path}: holds no frame {index} to show")
        return self._recent[max(self._recent)]  # the file ended before ``index``

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container, self._frames = None, None


def check_video(key: str, ref: VideoRef) -> Path:
    """The video a result names, as it was compared; gone or changed is one line."""
    path = Path(ref.path).expanduser()
    if not path.is_file():
        raise ReplayError(f"video {key} is no longer at {ref.path}; the replay cannot be made")
    if ref.digest and file_digest(path) != ref.digest:
        raise ReplayError(f"video {key} at {ref.path} has changed since the comparison (its "
                          "content differs); compare again to make a replay")
    return path


def panel_size(ref: VideoRef, height: int) -> tuple[int, int]:
    """(w, h) of a video scaled to ``height`` (even numbers, as H.264's 4:2:0 wants)."""
    h = max(2, height - height % 2)
    w = max(2, round(ref.width * h / max(ref.height, 1)))
    return w - w % 2, h


# ------------------------------------------------------------------------------- poses


@dataclass
class _Pose:
    """One video's dense pose and how its rows are found."""

    seq: PoseSequence
    source_fps: float
    pose_fps: float
    exact: dict[int, int]

    def points(self, source_frame: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Keypoints (pixels of the pose frames) and visibility, when a person is there."""
        row = pose_row(self.seq, source_frame, self.source_fps, self.pose_fps, self.exact)
        if row is None or not self.seq.present[row]:
            return None
        return self.seq.keypoints[row], self.seq.visibility[row]


def _load_pose(key: str, ref: VideoRef, ctx: VidDiffContext, notes: list[str]) -> _Pose | None:
    """The comparison's dense pose (cached), else pose estimated now; None with a note when
    there is none, or no person in it."""
    try:
        seq = cached_pose_of(ref, ctx) or pose_of(ref, ctx)
    except VidDiffError as err:
        notes.append(f"no skeletons on video {key} in the replay: {err}")
        return None
    except (RuntimeError, ValueError, OSError) as err:  # the pose model itself
        log.warning("pose failed on %s: %s", ref.path, err)
        notes.append(f"no skeletons on video {key} in the replay: pose estimation failed")
        return None
    if not seq.n_frames or not seq.present.any():
        notes.append(f"no person was found in video {key}; its replay has no skeleton")
        return None
    exact = {int(n): i for i, n in enumerate(seq.indices)} if seq.indices is not None else {}
    return _Pose(seq, ref.source_fps, ctx.pose_fps, exact)


def _hips_and_torso(kp: np.ndarray, vis: np.ndarray,
                    scale: float) -> tuple[np.ndarray, float] | None:
    """Hip centre and torso length (hip centre to shoulder centre) in drawn pixels."""
    idx = [LANDMARK_INDEX[n] for n in ("left_hip", "right_hip", "left_shoulder",
                                      "right_shoulder")]
    pts = np.asarray(kp, dtype=np.float64)[idx] * scale
    if not np.isfinite(pts).all() or (np.asarray(vis)[idx] < 0.3).any():
        return None
    hips, shoulders = pts[:2].mean(axis=0), pts[2:].mean(axis=0)
    torso = float(np.linalg.norm(shoulders - hips))
    return (hips, torso) if torso > 1e-3 else None


def ghost_points(kp_a: np.ndarray, vis_a: np.ndarray, scale_a: float, kp_b: np.ndarray,
                 vis_b: np.ndarray, scale_b: float) -> np.ndarray | None:
    """B's keypoints moved onto A's picture: hip centres on each other and B scaled so its
    torso is as long as A's (pixels of A's drawn frame); None when either torso is unseen."""
    ref_a = _hips_and_torso(kp_a, vis_a, scale_a)
    ref_b = _hips_and_torso(kp_b, vis_b, scale_b)
    if ref_a is None or ref_b is None:
        return None
    (hips_a, torso_a), (hips_b, torso_b) = ref_a, ref_b
    pts_b = np.asarray(kp_b, dtype=np.float64) * scale_b
    return (pts_b - hips_b) * (torso_a / torso_b) + hips_a


# ------------------------------------------------------------------------------ drawing


class _Layout:
    """Sizes and the static pictures (bar backgrounds) of one replay."""

    def __init__(self, mode: ReplayMode, size_a: tuple[int, int], size_b: tuple[int, int],
                 tracks: tuple[BarTrack, BarTrack], colours: dict[str, str]) -> None:
        self.mode, self.size_a, self.size_b = mode, size_a, size_b
        h = size_a[1]
        self.text = max(11, h // 34)
        self.bar_h = self.text + 10
        self.label_h = self.text + 8
        self.caption_h = 2 * (self.text + 6) + 10
        width = size_a[0] + size_b[0] if mode == "side" else max(size_a[0], 2 * 160)
        self.width = width + width % 2
        strip = self.bar_h + self.label_h
        if mode == "side":
            self.bars = [(tracks[0], 0, h, size_a[0]), (tracks[1], size_a[0], h, size_b[0])]
            self.height = h + strip + self.caption_h
        else:
            self.bars = [(tracks[0], 0, h, self.width), (tracks[1], 0, h + strip, self.width)]
            self.height = h + 2 * strip + self.caption_h
        self.height += self.height % 2
        self.colours = colours
        self.backgrounds = [self._bar_background(t, w) for t, _, _, w in self.bars]

    def _bar_background(self, track: BarTrack, width: int) -> Image.Image:
        img = Image.new("RGB", (width, self.bar_h), (55, 65, 81))
        draw = ImageDraw.Draw(img)
        fnt = font(self.text - 1)
        span = max(track.duration_s, 1e-6)
        for s in track.spans:
            x0, x1 = round(s.start_s / span * width), round(min(s.end_s, span) / span * width)
            colour = self.colours.get(s.name, NO_STAGE_COLOUR)
            draw.rectangle([x0, 2, max(x0, x1 - 1), self.bar_h - 3], fill=hex_rgb(colour))
            label = ellipsize(draw, s.name, fnt, max(0, x1 - x0 - 6))
            if label:
                draw.text((x0 + 3, 3), label, fill=(17, 17, 17), font=fnt)
        for name, t in track.events:
            x = round(min(max(t, 0.0), span) / span * width)
            draw.line([x, 0, x, self.bar_h], fill=(255, 255, 255), width=2)
            draw.text((x + 3, self.bar_h - self.text - 2), name, fill=(255, 255, 255), font=fnt)
        return img

    def strip(self, canvas: Image.Image, draw: ImageDraw.ImageDraw, which: int,
              t: float, held: bool) -> None:
        """One video's bar with the playhead at ``t``, and its own clock under it."""
        track, x0, y0, width = self.bars[which]
        canvas.paste(self.backgrounds[which], (x0, y0))
        span = max(track.duration_s, 1e-6)
        x = x0 + round(min(max(t, 0.0), span) / span * (width - 1))
        draw.rectangle([x - 1, y0, x + 1, y0 + self.bar_h - 1], fill=(255, 255, 255))
        stage = span_at(track, t)
        clock = f"{track.video}  {t:5.2f} s / {track.duration_s:.2f} s"
        if stage:
            clock += f"  ·  {stage}"
        if held:
            clock += "  ·  measured here"
        fnt = font(self.text)
        draw.text((x0 + 6, y0 + self.bar_h + 3), ellipsize(draw, clock, fnt, width - 12),
                  fill=hex_rgb(VIDEO_COLOURS[track.video]) if held else _INK, font=fnt)

    def caption(self, draw: ImageDraw.ImageDraw, text: str | None) -> None:
        top = self.height - self.caption_h
        if not text:
            return
        fnt = font(self.text + 2, bold=True)
        y = top + 6
        for line in wrap(draw, text, fnt, self.width - 20, max_lines=2):
            w = draw.textlength(line, font=fnt)
            draw.text(((self.width - w) / 2, y), line, fill=(253, 224, 71), font=fnt)
            y += self.text + 8


class _Renderer:
    def __init__(self, result: ComparisonResult, layout: _Layout, readers: list[FrameReader],
                 poses: list[_Pose | None]) -> None:
        self.result, self.layout, self.readers, self.poses = result, layout, readers, poses
        self.refs = (result.video_a, result.video_b)

    def _source(self, which: int, t: float, exact: int | None) -> int:
        ref = self.refs[which]
        if exact is not None:
            return exact
        return frame_at(t, ref.source_fps, ref.n_source_frames or len(ref.indices) or 1)

    def frame(self, out: OutFrame) -> np.ndarray:
        lay = self.layout
        canvas = Image.new("RGB", (lay.width, lay.height), _BG)
        draw = ImageDraw.Draw(canvas)
        na = self._source(0, out.t_a, out.frame_a)
        nb = self._source(1, out.t_b, out.frame_b)
        img_a = Image.fromarray(self.readers[0].frame(na))
        pts_a = self.poses[0].points(na) if self.poses[0] else None
        pts_b = self.poses[1].points(nb) if self.poses[1] else None
        scale_a = lay.size_a[0] / self.poses[0].seq.width if self.poses[0] else 1.0
        if pts_a is not None:
            draw_skeleton(img_a, pts_a[0], pts_a[1], scale_a, in_place=True)
        if lay.mode == "side":
            img_b = Image.fromarray(self.readers[1].frame(nb))
            if pts_b is not None and self.poses[1] is not None:
                draw_skeleton(img_b, pts_b[0], pts_b[1], lay.size_b[0] / self.poses[1].seq.width,
                              in_place=True)
            canvas.paste(img_a, (0, 0))
            canvas.paste(img_b, (lay.size_a[0], 0))
        else:
            if pts_a is not None and pts_b is not None and self.poses[1] is not None:
                moved = ghost_points(pts_a[0], pts_a[1], scale_a, pts_b[0], pts_b[1],
                                     lay.size_b[0] / self.poses[1].seq.width)
                if moved is not None:
                    draw_skeleton(img_a, moved, pts_b[1], 1.0, palette=GHOST_PALETTE,
                                  in_place=True)
            canvas.paste(img_a, ((lay.width - lay.size_a[0]) // 2, 0))
        lay.strip(canvas, draw, 0, out.t_a, out.held)
        lay.strip(canvas, draw, 1, out.t_b, out.held)
        lay.caption(draw, out.caption)
        return np.asarray(canvas)


# ------------------------------------------------------------------------------ writing


def write_replay(result: ComparisonResult, path: str | os.PathLike[str], *,
                 speed: float = 1.0, mode: ReplayMode = "side", height: int | None = None,
                 context: VidDiffContext | None = None, skeletons: bool = True,
                 events: Sequence[Event | dict[str, object]] = (),
                 on_progress: Callable[[int, int], None] | None = None) -> ReplayInfo:
    """Write the aligned replay of ``result`` to ``path`` (an H.264 MP4) and say what it holds.

    ``speed`` < 1 is slow motion (0.5: half speed); ``mode`` ``"side"`` or ``"ghost"``;
    ``height``: of each video (default the smaller source height, at most 720); ``context``:
    the comparison's settings, so skeletons come from its cached dense pose; ``events``:
    named instants (``{name, t_a, t_b}``) marked on the bars. A video that is gone or has
    changed since the comparison is a :class:`ReplayError` (one line); so is a bad speed or
    mode. The file is written next to ``path`` and renamed into place when complete.
    """
    if mode not in MODES:
        raise ReplayError(f"replay mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not speed > 0 or speed > 16:
        raise ReplayError(f"replay speed must be above 0 and at most 16, not {speed}")
    out = Path(path).expanduser()
    src_a = check_video("A", result.video_a)
    src_b = check_video("B", result.video_b)
    ctx = context or VidDiffContext()
    notes: list[str] = []
    tmap, note = result_time_map(result)
    if note:
        notes.append(note)
    h = height or min(DEFAULT_HEIGHT, result.video_a.height, result.video_b.height)
    size_a, size_b = panel_size(result.video_a, h), panel_size(result.video_b, h)
    poses: list[_Pose | None] = [None, None]
    if skeletons:
        poses = [_load_pose("A", result.video_a, ctx, notes),
                 _load_pose("B", result.video_b, ctx, notes)]
    if mode == "ghost" and (poses[0] is None or poses[1] is None):
        notes.append("the ghost overlay needs a person (and skeletons) in both videos; "
                     "it is left out")
    order = stage_order(result)
    colours = {name: stage_colour(i) for i, name in enumerate(order)}
    layout = _Layout(mode, size_a, size_b, bar_tracks(result, events), colours)
    fps = output_fps(result.video_a.source_fps)
    holds = moments(result, tmap)
    duration_a = tmap.t_a[-1] if tmap.linear else max(result.video_a.duration_s, tmap.t_a[-1])
    total = count_frames(duration_a, fps, speed, len(holds))
    readers = [FrameReader(src_a, size_a), FrameReader(src_b, size_b)]
    renderer = _Renderer(result, layout, readers, poses)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    n = 0
    try:
        try:
            container = av.open(str(tmp), mode="w", format="mp4")
        except (av.error.FFmpegError, OSError) as err:
            raise ReplayError(f"cannot write {out}: {err}") from None
        try:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            stream.width, stream.height, stream.pix_fmt = layout.width, layout.height, "yuv420p"
            stream.options = {"crf": "20", "preset": "veryfast"}
            stream.thread_type = "AUTO"
            for frame in replay_frames(tmap, duration_a, fps, speed, holds):
                pixels = renderer.frame(frame)
                for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                    container.mux(packet)
                n += 1
                if on_progress is not None:
                    on_progress(n, total)
            for packet in stream.encode():
                container.mux(packet)
        finally:
            container.close()
            for reader in readers:
                reader.close()
        os.replace(tmp, out)
    except OSError as err:
        raise ReplayError(f"cannot write {out}: {err.strerror or err}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return ReplayInfo(out, n, fps, notes)
