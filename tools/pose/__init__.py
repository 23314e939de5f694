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
* :mod:`~viddiff.tools.pose.extract` -- the model: MediaPipe settings and loading,
  silencing its native logs, :func:`~viddiff.tools.pose.extract.run_pose_model` and
  the cached :func:`~viddiff.tools.pose.extract.extract_pose`.

The localizer from pose alone (ordered phases of a clip, the DTW alignment of A to B) is
:mod:`viddiff.tools.pose_phases`: it reads kinematics signals, which read pose, so it sits
above both packages rather than inside this one.
"""
