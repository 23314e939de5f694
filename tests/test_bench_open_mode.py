"""The open-mode harness (bench/open_mode_set.py, open_mode_score.py, bench_open_mode.py):
the scorer on hand-made result JSONs, the copies' writer on a synthetic clip, and (slow, real
clips) one control and one case scored end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import pytest

from bench.open_mode_score import (
    label_changes,
    read,
    score_closed,
    score_open,
    summarise_open,
)
from bench.open_mode_set import (
    CAPTURE_VARIANTS,
    VARIANTS,
    Fact,
    Pair,
    available_cams,
    build,
    pair_names,
)
from tests.support.videos import write_variant, write_video

CONTROL = Pair("cam01/resized_0.6", "cam01", "resized_0.6", Path("a.mp4"), Path("b.mp4"),
               "control")
SLOW = Pair("cam01/slow_1.5", "cam01", "slow_1.5", Path("a.mp4"), Path("b.mp4"), "case",
            target=(Fact("timing", "b"),))
LEAD_IN = Pair("cam01/lead_in_1", "cam01", "lead_in_1", Path("a.mp4"), Path("b.mp4"),
               "control", allowed=(Fact("timing", "b", whole_clip=True),))
MIRROR = Pair("cam01/mirror", "cam01", "mirror", Path("a.mp4"), Path("b.mp4"), "control",
              sided_allowed=True)
TWICE = Pair("cam01/twice", "cam01", "twice", Path("a.mp4"), Path("b.mp4"), "case",
             target=(Fact("reps", "b"),), allowed=(Fact("timing", "b", whole_clip=True),))


def diff(name: str, label: str | None, metric: str | None = None, va: float | None = None,
         vb: float | None = None, unit: str = "deg", stage: str | None = "middle",
         status: str = "answered", **more: Any) -> dict[str, Any]:
    """One difference of a result JSON, as ``viddiff compare --json`` writes it."""
    d: dict[str, Any] = {"name": name, "description": name, "label": label, "status": status,
                         "measurements": []}
    if metric is not None:
        d["measurements"].append({"metric": metric, "value_a": va, "value_b": vb,
                                  "unit": unit, "stage": stage, **more})
    return d


def result(*diffs: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "open", "differences": list(diffs)}


KNEE = diff("knee angle at its most bent (end)", "a", "knee_angle_min", 143.0, 51.0)
SLOWER = diff("movement time", "b", "motion_duration", 1.2, 1.8, unit="s", stage=None)


def test_a_control_with_one_false_statement_counts_one() -> None:
    score = score_open(CONTROL, result(KNEE))
    assert (score["n_stated"], score["n_false"]) == (1, 1)
    assert score["stated"][0]["verdict"] == "false"
    assert "found" not in score


def test_a_control_with_nothing_stated_counts_zero() -> None:
    """Answers labelled c and failed differences are not statements."""
    score = score_open(CONTROL, result(diff("stance", "c", "stance_width", 1.0, 1.0),
                                       diff("broken", None, status="failed")))
    assert (score["n_stated"], score["n_false"]) == (0, 0)


def test_a_case_stated_second_is_found_but_not_first() -> None:
    score = score_open(SLOW, result(KNEE, SLOWER))
    assert score["found"] is True and score["first"] is False
    assert score["n_false"] == 1
    assert [r["verdict"] for r in score["stated"]] == ["false", "target"]


def test_a_case_stated_first_alone() -> None:
    score = score_open(SLOW, result(SLOWER))
    assert (score["found"], score["first"], score["n_false"]) == (True, True, 0)


def test_the_wrong_direction_is_not_the_constructed_difference() -> None:
    """"A is slower" on a copy slowed down is false, not found."""
    score = score_open(SLOW, result(diff("movement time", "a", "motion_duration", 1.8, 1.2,
                                         unit="s", stage=None)))
    assert (score["found"], score["n_false"]) == (False, 1)


def test_a_speed_reads_slower_for_the_smaller_value() -> None:
    r = read(diff("hip speed", "a", "mean_speed_hip", 0.9, 0.6, unit="TL/s"))
    assert (r.category, r.video) == ("timing", "b")


def test_words_alone_give_the_direction() -> None:
    """A statement with no measurement (another engine) is read from its words and label."""
    assert (read(diff("the motion is faster", "a")).category,
            read(diff("the motion is faster", "a")).video) == ("timing", "b")
    assert read(diff("there is a longer pause", "b")).video == "b"
    assert read(diff("B does more repetitions", "b")).category == "reps"
    assert (read(diff("the knees bend more", "a")).category,
            read(diff("the knees bend more", "a")).video) == ("depth", "a")
    assert read(diff("the squat is shallower", "b")).video == "a"
    assert read(diff("the arms are raised higher", "a")).category == "geometry"


SHALLOW = Pair("cam02/shallow_0.4", "cam02", "shallow_0.4", Path("a.mp4"), Path("b.mp4"),
               "case", target=(Fact("depth", "a"),),
               allowed=(Fact("timing", "a"), Fact("reach", "a"), Fact("pause", "a")))


def test_depth_reads_the_deeper_video_from_the_values() -> None:
    """A smaller knee angle, a larger thigh tilt, lower hips: each is the deeper video."""
    assert read(KNEE).video == "b"  # 143 deg in A, 51 in B: B bends more
    assert read(diff("squat depth", "a", "thigh_angle_max", 30.0, 10.0)).video == "a"
    assert read(diff("hips low", "b", "hip_depth", 1.1, 1.3, unit="TL")).video == "a"
    assert read(diff("left knee", "b", "knee_angle_min_left", 120.0, 150.0)).video == "a"


def test_a_shallower_copy_wants_depth_and_allows_only_what_turning_early_makes_true() -> None:
    """B shallower: "B's knees bend less" is the target; A's wider step (an extreme) and B's
    shorter movement are allowed; B's deeper knee, B slower, a median are false."""
    shallower = diff("knee angle at its most bent", "b", "knee_angle_min", 116.0, 128.0)
    step = diff("widest step", "a", "stance_width_max", 1.1, 0.4, unit="TL")
    quicker = diff("movement time", "a", "motion_duration", 1.0, 0.4, unit="s", stage=None)
    deeper_b = diff("knee angle at its most bent", "a", "knee_angle_min", 128.0, 116.0)
    mean_speed = diff("hip speed", "a", "mean_speed_hip", 0.8, 0.5, unit="TL/s")  # B slower
    median = diff("stance", "a", "stance_width", 0.9, 0.5, unit="TL")
    score = score_open(SHALLOW, result(step, quicker, shallower, deeper_b, mean_speed, median))
    assert [r["verdict"] for r in score["stated"]] == [
        "allowed", "allowed", "target", "false", "false", "false"]
    assert (score["found"], score["first"]) == (True, False)


