"""What a regular install gets: a wheel with every module, optional extras that say so in one
line when missing, and an offline engine and pose-localized VLM graph that run without torch.

The editable install the rest of the suite uses maps the source folders into ``viddiff.*`` and
so cannot see a package the wheel leaves out (it once shipped without ``viddiff.agent.batch``).
Here the wheel is built from the repository, unpacked into a folder and imported from there in
a fresh interpreter, with the test environment's third-party packages. Missing extras are made
by an import hook in that interpreter that refuses the extra's modules (as an uninstalled
package would), so each check runs on the full test environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest

from viddiff.tools.extras import EXTRAS

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("viddiff", "agent", "tools", "prompts", "graphs", "evals")
CLIPS = ROOT / "examples" / "clips"
NO_ENDPOINT = {k: v for k, v in os.environ.items()
               if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}

#: Prepended to a child interpreter's code: refuse the modules named in BLOCKED (and their
#: submodules) the way Python refuses a package that is not installed.
BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(",")) - {""}

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
""")


def run_python(code: str, blocked: tuple[str, ...] = (), *, cwd: Path = ROOT,
               timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with ``blocked`` modules not installed, and an empty
    cache of its own (a cached pose or result must not stand in for a missing extra)."""
    cache = cwd / ".viddiff-test-cache" if cwd != ROOT else Path(tempfile.mkdtemp())
    env = {**NO_ENDPOINT, "VIDDIFF_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code),
                           ",".join(blocked)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")  # keep setuptools' build/ out of the checkout
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "--wheel-dir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=300,
                   env={**os.environ, "TMPDIR": str(build)})
    (found,) = out.glob("viddiff-*.whl")
    return found


def source_files() -> set[str]:
    """Every file a regular install must ship, as its path inside the wheel."""
    files = set()
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                rel = path.relative_to(ROOT / layer)
                prefix = "viddiff" if layer == "viddiff" else f"viddiff/{layer}"
                files.add(f"{prefix}/{rel.as_posix()}")
    return files


@pytest.mark.slow
def test_the_wheel_ships_every_module_and_data_file(wheel: Path) -> None:
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - shipped)
    assert missing == [], f"files the wheel leaves out: {missing}"


@pytest.mark.slow
def test_every_module_imports_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = f"""
        import importlib, pkgutil, sys
        sys.path.insert(0, {str(site)!r})
        import viddiff
        assert viddiff.__file__.startswith({str(site)!r}), viddiff.__file__
        names = ["viddiff"]
        for layer in ("agent", "tools", "prompts", "graphs", "evals"):
            pkg = importlib.import_module("viddiff." + layer)
            names += [pkg.__name__] + [m.name for m in
                                       pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
        for name in names:
            module = importlib.import_module(name)
            assert module.__file__.startswith({str(site)!r}), (name, module.__file__)
        from viddiff.prompts import load_prompt
        from viddiff.tools.taxonomy import load_actions
        assert load_actions() and load_prompt("propose")  # package data: csv and md
        from viddiff.agent.cli.main import main
        assert main(["compare-many", "--help"]) == 0
        print("imported", len(names))
    """
    out = run_python(code, cwd=tmp_path)  # not the checkout: its viddiff/ would shadow
    assert out.returncode == 0, out.stdout + out.stderr
    count = int(out.stdout.strip().splitlines()[-1].split()[1])
    modules = [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    assert count == len(modules)  # every module in the source tree was imported


def test_the_extras_table_matches_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = set(declared["optional-dependencies"]) - {"dev"}
    assert set(EXTRAS) == extras
    assert not any(dep.split(">")[0].split("=")[0].strip() in ("torch", "torchvision",
                                                               "open_clip_torch")
                   for dep in declared["dependencies"]), "torch belongs to the clip extra"


CLI_WITHOUT_EXTRA = {
    "chat": ["chat"],
    "server": ["serve"],
    "pose": ["compare", str(CLIPS / "A.mp4"), str(CLIPS / "B.mp4"), "--action", "a lunge",
             "-d", "the knees bend more", "--offline", "--no-result-cache"],
    "ray": ["compare-many", "{tmp}/pairs.csv", "--out", "{tmp}/out", "--ray", "local"],
    "datasets": ["eval", "--data", "{tmp}/bench.parquet", "--out", "{tmp}/out", "--offline"],
    "clip": ["compare", str(CLIPS / "A.mp4"), str(CLIPS / "B.mp4"), "--action", "a lunge",
             "-d", "the knees bend more", "--localizer", "clip"],
}


@pytest.mark.parametrize("extra", sorted(CLI_WITHOUT_EXTRA))
def test_a_missing_extra_is_one_line_naming_it(extra: str, tmp_path: Path) -> None:
    (tmp_path / "pairs.csv").write_text(f"video_a,video_b,action,differences\n{CLIPS / 'A.mp4'},"
                                        f"{CLIPS / 'B.mp4'},a lunge,the knees bend more\n")
    (tmp_path / "bench.parquet").write_bytes(b"PAR1")
    argv = [a.format(tmp=tmp_path) for a in CLI_WITHOUT_EXTRA[extra]]
    env_code = ("import os; os.environ['OPENAI_BASE_URL'] = 'http://127.0.0.1:9/v1'\n"
                if extra == "clip" else "")  # the CLIP localizer belongs to the VLM engine
    code = f"""
        {env_code}
        from viddiff.agent.cli.main import main
        sys.exit(main({json.dumps(argv)}))
    """
    out = run_python(code, EXTRAS[extra].modules, cwd=tmp_path)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, out.stdout + out.stderr
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert f"the '{extra}' extra" in lines[0] and f"viddiff[{extra}]" in lines[0], lines[0]


def test_the_chat_agent_without_its_extra_is_one_line_for_a_library_user() -> None:
    out = run_python("""
        try:
            from viddiff import create_chat_agent
        except Exception as exc:
            print(type(exc).__name__, exc)
    """, EXTRAS["chat"].modules)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingExtraError the chat agent needs the 'chat' extra")


def test_the_vlm_graph_with_the_pose_localizer_runs_without_torch() -> None:
    """The core install (no ``clip`` extra): ``localizer="auto"`` localizes from pose with a
    note naming the extra, ``"clip"`` stops with one line; torch is never imported."""
    out = run_python(f"""
        import asyncio, json, tempfile
        from pathlib import Path
        from tests.support.fake_chat import ScriptedChatModel
        from tests.support.scripts import standard_script
        from viddiff.graphs.context import VidDiffContext
        from viddiff.graphs.models import ModelRoles
        from viddiff.graphs.runner import run_comparison
        from viddiff.graphs.viddiff import build_viddiff_graph
        from viddiff.tools.errors import ConfigError

        request = {{"video_a": {str(CLIPS / "A.mp4")!r}, "video_b": {str(CLIPS / "B.mp4")!r},
                    "action": "a lunge",
                    "differences": [{{"description": "the knees bend more"}}]}}
        cache = Path(tempfile.mkdtemp())
        def run(localizer):
            model = ScriptedChatModel(script=standard_script(["the knees bend more"]))
            graph = build_viddiff_graph(ModelRoles.single(model)).compile()
            ctx = VidDiffContext(fps=4.0, cache_dir=cache, localizer=localizer,
                                 kinematics=False)
            return asyncio.run(run_comparison(graph, request, ctx))
        result = run("auto")
        try:
            run("clip")
            clip_error = None
        except ConfigError as exc:
            clip_error = str(exc)
        heavy = sorted(m for m in ("torch", "torchvision", "open_clip") if m in sys.modules)
        print(json.dumps({{"labels": [d.label for d in result.differences],
                          "stages": [s.stage for s in result.segments_a],
                          "notes": result.notes, "clip_error": clip_error, "heavy": heavy}}))
    """, EXTRAS["clip"].modules)
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["labels"] == ["a"] and len(report["stages"]) >= 1
    assert any("the 'clip' extra" in n and "localized from pose" in n for n in report["notes"])
    assert report["clip_error"] and "viddiff[clip]" in report["clip_error"]


def test_langgraph_json_serves_what_viddiff_serve_serves() -> None:
    from viddiff.agent.serve import SERVED_GRAPHS

    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["graphs"] == SERVED_GRAPHS


def run_on_the_wheel(wheel: Path, tmp_path: Path, args: list[str], cwd: Path
                     ) -> subprocess.CompletedProcess[str]:
    """``python -S args`` with viddiff from the unpacked ``wheel`` only, as a regular install
    has it: -S reads no site-packages .pth files, so not the editable install's finder either
    (it would map viddiff.* onto the checkout); the test environment's packages go on the path
    instead."""
    import sysconfig

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    packages = os.pathsep.join((str(site), sysconfig.get_paths()["purelib"]))
    env = {**NO_ENDPOINT, "PYTHONPATH": packages, "VIDDIFF_CACHE_DIR": str(tmp_path / "c")}
    return subprocess.run([sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240)


@pytest.mark.slow
def test_the_example_variant_script_runs_on_a_regular_install(wheel: Path, tmp_path: Path
                                                             ) -> None:
    """The README's second example (``python examples/make_variant.py …`` after the regular
    install of its first command) with viddiff imported from the unpacked wheel: the script
    must not put the checkout on ``sys.path``, whose ``viddiff/`` would shadow the install."""
    out = run_on_the_wheel(wheel, tmp_path, [str(ROOT / "examples" / "make_variant.py"),
                                             str(CLIPS / "A.mp4"), str(tmp_path / "slow.mp4"),
                                             "--slow", "1.25"], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "slow.mp4").stat().st_size > 0 and "wrote" in out.stdout


@pytest.mark.slow
def test_python_started_in_the_checkout_finds_the_layers(wheel: Path, tmp_path: Path) -> None:
    """``python`` started in the repository's root (the README's library example, after its
    regular install) imports this checkout's ``viddiff/``, the top module only: its layers are
    the folders beside it, and it must find them, not fail on ``viddiff.graphs``."""
    code = ("import viddiff, viddiff.graphs.compare, viddiff.tools.errors as e; "
            "from viddiff import compare; print(viddiff.__file__, e.__file__)")
    out = run_on_the_wheel(wheel, tmp_path, ["-c", code], cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    top, layer = out.stdout.split()
    assert Path(top).parent == ROOT / "viddiff" and Path(layer).parent == ROOT / "tools"
