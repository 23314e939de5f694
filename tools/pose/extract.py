"""Running MediaPipe Pose over sampled frames, and the on-disk cache of its results.

Design choices:

* MediaPipe's legacy ``mp.solutions.pose`` API with ``static_image_mode=False``: the detector runs
  once and the landmark model then tracks the person from frame to frame, which is both faster
  and steadier than detecting every frame. ``model_complexity=1`` is the only model bundled in
  the 0.10.21 wheel (0 and 2 would try to download), so it is fixed.
* ``smooth_landmarks=False``: the legacy smoother assumes 30 frames/s whatever the real sampling
  rate, so at 4-8 frames/s it would lag and shave extremes (the bottom of a squat). Metrics do
  their own, rate-aware noise handling instead.
* One model call gives both readings a :class:`~viddiff.tools.pose.sequence.PoseSequence`
  stores: image keypoints and world landmarks (``pose_world_landmarks``).
* Frames are downscaled (longer side ``max_side``) before inference for speed; keypoints are
  reported in pixels of the *sampled* frames, so they line up with what the rest of the
  pipeline shows.
* Results are cached by (video content digest, sampled frame indices, frame size, model
  settings) and written atomically, so concurrent runs never see a half-written file. The key
  (:func:`pose_cache_key`) lives here, beside :data:`MODEL_SETTINGS`, rather than with the data
  in :mod:`~viddiff.tools.pose.sequence`, which would otherwise have to import the runner.
* A second person: the tracker never says whether someone else is in view, so on
  :data:`N_PROBES` frames the tracked person is masked out and the detector run again as on a
  still image (:class:`_OtherFinder`); the result is cached with the pose (``others``).

MediaPipe is an optional extra and slow to import, so it is imported on first use only:
importing this module does not need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from viddiff.tools.errors import VideoError
from viddiff.tools.extras import require_extra
from viddiff.tools.pose.mediapipe_import import import_pose_solution
from viddiff.tools.pose.plausibility import plausible
from viddiff.tools.pose.sequence import (
    CACHE_FORMAT,
    LANDMARK_INDEX,
    N_LANDMARKS,
    PoseSequence,
    repair_left_right,
)
from viddiff.tools.pose.sharpness import (
    BOX_MARGIN,
    SHARPNESS_FRAMES,
    clip_picture,
    frame_picture,
    sharpness_rows,
)
from viddiff.tools.video import STREAM_SCALING, SamplingPlan, iter_frames

#: Settings passed to ``mp.solutions.pose.Pose``; part of the cache key.
MODEL_SETTINGS: dict[str, Any] = {
    "model": "mediapipe.solutions.pose",
    "static_image_mode": False,
    "model_complexity": 1,
    "smooth_landmarks": False,
    "min_detection_confidence": 0.5,
    "min_tracking_confidence": 0.5,
}
_STREAM_DECODER = f"pyav-sequential-{STREAM_SCALING.lower()}"
"""How :func:`extract_video_pose` decodes its frames (part of its cache key)."""


class SampledFrames(Protocol):
    """What pose extraction needs from a decoded video (``viddiff.tools.video.SampledVideo``)."""

    @property
    def digest(self) -> str: ...

    @property
    def indices(self) -> Sequence[int] | np.ndarray: ...

    @property
    def timestamps(self) -> Sequence[float] | np.ndarray: ...

    @property
    def frames(self) -> np.ndarray: ...


def pose_cache_key(video: SampledFrames, max_side: int) -> str:
    """Hex key for the pose of these sampled frames under the current model settings."""
    frames = np.asarray(video.frames)
    return _cache_key(video.digest, np.asarray(video.indices), frames.shape, max_side)


def _cache_key(digest: str, indices: np.ndarray, shape: Sequence[int], max_side: int,
               decoder: str | None = None) -> str:
    payload: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "digest": digest,
        "indices": [int(i) for i in indices.ravel()],
        "shape": [int(v) for v in shape],
        "max_side": int(max_side),
        "model": MODEL_SETTINGS,
        "others": {"probes": N_PROBES, "margin": PROBE_MARGIN,
                   "min_visibility": PROBE_MIN_VISIBILITY},
        "sharpness": {"frames": SHARPNESS_FRAMES, "margin": BOX_MARGIN, "contrast": True},
    }
    if decoder is not None:  # frames decoded here (streamed), not handed in
        payload["decoder"] = decoder
    blob = json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _load_mediapipe_pose() -> Any:
    """Import MediaPipe lazily: it is an optional extra and slow to import."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # silence C++ info logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    require_extra("pose", "pose estimation")
    return import_pose_solution()  # without matplotlib (mediapipe_import.py)


