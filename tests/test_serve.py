"""``langgraph dev`` serving the graphs of ``langgraph.json``, driven through ``langgraph-sdk``.

A real server process on 127.0.0.1 (free port, no browser, no reload) runs the comparison
graph with models from its environment, which points at a scripted OpenAI-compatible server
started by the test; CLIP is open_clip with random weights (no download). The test checks
the custom progress events streamed over HTTP, the final result, and that the server refuses
a path outside ``VIDDIFF_ALLOWED_DIRS``. The server's process group is always killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAIServer, Reply, RouteBySchema
from tests.support.scripts import standard_script
from tests.support.videos import REPO, write_video

START_TIMEOUT_S = 60


def langgraph_cli() -> str:
    """The ``langgraph`` executable of this environment, or skip with the reason."""
    missing = [m for m in ("langgraph_api", "langgraph_runtime_inmem", "langgraph_sdk")
               if not _importable(m)]
    exe = shutil.which("langgraph") or str(Path(sys.executable).with_name("langgraph"))
    if missing or not Path(exe).exists():
        pytest.skip("langgraph-cli[inmem] / langgraph-sdk are not installed "
                    f"(missing: {', '.join(missing) or 'the langgraph command'}); "
                    "install them with pip install -e '.[server]'")
    return exe


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def langgraph_dev(exe: str, env: dict[str, str], workdir: Path, log: Path) -> Iterator[str]:
    """Start ``langgraph dev``; yield its URL; kill its whole process group afterwards."""
    port = free_port()
    cmd = [exe, "dev", "--config", str(REPO / "langgraph.json"),
           "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"langgraph dev exited ({proc.returncode}):\n{_tail(log)}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/ok",
                                                                       timeout=1) as resp:
                if resp.status == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"langgraph dev did not start in {START_TIMEOUT_S} s:\n{_tail(log)}")
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tail(log: Path, n: int = 4000) -> str:
    return log.read_text(errors="replace")[-n:] if log.exists() else ""


def routes() -> RouteBySchema:
    return RouteBySchema({name: Reply.json(reply) for name, reply in standard_script().items()})


async def stream_run(url: str, request: dict[str, Any],
                     context: dict[str, Any]) -> list[tuple[str, Any]]:
    from langgraph_sdk import get_client

    client = get_client(url=url)
    parts = []
    async for part in client.runs.stream(None, "viddiff", input=request, context=context,
                                         stream_mode=["custom", "updates", "values"]):
        parts.append((part.event, part.data))
    return parts


@pytest.mark.integration
@pytest.mark.slow
def test_langgraph_dev_serves_the_comparison_graph(tmp_path: Path) -> None:
    exe = langgraph_cli()
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4", n_frames=36, fps=12)
    write_video(videos / "b.mp4", n_frames=24, fps=12)
    workdir = tmp_path / "server"
    workdir.mkdir()
    with FakeOpenAIServer(routes()) as llm:
        env = {**os.environ, "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "test",
               "VIDDIFF_MODEL": "test-vlm", "VIDDIFF_ALLOWED_DIRS": str(videos),
               "VIDDIFF_CACHE_DIR": str(tmp_path / "cache"), "LANGSMITH_TRACING": "false",
               "LANGCHAIN_TRACING_V2": "false", "NO_COLOR": "1"}
        context = {"fps": 4, "clip_pretrained": None, "kinematics": False}
        with langgraph_dev(exe, env, workdir, tmp_path / "server.log") as url:
            parts = asyncio.run(stream_run(url, {
                "video_a": "a.mp4", "video_b": "b.mp4", "action": "a bodyweight squat",
                "n_differences": 2}, context))
            refused = asyncio.run(stream_run(url, {
                "video_a": "../server.log", "video_b": "b.mp4", "action": "a squat",
                "n_differences": 1}, context))
            n_requests = len(llm.requests)
            server_owned = {name: asyncio.run(stream_run(url, {
                "video_a": "a.mp4", "video_b": "b.mp4", "action": "a squat",
                "n_differences": 1}, {**context, name: value}))
                for name, value in {**CLIENT_SERVER_SETTINGS,
                                    "cache_dir": str(tmp_path / "elsewhere")}.items()}
            assert len(llm.requests) == n_requests  # refused before any model call
        requests = list(llm.requests)

    custom = [data for event, data in parts if event == "custom"]
    kinds = {e.get("event") for e in custom}
    assert {"node", "frames_embedded", "differences", "difference_answered"} <= kinds, kinds
    assert any(e.get("node") == "load_videos" and e.get("status") == "end" for e in custom)
    values = [data for event, data in parts if event == "values"]
    result = values[-1]["result"]
    assert [d["name"] for d in result["differences"]] == ["depth", "speed"]
    assert all(d["label"] == "a" and d["frames_a"] for d in result["differences"])
    assert result["video_a"]["path"] == str((videos / "a.mp4").resolve())
    assert result["models"]["differencer"] == "test-vlm"
    assert requests and all(r.model == "test-vlm" for r in requests)
    assert not any(event == "error" for event, _ in parts)

    errors = [data for event, data in refused if event == "error"]
    assert errors and "'..'" in str(errors[-1]), refused
    assert not any(event == "custom" for event, _ in refused)  # nothing was decoded

    for name, parts_ in server_owned.items():  # a client naming server files or devices
        errors = [data for event, data in parts_ if event == "error"]
        assert errors and f"may not set {name}" in str(errors[-1]), (name, parts_)
        assert not any(event == "custom" for event, _ in parts_), name
    assert not (tmp_path / "elsewhere").exists()  # nothing written where the client said


CLIENT_SERVER_SETTINGS: dict[str, Any] = {
    "cache_dir": "/tmp/viddiff-test-elsewhere-cache",
    "clip_checkpoint": "/etc/passwd",
    "device": "cuda:7",
}
"""A client's run context naming the server's files or devices (issue 21)."""


def test_served_graph_refuses_client_settings_of_the_server(monkeypatch, tmp_path) -> None:
    """Without a server: the served comparison graph refuses, before it decodes anything,
    a run context that moves the cache folder, the CLIP checkpoint or the device; the
    server's own values (and every other setting) are accepted."""
    import dataclasses

    from viddiff.agent.serve import viddiff_graph
    from viddiff.graphs.context import SERVER_OWNED, VidDiffContext
    from viddiff.tools.errors import ConfigError

    assert set(SERVER_OWNED) == set(CLIENT_SERVER_SETTINGS)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VIDDIFF_ALLOWED_DIRS", str(tmp_path))
    write_video(tmp_path / "a.mp4")
    graph = viddiff_graph()
    request = {"video_a": str(tmp_path / "a.mp4"), "video_b": str(tmp_path / "a.mp4"),
               "action": "a squat", "differences": ["deeper"]}
    elsewhere = tmp_path / "elsewhere"
    for name, value in {**CLIENT_SERVER_SETTINGS, "cache_dir": elsewhere}.items():
        events: list[Any] = []
        with pytest.raises(ConfigError, match=f"may not set {name}") as info:
            for part in graph.stream(request, context=VidDiffContext(**{name: value}),
                                     stream_mode="custom"):
                events.append(part)
        assert len(str(info.value).splitlines()) == 1 and events == []
    assert not elsewhere.exists()
    server = VidDiffContext()
    same = dataclasses.replace(server, fps=3.0, cache_dir=tmp_path / "cache")
    out = graph.invoke(request, context=same)
    assert out["result"].differences and (tmp_path / "cache").exists()


def test_langgraph_json_factories_build_the_graphs(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    """Without starting a server: every entry of langgraph.json imports and builds."""
    import importlib
    import json

    from viddiff.tools.errors import ConfigError

    graphs = json.loads((REPO / "langgraph.json").read_text())["graphs"]
    assert set(graphs) == {"viddiff", "viddiff_eval", "viddiff_chat"}
    factories = {}
    for graph_id, spec in graphs.items():
        module, attr = spec.split(":")
        factories[graph_id] = getattr(importlib.import_module(module), attr)

    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    offline = factories["viddiff"]()
    assert {"check_paths", "measure_differences"} <= set(offline.get_graph().nodes)  # no endpoint
    with pytest.raises(ConfigError, match="judge"):
        factories["viddiff_eval"]()

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert {"check_paths", "propose", "difference"} <= set(factories["viddiff"]().get_graph().nodes)
    assert {"match", "flip", "score"} <= set(factories["viddiff_eval"]().get_graph().nodes)
    chat = factories["viddiff_chat"]()
    assert {"model", "tools"} <= set(chat.get_graph().nodes)
    assert all(g.checkpointer is None for g in (offline, chat))  # the server brings its own
