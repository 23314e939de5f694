"""The one stage-name rule (tools/stage_names.py): exact, normalised, fuzzy above a threshold."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from viddiff.tools.stage_names import (
    FUZZY_THRESHOLD,
    NO_MATCH,
    normalise_name,
    resolve_stage_name,
)

SQUAT = ["setup", "descent", "bottom", "ascent", "lockout"]


def test_exact_name_wins() -> None:
    match = resolve_stage_name("descent", SQUAT)
    assert (match.name, match.index, match.kind, match.score) == ("descent", 1, "exact", 100.0)
    assert not match.fuzzy


@pytest.mark.parametrize("given", ["Descent", "DESCENT", "  descent ", "descent.", "Descent!"])
def test_case_whitespace_and_punctuation_do_not_matter(given: str) -> None:
    match = resolve_stage_name(given, SQUAT)
    assert (match.name, match.kind, match.fuzzy) == ("descent", "normalised", False)


def test_underscores_and_hyphens_are_spaces() -> None:
    assert normalise_name("Take_off ") == normalise_name("take-off") == "take off"
    assert resolve_stage_name("Take_Off", ["approach", "take-off", "flight"]).name == "take-off"
    # an exact name is preferred to one that only normalises to the same text
    assert resolve_stage_name("take off", ["take-off", "take off"]).index == 1


def test_a_close_name_matches_fuzzily_and_says_so() -> None:
    match = resolve_stage_name("Descent phase", SQUAT)
    assert (match.name, match.kind, match.fuzzy) == ("descent", "fuzzy", True)
    assert FUZZY_THRESHOLD <= match.score < 100
    # the fuzzy step compares normalised names: case does not lower the score
    assert resolve_stage_name("BOTTOM POSITION", SQUAT).name == "bottom"


def test_a_name_below_the_threshold_is_no_match() -> None:
    assert fuzz.WRatio("nap", "approach") < FUZZY_THRESHOLD
    assert resolve_stage_name("nap", ["approach", "take-off", "flight"]) == NO_MATCH
    match = resolve_stage_name("wobble", [f"phase {k}" for k in range(1, 6)])
    assert (match.name, match.index, match.kind, match.score) == (None, None, "none", 0.0)


def test_a_tie_goes_to_the_name_that_comes_first() -> None:
    names = ["phase 1", "phase 2"]
    assert fuzz.WRatio("phase", names[0]) == fuzz.WRatio("phase", names[1])
    assert resolve_stage_name("phase", names).name == "phase 1"
    assert resolve_stage_name("phase", names[::-1]).name == "phase 2"
    # a name listed twice resolves to its first place
    assert resolve_stage_name("bottom", ["bottom", "top", "bottom"]).index == 0
    assert resolve_stage_name("Bottom", ["BOTTOM", "top", "bottom"]).index == 0


@pytest.mark.parametrize("given", ["", "   ", "--"])
def test_an_empty_name_is_no_match(given: str) -> None:
    assert resolve_stage_name(given, SQUAT) == NO_MATCH


def test_an_empty_list_is_no_match() -> None:
    assert resolve_stage_name("descent", []) == NO_MATCH
