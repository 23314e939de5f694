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


@pytest.mark.parametrize("given, expected", [
    ("descent", "descent"), ("DESCENT", "descent"), ("Descent phase", "descent"),
    ("Bottom position", "bottom"), ("nap", None), ("", None)])
def test_every_caller_resolves_a_name_the_same_way(given: str, expected: str | None) -> None:
    """The linker, the refiner, the measure tools and the offline engine agree on a name."""
    from viddiff.graphs.measured_answers import resolve_stage
    from viddiff.graphs.measurement import resolve_segment
    from viddiff.graphs.nodes.link import repair_links
    from viddiff.graphs.nodes.stages import merge_refined
    from viddiff.graphs.schemas import (
        Difference,
        Link,
        LinkReply,
        RefinedStage,
        RefinedStages,
        Stage,
        StageDraft,
    )
    from viddiff.tools.segments import Segment

    stages = [Stage(name=n, description=n, retrieval_strings=[f"a {n}"]) for n in SQUAT]
    diff = Difference(name="depth", description="the squat is deeper",
                      query_string="the squat is deeper", num_frames="1")
    links, _ = repair_links(LinkReply(links=[Link(difference="depth", stages=[given])]),
                            [diff], stages)
    assert links["depth"] == [expected or SQUAT[len(SQUAT) // 2]]  # no match: the middle stage

    drafts = [StageDraft(name=n, description=n, retrieval_strings=[f"draft {n}"])
              for n in SQUAT]
    merged = merge_refined(drafts, RefinedStages(stages=[
        RefinedStage(name=given, retrieval_strings=["refined"])]), min_strings=1)
    refined = [s.name for s in merged if s.retrieval_strings == ["refined"]]
    assert refined == ([expected] if expected is not None else [])

    segments = [Segment(stage=n, start=10 * k, end=10 * k + 9) for k, n in enumerate(SQUAT)]
    found = resolve_segment(given, segments)
    assert (found.stage if found else None) == expected
    if given:
        seg_a, _ = resolve_stage(given, segments, segments, 50, 50)
        assert (seg_a.stage if seg_a else None) == expected
