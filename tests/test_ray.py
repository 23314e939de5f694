"""``viddiff eval --ray``: the same predictions as the local runner, one cap on model requests
for the whole cluster, and nothing lost for good when a worker or the driver dies.

A local Ray instance (2 CPUs, bound to 127.0.0.1) is started once for the module; the command
line, run in this process, finds Ray connected and uses that connection (as an application
embedding viddiff would). One test runs the command in a child process with ``--ray local``,
which starts and stops its own instance. Models answer from the scripted server on 127.0.0.1;
CLIP has random weights. Skipped without the ``ray`` extra or the real clips.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.benchmark import ANNOTATED, SCORED, eval_args, make_bench
from tests.support.fake_openai import (
    FakeOpenAIServer,
    PeakCounter,
    RecordedRequest,
    Reply,
    RouteBySchema,
)
from tests.support.scripts import links_for, standard_script, verdict
from tests.test_eval_runner import JUDGE_FLIP, JUDGE_MATCH, OPEN_LMM
from viddiff.agent.cli.main import main
from viddiff.evals.cluster.connect import loopback_only

loopback_only()  # before ray is imported: the test's instance listens on 127.0.0.1 only
ray = pytest.importorskip("ray", reason="the 'ray' extra is not installed")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLOSED_ALL_A = Reply.json({"answers": [{"key": k, "answer": "a"} for k in SCORED]})
RECORD_FIELDS = ("sample_key", "status", "error", "predictions", "models", "usage", "fps",
                 "method", "mode", "sanity", "protocol", "result_file")


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    if ray.is_initialized():  # pragma: no cover - another module left it running
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, namespace="viddiff-tests",
             logging_level=logging.WARNING, log_to_driver=False)
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def bench(clips_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bench(clips_dir, tmp_path_factory.mktemp("bench"))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_JUDGE_MODEL",
                "RAY_ADDRESS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def records(out: Path) -> dict[str, dict[str, Any]]:
    """The last record per sample, without the fields that differ between any two runs."""
    found: dict[str, dict[str, Any]] = {}
    for line in (out / "predictions.jsonl").read_text().splitlines():
        record = json.loads(line)
        found[record["sample_key"]] = {k: record.get(k) for k in RECORD_FIELDS}
    return found


def viddiff_server() -> FakeOpenAIServer:
    script = standard_script()
    script["LinkReply"] = links_for([ANNOTATED[k]["name"] for k in SCORED])  # type: ignore[index]
    script["Verdict"] = verdict("b", "B looks more so")
    return FakeOpenAIServer(RouteBySchema({k: Reply.json(v) for k, v in script.items()}))


def job_actor_pids() -> list[int]:
    """Processes of the run's worker actors (Ray titles them ``ray::JobActor...``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"ray::JobActor"):
            pids.append(int(entry.name))
    return pids


def test_lmm_on_ray_gives_the_local_predictions(bench: Path, env: Path,
                                                ray_instance: None) -> None:
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "local", srv.base_url)) == 0
        local_requests = sorted(r.user_text for r in srv.requests)
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "ray", srv.base_url, "--ray", "auto",
                              "--ray-workers", "2")) == 0
        ray_requests = sorted(r.user_text for r in srv.requests)
    assert records(env / "ray") == records(env / "local")
    assert ray_requests == local_requests  # the same calls, with the same frames named
    run = json.loads((env / "ray" / "run.json").read_text())
    assert run["ran_on"].startswith("2 Ray worker(s)")
    ray_summary = json.loads((env / "ray" / "summary.json").read_text())
    local_summary = json.loads((env / "local" / "summary.json").read_text())
    assert ray_summary["metrics"] == local_summary["metrics"]


