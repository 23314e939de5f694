"""Body pose per sampled frame (MediaPipe Pose, 33 landmarks, 2-D and 3-D), cached on disk.

Why pose at all: vision-language models are near chance on fine-grained differences, while many
of them ("the squat is deeper", "the stance is wider", "the motion is faster") are plain geometry
once the body's keypoints are known. This module turns the sampled frames of a video into a
:class:`PoseSequence`; :mod:`viddiff.tools.kinematics` measures it.

Design choices:

* MediaPipe's legacy ``mp.solutions.pose`` API with ``static_image_mode=False``: the detector runs
  once and the landmark model then tracks the person from frame to frame, which is both faster
  and steadier than detecting every frame. ``model_complexity=1`` is the only model bundled in
  the 0.10.21 wheel (0 and 2 would try to download), so it is fixed.
* ``smooth_landmarks=False``: the legacy smoother assumes 30 frames/s whatever the real sampling
  rate, so at 4-8 frames/s it would lag and shave extremes (the bottom of a squat). Metrics do
  their own, rate-aware noise handling instead.
* Two readings of the same landmarks come from the one model call: image keypoints (pixels)
  and **world landmarks** (``pose_world_landmarks``: metres, origin between the hips, x right,
  y down, z away from the camera; the axes follow the camera, not gravity). Image keypoints
  say where things are in the picture (drawing, image heights, positions); world landmarks
  give joint angles that depend much less on the viewpoint than 2-D projections do (though
  not at all only if the model's depth guess were right). Both are stored;
  :mod:`viddiff.tools.kinematics` decides per metric which one it reads.
* A frame where the model finds nobody is marked absent (NaN keypoints and world landmarks,
  visibility 0); nothing is interpolated or invented here.
* Frames are downscaled (longer side ``max_side``) before inference for speed; keypoints are
  reported in pixels of the *sampled* frames, so they line up with what the rest of the
  pipeline shows.
* Results are cached by (video content digest, sampled frame indices, frame size, model
  settings) and written atomically, so concurrent runs never see a half-written file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from viddiff.tools.errors import ConfigError, VideoError
from viddiff.tools.files import write_atomic

#: MediaPipe Pose landmark names, in model order (index = position in the list).
LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
LANDMARK_INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}
N_LANDMARKS = len(LANDMARK_NAMES)


def _mirror_permutation() -> np.ndarray:
    """Index map that swaps every ``left_*`` landmark with its ``right_*`` twin."""
    perm = np.arange(N_LANDMARKS)
    for name, i in LANDMARK_INDEX.items():
        if "left" in name:
            perm[i] = LANDMARK_INDEX[name.replace("left", "right")]
        elif "right" in name:
            perm[i] = LANDMARK_INDEX[name.replace("right", "left")]
    return perm


MIRROR_PERMUTATION: np.ndarray = _mirror_permutation()

#: Settings passed to ``mp.solutions.pose.Pose``; part of the cache key.
MODEL_SETTINGS: dict[str, Any] = {
    "model": "mediapipe.solutions.pose",
    "static_image_mode": False,
    "model_complexity": 1,
    "smooth_landmarks": False,
    "min_detection_confidence": 0.5,
    "min_tracking_confidence": 0.5,
}
#: Version of the cached .npz layout; part of the cache key and stored in the file. 2 added the
#: world landmarks: a format-1 file has none, and reading it as if the clip had no 3-D pose
#: would silently switch the metrics back to 2-D, so such caches are recomputed instead.
_CACHE_FORMAT = 2
_MISSING_EXTRA = "pose estimation needs the 'pose' extra: pip install 'viddiff[pose]'"


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


@dataclass
class PoseSequence:
    """Keypoints of one person over the sampled frames of a video.

    ``keypoints[t, k]`` is the (x, y) pixel position of landmark ``k`` in sampled frame ``t``
    (origin top-left, y pointing down), NaN where ``present[t]`` is False. ``visibility`` is
    MediaPipe's per-landmark visibility in [0, 1] (0 when absent). ``timestamps`` are seconds
    from the start of the video; ``width``/``height`` the sampled frame size in pixels.
    ``lr_agreement`` is the fraction of present frames whose left/right labels (after
    :func:`repair_left_right`) are the model's own: near 1 the sides are trustworthy, near 0.5
    the model could not tell the person's left from right (front/back ambiguity).

    ``world[t, k]`` is the model's 3-D estimate of landmark ``k`` in metres, origin midway
    between the hips, axes aligned with the camera (x right, y down, z away from the camera);
    NaN where absent, and everywhere when no 3-D pose is known (the default: sequences built
    from 2-D data alone, e.g. synthetic test figures). It shares ``visibility`` and the
    left/right labels with ``keypoints``.
    """

    keypoints: np.ndarray
    visibility: np.ndarray
    present: np.ndarray
    timestamps: np.ndarray
    width: int
    height: int
    lr_agreement: float = 1.0
    world: np.ndarray = field(default_factory=lambda: np.empty((0, N_LANDMARKS, 3)))

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32)
        self.visibility = np.asarray(self.visibility, dtype=np.float32)
        self.present = np.asarray(self.present, dtype=bool)
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        t = self.present.shape[0]
        if self.keypoints.shape != (t, N_LANDMARKS, 2):
            raise ValueError(f"keypoints must be (T, {N_LANDMARKS}, 2), got {self.keypoints.shape}")
        if self.visibility.shape != (t, N_LANDMARKS):
            raise ValueError(f"visibility must be (T, {N_LANDMARKS}), got {self.visibility.shape}")
        if self.timestamps.shape != (t,):
            raise ValueError(f"timestamps must be (T,), got {self.timestamps.shape}")
        world = np.asarray(self.world, dtype=np.float32)
        if world.size == 0 and world.shape[1:] == (N_LANDMARKS, 3):
            world = np.full((t, N_LANDMARKS, 3), np.nan, dtype=np.float32)
        if world.shape != (t, N_LANDMARKS, 3):
            raise ValueError(f"world must be (T, {N_LANDMARKS}, 3), got {world.shape}")
        self.world = world
        self.width = int(self.width)
        self.height = int(self.height)
        self.lr_agreement = float(self.lr_agreement)

    @property
    def n_frames(self) -> int:
        return int(self.present.shape[0])

    @property
    def frame_period(self) -> float:
        """Median seconds between consecutive sampled frames (1/fps); 0 for a single frame."""
        if self.n_frames < 2:
            return 0.0
        return float(np.median(np.diff(self.timestamps)))

    @property
    def has_world(self) -> bool:
        """Whether every present frame has its 3-D world landmarks (and some frame is present).

        All or nothing on purpose: a metric must not mix 3-D and 2-D frames in one clip.
        """
        if not self.present.any():
            return False
        return bool(np.isfinite(self.world[self.present]).all())

    def point(self, name: str) -> np.ndarray:
        """(T, 2) trajectory of one landmark by name (e.g. ``"left_knee"``)."""
        return self.keypoints[:, LANDMARK_INDEX[name]]

    def vis(self, name: str) -> np.ndarray:
        """(T,) visibility of one landmark by name."""
        return self.visibility[:, LANDMARK_INDEX[name]]

    def mirrored(self) -> PoseSequence:
        """The pose of the horizontally flipped video: x -> width - x, left and right swapped.

        World landmarks mirror about their own origin (x -> -x; the camera's x axis is what
        the flip reverses). Useful as a known-answer transform: every left metric of the
        original equals the right metric of the mirror. (The model run on a mirrored video
        gets this only approximately: its depth guess for the flipped image differs.)
        """
        kp = self.keypoints[:, MIRROR_PERMUTATION].copy()
        kp[..., 0] = self.width - kp[..., 0]
        world = self.world[:, MIRROR_PERMUTATION].copy()
        world[..., 0] = -world[..., 0]
        return PoseSequence(
            keypoints=kp,
            visibility=self.visibility[:, MIRROR_PERMUTATION].copy(),
            present=self.present.copy(),
            timestamps=self.timestamps.copy(),
            width=self.width,
            height=self.height,
            lr_agreement=self.lr_agreement,
            world=world,
        )

    def save(self, path: str | Path) -> None:
        """Write to ``path`` as .npz, atomically (temporary file + ``os.replace``)."""
        buf = io.BytesIO()
        np.savez_compressed(
                    buf,
                    keypoints=self.keypoints,
                    visibility=self.visibility,
                    present=self.present,
                    timestamps=self.timestamps,
                    size=np.array([self.width, self.height], dtype=np.int64),
                    lr_agreement=np.array(self.lr_agreement),
                    world=self.world,
                    format=np.array(_CACHE_FORMAT),
                )
        write_atomic(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path, *, require_current: bool = False) -> PoseSequence:
        """Read a sequence written by :meth:`save`.

        Files from before the world landmarks (format 1) load without them (all NaN);
        ``require_current`` refuses them instead (``ValueError``), which is what the cache wants.
        """
        with np.load(Path(path), allow_pickle=False) as data:
            version = int(data["format"]) if "format" in data else 1
            if require_current and version != _CACHE_FORMAT:
                raise ValueError(f"pose file format {version}, expected {_CACHE_FORMAT}")
            width, height = (int(v) for v in data["size"])
            return cls(
                keypoints=data["keypoints"],
                visibility=data["visibility"],
                present=data["present"],
                timestamps=data["timestamps"],
                width=width,
                height=height,
                lr_agreement=float(data["lr_agreement"]) if "lr_agreement" in data else 1.0,
                world=data["world"] if "world" in data else np.empty((0, N_LANDMARKS, 3)),
            )


def pose_cache_key(video: SampledFrames, max_side: int) -> str:
    """Hex key for the pose of these sampled frames under the current model settings."""
    frames = np.asarray(video.frames)
    payload = {
        "format": _CACHE_FORMAT,
        "digest": video.digest,
        "indices": [int(i) for i in np.asarray(video.indices).ravel()],
        "shape": list(frames.shape),
        "max_side": int(max_side),
        "model": MODEL_SETTINGS,
    }
    blob = json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _load_mediapipe_pose() -> Any:
    """Import MediaPipe lazily: it is an optional extra and slow to import."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # silence C++ info logs
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from mediapipe.python.solutions import pose as mp_pose
    except ImportError as err:
        raise ConfigError(_MISSING_EXTRA) from err
    return mp_pose


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


