"""Body pose per sampled frame (MediaPipe Pose, 33 landmarks, 2-D and 3-D), cached on disk.

Why pose at all: vision-language models are near chance on fine-grained differences, while many
of them ("the squat is deeper", "the stance is wider", "the motion is faster") are plain geometry
once the body's keypoints are known. This package turns the sampled frames of a video into a
pose sequence; :mod:`viddiff.tools.kinematics` measures it.

Modules (import from them directly; this file imports nothing, so reading a saved pose never
loads the model code):

* :mod:`~viddiff.tools.pose.sequence` -- the data: landmark names, the left/right mirror
  permutation, :class:`~viddiff.tools.pose.sequence.PoseSequence` with its .npz save/load, and
  the repair of left/right label flips.
* :mod:`~viddiff.tools.pose.mediapipe_runner` -- the model: MediaPipe settings and loading,
  silencing its native logs, :func:`~viddiff.tools.pose.mediapipe_runner.run_pose_model` and
  the cached :func:`~viddiff.tools.pose.mediapipe_runner.extract_pose`.
* :mod:`~viddiff.tools.pose.phases` -- a localizer from pose alone: ordered phases of a clip
  and the DTW alignment of clip A to clip B.
"""