def _resize_for_model(frame: np.ndarray, max_side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return np.ascontiguousarray(frame)
    import cv2  # comes with mediapipe

    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


_stderr_lock = threading.Lock()
_stderr_users = 0
_stderr_saved: int | None = None


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence MediaPipe/TFLite's C++ log lines (they write to file descriptor 2 directly and
    ignore Python's logging and the GLOG/TF environment variables once loaded), so a terminal
    shows viddiff's own output. ``VIDDIFF_NATIVE_LOGS=1`` keeps them for debugging. Re-entrant
    across threads: the descriptor is restored when the last user leaves."""
    global _stderr_users, _stderr_saved
    if os.environ.get("VIDDIFF_NATIVE_LOGS") == "1":
        yield
        return
    with _stderr_lock:
        if _stderr_users == 0:
            sys.stderr.flush()
            _stderr_saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        _stderr_users += 1
    try:
        yield
    finally:
        with _stderr_lock:
            _stderr_users -= 1
            if _stderr_users == 0 and _stderr_saved is not None:
                os.dup2(_stderr_saved, 2)
                os.close(_stderr_saved)
                _stderr_saved = None


class _PoseModel:
    """One MediaPipe Pose tracker fed frames chunk by chunk (tracking carries across chunks)."""

    def __init__(self, max_side: int) -> None:
        self._mp_pose = _load_mediapipe_pose()
        self._max_side = max_side
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _PoseModel:
        settings = {k: v for k, v in MODEL_SETTINGS.items() if k != "model"}
        self._stack.enter_context(quiet_native_stderr())
        self._model = self._stack.enter_context(self._mp_pose.Pose(**settings))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keypoints (T, 33, 2) in pixels of ``frames``, visibility (T, 33), world (T, 33, 3)."""
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise VideoError(f"expected frames shaped (T, H, W, 3), got {frames.shape}")
        t, h, w = frames.shape[:3]
        keypoints = np.full((t, N_LANDMARKS, 2), np.nan, dtype=np.float32)
        visibility = np.zeros((t, N_LANDMARKS), dtype=np.float32)
        world = np.full((t, N_LANDMARKS, 3), np.nan, dtype=np.float32)
        for i in range(t):
            result = self._model.process(_resize_for_model(frames[i], self._max_side))
            if result.pose_landmarks is None:
                continue
            marks = result.pose_landmarks.landmark
            keypoints[i] = [(m.x * w, m.y * h) for m in marks]
            visibility[i] = [m.visibility for m in marks]
            if result.pose_world_landmarks is not None:
                world[i] = [(m.x, m.y, m.z) for m in result.pose_world_landmarks.landmark]
        return keypoints, visibility, world


#: Frames of a clip looked at for a second person: evenly spaced, first and last excluded.
N_PROBES = 6
#: The box masked out around the tracked person grows by this share of its size on each side.
PROBE_MARGIN = 0.15
#: Someone found in the masked frame counts when their shoulders and hips are this visible.
PROBE_MIN_VISIBILITY = 0.5


def probe_rows(n: int) -> np.ndarray:
    """The rows of an ``n``-frame clip that :class:`_OtherFinder` looks at."""
    if n < 3:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n - 1, N_PROBES + 2)[1:-1]).astype(np.int64))


