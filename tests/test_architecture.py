"""The layer rules of docs/architecture.md ("Layers"), checked on the source, and the file's
references to modules and paths checked against the tree.

Imports are read with :mod:`ast` (nothing is imported), so a rule broken inside a function, a
``TYPE_CHECKING`` block or a relative import is caught too. A rule broken on purpose must
change the document first; a stale name in the document fails here.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"

#: installed package name -> folder in the repository (pyproject.toml ``package-dir``)
PACKAGE_DIRS = {
    "viddiff": "viddiff",
    "viddiff.agent": "agent",
    "viddiff.tools": "tools",
    "viddiff.prompts": "prompts",
    "viddiff.graphs": "graphs",
    "viddiff.evals": "evals",
}
FOLDER_PACKAGES = {folder: package for package, folder in PACKAGE_DIRS.items()}

#: layer folder -> viddiff packages it must not import (docs/architecture.md, "Layers")
FORBIDDEN = {
    "tools": ("viddiff.graphs", "viddiff.agent", "viddiff.evals"),
    "graphs": ("viddiff.agent", "viddiff.evals"),
    "prompts": ("viddiff.graphs", "viddiff.agent", "viddiff.evals", "viddiff.tools"),
    "evals": ("viddiff.agent",),
}
#: rooms of the agent layer that must not import each other (docs/architecture.md, "Layers")
FORBIDDEN_ROOMS = {
    "agent/console": ("viddiff.agent.cli", "viddiff.agent.chat", "viddiff.agent.batch",
                      "viddiff.agent.report", "viddiff.agent.api", "viddiff.agent.serve"),
}
#: viddiff.graphs.nodes is private to graphs/ (tests may still unit-test a node module)
NODES = "viddiff.graphs.nodes"
OUTSIDE_GRAPHS = ("agent", "bench", "evals", "examples", "prompts", "tools", "viddiff")

#: top-level folders and files a path in the document may start with
TOP_LEVEL = ("agent", "bench", "docs", "evals", "examples", "graphs", "prompts", "tests",
             "tools", "viddiff")


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    """A file's installed module name: ``graphs/nodes/load.py`` is viddiff.graphs.nodes.load."""
    rel = path.relative_to(ROOT)
    package = FOLDER_PACKAGES.get(rel.parts[0], rel.parts[0])
    parts = [package, *rel.parts[1:-1]]
    if rel.stem != "__init__":
        parts.append(rel.stem)
    return ".".join(parts)


def imported_modules(path: Path, source: str | None = None) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import in the file (or in ``source``, read as if it
    were that file), relative ones resolved."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # ``from viddiff.graphs import nodes``
                yield node.lineno, f"{module}.{alias.name}"


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for folder in folders:
        for path in python_files(folder):
            for line, module in imported_modules(path):
                if any(within(module, bad) for bad in forbidden):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return found


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_run_one_way(folder: str) -> None:
    assert python_files(folder), f"no Python files under {folder}/"
    assert violations((folder,), FORBIDDEN[folder]) == []


@pytest.mark.parametrize("folder", sorted(FORBIDDEN_ROOMS))
def test_rooms_keep_to_themselves(folder: str) -> None:
    assert python_files(folder), f"no Python files under {folder}/"
    assert violations((folder,), FORBIDDEN_ROOMS[folder]) == []


def test_graph_nodes_are_private_to_graphs() -> None:
    assert violations(OUTSIDE_GRAPHS, (NODES,)) == []


def test_the_checker_sees_what_it_must_refuse() -> None:
    """Relative imports, ``from package import module`` and imports inside functions or
    ``TYPE_CHECKING`` blocks are all seen, under their absolute names."""
    probe = ROOT / "tools" / "clip" / "probe.py"  # never written: read from ``source``
    source = ("from ..segments import Segment\n"
              "from .. import files\n"
              "if True:\n"
              "    from ...graphs import nodes\n"
              "def f():\n"
              "    import viddiff.agent.api\n")
    modules = {m for _, m in imported_modules(probe, source)}
    assert modules == {"viddiff.tools.segments", "viddiff.tools.segments.Segment",
                       "viddiff.tools", "viddiff.tools.files",
                       "viddiff.graphs", "viddiff.graphs.nodes", "viddiff.agent.api"}
    assert within("viddiff.graphs.nodes.load", NODES)
    assert not within("viddiff.graphs.nodesx", NODES)


# ------------------------------------------------------------------ the factories' topology

#: where a node names the node it hands over to (docs/architecture.md, "Add a node")
ROUTING_CALLS = {"Send": 0, "retry_or_fail": 0, "JudgeStep": 0}
NODE_NAMES = "viddiff.graphs.node_names"


def node_modules() -> list[Path]:
    """The modules that define nodes: graphs/nodes/ and the eval graph's, not the factories."""
    return [*python_files("graphs/nodes"),
            *(p for p in python_files("graphs/eval") if p.stem != "graph")]