def test_a_lead_in_may_lengthen_the_whole_clip_only() -> None:
    staged = diff("it takes longer (start)", "b", "stage_duration", 0.5, 1.5, unit="s",
                  stage="start")
    score = score_open(LEAD_IN, result(SLOWER, staged))
    assert [r["verdict"] for r in score["stated"]] == ["allowed", "false"]
    assert score["n_false"] == 1


def test_a_mirror_allows_sided_statements_only() -> None:
    sided = diff("left knee angle at its most bent", "a", "knee_angle_min_left", 120.0, 100.0)
    both = diff("left and right knees differ", "a", "left_right_asymmetry_knee", 20.0, 5.0)
    score = score_open(MIRROR, result(sided, both, KNEE))
    assert [r["verdict"] for r in score["stated"]] == ["allowed", "false", "false"]


def test_played_twice_wants_repetitions_not_slower_stages() -> None:
    reps = diff("number of repetitions", "b", "rep_count", 1.0, 2.0, unit="reps", stage=None)
    middle = diff("the motion is slower (middle)", "b", "motion_duration", 1.12, 3.64,
                  unit="s", stage="middle")
    score = score_open(TWICE, result(middle, reps, SLOWER))
    assert [r["verdict"] for r in score["stated"]] == ["false", "target", "allowed"]
    assert (score["found"], score["first"], score["n_false"]) == (True, False, 1)


def test_repetition_counts_on_a_measurement_give_the_direction() -> None:
    r = read(diff("repetitions", "b", "some_new_metric", 3.0, 3.0, unit="s", reps_a=1,
                  reps_b=2))
    assert (r.category, r.video) == ("reps", "b")


