"""The offline engine's result cache: the very same comparison is read back without running
the graph; anything it depends on (video content, settings, code, pose model) computes it
again. Real clips (skipped when absent); the offline engine needs the 'pose' extra."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import viddiff.graphs.runner as graph_runner
from tests.support.videos import write_variant
from viddiff.agent.cli.main import main
from viddiff.graphs import result_cache
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.schemas import ComparisonResult

pytest.importorskip("mediapipe", reason="the offline engine needs the 'pose' extra")


@pytest.fixture(scope="module")
def pair(clips_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("cache_pair")
    a = write_variant(clips_dir / "Demo_SinglePerson_cam01.mp4", folder / "a.mp4")
    b = write_variant(clips_dir / "Demo_SinglePerson_cam01.mp4", folder / "b.mp4", slow=1.5)
    return a, b


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cache"


class Runs:
    """Counts the comparisons the graph actually ran."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = graph_runner.run_comparison

        async def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.count += 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(graph_runner, "run_comparison", counted)


def compare(a: Path, b: Path, out: Path, *extra: str) -> dict[str, object]:
    assert main(["compare", str(a), str(b), "--action", "a bodyweight squat", "-d",
                 "the movement is faster", "--offline", "-q", "--json", str(out),
                 *extra]) == 0
    return json.loads(out.read_text())


def test_the_same_comparison_is_read_back(pair: tuple[Path, Path], cache: Path,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    runs = Runs(monkeypatch)
    first = compare(*pair, tmp_path / "1.json")
    assert runs.count == 1 and first["differences"][0]["label"] == "a"  # type: ignore[index]
    again = compare(*pair, tmp_path / "2.json")
    assert runs.count == 1  # not run again
    assert again == first
    assert "its result is read back" in capsys.readouterr().out
    assert len(list((cache / result_cache.RESULTS_DIR).glob("*.json"))) == 1

    compare(*pair, tmp_path / "3.json", "--no-result-cache")
    assert runs.count == 2  # asked not to
    compare(*pair, tmp_path / "4.json", "--pose-fps", "15")
    assert runs.count == 3  # a setting that changes the result
    compare(*pair, tmp_path / "5.json", "--concurrency", "2")
    assert runs.count == 3  # a setting that does not


def test_new_content_or_new_code_computes_again(pair: tuple[Path, Path], cache: Path,
                                                tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch)
    a = tmp_path / "a.mp4"
    shutil.copy(pair[0], a)
    compare(a, pair[1], tmp_path / "1.json")
    shutil.copy(pair[1], a)  # same path, other content (and a newer modification time)
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))
    compare(a, pair[1], tmp_path / "2.json")
    assert runs.count == 2
    monkeypatch.setattr(result_cache, "code_fingerprint", lambda: "edited")
    compare(a, pair[1], tmp_path / "3.json")
    assert runs.count == 3


def test_a_result_with_a_failed_difference_is_not_kept(pair: tuple[Path, Path], cache: Path,
                                                       tmp_path: Path) -> None:
    result = ComparisonResult.model_validate(compare(*pair, tmp_path / "1.json"))
    ctx = VidDiffContext(cache_dir=tmp_path / "other")
    failed = result.model_copy(deep=True)
    failed.differences[0].status = "failed"
    result_cache.save_result(ctx, "k1", failed)
    assert result_cache.load_result(ctx, "k1") is None
    result_cache.save_result(ctx, "k2", result)
    assert result_cache.load_result(ctx, "k2") == result
    (tmp_path / "other" / "results" / "k2.json").write_text("{ cut short")
    assert result_cache.load_result(ctx, "k2") is None  # unreadable: computed again