def spelled_routes(path: Path, source: str | None = None) -> list[str]:
    """Hand-overs a node module spells itself instead of taking them from its factory: a string
    or a module-level constant as a ``Command``'s ``goto``, a ``Send``'s target, a retry edge's
    node (``retry_or_fail``, ``JudgeStep``)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
                 for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                 if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        targets = [k.value for k in node.keywords if func == "Command" and k.arg == "goto"]
        if func in ROUTING_CALLS and len(node.args) > ROUTING_CALLS[func]:
            targets.append(node.args[ROUTING_CALLS[func]])
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found.append(f"{path.name}:{part.lineno} {func} to {part.value!r}")
                elif isinstance(part, ast.Name) and part.id in constants:
                    found.append(f"{path.name}:{part.lineno} {func} to {part.id}")
    return found


def test_nodes_hand_over_only_where_their_factory_says() -> None:
    """A node's successors and its own name (its retry edge) come from its graph factory, so
    inserting a node changes the factory, not the nodes around it."""
    modules = node_modules()
    assert len(modules) > 10
    assert [f for path in modules for f in spelled_routes(path)] == []
    assert [f"{path.relative_to(ROOT)}:{line}" for path in modules
            for line, module in imported_modules(path) if within(module, NODE_NAMES)] == []


def test_the_route_checker_sees_what_it_must_refuse() -> None:
    probe = ROOT / "graphs" / "nodes" / "probe.py"  # never written: read from ``source``
    source = ("AFTER = ['localize', 'link']\n"
              "def f(exits, task, reply, sends):\n"
              "    Command(goto='select_frames')\n"
              "    Command(update={}, goto=AFTER)\n"
              "    Command(goto=[Send('difference', task)])\n"
              "    retry_or_fail('link', reply, None)\n"
              "    JudgeStep('match', None, None, '')\n"
              "    Command(goto=sends or exits.skip_to)\n"
              "    Command(goto=END)\n"
              "    Command(goto=Send(exits.name, task))\n"
              "    retry_or_fail(exits.name, reply, None)\n")
    assert sorted(spelled_routes(probe, source)) == [
        "probe.py:3 Command to 'select_frames'", "probe.py:4 Command to AFTER",
        "probe.py:5 Command to 'difference'", "probe.py:5 Send to 'difference'",
        "probe.py:6 retry_or_fail to 'link'", "probe.py:7 JudgeStep to 'match'"]


# --------------------------------------------------------------------------- no cycles

def owning_module(dotted: str) -> str | None:
    """The module an imported name lives in (``viddiff.graphs.llm.ask_structured`` is
    viddiff.graphs.llm), or None when it names no module of the tree."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        if module_file(".".join(parts[:cut])) is not None:
            return ".".join(parts[:cut])
    return None


def unit_of(module: str) -> str:
    """What the cycle rule counts as one unit: a subpackage of a layer with everything under
    it (``viddiff.graphs.nodes``, ``viddiff.tools.pose``, ``viddiff.agent.cli``), or a module
    that sits directly in a layer folder (``viddiff.graphs.state``, ``viddiff.tools.viewpoint``),
    or the layer's own ``__init__`` (``viddiff.prompts``, the root ``viddiff``).

    A layer's own modules are units of their own rather than one unit with the layer:
    ``graphs/offline.py`` imports ``viddiff.graphs.nodes`` and the nodes import
    ``graphs/state.py``, which is the floor's shared code, not a cycle; as separate units that
    stays legal while a cycle that runs through a layer module (pose → viewpoint → kinematics →
    pose) is still caught.
    """
    layer = max((p for p in PACKAGE_DIRS if within(module, p)), key=len)
    rest = module[len(layer):].lstrip(".")
    if layer == "viddiff" or not rest:
        return layer
    room = f"{layer}.{rest.split('.')[0]}"
    path = module_file(room)
    return room if path is not None and path.name == "__init__.py" else module


def unit_imports(sources: dict[Path, str] | None = None) -> dict[str, dict[str, list[str]]]:
    """unit -> imported unit -> the ``file:line`` of each import, over the shipped packages
    (imports inside functions and ``TYPE_CHECKING`` blocks included). ``sources`` adds or
    replaces files (path -> source) without writing them."""
    files = {path: None for folder in PACKAGE_DIRS.values() for path in python_files(folder)}
    files.update(sources or {})
    edges: dict[str, dict[str, list[str]]] = {}
    for path, source in files.items():
        here = unit_of(module_name(path))
        for line, imported in imported_modules(path, source):
            target = owning_module(imported) if within(imported, "viddiff") else None
            if target is None or unit_of(target) == here:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            edges.setdefault(here, {}).setdefault(unit_of(target), []).append(where)
    return edges


def import_cycles(edges: dict[str, dict[str, list[str]]]) -> list[str]:
    """One line per cycle found (``a → b → a``, with the import that closes each step),
    from a depth-first search that reports each back edge once."""
    found: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(unit: str) -> None:
        state[unit] = 1
        path.append(unit)
        for target in sorted(edges.get(unit, {})):
            if state.get(target) == 1:
                loop = [*path[path.index(target):], target]
                steps = [f"{a} → {b} ({edges[a][b][0]})" for a, b in itertools.pairwise(loop)]
                found.append("; ".join(steps))
            elif target not in state:
                visit(target)
        path.pop()
        state[unit] = 2

    for unit in sorted(edges):
        if unit not in state:
            visit(unit)
    return found


