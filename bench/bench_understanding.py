"""Score the free-text reader (:mod:`viddiff.tools.understanding`) on the phrase bank (issue 22).

Each entry of ``bench/phrase_bank/dev.jsonl`` and ``heldout.jsonl`` is read and counted as

* **right**: mapped to the entry's metric or one of its ``also`` metrics (with the entry's side:
  ``<metric>_<side>``) in the entry's direction (``sense``);
* **refused**: not mapped, with a reason and three suggestions -- right for a statement nothing
  measures (``metric: null``) and for a planned metric the catalogue does not have yet;
* **wrong**: mapped to anything else, or in the opposite direction (the worst outcome).

Tune on dev only; held-out is scored, never read while tuning (bench/phrase_bank/README.md).
``python -m bench.bench_understanding [--show wrong|refused|all] [--split dev|dev3|heldout|all]
[--half 1|2]``.

``dev3`` (``bench/phrase_bank/DEV3.md``) is a second bank written blind, like the held-out one,
and scored once before any rule was made from it; rules made from it are designed on its
half 1 and kept only if half 2 does not get worse (``--half``: a stable hash of each entry's
group, so a statement, its paraphrases and its opposite fall in the same half).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from viddiff.graphs.measured_answers import FACT_OF_FAMILY
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.understanding import Understanding, understand

BANK = Path(__file__).parent / "phrase_bank"
#: Metrics the phrase bank names that the catalogue does not have yet (bench/phrase_bank/README.md):
#: none since issue 22's last six joined the catalogue; a refusal of a statement about one counts
#: as rightly refused.
PLANNED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Score:
    """Counts over one split."""

    n: int
    right: int
    refused: int
    refused_with_help: int
    wrong: int
    refused_rightly: int = 0

    def line(self, split: str) -> str:
        def pct(k: int) -> str:
            return f"{100 * k / self.n:.1f}%"

        return (f"{split}: {self.n} statements; right {self.right} ({pct(self.right)}), "
                f"refused {self.refused} ({pct(self.refused)}, with three suggestions "
                f"{self.refused_with_help}; of them rightly, nothing or a planned metric "
                f"measures it: {self.refused_rightly}), wrong {self.wrong} ({pct(self.wrong)}); "
                f"right or rightly refused {pct(self.right + self.refused_rightly)}")


def load(split: str) -> list[dict]:
    """The entries of one split."""
    return [json.loads(line) for line in (BANK / f"{split}.jsonl").read_text().splitlines()
            if line.strip()]


def half(entry: dict) -> int:
    """1 or 2: which half of its split the entry's group falls in (a stable hash)."""
    return 1 + hashlib.sha256(entry["group"].encode()).digest()[0] % 2


def outcome(entry: dict, reading: Understanding) -> str:
    """"right", "refused" or "wrong" for one entry."""
    if reading.metric is None:
        return "refused"
    if entry["metric"] is None:
        return "wrong"
    side = f"_{entry['side']}" if entry.get("side") else ""
    accepted = [(entry["metric"], entry["sense"])]
    accepted += [(a["metric"], a["sense"]) for a in entry.get("also") or []]
    ok = any(reading.metric == metric + side and reading.direction == sense
             for metric, sense in accepted)
    return "right" if ok else "wrong"


#: How a wrong reading is wrong, worst first: a statement nothing measures given a metric, the
#: right property read the other way round (a mirror label on a real pair), another property
#: altogether, the right property on the other side, or a sibling of the right property (the
#: same fact read another way, e.g. the hands' mean height for their highest point: on a real
#: pair it mostly gets the same label).
WRONG_KINDS = ("unmeasurable answered", "opposite direction", "other property", "other side",
               "sibling")


def _base(name: str) -> str:
    return name.removesuffix("_left").removesuffix("_right")


def _fact(name: str) -> str:
    family = METRICS[name].family if name in METRICS else name
    return FACT_OF_FAMILY.get(family or name, family or name)


def wrong_kind(entry: dict, reading: Understanding) -> str:
    """Which of :data:`WRONG_KINDS` a wrong ``reading`` of ``entry`` is."""
    if entry["metric"] is None:
        return "unmeasurable answered"
    assert reading.metric is not None
    accepted = [(entry["metric"], entry["sense"])]
    accepted += [(a["metric"], a["sense"]) for a in entry.get("also") or []]
    got = _base(reading.metric)
    if any(got == metric and reading.direction != sense for metric, sense in accepted):
        return "opposite direction"
    if any(got == metric for metric, _ in accepted):
        return "other side"
    if any(_fact(got) == _fact(metric) and reading.direction == sense
           for metric, sense in accepted):
        return "sibling"
    if any(_fact(got) == _fact(metric) for metric, _ in accepted):
        return "opposite direction"
    return "other property"


def score(entries: list[dict]) -> tuple[Score, list[tuple[str, dict, Understanding]]]:
    """The split's counts and each entry's outcome."""
    rows = []
    for entry in entries:
        reading = understand(entry["text"])
        rows.append((outcome(entry, reading), entry, reading))
    kinds = [r[0] for r in rows]
    helped = sum(1 for k, _, u in rows if k == "refused" and len(u.suggestions) == 3)
    rightly = sum(1 for k, e, _ in rows
                  if k == "refused" and (e["metric"] is None or e["metric"] in PLANNED))
    return Score(len(rows), kinds.count("right"), kinds.count("refused"), helped,
                 kinds.count("wrong"), rightly), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "dev3", "heldout", "both", "all"),
                        default="all", help="both: dev and heldout; all: the three")
    parser.add_argument("--half", type=int, choices=(1, 2), default=None,
                        help="only the entries whose group falls in this half")
    parser.add_argument("--show", choices=("wrong", "refused", "all", "none"), default="none")
    args = parser.parse_args()
    splits = {"both": ("dev", "heldout"), "all": ("dev", "dev3", "heldout")}.get(
        args.split, (args.split,))
    for split in splits:
        entries = [e for e in load(split) if args.half in (None, half(e))]
        result, rows = score(entries)
        print(result.line(split if args.half is None else f"{split} half {args.half}"))
        kinds = Counter(wrong_kind(e, u) for k, e, u in rows if k == "wrong")
        print("  wrong, by kind: " + ", ".join(f"{kind} {kinds[kind]}" for kind in WRONG_KINDS))
        for kind, entry, reading in rows:
            if args.show in (kind, "all") or (args.show == "all"):
                got = f"{reading.metric} {reading.direction}" if reading.metric else \
                    f"refused: {reading.refusal}"
                print(f"  [{kind}] {entry['text']!r}: want {entry['metric']} {entry['sense']}"
                      f" {entry.get('side') or ''}; got {got} ({reading.phrase})")


if __name__ == "__main__":
    main()