def run_pose_model(frames: np.ndarray, max_side: int = 448
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run MediaPipe Pose with tracking over ``frames`` (T, H, W, 3) uint8 RGB.

    Returns keypoints (T, 33, 2) in pixels of the given frames (NaN where nobody was found),
    visibility (T, 33) and world landmarks (T, 33, 3) in metres (NaN where nobody was found).
    Both landmark sets come out of the same inference, so the 3-D pose costs no extra time.
    """
    mp_pose = _load_mediapipe_pose()
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise VideoError(f"expected frames shaped (T, H, W, 3), got {frames.shape}")
    t, h, w = frames.shape[:3]
    keypoints = np.full((t, N_LANDMARKS, 2), np.nan, dtype=np.float32)
    visibility = np.zeros((t, N_LANDMARKS), dtype=np.float32)
    world = np.full((t, N_LANDMARKS, 3), np.nan, dtype=np.float32)
    settings = {k: v for k, v in MODEL_SETTINGS.items() if k != "model"}
    with quiet_native_stderr(), mp_pose.Pose(**settings) as model:
        for i in range(t):
            result = model.process(_resize_for_model(frames[i], max_side))
            if result.pose_landmarks is None:
                continue
            marks = result.pose_landmarks.landmark
            keypoints[i] = [(m.x * w, m.y * h) for m in marks]
            visibility[i] = [m.visibility for m in marks]
            if result.pose_world_landmarks is not None:
                world[i] = [(m.x, m.y, m.z) for m in result.pose_world_landmarks.landmark]
    return keypoints, visibility, world


def repair_left_right(pose: PoseSequence, ratio: float = 0.6) -> PoseSequence:
    """Undo whole-body left/right label flips between frames; returns a new sequence.

    The model guesses which side of the body is which from every frame anew and, on a person
    who faces away or turns, sometimes swaps all left and right labels for a frame or a run of
    frames. Limbs move continuously, so each frame is compared with the previous present frame
    as labelled and with its left/right labels swapped (visibility-weighted distance over the
    body landmarks); when the swapped reading is clearly closer (``cost_swap < ratio *
    cost_keep``) the frame is swapped. The chain fixes relative labels only, so at the end the
    global orientation is chosen to agree with the model's own guess on most frames; how many
    agree is kept as ``lr_agreement`` (sided metrics are not trusted when it is low).
    """
    kp = pose.keypoints.copy()
    vis = pose.visibility.copy()
    world = pose.world.copy()
    body = np.arange(LANDMARK_INDEX["left_shoulder"], N_LANDMARKS)
    swapped = np.zeros(pose.n_frames, dtype=bool)
    prev: int | None = None
    for t in np.flatnonzero(pose.present):
        if prev is not None:
            ref = kp[prev, body]
            w = np.minimum(vis[prev, body], vis[t, body])
            keep = _weighted_distance(kp[t, body], ref, w)
            swap = _weighted_distance(kp[t, MIRROR_PERMUTATION[body]], ref,
                                      np.minimum(vis[prev, body], vis[t, MIRROR_PERMUTATION[body]]))
            if swap < ratio * keep:
                kp[t] = kp[t, MIRROR_PERMUTATION]
                vis[t] = vis[t, MIRROR_PERMUTATION]
                world[t] = world[t, MIRROR_PERMUTATION]
                swapped[t] = True
        prev = int(t)
    n_present = int(pose.present.sum())
    n_swapped = int(swapped[pose.present].sum())
    if n_swapped * 2 > n_present:
        flip = pose.present
        kp[flip] = kp[flip][:, MIRROR_PERMUTATION]
        vis[flip] = vis[flip][:, MIRROR_PERMUTATION]
        world[flip] = world[flip][:, MIRROR_PERMUTATION]
        n_swapped = n_present - n_swapped
    agreement = 1.0 - n_swapped / n_present if n_present else 1.0
    return PoseSequence(keypoints=kp, visibility=vis, present=pose.present.copy(),
                        timestamps=pose.timestamps.copy(), width=pose.width, height=pose.height,
                        lr_agreement=agreement * pose.lr_agreement, world=world)


def _weighted_distance(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    d = np.linalg.norm(a - b, axis=1)
    ok = np.isfinite(d)
    if not ok.any():
        return 0.0
    return float(np.sum(d[ok] * (w[ok] + 1e-3)) / np.sum(w[ok] + 1e-3))


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
    ``repair_swaps`` then applies :func:`repair_left_right`.
    """
    frames = np.asarray(video.frames)
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise VideoError(f"no frames to estimate pose on (frames shape {frames.shape})")
    path: Path | None = None
    pose: PoseSequence | None = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"pose-{pose_cache_key(video, max_side)[:32]}.npz"
        if path.exists():
            try:
                pose = PoseSequence.load(path, require_current=True)
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # corrupt or old format: recompute
    if pose is None:
        keypoints, visibility, world = run_pose_model(frames, max_side=max_side)
        pose = PoseSequence(
            keypoints=keypoints,
            visibility=visibility,
            world=world,
            present=np.isfinite(keypoints[:, :, 0]).all(axis=1),
            timestamps=np.asarray(video.timestamps, dtype=np.float64),
            width=int(frames.shape[2]),
            height=int(frames.shape[1]),
        )
        if path is not None:
            pose.save(path)
    return repair_left_right(pose) if repair_swaps else pose