class _OtherFinder:
    """Looks for someone besides the tracked person in a frame.

    MediaPipe's legacy pose solution tracks one person and never says whether another is in
    view; a second person who stays put is invisible in its output. So the tracked person is
    masked out (a black box around their landmarks, :data:`PROBE_MARGIN` larger) and the
    detector is run again on the frame, as a still image: a body it finds there, with its
    shoulders and hips visible and its hips outside the box, is someone else. A handful of
    frames (:data:`N_PROBES`) is enough for "a second person is visible for a sustained time"
    and costs a few inferences per clip."""

    def __init__(self, max_side: int) -> None:
        self._mp_pose = _load_mediapipe_pose()
        self._max_side = max_side
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _OtherFinder:
        self._stack.enter_context(quiet_native_stderr())
        self._model = self._stack.enter_context(self._mp_pose.Pose(
            static_image_mode=True, model_complexity=MODEL_SETTINGS["model_complexity"],
            min_detection_confidence=MODEL_SETTINGS["min_detection_confidence"]))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def other_person(self, frame: np.ndarray, keypoints: np.ndarray) -> bool:
        """Whether ``frame`` shows someone besides the person at ``keypoints`` (33, 2)."""
        if not np.isfinite(keypoints).all():
            return False  # nobody tracked here: no "second" person to speak of
        h, w = frame.shape[:2]
        lo, hi = keypoints.min(axis=0), keypoints.max(axis=0)
        pad = PROBE_MARGIN * float(max(hi - lo))
        x0, y0 = (max(0, int(v - pad)) for v in lo)
        x1, y1 = (int(v + pad) + 1 for v in hi)
        masked = np.array(frame, copy=True)
        masked[y0:y1, x0:x1] = 0
        result = self._model.process(_resize_for_model(masked, self._max_side))
        if result.pose_landmarks is None:
            return False
        marks = result.pose_landmarks.landmark
        core = [LANDMARK_INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip",
                                             "right_hip")]
        if min(marks[i].visibility for i in core) < PROBE_MIN_VISIBILITY:
            return False
        hx = 0.5 * (marks[core[2]].x + marks[core[3]].x) * w
        hy = 0.5 * (marks[core[2]].y + marks[core[3]].y) * h
        return not (x0 <= hx < x1 and y0 <= hy < y1)


def probe_others(frames: np.ndarray, keypoints: np.ndarray, rows: np.ndarray,
                 max_side: int = 448) -> np.ndarray:
    """``[row, found]`` for each of ``rows`` of ``frames`` (T, H, W, 3) whose tracked person
    is at ``keypoints`` (T, 33, 2): whether someone else is in view there (see
    :class:`_OtherFinder`)."""
    out = np.zeros((len(rows), 2), dtype=np.int64)
    if len(rows) == 0:
        return out
    with _OtherFinder(max_side) as finder:
        for i, row in enumerate(rows):
            out[i] = (row, int(finder.other_person(frames[row], keypoints[row])))
    return out


