"""The offline engine on real clips with KNOWN answers (bench/validation_set.py): a slowed and
a paused copy must be told apart from the original at default settings, and copies that change
only the encoding, the frame rate or the rotation flag must show no difference."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.validation_set import ACTION, FASTER, PAUSE, Case, build, clips_present
from viddiff.graphs.schemas import ComparisonResult

pytestmark = [pytest.mark.real_clips, pytest.mark.slow]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    if not clips_present():
        pytest.skip("real clips absent (../shared/data/clips)")
    pytest.importorskip("mediapipe", reason="needs the 'pose' extra")
    out = tmp_path_factory.getbasetemp() / "validation-set"
    built = build(out, cams=(2,), names=("slow_1.5", "pause_0.6", "fps_30", "rotated",
                                         "view_cam02"))
    return {c.name: c for c in built}


def _compare(case: Case, statements: list[str], cache: Path) -> ComparisonResult:
    from viddiff import compare
    from viddiff.graphs.context import VidDiffContext

    return compare(str(case.original), str(case.variant), action=ACTION,
                   differences=statements, engine="offline",
                   context=VidDiffContext(cache_dir=cache))


def _labels(case: Case, statements: list[str], cache: Path) -> dict[str, str]:
    result = _compare(case, statements, cache)
    return {s: d.label for s, d in zip(statements, result.differences, strict=True)}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.getbasetemp() / "pose-cache"
    path.mkdir(exist_ok=True)
    return path


def test_slowed_copy_is_slower(cases: dict[str, Case], cache: Path) -> None:
    assert _labels(cases["slow_1.5"], [FASTER], cache)[FASTER] == "a"


def test_paused_copy_pauses_longer(cases: dict[str, Case], cache: Path) -> None:
    assert _labels(cases["pause_0.6"], [PAUSE], cache)[PAUSE] == "b"


@pytest.mark.parametrize("name", ["fps_30", "rotated"])
def test_no_difference_controls(cases: dict[str, Case], cache: Path, name: str) -> None:
    """Re-timed to 30 fps, or stored turned with a rotation flag: every statement is c."""
    case = cases[name]
    result = _compare(case, case.statements, cache)
    labels = {s: d.label for s, d in zip(case.statements, result.differences, strict=True)}
    assert all(v == "c" for v in labels.values()), labels
    # the rotated copy is seen upright: same size, no "different viewpoint" note
    assert (result.video_b.width, result.video_b.height) == (result.video_a.width,
                                                             result.video_a.height)
    assert not [n for n in result.notes if "angles about" in n], result.notes


def test_other_view_of_the_take_has_the_same_timing(cases: dict[str, Case],
                                                    cache: Path) -> None:
    """cam02 faces the camera and cam01 does not: cam02 read a 0.27 s pause where cam01 read
    none while stillness rested on the speed signal's own scatter, which holds movement
    (holds.stillness now takes the smaller of two jitter readings)."""
    labels = _labels(cases["view_cam02"], [FASTER, PAUSE], cache)
    assert labels == {FASTER: "c", PAUSE: "c"}
