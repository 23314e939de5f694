"""dev3.jsonl from dev3_raw.jsonl (the blind writer's output, DEV3.md): the house rules of
tests/test_phrase_bank.py applied mechanically; no label is read or changed by hand.

Why a script: the writer worked without the house rules (and without reading the other
banks), so its file needs the same mechanical fixes each time it is rebuilt, and a reader
of the bank should see exactly which ones. ``python bench/phrase_bank/normalize_dev3.py``.

The fixes: a statement whose text is already in dev or heldout is dropped; empty ``also``
lists and a side on a refusal go; a group that names two metrics is split by metric; an
opposite whose target was dropped is re-linked to a statement of its group with the other
sense, or unlinked (kind ``coaching``) when there is none or it names another moment or side;
an opposite's ``also`` is the flip of its target's, and one sense's alternatives are the same
within a group; a negated wording that is nobody's opposite is kind ``coaching``.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FLIP = {"higher": "lower", "lower": "higher"}
Entry = dict[str, Any]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _read(name: str) -> list[Entry]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _flipped(alternatives: list[Entry]) -> list[Entry]:
    return [{"metric": a["metric"], "sense": FLIP[a["sense"]]} for a in alternatives]


def _set_also(entry: Entry, alternatives: list[Entry]) -> None:
    if alternatives:
        entry["also"] = [dict(a) for a in alternatives]
    else:
        entry.pop("also", None)


def _unlink(entry: Entry, why: str) -> None:
    print(f"unlinked ({why}): {entry['id']} {entry['text']!r}")
    entry["opposite_of"] = None
    entry["kind"] = "coaching"


def _one_metric_per_group(entries: list[Entry]) -> None:
    by_group: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_group[entry["group"]].append(entry)
    for group, members in by_group.items():
        counts = Counter(e["metric"] for e in members)
        main = counts.most_common(1)[0][0]
        for entry in members:
            if entry["metric"] != main:
                entry["group"] = f"{group}_{entry['metric']}"


def _relink_opposites(entries: list[Entry]) -> None:
    by_id = {e["id"]: e for e in entries}
    for entry in entries:
        if entry["opposite_of"] is None:
            continue
        target = by_id.get(entry["opposite_of"])
        if target is None or target["group"] != entry["group"]:
            candidates = [x for x in entries if x["group"] == entry["group"]
                          and x["opposite_of"] is None and x["id"] != entry["id"]
                          and x["sense"] == FLIP[entry["sense"]]]
            if not candidates:
                _unlink(entry, "nothing left to be the opposite of")
                continue
            target = candidates[0]
            entry["opposite_of"] = target["id"]
        if (target["moment"], target["side"]) != (entry["moment"], entry["side"]):
            _unlink(entry, "its opposite names another moment or side")
            continue
        _set_also(entry, _flipped(target.get("also", [])))


def _same_alternatives(entries: list[Entry]) -> None:
    by_group: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry["metric"] is not None:
            by_group[entry["group"]].append(entry)
    for members in by_group.values():
        first: dict[str, list[Entry]] = {}
        for entry in members:
            sense = entry["sense"]
            if sense not in first and FLIP[sense] not in first:
                first[sense] = entry.get("also", [])
            ref = first[sense] if sense in first else _flipped(first[FLIP[sense]])
            _set_also(entry, ref)


def normalized(raw: list[Entry], others: list[Entry]) -> list[Entry]:
    """The raw entries with the house rules applied (see the module docstring)."""
    seen = {_norm(e["text"]) for e in others}
    entries = [dict(e) for e in raw if _norm(e["text"]) not in seen]
    print(f"dropped as already in the older banks: {len(raw) - len(entries)}")
    for entry in entries:
        if entry["metric"] is None:
            entry.pop("also", None)
            entry["side"] = None
        elif not entry.get("also"):
            entry.pop("also", None)
    _one_metric_per_group(entries)
    _relink_opposites(entries)
    _same_alternatives(entries)
    for entry in entries:
        if entry["kind"] in ("negation", "antonym") and not entry["opposite_of"]:
            entry["kind"] = "coaching"
    return entries


def main() -> None:
    entries = normalized(_read("dev3_raw.jsonl"), _read("dev.jsonl") + _read("heldout.jsonl"))
    text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
    (HERE / "dev3.jsonl").write_text(text, encoding="utf-8")
    print(f"{len(entries)} entries in dev3.jsonl")


if __name__ == "__main__":
    main()
