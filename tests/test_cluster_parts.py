"""The parts of a run on Ray that work without Ray: the leased slots behind the run-wide cap
on model requests, the gated HTTP transport (through the real client, against the local
server), option checks, worker sizing, and recipes that survive pickling."""

from __future__ import annotations

import asyncio
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAIServer, PeakCounter, Reply
from viddiff.agent.cli.main import main
from viddiff.evals.cluster.connect import connect, import_ray, ray_address
from viddiff.evals.cluster.gate import LeasedSlots
from viddiff.evals.cluster.pool import default_workers
from viddiff.evals.cluster.session import RayOptions, embedders_wanted
from viddiff.evals.jobs import WorkerRuntime
from viddiff.evals.recipe import EvalRecipe
from viddiff.evals.sample_job import SampleSettings
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.models import EndpointSettings, build_models
from viddiff.graphs.transport import LocalCallGate
from viddiff.tools.clip.model import ClipSpec
from viddiff.tools.errors import ConfigError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_slots_wait_while_all_are_out_and_come_back_on_release() -> None:
    async def scenario() -> None:
        slots = LeasedSlots(2, lease_s=60)
        first, second = await slots.acquire(), await slots.acquire()
        waiting = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0.05)
        assert not waiting.done()  # both slots are out
        assert slots.release(first)
        third = await asyncio.wait_for(waiting, 1)
        assert third not in (first, second)
        assert slots.stats() == {"limit": 2, "in_flight": 2, "peak": 2, "expired": 0}
        assert not slots.release(first)  # a token is returned once

    asyncio.run(scenario())


def test_a_lease_its_holder_never_returns_is_taken_back() -> None:
    """A worker that died holding a slot cannot release it: past its lease it is reclaimed,
    so the run is never starved by its dead."""
    async def scenario() -> None:
        clock = FakeClock()
        slots = LeasedSlots(1, lease_s=90, clock=clock)
        await slots.acquire()  # its holder dies
        waiting = asyncio.create_task(slots.acquire())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        clock.now = 91.0  # the lease ran out
        await asyncio.wait_for(waiting, 2)
        assert slots.stats()["expired"] == 1

    asyncio.run(scenario())


def test_slots_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        LeasedSlots(0, lease_s=10)
    with pytest.raises(ValueError):
        LocalCallGate(0)


@pytest.mark.integration
@pytest.mark.parametrize(("limit", "most"), [(1, 1), (None, 4)])
def test_the_gate_caps_requests_on_the_wire(limit: int | None, most: int) -> None:
    """Four concurrent calls through the real ChatOpenAI client: with a gate of one slot the
    server never sees two at once; without a gate it sees all four together."""
    counter = PeakCounter(Reply.text("ok"))

    async def calls(base_url: str) -> list[str]:
        gate = LocalCallGate(limit) if limit else None
        models = build_models(EndpointSettings(base_url=base_url,
                                               models=dict.fromkeys(
                                                   ("proposer", "stages", "linker",
                                                    "differencer"), "m")), gate)
        replies = await asyncio.gather(*(models.linker.ainvoke("hi") for _ in range(4)))
        return [str(r.content) for r in replies]

    with FakeOpenAIServer(counter) as srv:
        assert asyncio.run(calls(srv.base_url)) == ["ok"] * 4
        assert len(srv.requests) == 4
    assert counter.peak == most


@pytest.mark.parametrize("text", ["auto", "local", "ray://head.example:10001",
                                  "ray://10.0.0.5:10001"])
def test_ray_addresses(text: str) -> None:
    assert ray_address(text) == text


@pytest.mark.parametrize("text", ["", "ray://", "http://head:8265", "head:6379", "ray://h"])
def test_not_ray_addresses(text: str) -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="not a Ray address"):
        ray_address(text)


def test_ray_options_without_ray_are_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--offline",
                 "--ray-workers", "2"])
    assert code == 2
    assert "--ray-workers only apply with --ray ADDRESS" in capsys.readouterr().err


def test_ray_cpus_size_only_a_local_instance() -> None:
    with pytest.raises(ConfigError, match="--ray-cpus sizes a local instance"):
        connect("auto", num_cpus=2)


def test_without_the_extra_ray_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an absent package looks like
    with pytest.raises(ConfigError, match=r"pip install 'viddiff\[ray\]'"):
        import_ray()


@pytest.mark.parametrize(("cpus", "concurrency", "expected"),
                         [(2, 8, 2), (16, 4, 4), (0.5, 4, 1), (7, 7, 7)])
def test_worker_count(cpus: float, concurrency: int, expected: int) -> None:
    assert default_workers(cpus, 1.0, concurrency) == expected


def test_embedding_actors_start_only_where_they_pay() -> None:
    cpu, cuda = ClipSpec(device="cpu"), ClipSpec(device="cuda")
    options = RayOptions(address="auto")
    assert embedders_wanted(options, None) == 0  # no CLIP in the job
    assert embedders_wanted(options, cpu) == 0  # CPU: each worker embeds on its own
    assert embedders_wanted(options, cuda) == 1  # one shared GPU model
    assert embedders_wanted(RayOptions(address="auto", embedders=3), cpu) == 3


def test_a_recipe_travels_as_settings_and_builds_the_same_job(tmp_path: Path) -> None:
    recipe = EvalRecipe(method="lmm", offline=False,
                        endpoint=EndpointSettings(base_url="http://127.0.0.1:9/v1",
                                                  api_key="k"),
                        context=VidDiffContext(cache_dir=tmp_path), video_root=tmp_path,
                        settings=SampleSettings(mode="closed", method="lmm"),
                        video_cache=tmp_path / "v", video_max_side=960)
    data = pickle.dumps(recipe)
    assert len(data) < 4096  # settings only: no client, no model, no graph
    copy = pickle.loads(data)
    assert copy == recipe
    job = copy.build(WorkerRuntime(gate=None))
    assert job.method.name == "lmm" and job.settings == recipe.settings


def test_recipes_refuse_what_no_worker_could_run(tmp_path: Path) -> None:
    base = {"endpoint": EndpointSettings(), "context": VidDiffContext(cache_dir=tmp_path),
            "settings": SampleSettings(mode="closed", method="lmm"), "video_root": None,
            "video_cache": tmp_path, "video_max_side": None}
    with pytest.raises(ConfigError, match="the lmm baseline needs"):
        EvalRecipe(method="lmm", offline=True, **base).check()
    with pytest.raises(ConfigError, match="no model endpoint configured"):
        EvalRecipe(method="viddiff", offline=False, **base).check()


def test_ray_is_imported_only_when_asked_for() -> None:
    """The parser (with every --ray option), the recipes, the pools and the batch driver load
    without Ray; only ``--ray`` imports it."""
    code = ("import sys\n"
            "from viddiff.agent.cli.main import build_parser\n"
            "import viddiff.evals.recipe, viddiff.agent.batch.driver, viddiff.agent.cli.pools\n"
            "import viddiff.evals.jobs, viddiff.evals.benchmark_run\n"
            "import viddiff.evals.cluster.connect\n"
            "build_parser().parse_args(['compare-many', 'p.csv', '--out', 'o', '--ray', 'auto'])\n"
            "print('ray' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout + out.stderr
