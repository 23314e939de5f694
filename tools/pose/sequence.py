"""One person's body pose over the sampled frames of a video: the data, without the model.

:class:`PoseSequence` holds MediaPipe Pose's 33 landmarks per sampled frame
(:mod:`viddiff.tools.pose.extract` produces it) and saves/loads itself as .npz. It
lives apart from the model runner so that code which only reads poses (metrics, drawing,
tests with synthetic figures) never needs MediaPipe.

* Two readings of the same landmarks come from the one model call: image keypoints (pixels)
  and **world landmarks** (``pose_world_landmarks``: metres, origin between the hips, x right,
  y down, z away from the camera; the axes follow the camera, not gravity). Image keypoints
  say where things are in the picture (drawing, image heights, positions); world landmarks
  give joint angles that depend much less on the viewpoint than 2-D projections do (though
  not at all only if the model's depth guess were right). Both are stored;
  :mod:`viddiff.tools.kinematics` decides per metric which one it reads.
* A frame where the model finds nobody is marked absent (NaN keypoints and world landmarks,
  visibility 0); nothing is interpolated or invented here.
* :func:`repair_left_right` undoes the model's whole-body left/right label flips; it works on
  the stored landmarks alone.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

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

T = TypeVar("T")

#: Version of the cached .npz layout; part of the cache key and stored in the file. 2 added the
#: world landmarks: a format-1 file has none, and reading it as if the clip had no 3-D pose
#: would silently switch the metrics back to 2-D, so such caches are recomputed instead.
#: 4 added ``others`` (the look for a second person), which a format-3 file has not done;
#: 5 added ``sharpness`` (how sharp the person's picture is), 6 ``contrast``.
CACHE_FORMAT = 6

#: Below this left/right label agreement (:attr:`PoseSequence.lr_agreement`) nothing that
#: depends on which side is the person's left is trusted (sided metrics, facing direction).
LR_AGREEMENT_MIN = 0.8


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
    indices: np.ndarray | None = None
    """Source frame number of each pose frame (where a measured value can be looked at);
    None for sequences built without a video (then the row number stands in)."""
    sharpness: float = float("nan")
    """How sharp the person's picture is (:mod:`viddiff.tools.pose.sharpness`); NaN when not
    read (sequences built without the model)."""
    contrast: float = float("nan")
    """How contrasted the person's picture is (grey levels' standard deviation); NaN when not
    read."""
    others: np.ndarray | None = None
    """A second person looked for (:func:`viddiff.tools.pose.extract.probe_others`): (P, 2)
    rows of ``[pose row, 1 if someone else was found there else 0]``; None when not looked
    for (sequences built without the model)."""

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
        if self.indices is not None:
            self.indices = np.asarray(self.indices, dtype=np.int64)
            if self.indices.shape != (t,):
                raise ValueError(f"indices must be (T,), got {self.indices.shape}")
        if self.others is not None:
            self.others = np.asarray(self.others, dtype=np.int64).reshape(-1, 2)
        self.width = int(self.width)
        self.height = int(self.height)
        self.lr_agreement = float(self.lr_agreement)
        self.sharpness = float(self.sharpness)
        self.contrast = float(self.contrast)

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

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per sequence and ``key``: values every metric of a comparison
        asks for (the clip's context, whether one person is tracked, whether two clips see
        the body from different directions). A sequence's data never changes after it is
        built, and a modified copy (``dataclasses.replace``) starts with no memo."""
        memo: dict[Hashable, Any] = self.__dict__.setdefault("_derived", {})
        if key not in memo:
            memo[key] = compute()
        return cast(T, memo[key])

    def source_frame(self, row: int) -> int:
        """The source frame number of pose frame ``row``."""
        return int(self.indices[row]) if self.indices is not None else int(row)

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
            indices=None if self.indices is None else self.indices.copy(),
            others=None if self.others is None else self.others.copy(),
            sharpness=self.sharpness,
            contrast=self.contrast,
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
                    indices=(self.indices if self.indices is not None
                             else np.full(0, -1, dtype=np.int64)),
                    others=(self.others if self.others is not None
                            else np.full((0, 2), -1, dtype=np.int64)),
                    probed=np.array(self.others is not None),
                    sharpness=np.array(self.sharpness),
                    contrast=np.array(self.contrast),
                    format=np.array(CACHE_FORMAT),
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
            if require_current and version != CACHE_FORMAT:
                raise ValueError(f"pose file format {version}, expected {CACHE_FORMAT}")
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
                indices=(data["indices"] if "indices" in data and data["indices"].size
                         else None),
                others=(data["others"] if "probed" in data and bool(data["probed"])
                        else None),
                sharpness=float(data["sharpness"]) if "sharpness" in data else float("nan"),
                contrast=float(data["contrast"]) if "contrast" in data else float("nan"),
            )


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
                        lr_agreement=agreement * pose.lr_agreement, world=world,
                        indices=None if pose.indices is None else pose.indices.copy(),
                        others=None if pose.others is None else pose.others.copy(),
                        sharpness=pose.sharpness, contrast=pose.contrast)


def _weighted_distance(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    d = np.linalg.norm(a - b, axis=1)
    ok = np.isfinite(d)
    if not ok.any():
        return 0.0
    return float(np.sum(d[ok] * (w[ok] + 1e-3)) / np.sum(w[ok] + 1e-3))
