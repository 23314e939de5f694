"""``viddiff score`` on predictions made by other tools (evals.prediction_formats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viddiff.agent.cli.main import main
from viddiff.evals.data import DataError, parse_row
from viddiff.evals.prediction_formats import (
    EXTERNAL_METHOD,
    from_aligned_list,
    parse_entry,
    read_any_predictions,
)

GT = {"0": "a", "1": "b", "2": "c", "3": None}


def row(key: str, split: str = "easy") -> dict[str, Any]:
    return {"sample_key": key, "action": "fitness_4", "action_description": "a squat",
            "domain": "fitness", "split": split,
            "videos": [{"path": "a.mp4"}, {"path": "b.mp4"}],
            "differences_annotated": {k: {"description": f"difference {k}"} for k in "012"}
            | {"3": None},
            "differences_gt": GT}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "bench.jsonl"
    path.write_text("".join(json.dumps(row(k, s)) + "\n"
                            for k, s in (("s1", "easy"), ("s2", "easy"), ("s3", "hard"))))
    return path


def test_published_closed_short_and_long_forms() -> None:
    sample = parse_row(row("s1"))
    short = parse_entry({"0": "a", "1": "A"}, sample, "closed", "entry 0")
    assert {k: p.label for k, p in short.items()} == {"0": "a", "1": "a"}
    long = parse_entry({"0": {"description": "", "prediction": "b"}}, sample, "closed", "e")
    assert long["0"].label == "b"
    opened = parse_entry({"0": {"description": "the squat is deeper", "prediction": "a"}},
                         sample, "open", "e")
    assert opened["0"].description == "the squat is deeper"


@pytest.mark.parametrize(("entry", "mode", "message"), [
    ({"9": "a"}, "closed", "entry 1 (sample s2): unknown difference key '9'"),
    ({"0": "x"}, "closed", "entry 1 (sample s2), key '0': prediction 'x' is not a label"),
    ({"0": None}, "closed", "prediction None is not a label"),
    ({"0": "a"}, "open", "open mode needs {\"description\", \"prediction\"}"),
    ({"first": {"description": "d", "prediction": "a"}}, "open", "open-mode keys are numbers"),
    ({"0": {"prediction": "a", "why": "x"}}, "closed", "got fields ['prediction', 'why']"),
    (["a", "b"], "closed", "expected an object"),
])
def test_bad_entries_name_the_row(entry: Any, mode: Any, message: str) -> None:
    samples = [parse_row(row("s1")), parse_row(row("s2"))]
    with pytest.raises(DataError) as info:
        from_aligned_list([{"0": {"description": "d", "prediction": "a"}}, entry], samples,
                          mode, "p.json")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert "entry 1 (sample s2)" in str(info.value)  # the first bad row, named


def test_length_mismatch_is_refused(data: Path, tmp_path: Path) -> None:
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps([{"0": "a"}, {"0": "b"}]))
    samples = [parse_row(row(k)) for k in ("s1", "s2", "s3")]
    with pytest.raises(DataError, match="2 prediction entries for 3 dataset rows"):
        read_any_predictions(preds, samples, "closed")


def test_score_cli_reads_the_published_list(data: Path, tmp_path: Path, capsys) -> None:
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps([{"0": "a", "1": "a"}, {"0": "b", "1": "b"}, {"0": "a"}]))
    out = tmp_path / "s.json"
    assert main(["score", "--data", str(data), "--predictions", str(preds), "--mode",
                 "closed", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    overall = summary["metrics"]["overall"]
    # s1: 0 right, 1 wrong; s2: 0 wrong, 1 right; s3: 0 right, 1 missing
    assert (overall["correct"], overall["total"]) == (3, 6)
    assert summary["run"]["method"] == EXTERNAL_METHOD
    assert summary["run"]["predictions_format"] == "benchmark list"
    # aligned with one split's rows
    easy = tmp_path / "easy.json"
    easy.write_text(json.dumps([{"0": "a"}, {"0": "a"}]))
    assert main(["score", "--data", str(data), "--predictions", str(easy), "--mode", "closed",
                 "--split", "easy"]) == 0
    capsys.readouterr()
    assert main(["score", "--data", str(data), "--predictions", str(easy), "--mode",
                 "closed"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "2 prediction entries for 3 dataset rows" in err


def test_score_cli_reads_keyed_lines(data: Path, tmp_path: Path, capsys) -> None:
    preds = tmp_path / "other.jsonl"
    preds.write_text(json.dumps({"sample_key": "s3", "predictions": {"0": "a", "1": "b"}})
                     + "\n")
    out = tmp_path / "s.json"
    assert main(["score", "--data", str(data), "--predictions", str(preds), "--mode",
                 "closed", "--json", str(out)]) == 0
    overall = json.loads(out.read_text())["metrics"]["overall"]
    assert (overall["correct"], overall["total"]) == (2, 2)
    preds.write_text(json.dumps({"sample_key": "s3", "predictions": {"0": "a"}}) + "\n"
                     + json.dumps({"sample_key": "s9", "predictions": {"0": "a"}}) + "\n")
    capsys.readouterr()
    assert main(["score", "--data", str(data), "--predictions", str(preds), "--mode",
                 "closed"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "other.jsonl:2: sample 's9' is not in" in err
