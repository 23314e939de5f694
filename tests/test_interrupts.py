"""Ctrl-C (a real SIGINT to a ``viddiff`` process) at several moments (issue 21).

Whenever it comes, from the interpreter importing the command line to a model call in
flight, the process ends with exit code 130 and its last line says "viddiff: interrupted":
no traceback, no "Task exception was never retrieved". The eval case (a sample in flight,
then a resume) is ``tests/test_eval_runner.py::test_interrupted_run_resumes_where_it_stopped``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
from tests.support.scripts import standard_script
from tests.support.videos import write_video

EXIT_TIMEOUT_S = 90
"""How long a process may take to end after SIGINT: generous for a loaded machine (it takes
well under a second unloaded); the point is that it ends, with the right words."""

# What the console script does (import viddiff.agent.cli.entry, call run), with a marker file
# touched in between: the test waits for the marker, so the signal can come while the command
# line is still being imported (a few hundred milliseconds). Before that are only the
# interpreter's start and the package roots (milliseconds), which no Python code can guard.
ENTRY = ("import pathlib, sys; from viddiff.agent.cli.entry import run; "
         "pathlib.Path(sys.argv[1]).touch(); sys.argv[1:2] = []; run()")


def start(marker: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", ENTRY, str(marker), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, proc: subprocess.Popen[str], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def interrupt(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=EXIT_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def assert_interrupted(proc: subprocess.Popen[str], out: str, err: str) -> None:
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert err.strip().splitlines()[-1] == "viddiff: interrupted", err
    assert "Traceback" not in err and "Task exception" not in err, err
    assert "KeyboardInterrupt" not in err, err


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL")}
    return {**clean, "VIDDIFF_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "200",
            "NO_COLOR": "1"}


@pytest.mark.slow
@pytest.mark.parametrize("after_s", [0.0, 0.15, 0.4])
def test_sigint_while_starting_up_or_before_the_graph(tmp_path, env, after_s):
    """At once (viddiff still importing), a little later (parsing, the first model call
    being sent): the model never answers, so the run cannot have finished first."""
    a = write_video(tmp_path / "a.mp4")
    marker = tmp_path / "started"
    routes = RouteBySchema({name: Reply(content="{}", delay_s=600) for name in standard_script()})
    with FakeOpenAIServer(routes) as srv:
        proc = start(marker, ["compare", str(a), str(a), "--action", "a squat", "--open", "2",
                              "--base-url", srv.base_url, "--model", "m", "--localizer",
                              "pose", "--no-kinematics", "-q"], env)
        wait_for(marker.exists, proc, "the interpreter to start")
        time.sleep(after_s)
        out, err = interrupt(proc)
    assert_interrupted(proc, out, err)


@pytest.mark.slow
@pytest.mark.integration
def test_sigint_during_a_model_call(tmp_path, env):
    """Model calls in flight and CLIP loading in a worker thread: the run is cancelled, the
    worker abandoned, and the process ends at once."""
    a = write_video(tmp_path / "a.mp4", n_frames=36)
    b = write_video(tmp_path / "b.mp4")
    marker = tmp_path / "started"
    routes = RouteBySchema({name: Reply(content="{}", delay_s=600) for name in standard_script()})
    with FakeOpenAIServer(routes) as srv:
        proc = start(marker, ["compare", str(a), str(b), "--action", "a squat", "--open", "2",
                              "--base-url", srv.base_url, "--model", "m", "--clip-pretrained",
                              "none", "--no-kinematics", "--json", str(tmp_path / "r.json")],
                     env)
        wait_for(lambda: len(srv.requests) >= 1, proc, "a model call")
        out, err = interrupt(proc)
    assert_interrupted(proc, out, err)
    assert not (tmp_path / "r.json").exists()
