"""Counts of the phrase bank per split, metric, kind, moment and side (pasted into README.md).

Why a script: the README's tables must match the files; rerun it after any edit
(``python bench/phrase_bank/stats.py``) and paste its output.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPLITS = ("dev", "dev3", "heldout")


def load() -> dict[str, list[dict[str, Any]]]:
    """Both splits' entries, by split name."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in SPLITS:
        lines = (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        out[name] = [json.loads(line) for line in lines if line]
    return out


def table(title: str, field: str, splits: dict[str, list[dict[str, Any]]]) -> list[str]:
    """A markdown table of how many entries have each value of ``field``, per split."""
    counts = {name: Counter(str(e.get(field)) for e in entries) for name, entries in splits.items()}
    keys = sorted(set().union(*counts.values()), key=lambda k: (k == "None", k))
    rows = [f"| {title} | dev | heldout | all |", "|---|---:|---:|---:|"]
    for key in keys:
        dev, held = counts["dev"][key], counts["heldout"][key]
        label = "null" if key == "None" else f"`{key}`"
        rows.append(f"| {label} | {dev} | {held} | {dev + held} |")
    return rows


def main() -> None:
    """Print the totals and the per-field tables as markdown."""
    splits = load()
    total = sum(len(entries) for entries in splits.values())
    groups = {name: len({e["group"] for e in entries}) for name, entries in splits.items()}
    lines = [
        f"Total: {total} entries; dev {len(splits['dev'])} ({groups['dev']} groups), "
        f"heldout {len(splits['heldout'])} ({groups['heldout']} groups).",
        "",
        *table("kind", "kind", splits),
        "",
        *table("moment", "moment", splits),
        "",
        *table("side", "side", splits),
        "",
        *table("metric", "metric", splits),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
