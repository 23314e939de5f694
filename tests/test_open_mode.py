"""Open mode end to end on the shipped example clips (always present): a control that must
state nothing, and a constructed difference that must be stated, first, and alone.

The example pair is two camera views of one take, so any statement about it is false; the
copy of A played 1.25x slower differs only in tempo, so the slower movement is the one true
statement. Both run the real offline engine (MediaPipe pose), as `viddiff compare --open 5`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.videos import write_variant
from viddiff import VidDiffContext, compare

CLIPS = Path(__file__).resolve().parents[1] / "examples" / "clips"

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> VidDiffContext:
    pytest.importorskip("mediapipe", reason="open mode needs the 'pose' extra (mediapipe)")
    return VidDiffContext(cache_dir=tmp_path_factory.mktemp("cache"))


def test_two_views_of_one_take_state_nothing(context: VidDiffContext) -> None:
    result = compare(str(CLIPS / "A.mp4"), str(CLIPS / "B.mp4"), action="a lunge",
                     n_differences=5, engine="offline", context=context)
    assert result.differences == [], [d.reason for d in result.differences]
    assert any("no measured difference cleared" in n for n in result.notes)
    names = [s.stage for s in result.segments_a]
    assert names[:4] == ["standing", "descent", "bottom", "ascent"]
    assert [s.stage for s in result.segments_b][:4] == names[:4]
    assert [e.name for e in result.events] == ["start", "bottom", "end"]


def test_a_slower_copy_is_stated_first_and_alone(context: VidDiffContext,
                                                 tmp_path: Path) -> None:
    slow = write_variant(CLIPS / "A.mp4", tmp_path / "slow.mp4", slow=1.25)
    result = compare(str(CLIPS / "A.mp4"), str(slow), action="a lunge", n_differences=5,
                     engine="offline", context=context)
    assert [d.measurements[0].metric for d in result.differences] == ["motion_duration"]
    (diff,) = result.differences
    assert diff.label == "b" and "slower" in diff.description
    bottom = next(e for e in result.events if e.name == "bottom")
    assert bottom.t_b == pytest.approx(1.25 * bottom.t_a, abs=0.1)
