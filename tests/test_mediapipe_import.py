"""Loading the pose model does not import matplotlib (MediaPipe's drawing helpers are
deferred), and those helpers still work for code that uses them."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("mediapipe")

_CODE = """
import sys
from viddiff.tools.pose.extract import _load_mediapipe_pose
pose = _load_mediapipe_pose()
assert hasattr(pose, "Pose")
print("matplotlib" in sys.modules)
import mediapipe as mp
print(type(mp.solutions.drawing_utils).__name__)
spec = mp.solutions.drawing_utils.DrawingSpec(color=(1, 2, 3))
style = mp.solutions.drawing_styles.get_default_pose_landmarks_style()
print(spec.color, len(style) > 0, "matplotlib" in sys.modules)
from mediapipe.python.solutions.drawing_utils import draw_landmarks
print(callable(draw_landmarks), type(mp.solutions.drawing_utils).__name__)
"""


def test_pose_model_import_skips_matplotlib_and_drawing_still_works() -> None:
    out = subprocess.run([sys.executable, "-c", _CODE], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split("\n")
    assert out[:4] == ["False", "DeferredModule", "(1, 2, 3) True True", "True module"]
