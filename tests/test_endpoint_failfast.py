"""An endpoint that is gone, hung or slow fails the run in seconds, with one line naming it.

Through the real langchain-openai client (``build_models``) against local sockets: a closed
port, a socket that accepts and never answers, and the scripted server of
``tests/support/fake_openai.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from tests.support.fake_openai import FakeOpenAIServer, Reply
from viddiff.agent.cli.main import main
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.models import ROLES, EndpointSettings, build_models
from viddiff.graphs.runner import endpoint_error, run_comparison
from viddiff.tools.errors import ConfigError, EndpointError


def settings(base_url: str, **kw: Any) -> EndpointSettings:
    return EndpointSettings(base_url=base_url, api_key="test",
                            models=dict.fromkeys(ROLES, "m"), **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def silent_socket() -> Iterator[tuple[int, list[socket.socket]]]:
    """Accepts connections and never answers; yields the port and the accepted sockets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1]), accepted
    finally:
        stop.set()
        thread.join(1)
        for conn in accepted:
            conn.close()
        server.close()


async def ask(model: Any) -> Any:
    return await model.ainvoke([HumanMessage("hi")])


def test_refused_connection_fails_in_seconds_with_one_quick_retry():
    port = closed_port()
    url = f"http://127.0.0.1:{port}/v1"
    model = build_models(settings(url)).stages
    t0 = time.perf_counter()
    with pytest.raises(Exception) as caught:
        asyncio.run(ask(model))
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, elapsed  # the client's own ladder (4 tries, backoff) took longer
    mapped = endpoint_error(caught.value)
    assert isinstance(mapped, EndpointError)
    text = str(mapped)
    assert "\n" not in text and "cannot reach the model endpoint" in text
    assert f"http://127.0.0.1:{port}/v1" in text
    assert "tried 2 times" in text  # one quick retry, not the backoff ladder


def test_hung_endpoint_fails_after_one_timeout_not_four():
    with silent_socket() as (port, accepted):
        model = build_models(settings(f"http://127.0.0.1:{port}/v1", timeout_s=0.5)).stages
        t0 = time.perf_counter()
        with pytest.raises(Exception) as caught:
            asyncio.run(ask(model))
        elapsed = time.perf_counter() - t0
        assert len(accepted) == 1  # the timed-out request was not sent again
    assert elapsed < 2.0, elapsed
    text = str(endpoint_error(caught.value))
    assert f"127.0.0.1:{port}" in text and "did not answer in time" in text
    assert "no answer within 0.5 s" in text and "--timeout" in text


def test_rate_limits_and_server_errors_still_get_the_backoff_ladder():
    replies = [Reply.rate_limited(0), Reply.server_error(503, headers={"retry-after-ms": "1"}),
               Reply.text("fine")]
    with FakeOpenAIServer(replies) as srv:
        model = build_models(settings(srv.base_url, timeout_s=5)).stages
        answer = asyncio.run(ask(model))
        assert answer.content == "fine" and len(srv.requests) == 3


def test_timeout_comes_from_the_environment_or_the_option(monkeypatch, capsys):
    assert EndpointSettings.from_env({"VIDDIFF_TIMEOUT": "7.5"}).timeout_s == 7.5
    assert EndpointSettings.from_env({}).timeout_s == 60.0
    with pytest.raises(ConfigError, match="VIDDIFF_TIMEOUT must be a number of seconds > 0"):
        EndpointSettings.from_env({"VIDDIFF_TIMEOUT": "soon"})
    assert EndpointSettings().with_overrides(timeout_s=3).timeout_s == 3
    model = build_models(settings("http://127.0.0.1:1/v1", timeout_s=4)).stages
    assert model.request_timeout == 4  # type: ignore[attr-defined]
    monkeypatch.setenv("VIDDIFF_TIMEOUT", "-1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    code = main(["compare", "a.mp4", "b.mp4", "--action", "x", "-d", "deeper", "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "VIDDIFF_TIMEOUT" in err


class _State(TypedDict, total=False):
    done: bool


def test_deadline_and_end_of_run_stop_work_in_threads():
    """A run past its deadline ends with one line (exit 3 class), and a sync node still
    working in a worker thread stops at its next progress event instead of running on."""
    batches: list[float] = []

    def slow_embedding(state: _State, runtime: Any) -> _State:
        for i in range(200):
            time.sleep(0.05)
            emit(runtime, "frames_embedded", done=i)
            batches.append(time.perf_counter())
        return {"done": True}

    async def waits_for_model(state: _State) -> _State:
        await asyncio.sleep(30)
        return {}

    graph = StateGraph(_State)
    graph.add_node("embed", slow_embedding)
    graph.add_node("model", waits_for_model)
    graph.add_edge(START, "embed")
    graph.add_edge(START, "model")
    graph.add_edge("embed", END)
    graph.add_edge("model", END)
    t0 = time.perf_counter()
    with pytest.raises(EndpointError, match=r"did not finish within its deadline of 0.5 s"):
        asyncio.run(run_comparison(graph.compile(), {}, VidDiffContext(deadline_s=0.5)))
    ended = time.perf_counter()
    assert ended - t0 < 3.0
    time.sleep(0.3)
    assert batches and batches[-1] < ended + 0.1  # nothing embedded after the run ended
    assert len(batches) < 40


def test_cli_unreachable_endpoint_exits_3_with_one_line(tmp_path, capsys, monkeypatch):
    from tests.support.videos import write_video

    video = write_video(tmp_path / "v.mp4", n_frames=24, fps=12)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    port = closed_port()
    t0 = time.perf_counter()
    code = main(["compare", str(video), str(video), "--action", "a squat", "-d", "deeper",
                 "--base-url", f"http://127.0.0.1:{port}/v1", "--localizer", "pose",
                 "--no-kinematics", "-q"])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err.strip()
    assert code == 3, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"cannot reach the model endpoint http://127.0.0.1:{port}/v1" in err
    assert elapsed < 15, elapsed


WORKER_STILL_BUSY = """
import asyncio, sys, time
from viddiff.agent.cli import async_run

async def failing_run():
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, time.sleep, 60)  # like CLIP embedding in a worker thread
    await asyncio.sleep(0.2)
    raise RuntimeError("endpoint gone")

try:
    async_run.run(failing_run())
except RuntimeError:
    print("error line", flush=True)
    sys.exit(async_run.exit_code(3))
"""


def test_the_command_exits_without_waiting_for_busy_worker_threads():
    """``asyncio.run`` would wait the full 60 s for the sleeping worker before exiting."""
    import subprocess
    import sys

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WORKER_STILL_BUSY], capture_output=True,
                          text=True, timeout=50)
    assert proc.returncode == 3 and proc.stdout.strip() == "error line", proc.stderr
    assert time.perf_counter() - t0 < 30
