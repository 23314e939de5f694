"""The stage-transcript cache: the first run to store a transcript wins, and every racing run
goes on with that one, so runs of the same action never disagree on its stages."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from viddiff.graphs.nodes.stages import read_cached_stages, write_cached_stages
from viddiff.graphs.schemas import Stage


def stages(tag: str) -> list[Stage]:
    return [Stage(name=f"{tag} {i}", description=tag, retrieval_strings=[f"{tag} pose {i}"])
            for i in range(3)]


def test_first_writer_wins_and_later_writers_get_its_transcript(tmp_path: Path):
    path = tmp_path / "transcripts" / "k.json"
    assert write_cached_stages(path, stages("first")) == stages("first")
    assert write_cached_stages(path, stages("second")) == stages("first")
    assert read_cached_stages(path) == stages("first")
    assert [p.name for p in path.parent.iterdir()] == ["k.json"]  # no temporary files left


def test_an_unreadable_stored_transcript_is_replaced(tmp_path: Path):
    path = tmp_path / "k.json"
    path.write_text("{half a transcr")
    assert write_cached_stages(path, stages("new")) == stages("new")
    assert read_cached_stages(path) == stages("new")


def _race(path: str, tag: str, start: float) -> list[str]:
    time.sleep(max(0.0, start - time.time()))
    return [s.name for s in write_cached_stages(Path(path), stages(tag))]


def test_racing_processes_agree(tmp_path: Path):
    path = tmp_path / "transcripts" / "k.json"
    start = time.time() + 1.0  # every process writes at the same moment
    with ProcessPoolExecutor(4) as pool:
        got = list(pool.map(_race, [str(path)] * 4, [f"run{i}" for i in range(4)],
                            [start] * 4))
    stored = [s.name for s in read_cached_stages(path) or []]
    assert stored and all(names == stored for names in got), (got, stored)
