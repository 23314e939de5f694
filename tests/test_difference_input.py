"""A difference given as text, dict or record becomes a spec by one rule (graphs/schemas.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from viddiff.graphs.nodes.load import parse_specs
from viddiff.graphs.nodes.review import apply_review
from viddiff.graphs.schemas import Difference, DifferenceSpec, difference_fields, difference_spec

DEEPER = Difference(name="depth", description="the squat is deeper",
                    query_string="the knees are more bent", num_frames="1")


def test_a_text_is_the_description() -> None:
    assert difference_fields("the squat is deeper") == {"description": "the squat is deeper"}
    assert difference_spec("the squat is deeper") == DifferenceSpec(
        description="the squat is deeper")


def test_a_dict_keeps_its_fields_and_is_checked_as_a_spec() -> None:
    given = {"description": "faster", "num_frames": "gt_1", "extra": 1}
    assert difference_fields(given) == given  # requests carry it as given
    assert difference_spec(given) == DifferenceSpec(description="faster", num_frames="gt_1")
    with pytest.raises(ValidationError):
        difference_spec({"name": "no description"})
    with pytest.raises(ValidationError):
        difference_spec(5)  # type: ignore[arg-type]


def test_records_pass_through() -> None:
    spec = DifferenceSpec(description="wider stance")
    assert difference_spec(spec) is spec
    assert difference_spec(DEEPER) == DifferenceSpec(**DEEPER.model_dump())
    assert difference_fields(spec) == {"description": "wider stance"}


def test_the_graph_and_the_review_read_differences_alike() -> None:
    given = ["the squat is deeper", {"description": "faster", "num_frames": "gt_1"}]
    assert parse_specs(given) == [difference_spec(g) for g in given]
    edited, notes = apply_review([DEEPER], ["the squat is deeper"])
    assert [d.description for d in edited] == ["the squat is deeper"] and notes
    with pytest.raises(ValueError, match="difference 1: description"):
        apply_review([DEEPER], [{"name": "x"}])