def test_viddiff_method_on_ray_with_an_embedding_actor(bench: Path, env: Path,
                                                       ray_instance: None) -> None:
    """The VidDiff graph on a worker, CLIP on an embedding actor (CPU here: no GPU): the same
    predictions and the same stage segments as the graph run in this process."""
    extra = ("--limit", "2", "--no-kinematics", "--localizer", "clip")
    with viddiff_server() as srv:  # each run its own cache: both draft their transcript
        assert main(eval_args(bench, env / "local", srv.base_url, *extra, "--cache-dir",
                              str(env / "local-cache"), method="viddiff")) == 0
    with viddiff_server() as srv:
        assert main(eval_args(bench, env / "ray", srv.base_url, *extra, "--ray", "auto",
                              "--cache-dir", str(env / "ray-cache"),
                              "--ray-embedders", "1", "--ray-workers", "1",
                              method="viddiff")) == 0
    assert records(env / "ray") == records(env / "local")
    for name in records(env / "local"):
        local = json.loads((env / "local" / "results" / f"{name}.json").read_text())
        remote = json.loads((env / "ray" / "results" / f"{name}.json").read_text())
        assert remote["stages"] == local["stages"]
        assert [d["label"] for d in remote["differences"]] == \
            [d["label"] for d in local["differences"]]


def test_one_cap_on_model_requests_across_workers(bench: Path, env: Path,
                                                  ray_instance: None) -> None:
    def peak(out: str, cap: str) -> int:
        counter = PeakCounter(CLOSED_ALL_A, hold_s=0.4)
        with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": counter})) as srv:
            assert main(eval_args(bench, env / out, srv.base_url, "--ray", "auto",
                                  "--ray-workers", "2", "--concurrency", "3",
                                  "--llm-concurrency", cap)) == 0
        return counter.peak

    assert peak("capped", "1") == 1  # two workers, three samples in flight, one request
    assert peak("uncapped", "8") >= 2  # the same run without the cap overlaps its requests


def test_open_mode_judge_on_the_driver_shares_the_cluster_gate(bench: Path, env: Path,
                                                               ray_instance: None) -> None:
    """Open mode: the method's calls on the workers and the judge's on the driver all pass the
    one gate actor (a cap of 1: never two requests at once), and score as locally."""
    def run(out: str, *extra: str) -> tuple[dict[str, Any], int]:
        counter = PeakCounter(RouteBySchema({"LmmOpenReply": OPEN_LMM,
                                             "MatchReply": JUDGE_MATCH,
                                             "FlipReply": JUDGE_FLIP}), hold_s=0.2)
        with FakeOpenAIServer(counter) as srv:
            assert main(eval_args(bench, env / out, srv.base_url, "--split", "easy",
                                  "--judge-model", "judge-llm", *extra, mode="open")) == 0
        return json.loads((env / out / "summary.json").read_text())["metrics"], counter.peak

    local, _ = run("local")
    remote, peak = run("ray", "--ray", "auto", "--ray-workers", "2", "--llm-concurrency", "1")
    assert remote == local
    assert peak == 1


def test_an_endpoint_failure_on_a_worker_stops_the_run_as_locally(
        bench: Path, env: Path, ray_instance: None, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": Reply(status=401)})) as srv:
        code = main(eval_args(bench, env / "ray", srv.base_url, "--ray", "auto"))
    err = capsys.readouterr().err
    assert code == 3, err
    assert "refused the API key" in err and "Traceback" not in err
    assert not (env / "ray" / "predictions.jsonl").exists()  # nothing recorded: re-run retries


def run_killing_workers(bench: Path, out: Path, *extra: str) -> tuple[int, int]:
    """``viddiff eval --ray auto`` on one worker, whose processes are SIGKILLed while the
    first sample waits on the model; (exit code, requests the server saw)."""
    first = threading.Event()

    def hold_first(req: RecordedRequest) -> Reply:
        if req.index == 0:
            first.set()
            return Reply(content=CLOSED_ALL_A.content, delay_s=5)
        return CLOSED_ALL_A

    def kill_workers() -> None:
        assert first.wait(120)
        for pid in job_actor_pids():
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_workers)
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": hold_first})) as srv:
        killer.start()
        code = main(eval_args(bench, out, srv.base_url, "--ray", "auto", "--ray-workers", "1",
                              "--concurrency", "1", *extra))
        killer.join()
        return code, len(srv.requests)


def test_a_killed_worker_loses_only_its_sample(bench: Path, env: Path,
                                               ray_instance: None) -> None:
    """The killed sample goes to the restarted worker and the run ends with every
    prediction, as the local runner's."""
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "local", srv.base_url)) == 0
    code, requests = run_killing_workers(bench, env / "ray")
    assert code == 0
    assert requests >= 4  # the killed sample was asked again
    assert records(env / "ray") == records(env / "local")


