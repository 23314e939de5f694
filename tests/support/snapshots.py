"""Graph shapes pinned as Mermaid drawings in ``tests/snapshots/``.

A graph's nodes and edges (retry edges and exits to ``END`` included) are part of the public
contract. ``UPDATE_SNAPSHOTS=1`` writes the drawing again instead of comparing; review the
diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent.parent / "snapshots"


def assert_matches_snapshot(mermaid: str, name: str) -> None:
    """``mermaid`` is byte for byte the drawing stored as ``tests/snapshots/<name>``."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(mermaid)
        pytest.skip(f"snapshot {name} written; re-run to compare")
    assert mermaid == path.read_text()
