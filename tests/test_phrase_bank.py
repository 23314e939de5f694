"""The phrase bank (bench/phrase_bank/): well-formed, consistent, split by its rule.

Why: the mapper of issue 22 is scored against these labels, so a typo in a metric name, a
mislabelled opposite or an entry moved into held-out by hand would silently skew the score.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from bench.phrase_bank import split
from viddiff.tools.kinematics.registry import METRICS

BANK = Path(__file__).resolve().parents[1] / "bench" / "phrase_bank"
SPLITS = ("dev", "dev3", "heldout")

# Metrics whose sign itself is a side (left minus right, + towards the left): the side a
# statement names is carried by the sense, so `side` stays null.
LATERAL = frozenset({"knee_raise_left_minus_right", "hip_shift_mean"})
KNOWN = frozenset(METRICS)
KINDS = {"taxonomy", "coaching", "negation", "antonym", "unmeasurable"}
MOMENTS = {None, "bottom", "top", "descent", "ascent", "throughout"}
SIDES = {None, "left", "right"}
REQUIRED = {
    "id",
    "text",
    "metric",
    "sense",
    "moment",
    "side",
    "action",
    "kind",
    "group",
    "opposite_of",
}
OPTIONAL = {"also"}
FLIP = {"higher": "lower", "lower": "higher"}


def _load() -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name in SPLITS:
        lines = (BANK / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert all(line.strip() for line in lines), f"{name}: blank line"
        out[name] = [json.loads(line) for line in lines]
    return out


BANK_ENTRIES = _load()
ALL = [entry for name in SPLITS for entry in BANK_ENTRIES[name]]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def test_sizes() -> None:
    assert len(ALL) >= 300
    for name in SPLITS:
        assert len(BANK_ENTRIES[name]) >= 100, name
    share = len(BANK_ENTRIES["heldout"]) / len(ALL)
    assert 0.25 <= share <= 0.45, share


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e["id"])
def test_fields(entry: dict[str, Any]) -> None:
    assert REQUIRED <= set(entry) <= REQUIRED | OPTIONAL
    assert isinstance(entry["text"], str) and entry["text"] == entry["text"].strip()
    assert entry["text"]
    assert not re.search(r"\bvideos?\b|\b(first|second) clip\b", entry["text"], re.I)
    assert isinstance(entry["action"], str) and entry["action"]
    assert entry["kind"] in KINDS
    assert entry["moment"] in MOMENTS
    assert entry["side"] in SIDES
    metric = entry["metric"]
    if metric is None:
        assert entry["kind"] == "unmeasurable" and entry["sense"] is None
        assert entry["side"] is None and "also" not in entry and entry["opposite_of"] is None
        return
    assert entry["kind"] != "unmeasurable"
    assert metric in KNOWN, metric
    side_variant = metric.endswith(("_left", "_right")) and metric not in LATERAL
    assert not side_variant, "name the side in `side`, not in the metric"
    assert entry["sense"] in FLIP
    if entry["side"] is not None:
        assert metric not in LATERAL
        assert f"{metric}_{entry['side']}" in METRICS, metric
    for alt in entry.get("also", []):
        assert set(alt) == {"metric", "sense"}
        assert alt["metric"] in KNOWN and alt["metric"] != metric
        assert alt["sense"] in FLIP


def test_ids_and_texts_unique() -> None:
    ids = Counter(entry["id"] for entry in ALL)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(_norm(entry["text"]) for entry in ALL)
    assert [t for t, n in texts.items() if n > 1] == []


def test_opposites_mirror() -> None:
    """An opposite has the same metric, moment and side, and the other sense (its `also`
    alternatives flip too), so a mapper that is right on both gives mirror labels."""
    by_id = {entry["id"]: (name, entry) for name in SPLITS for entry in BANK_ENTRIES[name]}
    linked = 0
    for name in SPLITS:
        for entry in BANK_ENTRIES[name]:
            if entry["opposite_of"] is None:
                continue
            linked += 1
            assert entry["kind"] in {"negation", "antonym"}
            other_split, other = by_id[entry["opposite_of"]]
            assert other_split == name and other["group"] == entry["group"]
            assert other["metric"] == entry["metric"]
            assert other["sense"] == FLIP[entry["sense"]]
            assert (other["moment"], other["side"]) == (entry["moment"], entry["side"])
            mine = {(a["metric"], a["sense"]) for a in entry.get("also", [])}
            theirs = {(a["metric"], FLIP[a["sense"]]) for a in other.get("also", [])}
            assert mine == theirs, entry["id"]
    assert linked >= 0.3 * len(ALL)
    negations = [e for e in ALL if e["kind"] in {"negation", "antonym"}]
    assert all(e["opposite_of"] for e in negations)


def test_coverage() -> None:
    """Every catalogue metric, every moment, side and kind in each split, and a tenth or so
    of refusals."""
    used = {entry["metric"] for entry in ALL}
    bases = {m for m in METRICS if m in LATERAL or not m.endswith(("_left", "_right"))}
    assert sorted(bases - used) == []
    for name in SPLITS:
        entries = BANK_ENTRIES[name]
        assert {e["moment"] for e in entries} == MOMENTS, name
        assert {e["side"] for e in entries} == SIDES, name
        assert {e["kind"] for e in entries} == KINDS, name
        refused = sum(e["metric"] is None for e in entries) / len(entries)
        assert 0.06 <= refused <= 0.2, (name, refused)


def test_split_follows_the_rule() -> None:
    """The held-out set is the independently written one (``v2_`` ids) and nothing else, no
    group spans both files, the phrasings quoted in the issue are in dev, and every metric
    with two or more groups is in both."""
    assert split.problems(BANK_ENTRIES["dev"] + BANK_ENTRIES["dev3"],
                          BANK_ENTRIES["heldout"]) == []
    metrics = {name: {e["metric"] for e in BANK_ENTRIES[name]} for name in SPLITS}
    per_metric = defaultdict(set)
    for entry in ALL:
        per_metric[entry["metric"]].add(entry["group"])
    for metric, groups in per_metric.items():
        if len(groups) >= 2:
            assert metric in metrics["dev"] and metric in metrics["heldout"], metric


def test_the_split_check_can_fail() -> None:
    dev, held = BANK_ENTRIES["dev"], BANK_ENTRIES["heldout"]
    assert split.problems(dev + held[:1], held)  # a held-out entry copied into dev
    assert split.problems(dev, held + dev[:1])  # a dev entry moved into held-out
    without = [e for e in dev if e["text"] != "she squats lower"]
    assert split.problems(without, held) == ["issue phrasing not in dev: 'she squats lower'"]


def test_groups_agree() -> None:
    """Within a group the metric is one, and entries of one sense name the same alternatives
    (the other sense the flipped ones), so paraphrases are never labelled two ways."""
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in ALL:
        by_group[entry["group"]].append(entry)
    for group, entries in by_group.items():
        assert len({e["metric"] for e in entries}) == 1, group
        alternatives = set()
        for entry in entries:
            sign = entry["sense"] == "higher"
            for alt in entry.get("also", []):
                same = alt["sense"] == "higher"
                alternatives.add((alt["metric"], same == sign))
        assert len({m for m, _ in alternatives}) == len(alternatives), group
