"""Assertions shared by the command-line tests."""

from __future__ import annotations


def assert_one_line(err: str, *needles: str) -> None:
    """A user-facing error: one line, no traceback, naming each of ``needles``."""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
