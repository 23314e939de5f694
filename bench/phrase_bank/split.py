"""The rule that puts each phrase-bank entry in the dev or the held-out split.

Why a rule in code: the held-out part is meant to stay unseen while the mapper is tuned, so
nobody should move entries by hand to make it easier. Entries are grouped (`group`: one idea
with its paraphrases and opposites), whole groups are assigned, so a statement, its
near-paraphrases and its opposite always land in the same split. Groups are stratified by
their metric (``None`` for unmeasurable statements): within each metric they are shuffled with
a seeded generator and taken into held-out until about 35% of that metric's entries are there,
so both splits cover every metric that has at least two groups.

Run ``python bench/phrase_bank/split.py`` to rewrite ``dev.jsonl`` and ``heldout.jsonl``
from their union by this rule (it prints what moved; nothing should).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

SEED = 22
HELDOUT_SHARE = 0.35
# Phrasings quoted in issue 22 itself: whoever tunes the mapper has read them, so they cannot
# be unseen. Their groups stay in dev, whatever the draw says.
ISSUE_PHRASINGS = frozenset(
    {
        "she squats lower",
        "the person does not go as low",
        "the chest stays up",
        "the back is more vertical at the bottom",
        "the heels stay planted",
        "the person rises onto the toes",
        "the hips are raised higher",
        "the butt sticks up in the air",
        "the body is kept straighter from head to heels",
        "the person does more push-ups",
        "the legs stay straighter",
        "the knees lock out at the top",
        "the descent is slower",
        "the squat is deeper",
        "the squat is shallower",
    }
)
HERE = Path(__file__).resolve().parent
FILES = {"dev": HERE / "dev.jsonl", "heldout": HERE / "heldout.jsonl"}


def heldout_groups(entries: list[dict[str, Any]]) -> set[str]:
    """Groups that go to held-out: per metric, seeded shuffle, take until ~35% of entries."""
    sizes: dict[str, int] = defaultdict(int)
    metric_of: dict[str, str] = {}
    pinned: set[str] = set()
    for entry in entries:
        sizes[entry["group"]] += 1
        metric_of.setdefault(entry["group"], str(entry["metric"]))
        if entry["text"] in ISSUE_PHRASINGS:
            pinned.add(entry["group"])
    by_metric: dict[str, list[str]] = defaultdict(list)
    for group, metric in metric_of.items():
        by_metric[metric].append(group)
    chosen: set[str] = set()
    for metric in sorted(by_metric):
        groups = sorted(by_metric[metric])
        if len(groups) < 2:
            continue
        random.Random(f"{SEED}:{metric}").shuffle(groups)
        target = HELDOUT_SHARE * sum(sizes[g] for g in groups)
        free = [g for g in groups if g not in pinned]
        if len(free) == len(groups):
            free = free[:-1]  # nothing pinned: the last in the shuffled order stays in dev
        if not free:
            continue
        taken = 0
        picked: list[str] = []
        for group in free:
            # Take a group only when it brings the share closer to the target; skip it else.
            if abs(taken + sizes[group] - target) < abs(taken - target):
                picked.append(group)
                taken += sizes[group]
        if not picked:  # held-out must still cover the metric: its smallest group goes
            picked.append(min(free, key=lambda group: sizes[group]))
        chosen.update(picked)
    return chosen


def read(path: Path) -> list[dict[str, Any]]:
    """The entries of one split file, one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write(path: Path, entries: list[dict[str, Any]]) -> None:
    """One JSON object a line, keys in a fixed order, so diffs stay small."""
    lines = [json.dumps(entry, ensure_ascii=False) for entry in entries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """Re-split the union of both files by the rule and report what moved."""
    old = {name: read(path) for name, path in FILES.items() if path.exists()}
    union = [entry for name in ("dev", "heldout") for entry in old.get(name, [])]
    held = heldout_groups(union)
    new = {
        "dev": [e for e in union if e["group"] not in held],
        "heldout": [e for e in union if e["group"] in held],
    }
    for name, entries in new.items():
        before = {e["id"] for e in old.get(name, [])}
        moved = sorted({e["id"] for e in entries} - before)
        if moved:
            print(f"{name}: {len(moved)} entries moved in")
        write(FILES[name], entries)
    print({name: len(entries) for name, entries in new.items()})


if __name__ == "__main__":
    main()
