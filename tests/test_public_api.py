"""The root package: every public name resolves, importing it is cheap, one function picks the
engine, and the README's library snippets run as printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import viddiff
from tests.support.fake_chat import ScriptedChatModel
from viddiff import ConfigError, EndpointSettings, choose_engine, create_graph
from viddiff.graphs.models import ModelRoles

ROOT = Path(__file__).resolve().parents[1]
NO_ENDPOINT = {k: v for k, v in os.environ.items()
               if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}


def test_every_public_name_resolves_and_is_listed() -> None:
    assert viddiff.__all__ == sorted(viddiff._EXPORTS)
    for name in viddiff.__all__:
        assert getattr(viddiff, name) is not None, name
    assert set(viddiff.__all__) <= set(dir(viddiff))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        viddiff.nope  # noqa: B018


def test_importing_the_api_and_building_graphs_loads_no_torch() -> None:
    """torch and open_clip load when a CLIP localizer first runs, not before."""
    code = (
        "import sys\n"
        "import viddiff\n"
        "from viddiff import build_graph, create_graph, create_compare_tool, compare\n"
        "from tests.support.fake_chat import ScriptedChatModel\n"
        "create_graph(engine='offline')\n"
        "build_graph(ScriptedChatModel(script={}))\n"
        "heavy = sorted(m for m in ('torch', 'open_clip', 'torchvision') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=NO_ENDPOINT,
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "none", out.stdout + out.stderr


def test_choose_engine_is_explicit() -> None:
    nowhere = EndpointSettings.from_env({})
    somewhere = EndpointSettings.from_env({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    model = ScriptedChatModel(script={})

    offline = choose_engine("offline", settings=somewhere)
    assert (offline.engine, offline.models) == ("offline", None)
    auto_none = choose_engine("auto", settings=nowhere)
    assert auto_none.engine == "offline" and "no model endpoint configured" in auto_none.reason
    auto_env = choose_engine("auto", settings=somewhere)
    assert auto_env.engine == "vlm" and "127.0.0.1:9" in auto_env.reason
    assert isinstance(auto_env.models, ModelRoles)
    given = choose_engine("vlm", model, settings=nowhere)
    assert given.engine == "vlm" and given.models is not None
    assert given.models.differencer is model
    with pytest.raises(ConfigError, match="the VLM engine needs models"):
        choose_engine("vlm", settings=nowhere)
    with pytest.raises(ConfigError, match="uses no language models"):
        choose_engine("offline", model)
    with pytest.raises(ConfigError, match="unknown engine 'gpu'"):
        choose_engine("gpu")  # type: ignore[arg-type]


def test_graph_names_follow_the_engine() -> None:
    assert create_graph(engine="offline").name == "viddiff_offline"
    assert create_graph(ScriptedChatModel(script={})).name == "viddiff"
    decision = choose_engine("offline")
    assert "measure_differences" in create_graph(engine=decision).get_graph().nodes


def _library_snippets() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Library use", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_has_library_snippets() -> None:
    snippets = _library_snippets()
    assert len(snippets) >= 4
    assert all("from viddiff import" in s for s in snippets)
    assert not any(re.search(r"from viddiff\.\w", s) for s in snippets)  # the front door only


@pytest.mark.slow
@pytest.mark.parametrize("index", range(4))
def test_readme_library_snippet_runs_as_printed(index: int, tmp_path: Path) -> None:
    snippets = _library_snippets()
    if index >= len(snippets):
        pytest.skip("fewer snippets")
    script = tmp_path / f"snippet_{index}.py"
    script.write_text(snippets[index], encoding="utf-8")
    env = {**NO_ENDPOINT, "VIDDIFF_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip(), "a snippet prints what it did"
    assert "Traceback" not in out.stderr
