"""The HTML report in a real browser: headless Chromium driven by Selenium.

Checks what only a browser can: the page loads with no console errors (CSP violations, bad
markup that the parser complains about), every embedded image decodes, the timeline bars are
laid out where they should be, nothing overflows the window. A screenshot of each page is
kept under ``VIDDIFF_SCREENSHOT_DIR`` (or the test's tmp dir) for a person to look at.

Skipped, with the reason, when selenium, chromium or chromedriver are not installed
(``apt-get install chromium chromium-driver``; ``pip install -e '.[dev]'``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.support.videos import write_counter_video, write_variant, write_video
from tests.test_replay import replay_result
from tests.test_report import NO_POSE, compare_real_clips, make_result, real_clip_cache
from viddiff.agent.report import ReportOptions, write_gallery, write_report

WINDOW = (1360, 1000)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("browser-clips")
    return (write_video(root / "a.mp4", n_frames=36, fps=12, size=(96, 64)),
            write_video(root / "b.mp4", n_frames=24, fps=12, size=(96, 64)))


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def _find(*names: str) -> str | None:
    return next((p for p in map(shutil.which, names) if p), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed "
                                    "(pip install -e '.[dev]')")
    binary = _find("chromium", "chromium-browser", "google-chrome")
    driver_path = _find("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium "
                    "chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="viddiff-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _shot_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("VIDDIFF_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def open_page(driver: Any, page: Path, shot: Path) -> dict[str, Any]:
    """Load ``page``, assert it is clean, save a full-page screenshot; returns page facts."""
    driver.set_window_size(*WINDOW)
    driver.get(page.resolve().as_uri())
    # get() returns once the document is parsed; a page with embedded video may still be
    # loading it on a busy machine, so wait (bounded) for the load to finish
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete")
    logs = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
    assert logs == [], logs
    facts: dict[str, Any] = driver.execute_script("""
        const imgs = Array.from(document.images);
        const lanes = Array.from(document.querySelectorAll('.lane')).map(lane => {
            const r = lane.getBoundingClientRect();
            return {left: r.left, right: r.right, bars: Array.from(lane.querySelectorAll('.bar'))
                .map(b => { const q = b.getBoundingClientRect();
                            return {left: q.left, right: q.right, height: q.height,
                                    text: b.innerText}; })};
        });
        return {images: imgs.length,
                broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
                lanes: lanes,
                scrollWidth: document.documentElement.scrollWidth,
                clientWidth: document.documentElement.clientWidth,
                height: document.documentElement.scrollHeight,
                title: document.title};
    """)
    assert facts["broken"] == [], facts["broken"]
    assert facts["scrollWidth"] <= facts["clientWidth"], "page overflows horizontally"
    driver.set_window_size(WINDOW[0], min(facts["height"] + 120, 12000))
    assert driver.save_screenshot(str(shot))
    return facts


def _looks_rendered(shot: Path) -> None:
    with Image.open(shot) as img:
        pixels = np.asarray(img.convert("RGB"), dtype=np.int16)
    assert pixels.shape[1] >= WINDOW[0] - 20
    assert pixels.std() > 20  # not a blank page
    assert len(np.unique(pixels.reshape(-1, 3)[::97], axis=0)) > 200  # photos, colours, text


def test_report_in_browser(browser: Any, tmp_path: Path, clips: tuple[Path, Path]) -> None:
    result = make_result(*clips)
    page = write_report(result, tmp_path / "report.html", NO_POSE)
    shot = _shot_dir(tmp_path) / "report-synthetic.png"
    facts = open_page(browser, page, shot)
    n_frames = sum(len(d.frames_a) + len(d.frames_b) for d in result.differences)
    assert facts["images"] == n_frames + 2 * 3  # cited frames + stage overview
    assert facts["title"].startswith("viddiff")
    lane_a, lane_b = facts["lanes"]
    for lane in (lane_a, lane_b):
        assert [b["text"].splitlines()[0] for b in lane["bars"]] == ["setup", "slide", "finish"]
        for bar in lane["bars"]:
            assert lane["left"] - 1 <= bar["left"] < bar["right"] <= lane["right"] + 1
            assert bar["height"] > 20
    # B is shorter (2 s vs 3 s) and both share one time scale
    assert lane_b["bars"][-1]["right"] < lane_a["bars"][-1]["right"] - 50
    _looks_rendered(shot)


def test_report_with_missing_video_in_browser(browser: Any, tmp_path: Path,
                                              clips: tuple[Path, Path]) -> None:
    gone = Path(shutil.copy(clips[0], tmp_path / "gone.mp4"))
    result = make_result(gone, clips[1])
    gone.unlink()
    page = write_report(result, tmp_path / "missing.html", NO_POSE)
    facts = open_page(browser, page, _shot_dir(tmp_path) / "report-missing-video.png")
    assert facts["images"] > 0  # B's frames still shown
    assert "no longer at" in browser.find_element("css selector", ".problem").text


def test_gallery_in_browser(browser: Any, tmp_path: Path, clips: tuple[Path, Path]) -> None:
    result = make_result(*clips)
    items = [("sample-1", result, 0.2), ("sample-2", result, 0.5)]
    page = write_gallery(items, tmp_path / "gallery.html", NO_POSE)
    facts = open_page(browser, page, _shot_dir(tmp_path) / "gallery.png")
    assert len(facts["lanes"]) == 4


@pytest.mark.real_clips
@pytest.mark.slow
def test_real_clip_report_in_browser(browser: Any, tmp_path: Path, clips_dir: Path,
                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    """A real result with pose skeletons (offline engine), as a user would get it."""
    pytest.importorskip("mediapipe")
    cache = real_clip_cache(tmp_path_factory)
    result = compare_real_clips(clips_dir, tmp_path / "r.json", cache)
    page = write_report(result, tmp_path / "real.html", ReportOptions(cache_dir=cache))
    shot = _shot_dir(tmp_path) / "report-real.png"
    facts = open_page(browser, page, shot)
    assert facts["images"] >= 2 * len(result.segments_a)
    _looks_rendered(shot)


def _player_state(driver: Any) -> dict[str, float]:
    return driver.execute_script("""
        const p = document.querySelector('.player');
        const a = p.querySelector('video.A'), b = p.querySelector('video.B');
        return {a: a.currentTime, b: b.currentTime, want: p.bAt(a.currentTime),
                ready: Math.min(a.readyState, b.readyState), paused: a.paused,
                scrub: parseFloat(p.querySelector('input.scrub').value)};
    """)


def _wait(driver: Any, condition: str, timeout: float = 15.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if driver.execute_script(f"return !!({condition});"):
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {condition}: {_player_state(driver)}")


def test_player_plays_seeks_and_keeps_both_sides_in_step(browser: Any, tmp_path: Path) -> None:
    """Two counter clips, B slowed 1.5x with the true alignment: the player plays, the
    scrubber and a difference's link seek both clips, and B stays where the map puts it."""
    a = write_counter_video(tmp_path / "a.mp4", 60, 20, (160, 96))
    b = write_variant(a, tmp_path / "b.mp4", slow=1.5)
    result = replay_result(a, b, evidence=(10, 25))
    page = write_report(result, tmp_path / "player.html", NO_POSE)
    open_page(browser, page, _shot_dir(tmp_path) / "report-player.png")
    _wait(browser, "document.querySelector('video.A').readyState >= 2 && "
                   "document.querySelector('video.B').readyState >= 2")
    browser.find_element("css selector", ".player button.play").click()
    _wait(browser, "document.querySelector('video.A').currentTime > 1.0")
    for _ in range(5):  # while playing, B follows the map (to within a few frames)
        state = _player_state(browser)
        assert not state["paused"]
        assert abs(state["b"] - 1.5 * state["a"]) < 0.2, state
        assert abs(state["want"] - 1.5 * state["a"]) < 1e-6
    browser.find_element("css selector", ".player button.play").click()  # pause
    _wait(browser, "document.querySelector('video.A').paused")
    browser.execute_script("""
        const s = document.querySelector('.player input.scrub');
        s.value = '2.0'; s.dispatchEvent(new Event('input'));""")
    _wait(browser, "Math.abs(document.querySelector('video.A').currentTime - 2.0) < 0.01 && "
                   "Math.abs(document.querySelector('video.B').currentTime - 3.0) < 0.03")
    link = browser.find_element("css selector", "article a.jump")
    link.click()  # the difference's measured moment: A frame 10, B frame 25
    _wait(browser, "Math.abs(document.querySelector('video.A').currentTime - 0.5) < 0.01 && "
                   "Math.abs(document.querySelector('video.B').currentTime - 1.875) < 0.03")
    state = _player_state(browser)
    assert state["paused"] and abs(state["scrub"] - 0.5) < 0.011
    assert browser.get_log("browser") == []
