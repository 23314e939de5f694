"""Which known name a name given by a model or a person means: one rule for every caller.

Models re-case, shorten and decorate the names they were shown ("Descent phase" for
``descent``), and people type them loosely. Every place that maps such a name back to a known
stage (the linker's reply, the refiner's reply, the ``measure`` tools' stage, the offline
engine's stage hints) uses :func:`resolve_stage_name`, so a name means the same stage
everywhere. The rule, in order:

1. **exact**: the name is one of the known names;
2. **normalised**: it equals one after case-folding, turning punctuation and underscores into
   spaces and collapsing whitespace (``"Take_off "`` is ``take-off``);
3. **fuzzy**: the known name with the highest rapidfuzz ``WRatio`` score, both normalised, if
   that score is at least :data:`FUZZY_THRESHOLD`; on a tie the known name that comes first
   wins (for stages: the earliest in the action).

Anything else is no match (``name`` is None), and so is an empty name or an empty list. What
no match means is the caller's decision: the linker drops the name with a note, the refiner
keeps the drafted strings, the measure tools measure the whole clips, the offline engine looks
for positional words ("start", "bottom").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

#: The lowest fuzzy score (0-100, rapidfuzz ``WRatio`` on normalised names) that counts as a
#: match. Below it a name is too far from every known one to be trusted.
FUZZY_THRESHOLD = 75.0

#: How a name was matched: ``none`` means it was not.
MatchKind = Literal["exact", "normalised", "fuzzy", "none"]

_SEPARATORS = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class StageMatch:
    """The known name a given name resolved to, and how sure the match is."""

    name: str | None
    """The known name, or None when nothing matched."""
    index: int | None
    """Its position in the known names (the first, if a name is listed twice)."""
    kind: MatchKind
    score: float
    """100 for exact and normalised matches, the fuzzy score otherwise, 0 for no match."""

    @property
    def fuzzy(self) -> bool:
        """Whether the name was only close (callers may want to say so in a note)."""
        return self.kind == "fuzzy"


NO_MATCH = StageMatch(name=None, index=None, kind="none", score=0.0)


def normalise_name(name: str) -> str:
    """The form names are compared in: case-folded, punctuation as spaces, single spaces."""
    return _SEPARATORS.sub(" ", name.casefold()).strip()


def resolve_stage_name(given: str, known: Sequence[str]) -> StageMatch:
    """The known name that ``given`` means, by the module's rule (exact, normalised, fuzzy)."""
    names = list(known)
    if given in names:
        return StageMatch(name=given, index=names.index(given), kind="exact", score=100.0)
    target = normalise_name(given)
    if not target:
        return NO_MATCH
    normalised = [normalise_name(n) for n in names]
    if target in normalised:
        k = normalised.index(target)
        return StageMatch(name=names[k], index=k, kind="normalised", score=100.0)
    best = process.extractOne(target, normalised, scorer=fuzz.WRatio,
                              score_cutoff=FUZZY_THRESHOLD)
    if best is None:
        return NO_MATCH
    k = int(best[2])  # extractOne keeps the first of equal scores
    return StageMatch(name=names[k], index=k, kind="fuzzy", score=float(best[1]))
