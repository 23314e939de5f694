"""Which phrase-bank entries are for development and which are held out, and the check of it.

Why a rule in code: the held-out part is meant to stay unseen while the mapper is tuned, so
nobody should move entries by hand to make it easier.

History. The first bank (612 entries) was split by a seeded draw (whole groups, stratified by
metric, about 35% held out). Its held-out part was scored once, on stop 23 (44.5% right,
19.6% wrong), and its errors were then read to improve the mapper, so on 2026-12-01 it was
folded into ``dev.jsonl``: it is no longer unseen. The held-out set now in ``heldout.jsonl``
(ids ``v2_...``) was written afterwards by someone who read neither the mapper's code, nor the
catalogue's phrases, nor the first bank; only the metric list (name, meaning, what higher and
lower mean), the benchmark's actions and differences, and coaching language
(``HELDOUT_V2.md``).

The rule now: every held-out entry is a ``v2_`` entry and no dev entry is; no group is in
both; the phrasings quoted in issue 22 (seen by whoever tunes the mapper) are in dev.
``python bench/phrase_bank/split.py`` prints whether the files follow it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
FILES = {"dev": HERE / "dev.jsonl", "dev3": HERE / "dev3.jsonl", "heldout": HERE / "heldout.jsonl"}
#: The id prefix of the independently written held-out set.
HELDOUT_PREFIX = "v2_"


def read(path: Path) -> list[dict[str, Any]]:
    """The entries of one split file, one JSON object a line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def problems(dev: list[dict[str, Any]], heldout: list[dict[str, Any]]) -> list[str]:
    """What breaks the rule (empty when the files follow it)."""
    out = [f"held-out entry {e['id']} is not from the independent set"
           for e in heldout if not e["id"].startswith(HELDOUT_PREFIX)]
    out += [f"dev entry {e['id']} belongs to the held-out set"
            for e in dev if e["id"].startswith(HELDOUT_PREFIX)]
    shared = {e["group"] for e in dev} & {e["group"] for e in heldout}
    out += [f"group {g} is in both splits" for g in sorted(shared)]
    dev_texts = {e["text"] for e in dev}
    out += [f"issue phrasing not in dev: {t!r}" for t in sorted(ISSUE_PHRASINGS - dev_texts)]
    return out


def main() -> None:
    """Print whether the two files follow the rule."""
    found = problems(read(FILES["dev"]) + read(FILES["dev3"]), read(FILES["heldout"]))
    print("\n".join(found) if found else "the split follows the rule")


if __name__ == "__main__":
    main()