def test_summary_totals() -> None:
    scores = [score_open(CONTROL, result(KNEE, KNEE)), score_open(CONTROL, result()),
              score_open(SLOW, result(KNEE, SLOWER)), score_open(SLOW, result(SLOWER)),
              score_open(TWICE, result(KNEE))]
    s = summarise_open(scores)
    assert s == {"control_pairs": 2, "false_on_controls": 2, "controls_with_false": 1,
                 "case_pairs": 3, "found": 2, "found_first": 1, "false_beside_on_cases": 2}


def test_closed_mode_rows_and_mirror_pairs() -> None:
    from bench.validation_set import Expectation

    pair = Pair("p", "cam01", "mirror", Path("a"), Path("b"), "control",
                closed=(Expectation("the movement is faster", "c", False),),
                mirror_pairs=(("left", "right"),))
    rows = score_closed(pair, {"the movement is faster": "a", "left": "a", "right": "b"})
    assert [(r["correct"], r["label"]) for r in rows] == [(False, "a"), (True, "a/b")]
    rows = score_closed(pair, {"the movement is faster": "c", "left": "c", "right": "c"})
    assert [r["correct"] for r in rows] == [True, False]


def test_label_changes_between_pose_rates() -> None:
    changes = label_changes({"p": {"s": "c", "t": "a"}, "q": {"s": "c"}},
                            {"p": {"s": "a", "t": "a"}})
    assert changes == [{"pair": "p", "statement": "s", "pose_fps_30": "c",
                        "pose_fps_60": "a"}]


def test_the_set_is_consistent() -> None:
    names = [v.name for v in VARIANTS]
    assert len(set(names)) == len(names)
    kinds = {v.name: v.kind for v in VARIANTS}
    assert all(kinds[n] == "control" for n in CAPTURE_VARIANTS)
    assert all(v.target for v in VARIANTS if v.kind == "case")
    assert all(not v.target for v in VARIANTS if v.kind == "control")
    assert all(e.label == "c" for v in VARIANTS if v.kind == "control" for e in v.closed)
    assert pair_names((1,))[-1] == "example_AB" and len(pair_names((1, 2))) == 31
    assert all(v.turn_fraction is not None for v in VARIANTS if v.name.startswith("shallow"))


def _frames(path: Path) -> tuple[int, int, int, float]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return n, s.width, s.height, float(s.average_rate or 0)


def test_the_new_copies_are_what_they_say(tmp_path: Path) -> None:
    """Played twice doubles the frames; resize halves the picture; a lead-in adds a second of
    frames; a black pad keeps the size and darkens the border; a high CRF shrinks the file."""
    src = write_video(tmp_path / "src.mp4", n_frames=24, fps=12, size=(64, 48))
    assert _frames(write_variant(src, tmp_path / "twice.mp4", repeat=2))[0] == 48
    assert _frames(write_variant(src, tmp_path / "half.mp4", resize=0.5))[1:3] == (32, 24)
    assert _frames(write_variant(src, tmp_path / "lead.mp4", hold=(0, 1.0)))[0] == 36
    framed = write_variant(src, tmp_path / "framed.mp4", scale=0.5, pad=(0, 0, 0))
    with av.open(str(framed)) as c:
        first = next(c.decode(c.streams.video[0])).to_ndarray(format="rgb24")
    assert first.shape[:2] == (48, 64) and first[:4, :].max() < 40
    assert _frames(write_variant(src, tmp_path / "turned.mp4", turn_at=10))[0] == 21
    plain = write_variant(src, tmp_path / "plain.mp4")
    crushed = write_variant(src, tmp_path / "crushed.mp4", crf=45)
    assert crushed.stat().st_size < plain.stat().st_size


