"""Scripted model replies for a whole VidDiff run, shared by unit and integration tests."""

from __future__ import annotations

import copy
from typing import Any

STAGES = [
    {"name": "setup", "description": "standing ready",
     "retrieval_strings": ["A photo of a person standing upright", "A person with straight legs",
                           "A person with arms at the sides", "A person facing forward",
                           "A person standing still"]},
    {"name": "descent", "description": "lowering the body",
     "retrieval_strings": ["A photo of a person with bent knees", "A person half crouched",
                           "A person leaning forward", "A person with hips moving down",
                           "A person with arms forward"]},
    {"name": "finish", "description": "back to standing",
     "retrieval_strings": ["A photo of a person rising", "A person almost upright",
                           "A person with knees nearly straight", "A person finishing",
                           "A person with relaxed arms"]},
]

PROPOSALS = [
    {"name": "depth", "description": "the squat is deeper",
     "query_string": "the hips are lower", "num_frames": "1"},
    {"name": "speed", "description": "the movement is faster",
     "query_string": "the person moves faster", "num_frames": "gt_1"},
]


def links_for(names: list[str]) -> dict[str, Any]:
    return {"links": [{"difference": n, "stages": ["descent"]} for n in names]}


def verdict(answer: str = "a", reason: str = "A goes lower") -> dict[str, str]:
    return {"reason": reason, "answer": answer}


def standard_script(diff_names: list[str] | None = None) -> dict[str, Any]:
    """Replies keyed by schema name, for ``ScriptedChatModel`` and the fake server alike; a
    fresh copy each call, so a test that edits its script cannot change another test's."""
    names = diff_names or [p["name"] for p in PROPOSALS]
    return copy.deepcopy({
        "ProposedDifferences": {"differences": PROPOSALS},
        "StageTranscript": {"stages": STAGES},
        "RefinedStages": {"stages": [{"name": s["name"], "retrieval_strings":
                                      s["retrieval_strings"][:4]} for s in STAGES]},
        "LinkReply": links_for(names),
        "Verdict": verdict(),
    })
