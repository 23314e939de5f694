"""One ``viddiff eval`` per output folder: a second run is refused at once, naming the holder;
a lock left by a killed run is taken over. With two real processes (the lock is the OS's)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.benchmark import bench_row
from tests.support.videos import write_video
from viddiff.agent.cli.main import main
from viddiff.evals.out_lock import LOCK_FILE, OutDirBusy, lock_out_dir

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from viddiff.evals.out_lock import lock_out_dir
    with lock_out_dir(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(120)
""")


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """Another process holding the lock of ``tmp_path/out``."""
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    try:
        yield proc, out
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_second_process_is_refused_naming_the_holder(holder):
    proc, out = holder
    with pytest.raises(OutDirBusy) as err, lock_out_dir(out):
        pass
    text = str(err.value)
    assert f"pid {proc.pid}" in text and "started 20" in text and "\n" not in text
    assert "another --out" in text


def test_lock_of_a_killed_run_is_taken_over(holder):
    proc, out = holder
    held = json.loads((out / LOCK_FILE).read_text())
    assert held["pid"] == proc.pid
    os.kill(proc.pid, signal.SIGKILL)  # no clean exit: its pid stays in the lock file
    proc.wait(10)
    notes: list[str] = []
    with lock_out_dir(out, notes) as me:
        assert me["pid"] == os.getpid()
        assert json.loads((out / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert len(notes) == 1 and f"pid {proc.pid}" in notes[0] and "no longer running" in notes[0]
    with lock_out_dir(out, notes):  # released at the end of the block: free again
        pass
    assert len(notes) == 1  # a clean end leaves no holder to report


def test_second_eval_exits_2_with_one_line(holder, tmp_path, capsys, monkeypatch):
    proc, out = holder
    monkeypatch.setenv("VIDDIFF_CACHE_DIR", str(tmp_path / "cache"))
    videos = tmp_path / "videos"
    videos.mkdir()
    write_video(videos / "a.mp4", n_frames=24, fps=12)
    data = tmp_path / "bench.jsonl"
    data.write_text(json.dumps(bench_row("s1", "easy", [("a.mp4", [0, None], 12.0),
                                                        ("a.mp4", [0, None], 12.0)])) + "\n")
    code = main(["eval", "--data", str(data), "--videos", str(videos), "--out", str(out),
                 "--offline", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and f"pid {proc.pid}" in err, err
    assert not (out / "predictions.jsonl").exists()  # nothing was run