# --------------------------------------------------------------------------------------------
# End to end on a real clip (slow): the harness itself must work; engine quality may not yet
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    if 1 not in available_cams():
        pytest.skip("real clips absent (../shared/data/clips)")
    pytest.importorskip("mediapipe", reason="needs the 'pose' extra")
    from bench.bench_open_mode import run_closed, run_open

    work = tmp_path_factory.getbasetemp() / "open-mode-set"
    pairs = build(work, cams=(1,), names=("resized_0.6", "slow_1.5"))
    assert [p.name for p in pairs] == ["cam01/resized_0.6", "cam01/slow_1.5"]
    out = {}
    for pair in pairs:
        raw = run_open(pair, work / "cache")
        out[pair.variant] = {"raw": raw, "open": score_open(pair, raw),
                             "closed": score_closed(pair, run_closed(pair, work / "cache",
                                                                     30.0)[0])}
    return out


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_harness(scored: dict[str, dict[str, Any]]) -> None:
    """The copies are built, open and closed mode run, and every answer is scored."""
    for name, s in scored.items():
        assert s["raw"]["mode"] == "open"
        assert s["open"]["n_stated"] == sum(1 for d in s["raw"]["differences"]
                                            if d["label"] in ("a", "b"))
        assert s["open"]["n_stated"] == len(s["open"]["stated"])
        assert {r["verdict"] for r in s["open"]["stated"]} <= {"target", "allowed", "false"}
        assert len(s["closed"]) == len(next(v for v in VARIANTS if v.name == name).closed)
        assert all(r["label"] in ("a", "b", "c") for r in s["closed"])


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_case_found_first(scored: dict[str, dict[str, Any]]) -> None:
    s = scored["slow_1.5"]["open"]
    assert s["found"] and s["first"]


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_closed_mode_right(scored: dict[str, dict[str, Any]]) -> None:
    assert all(r["correct"] for s in scored.values() for r in s["closed"])


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_control_states_nothing(scored: dict[str, dict[str, Any]]) -> None:
    assert scored["resized_0.6"]["open"]["n_false"] == 0


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_nothing_false_beside_the_case(scored: dict[str, dict[str, Any]]) -> None:
    assert scored["slow_1.5"]["open"]["n_false"] == 0


@pytest.fixture(scope="module")
def shallow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """cam02 turned at 40 % of the first descent against the same clip turned at its bottom
    (the view where the knee bend shows most: cam01 is frontal)."""
    if 2 not in available_cams():
        pytest.skip("real clips absent (../shared/data/clips)")
    pytest.importorskip("mediapipe", reason="needs the 'pose' extra")
    from bench.bench_open_mode import run_closed, run_open

    work = tmp_path_factory.getbasetemp() / "open-mode-set"
    (pair,) = build(work, cams=(2,), names=("shallow_0.4",))
    return {"open": score_open(pair, run_open(pair, work / "cache")),
            "closed": {r["statement"]: r for r in score_closed(
                pair, run_closed(pair, work / "cache", 30.0)[0])}}


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_shallower_copy_is_stated_shallower(shallow: dict[str, Any]) -> None:
    """Open mode states B's shallower knee bend (found), and nothing false beside it."""
    s = shallow["open"]
    assert s["found"] and s["n_false"] == 0
    depth = [r for r in s["stated"] if r["verdict"] == "target"]
    assert depth and all(r["category"] == "depth" and r["video"] == "a" for r in depth)


@pytest.mark.real_clips
@pytest.mark.slow
def test_end_to_end_shallower_copy_closed_mode(shallow: dict[str, Any]) -> None:
    """Closed mode: the knees bend more and the squat is deeper in A, shallower in B; the one
    down-and-up of each is one repetition each (B's quick one included)."""
    closed = shallow["closed"]
    for statement in ("the knees bend more", "the squat is deeper", "the squat is shallower",
                      "there are more repetitions"):
        assert closed[statement]["correct"], closed[statement]


def test_the_same_copies_are_made_of_another_clip(tmp_path: Path) -> None:
    """bench_second_clip makes the open-mode copies of a clip outside the shared data: pairs
    named after it, the turned-early copies left to the caller, no example pair."""
    from bench.bench_second_clip import VARIANT_NAMES

    clip = write_video(tmp_path / "jacks.mp4", n_frames=24, fps=12)
    pairs = build(tmp_path / "work", names=("resized_0.6", "twice"),
                  sources={"jacks": clip})
    assert [p.name for p in pairs] == ["jacks/resized_0.6", "jacks/twice"]
    assert all(p.copy.exists() and p.original.exists() for p in pairs)
    assert not [n for n in VARIANT_NAMES if n.startswith("shallow")]
    with av.open(str(pairs[1].copy)) as twice:
        assert twice.streams.video[0].frames == 48
