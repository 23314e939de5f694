"""Human review of the proposed differences, between the proposer and the VLM stage.

Open mode lets an LLM choose what to check; a coach or an annotator often knows better. With
``build_viddiff_graph(..., review_proposals=True)`` the factory puts this node between the
proposer and the linker: the proposer hands over to it, the run pauses (``interrupt``) and
shows the proposals; the caller resumes with ``Command(resume=...)``:

* ``"accept"`` (or ``True``) — keep the proposals as they are (``Command(resume=None)`` is
  not a resume in LangGraph, so ``None`` cannot be used for this);
* a list of differences — replace them. Items are strings (a description) or objects with at
  least ``description`` (``name``, ``query_string``, ``num_frames`` are filled in when absent,
  as in closed mode); ``{"differences": [...]}`` works too. An empty list checks nothing.

A reply that cannot be used is not fatal: the node asks again, showing the error. An interrupt
needs a checkpointer (compile the graph with one, e.g. ``InMemorySaver``).
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END
from langgraph.types import Command, interrupt
from pydantic import ValidationError

from viddiff.graphs.nodes.propose import complete_spec, unique_names
from viddiff.graphs.schemas import Difference, DifferenceSpec, difference_spec
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.wiring import Exits

ACCEPT_WORDS = ("accept", "accepted", "ok", "yes")


def apply_review(proposed: list[Difference], decision: Any) -> tuple[list[Difference], list[str]]:
    """The differences to check after a reviewer's decision, and a note on what changed.

    Raises ``ValueError`` (with a message for the reviewer) when the decision is unusable.
    """
    if decision is None or decision is True:
        return proposed, []
    if isinstance(decision, str) and decision.strip().lower() in ACCEPT_WORDS:
        return proposed, []
    if isinstance(decision, dict) and "differences" in decision:
        decision = decision["differences"]
    if not isinstance(decision, list):
        raise ValueError("resume with 'accept' to keep the proposals, or a list of "
                         f"differences; got {type(decision).__name__}")
    specs: list[DifferenceSpec] = []
    for i, item in enumerate(decision):
        try:
            specs.append(difference_spec(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "item"
            raise ValueError(f"difference {i + 1}: {where}: {first['msg']}") from None
        if not specs[-1].description.strip():
            raise ValueError(f"difference {i + 1}: the description is empty")
    edited = [complete_spec(s) for s in specs]
    for diff, name in zip(edited, unique_names([d.name for d in edited]), strict=True):
        diff.name = name
    before = [d.model_dump() for d in proposed]
    if [d.model_dump() for d in edited] == before:
        return proposed, []
    note = (f"a reviewer edited the proposed differences ({len(proposed)} proposed, "
            f"{len(edited)} checked)")
    return edited, [note]


def review_payload(state: VidDiffState, error: str | None = None) -> dict[str, Any]:
    """What the interrupt shows: JSON-able, so it survives any checkpointer or HTTP API."""
    payload: dict[str, Any] = {
        "kind": "review_differences",
        "action": state.get("action", ""),
        "differences": [d.model_dump() for d in state.get("candidates") or []],
        "instructions": "Resume with 'accept' to keep these differences, or with a list of "
                        "differences (strings or objects with a description) to check "
                        "instead.",
    }
    if error:
        payload["error"] = error
    return payload


def make_review_node(exits: Exits):
    """The review hook: the proposals, as accepted or edited, go on to ``exits.then`` (where
    the proposer would have sent them)."""

    def review_proposals(state: VidDiffState) -> Command[Any]:
        """Pause for a person to accept or edit the proposals; ask again after a bad reply."""
        if state.get("error"):
            return Command(goto=END)
        proposed = list(state.get("candidates") or [])
        error: str | None = None
        while True:
            decision = interrupt(review_payload(state, error))
            try:
                candidates, notes = apply_review(proposed, decision)
            except ValueError as exc:
                error = str(exc)
                continue
            return Command(update={"candidates": candidates, "notes": notes},
                           goto=exits.then)

    return review_proposals
