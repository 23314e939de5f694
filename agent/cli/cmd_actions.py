"""``viddiff actions``: the 18 VidDiffBench actions that ``--action KEY`` accepts.

A benchmark key given to ``viddiff compare --action`` expands to its description and, with no
differences given, to its checklist; this command lists the keys, so a mistyped one can be
looked up rather than guessed.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


def register(sub: Any) -> None:
    act = sub.add_parser("actions", help="list the benchmark actions --action accepts",
                         description="List the VidDiffBench actions: the keys viddiff "
                                     "compare --action accepts, with their checklists' sizes.")
    act.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    from viddiff.tools.taxonomy import load_actions, load_differences

    counts: dict[str, int] = {}
    for diff in load_differences():
        counts[diff.action] = counts.get(diff.action, 0) + 1
    table = Table(title="Benchmark actions (viddiff compare --action KEY)", title_justify="left")
    for column in ("Key", "Name", "Domain", "Split", "Differences"):
        table.add_column(column, justify="right" if column == "Differences" else "left")
    for action in sorted(load_actions().values(), key=lambda a: (a.domain, a.key)):
        table.add_row(Text(action.key), Text(action.name), Text(action.domain),
                      Text(action.split), str(counts.get(action.key, 0)))
    console.print(table)
    return 0
