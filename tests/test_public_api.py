"""The root package: every public name resolves, importing it is cheap, one function picks the
engine, and the library snippets of the README and docs/embedding.md run as printed."""

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


def test_agent_api_still_offers_the_engine_layer() -> None:
    """The engine layer lives in graphs/; ``viddiff.agent.api`` re-exports the very same
    objects, so code written against it keeps working."""
    from viddiff.agent import api
    from viddiff.graphs import compare, engine, serde

    homes = {name: module for module in (engine, compare, serde) for name in module.__all__}
    for name in api.__all__:
        if name == "create_compare_tool":  # the agent layer's own
            assert api.create_compare_tool.__module__ == "viddiff.agent.api"
            continue
        assert getattr(api, name) is getattr(homes[name], name), name
        if name in viddiff.__all__:
            assert getattr(viddiff, name) is getattr(api, name), name
    assert {"NO_ENDPOINT", "comparison_request", "guard_paths"} <= set(api.__all__)


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


#: where the library snippets live: the README's one example, and the reference page's section
SNIPPET_SOURCES = (("README.md", None), ("docs/embedding.md", "## Library use"))


def _library_snippets() -> list[tuple[str, str]]:
    """(file, code) of every ``python`` block in the README and in the "Library use" section of
    docs/embedding.md, in order."""
    found: list[tuple[str, str]] = []
    for name, section in SNIPPET_SOURCES:
        text = (ROOT / name).read_text(encoding="utf-8")
        if section is not None:
            text = text.split(section, 1)[1].split("\n## ", 1)[0]
        found += [(name, code) for code in re.findall(r"```python\n(.*?)```", text, flags=re.S)]
    return found


SNIPPETS = _library_snippets()


def test_docs_have_library_snippets() -> None:
    by_file = {name: [code for n, code in SNIPPETS if n == name] for name, _ in SNIPPET_SOURCES}
    assert len(by_file["README.md"]) >= 1
    assert len(by_file["docs/embedding.md"]) >= 4
    assert all("from viddiff import" in code for _, code in SNIPPETS)
    assert not any(re.search(r"from viddiff\.\w", code) for _, code in SNIPPETS)  # front door only


@pytest.mark.slow
@pytest.mark.parametrize(("source", "code"), SNIPPETS,
                         ids=[f"{name}-{sum(n == name for n, _ in SNIPPETS[:i])}"
                              for i, (name, _) in enumerate(SNIPPETS)])
def test_library_snippet_runs_as_printed(source: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    env = {**NO_ENDPOINT, "VIDDIFF_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, f"{source}:\n{out.stdout}{out.stderr}"
    assert out.stdout.strip(), "a snippet prints what it did"
    assert "Traceback" not in out.stderr
