"""The README and docs/ stay true to the tree: the README's two commands are the ones that work
(the first parses, the second is what .ci/run runs), every relative link (and its #anchor)
resolves, the README links every page and every extra, docs/cli.md names every flag of every
command, and docs/results.md names every field of the result file.

The library snippets of the README and docs/embedding.md are run by tests/test_public_api.py.
"""

from __future__ import annotations

import argparse
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from viddiff.agent.cli.main import build_parser
from viddiff.graphs.schemas import (
    ComparisonResult,
    DifferenceResult,
    FrameRef,
    Stage,
    UsageSummary,
    VideoRef,
)
from viddiff.tools.kinematics.results import Evidence, Measurement
from viddiff.tools.segments import Segment

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^(```|~~~).*?^\1", flags=re.S | re.M)
#: [text](target): the text may hold `code` (with brackets in it); the target has no spaces
LINK = re.compile(r"\[(?:[^\[\]`]|`[^`]*`)*\]\(([^()\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", flags=re.M)


def prose(path: Path) -> str:
    """A Markdown file without its fenced code blocks (a link inside one is not a link)."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchors(path: Path) -> set[str]:
    """The #anchors GitHub gives the file's headings: lower case, punctuation dropped, spaces
    to hyphens, a repeated heading numbered -1, -2, …"""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(prose(path)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def relative_links(path: Path) -> list[str]:
    return [t for t in LINK.findall(prose(path))
            if not re.match(r"[a-z][a-z0-9+.-]*:", t)]  # http:, https:, mailto: …


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_link_check_sees_links_and_anchors() -> None:
    """The checker itself: it finds links whose text is code, skips fenced blocks and URLs, and
    makes GitHub's anchors (so a link test that finds nothing cannot pass unnoticed)."""
    readme_links = relative_links(README)
    assert "docs/cli.md" in readme_links and not any("://" in t for t in readme_links)
    assert "two-protocols-ours-and-the-papers" in anchors(ROOT / "docs" / "protocols.md")
    assert "running-on-ray-compare-many-and-eval-the-ray-extra" in anchors(ROOT / "docs" / "cli.md")


def test_readme_links_every_docs_page() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(README)}
    missing = [p.name for p in PAGES if p.resolve() not in linked]
    assert not missing, f"README.md links no docs page {missing}"


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_cli_doc_names_every_command_and_flag() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, parser in _commands().items():
        if f"## viddiff {name}" not in text:
            missing.append(f"section '## viddiff {name}'")
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help") and not re.search(
                        rf"`{re.escape(flag)}[` ]", text):
                    missing.append(f"{name} {flag}")
    assert not missing, "docs/cli.md lacks " + ", ".join(missing)


RESULT_RECORDS: tuple[type[BaseModel], ...] = (
    ComparisonResult, VideoRef, Stage, Segment, DifferenceResult, FrameRef, Measurement, Evidence,
    UsageSummary)


def test_results_doc_names_every_field() -> None:
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    missing = [f"{model.__name__}.{field}" for model in RESULT_RECORDS
               for field in model.model_fields if f"`{field}`" not in text]
    assert not missing, "docs/results.md lacks " + ", ".join(missing)


def test_readme_extras_table_lists_every_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    text = README.read_text(encoding="utf-8")
    table = text.split("## Optional extras", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([\w-]+)` \|", table, flags=re.M))
    assert rows == set(extras), f"README extras table {sorted(rows)}, pyproject {sorted(extras)}"


def _readme_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## The two commands", 1)[1]
    section = section.split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_test_command_is_what_ci_runs() -> None:
    """The README's second command installs what .ci/run installs and runs its pytest line."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installs = re.findall(r"^python -m pip install (?:--quiet )?(-e '\.\[[\w,]+\]')$", ci,
                          flags=re.M)
    assert len(installs) == 1, f".ci/run installs the package {len(installs)} times"
    assert re.search(r"^python -m pytest -q$", ci, flags=re.M)
    command = _readme_commands()[1]
    assert f"pip install {installs[0]} &&" in command, (command, installs[0])
    assert command.endswith("&& python -m pytest -q")


def test_readme_first_command_parses() -> None:
    """The README's first command: its compare arguments parse and its clips exist."""
    command = _readme_commands()[0]
    args = shlex.split(command.split("&& viddiff ", 1)[1])
    parsed = build_parser().parse_args(args)
    assert parsed.command == "compare" and len(parsed.difference) == 5
    assert (ROOT / parsed.video_a).is_file() and (ROOT / parsed.video_b).is_file()


def test_readme_first_command_asks_what_the_engine_can_measure() -> None:
    """Every statement of the README's first command maps to a metric offline (the
    README shows a measured answer for each; "the lunge is deeper" was refused once)."""
    from viddiff.tools.understanding import understand

    command = _readme_commands()[0]
    parsed = build_parser().parse_args(shlex.split(command.split("&& viddiff ", 1)[1]))
    for statement in parsed.difference:
        reading = understand(statement)
        assert reading.metric is not None, (statement, reading.refusal)