def test_no_import_cycles_between_packages() -> None:
    """No two units (subpackages, layer modules) import each other, directly or around a
    longer loop: each can then be read, tested and changed from the bottom up."""
    edges = unit_imports()
    assert "viddiff.agent.cli" in edges and "viddiff.tools.pose" in edges  # it sees them
    assert import_cycles(edges) == []


def test_the_cycle_checker_sees_a_cycle() -> None:
    """A constructed loop, closed by an import inside a function, is reported with the
    import that closes it; units are what the rule says they are."""
    probe = ROOT / "tools" / "pose" / "probe.py"  # never written: read from ``source``
    source = "def f():\n    from viddiff.tools.kinematics import signals\n"
    cycles = import_cycles(unit_imports({probe: source}))
    assert any("viddiff.tools.pose → viddiff.tools.kinematics (tools/pose/probe.py:2)" in c
               and "viddiff.tools.kinematics → viddiff.tools.pose" in c for c in cycles), cycles
    assert import_cycles({"a": {"b": ["x:1"]}, "b": {"c": ["y:2"]}, "c": {"a": ["z:3"]}}) == [
        "a → b (x:1); b → c (y:2); c → a (z:3)"]
    assert import_cycles({"a": {"b": ["x:1"]}, "b": {}}) == []
    assert unit_of("viddiff.graphs.nodes.load") == "viddiff.graphs.nodes"
    assert unit_of("viddiff.graphs.state") == "viddiff.graphs.state"
    assert unit_of("viddiff.graphs") == "viddiff.graphs"
    assert unit_of("viddiff.agent.console.live_view") == "viddiff.agent.console"
    assert owning_module("viddiff.graphs.llm.ask_structured") == "viddiff.graphs.llm"


# --------------------------------------------------------------------------- the document

def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def module_file(module: str) -> Path | None:
    """The file of an installed module name, or None when there is none."""
    for package in sorted(PACKAGE_DIRS, key=len, reverse=True):
        if within(module, package):
            rest = module[len(package):].lstrip(".")
            base = ROOT / PACKAGE_DIRS[package]
            if rest:
                base = base.joinpath(*rest.split("."))
            if (base / "__init__.py").is_file():
                return base / "__init__.py"
            if base.with_suffix(".py").is_file():
                return base.with_suffix(".py")
            return None
    return None


def top_level_names(path: Path) -> set[str]:
    """Names a module defines at its top level (functions, classes, assignments, imports),
    including those declared under a top-level ``if`` (``TYPE_CHECKING``) or ``try``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    body = list(tree.body)
    for node in body:
        if isinstance(node, ast.If | ast.Try):  # ``if TYPE_CHECKING:``, optional imports
            body.extend([*node.body, *node.orelse])
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def resolves(dotted: str) -> bool:
    """``viddiff.x.y`` is a module, or a module followed by a name it defines."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        path = module_file(".".join(parts[:cut]))
        if path is None:
            continue
        rest = parts[cut:]
        return not rest or rest[0] in top_level_names(path)
    return False


DOTTED = re.compile(r"(?<![\w/.-])viddiff(?:\.[A-Za-z_]\w*)+")
PATH = re.compile(r"(?<![\w/.~<-])((?:" + "|".join(TOP_LEVEL) + r")/[\w./-]*)")


def test_module_names_in_the_document_exist() -> None:
    names = sorted(set(DOTTED.findall(doc_text())))
    assert len(names) > 20, names  # the pattern finds them at all
    assert [n for n in names if not resolves(n)] == []


def test_paths_in_the_document_exist() -> None:
    paths = sorted({m.rstrip(".,;:") for m in PATH.findall(doc_text())})
    assert len(paths) > 50, paths
    assert [p for p in paths if not (ROOT / p).exists()] == []


def test_every_module_has_its_line_in_the_document() -> None:
    """"Where each concern lives" names every module of the shipped packages (a folder line
    such as ``agent/report/`` covers the files it lists by name)."""
    text = doc_text()
    missing = []
    for folder in ("agent", "graphs", "tools", "evals"):
        for path in python_files(folder):
            rel = path.relative_to(ROOT)
            if path.name == "__init__.py":
                continue
            if str(rel) in text:
                continue
            if f"{rel.parent}/" in text and f"`{rel.name}`" in text:
                continue
            missing.append(str(rel))
    assert missing == []


def test_resolver_rejects_what_does_not_exist() -> None:
    assert resolves("viddiff.graphs.llm.retry_or_fail")
    assert resolves("viddiff.tools.kinematics")
    assert not resolves("viddiff.graphs.llm.no_such_function")
    assert not resolves("viddiff.graphs.no_such_module")
    assert PATH.findall("see `graphs/x.py` and ~/graphs/y") == ["graphs/x.py"]
    assert DOTTED.findall("`graphs/viddiff.py` and `viddiff.tools.files`") == [
        "viddiff.tools.files"]
