"""The one atomic writer: whole files or none, a shareable mode, and first-writer-wins."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from viddiff.tools import files
from viddiff.tools.files import default_file_mode, write_atomic, write_once


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_atomic_makes_folders_and_a_shareable_file(tmp_path: Path) -> None:
    out = write_atomic(tmp_path / "new" / "deep" / "r.json", '{"a": 1}', durable=True)
    assert out.read_text() == '{"a": 1}'
    assert _mode(out) == default_file_mode() == 0o666 & ~files._umask()
    write_atomic(out, b"binary")
    assert out.read_bytes() == b"binary"
    assert [p.name for p in out.parent.iterdir()] == ["r.json"]  # no temp file left


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    target = tmp_path / "r.json"
    write_atomic(target, "old")

    def broken(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_write_once_keeps_the_first_writer(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "t.json"
    assert write_once(target, "first") is True
    assert write_once(target, "second") is False
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["t.json"]