def run_pose_model(frames: np.ndarray, max_side: int = 448
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run MediaPipe Pose with tracking over ``frames`` (T, H, W, 3) uint8 RGB.

    Returns keypoints (T, 33, 2) in pixels of the given frames (NaN where nobody was found),
    visibility (T, 33) and world landmarks (T, 33, 3) in metres (NaN where nobody was found).
    Both landmark sets come out of the same inference, so the 3-D pose costs no extra time.
    """
    with _PoseModel(max_side) as model:
        return model.process(frames)


def extract_pose(
    video: SampledFrames,
    cache_dir: Path | None = None,
    *,
    max_side: int = 448,
    repair_swaps: bool = True,
) -> PoseSequence:
    """Pose of every sampled frame of ``video``, read from ``cache_dir`` when already computed.

    ``max_side`` bounds the longer side of the image given to the model (speed); keypoints are
    always in pixels of ``video.frames``. The cache holds the model's raw output;
    ``repair_swaps`` then applies :func:`repair_left_right`, and implausible skeletons are
    marked not seen (:func:`viddiff.tools.pose.plausibility.plausible`).
    """
    frames = np.asarray(video.frames)
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise VideoError(f"no frames to estimate pose on (frames shape {frames.shape})")
    path: Path | None = None
    pose: PoseSequence | None = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"pose-{pose_cache_key(video, max_side)[:32]}.npz"
        pose = _load_cached(path)
    if pose is None:
        keypoints, visibility, world = run_pose_model(frames, max_side=max_side)
        others = probe_others(frames, keypoints, probe_rows(frames.shape[0]), max_side)
        sharpness, contrast = clip_picture([frame_picture(frames[row], keypoints[row])
                                            for row in sharpness_rows(frames.shape[0])])
        pose = PoseSequence(
            others=others,
            sharpness=sharpness,
            contrast=contrast,
            keypoints=keypoints,
            visibility=visibility,
            world=world,
            present=np.isfinite(keypoints[:, :, 0]).all(axis=1),
            timestamps=np.asarray(video.timestamps, dtype=np.float64),
            width=int(frames.shape[2]),
            height=int(frames.shape[1]),
            indices=np.asarray(video.indices, dtype=np.int64),
        )
        if path is not None:
            pose.save(path)
    return _for_measurement(pose, repair_swaps)


def extract_video_pose(
    plan: SamplingPlan,
    cache_dir: Path | None = None,
    *,
    max_side: int = 448,
    repair_swaps: bool = True,
    chunk: int = 64,
    on_progress: Callable[[int, int], None] | None = None,
) -> PoseSequence:
    """Pose of every planned frame of a video, decoded and analysed chunk by chunk.

    The cache is checked before anything is decoded (its key needs only the plan), so a warm
    run costs a file read; a cold run holds one chunk of frames at a time, whatever the clip's
    length. Frames come from one sequential decode (:func:`~viddiff.tools.video.iter_frames`),
    whose scaling filter is part of the cache key.
    """
    n = int(plan.indices.shape[0])
    if n == 0:
        raise VideoError(f"{plan.info.path}: no frames to estimate pose on")
    path = None if cache_dir is None else _video_pose_path(plan, cache_dir, max_side)
    pose = None if path is None else _load_cached(path)
    if pose is None:
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        got: list[np.ndarray] = []
        probes, sharp_rows = probe_rows(n), sharpness_rows(n)
        others: list[np.ndarray] = []
        picture: list[tuple[float, float]] = []
        with _PoseModel(max_side) as model, _OtherFinder(max_side) as finder:
            for indices, frames in iter_frames(plan, chunk, sequential=True):
                parts.append(model.process(frames))
                start = sum(len(g) for g in got)
                for row in probes[(probes >= start) & (probes < start + len(indices))]:
                    found = finder.other_person(frames[row - start], parts[-1][0][row - start])
                    others.append(np.array([row, int(found)]))
                for row in sharp_rows[(sharp_rows >= start) & (sharp_rows < start + len(indices))]:
                    picture.append(frame_picture(frames[row - start], parts[-1][0][row - start]))
                got.append(indices)
                if on_progress is not None:
                    on_progress(sum(len(g) for g in got), n)
        sharpness, contrast = clip_picture(picture)
        indices = np.concatenate(got) if got else np.zeros(0, np.int64)
        if indices.shape[0] == 0:
            raise VideoError(f"{plan.info.path}: no frame could be decoded")
        keypoints = np.concatenate([p[0] for p in parts])
        pose = PoseSequence(
            keypoints=keypoints,
            visibility=np.concatenate([p[1] for p in parts]),
            world=np.concatenate([p[2] for p in parts]),
            present=np.isfinite(keypoints[:, :, 0]).all(axis=1),
            timestamps=indices / plan.info.fps,
            width=plan.width,
            height=plan.height,
            indices=indices,
            others=np.stack(others) if others else np.zeros((0, 2), np.int64),
            sharpness=sharpness,
            contrast=contrast,
        )
        if path is not None:
            pose.save(path)
    return _for_measurement(pose, repair_swaps)


def cached_video_pose(plan: SamplingPlan, cache_dir: Path, *, max_side: int = 448,
                      repair_swaps: bool = True) -> PoseSequence | None:
    """What :func:`extract_video_pose` would return from its cache, or None; never decodes
    and never runs the model (a report draws skeletons from the comparison's pose this way)."""
    if int(plan.indices.shape[0]) == 0:
        return None
    pose = _load_cached(_video_pose_path(plan, cache_dir, max_side))
    if pose is None:
        return None
    return _for_measurement(pose, repair_swaps)


def _for_measurement(pose: PoseSequence, repair_swaps: bool) -> PoseSequence:
    """The cached raw model output as measurements read it: left/right flips repaired (when
    ``repair_swaps``), then skeletons no body could have marked not seen
    (:func:`~viddiff.tools.pose.plausibility.plausible`). Both run on every read, so the cache
    keeps the raw output and neither needs a new cache format when its rules change."""
    return plausible(repair_left_right(pose) if repair_swaps else pose)


def _video_pose_path(plan: SamplingPlan, cache_dir: Path, max_side: int) -> Path:
    shape = (int(plan.indices.shape[0]), plan.height, plan.width, 3)
    key = _cache_key(plan.digest, plan.indices, shape, max_side, _STREAM_DECODER)
    return Path(cache_dir) / f"pose-{key[:32]}.npz"


def _load_cached(path: Path) -> PoseSequence | None:
    if not path.exists():
        return None
    try:
        return PoseSequence.load(path, require_current=True)
    except (OSError, ValueError, KeyError):
        path.unlink(missing_ok=True)  # corrupt or old format: recompute
        return None