def test_with_no_retry_a_killed_worker_sample_is_redone_by_the_rerun(
        bench: Path, env: Path, ray_instance: None, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "local", srv.base_url)) == 0
    code, _ = run_killing_workers(bench, env / "ray", "--ray-lost-retries", "0")
    out = capsys.readouterr().out
    assert code == 4, out
    assert "lost with their workers" in out
    assert len(records(env / "ray")) == 2  # the killed sample is not recorded
    args = ("--ray", "auto", "--ray-workers", "1", "--concurrency", "1")
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "ray", srv.base_url, *args)) == 0
        assert len(srv.requests) == 1  # only the lost sample ran again
    assert records(env / "ray") == records(env / "local")


def test_killed_driver_with_its_own_local_instance_resumes(bench: Path, env: Path) -> None:
    """``--ray local`` in a child process: SIGKILL it after its first prediction, then the same
    command finishes the run with the local runner's predictions."""
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        assert main(eval_args(bench, env / "local", srv.base_url)) == 0

    def slow_after_first(req: RecordedRequest) -> Reply:
        return CLOSED_ALL_A if req.index == 0 else Reply(content=CLOSED_ALL_A.content,
                                                         delay_s=30)

    out = env / "driver"
    args = ("--ray", "local", "--ray-cpus", "2", "--concurrency", "1")
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": slow_after_first})) as srv:
        proc = subprocess.Popen([sys.executable, "-m", "viddiff.agent.cli.main",
                                 *eval_args(bench, out, srv.base_url, *args)],
                                env=dict(os.environ), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            path = out / "predictions.jsonl"
            while not (path.exists() and path.read_text().count("\n") >= 1):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "no prediction written in time"
                time.sleep(0.1)
            srv.wait_for_requests(2, timeout=60)  # the second sample is in flight
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray instance it started
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert len(records(out)) == 1
    with FakeOpenAIServer(RouteBySchema({"LmmClosedReply": CLOSED_ALL_A})) as srv:
        result = subprocess.run([sys.executable, "-m", "viddiff.agent.cli.main",
                                 *eval_args(bench, out, srv.base_url, *args)],
                                env=dict(os.environ), capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(srv.requests) == 2  # only the two unfinished samples ran
    assert records(out) == records(env / "local")


def test_compare_many_on_ray_gives_the_local_results(bench: Path, env: Path,
                                                     ray_instance: None) -> None:
    """Two pairs in open mode through the VidDiff graph, with reports rendered where the
    videos are (on the workers) and written by the driver."""
    videos = bench.parent / "videos"
    pairs = env / "pairs.csv"
    pairs.write_text("id,video_a,video_b,action\n"
                     f"p1,{videos / 'cam01.mp4'},{videos / 'cam02.mp4'},a forward lunge\n"
                     f"p2,{videos / 'cam02.mp4'},{videos / 'cam03.mp4'},a forward lunge\n")

    def run(out: str, *extra: str) -> int:
        with FakeOpenAIServer(RouteBySchema({k: Reply.json(v) for k, v in
                                             standard_script().items()})) as srv:
            return main(["compare-many", str(pairs), "--out", str(env / out), "--open", "3",
                         "--base-url", srv.base_url, "--model", "test-vlm", "--fps", "2",
                         "--clip-pretrained", "none", "--localizer", "clip",
                         "--no-kinematics", "--report", "--quiet",
                         "--cache-dir", str(env / f"{out}-cache"), *extra])

    assert run("local") == 0
    assert run("ray", "--ray", "auto", "--ray-workers", "2") == 0
    for pair in ("p1", "p2"):
        local = json.loads((env / "local" / "results" / f"{pair}.json").read_text())
        remote = json.loads((env / "ray" / "results" / f"{pair}.json").read_text())
        assert [(d["name"], d["label"]) for d in remote["differences"]] == \
            [(d["name"], d["label"]) for d in local["differences"]]
        assert remote["stages"] == local["stages"]
        assert (env / "ray" / "reports" / f"{pair}.html").stat().st_size > 10_000
    run_record = json.loads((env / "ray" / "run.json").read_text())
    assert run_record["ran_on"].startswith("2 Ray worker(s)")
