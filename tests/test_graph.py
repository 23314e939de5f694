"""The VidDiff graph end to end with scripted fake models and a fake embedder (fast)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import END
from langgraph.types import Command

from tests.support.fake_chat import ScriptedChatModel
from tests.support.scripts import standard_script, verdict
from tests.support.snapshots import assert_matches_snapshot
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.models import ModelRoles
from viddiff.graphs.node_names import LINK
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.state import VidDiffState
from viddiff.graphs.viddiff import SUCCESSORS, build_viddiff_graph
from viddiff.graphs.wiring import Exits, add_routed
from viddiff.tools.errors import ModelReplyError


def make_graph(model: ScriptedChatModel, embedder: Any):
    return build_viddiff_graph(ModelRoles.single(model),
                               clip_loader=lambda spec: embedder).compile()


def context(tmp_path: Path, **kw: Any) -> VidDiffContext:
    """Pose tools off unless a test is about them (they are covered in test_graph_kinematics)."""
    return VidDiffContext(**{"fps": 6.0, "cache_dir": tmp_path / "cache", "kinematics": False,
                             **kw})


def run(graph: Any, request: dict[str, Any], ctx: VidDiffContext, events: list | None = None):
    return asyncio.run(run_comparison(graph, request, ctx,
                                      on_event=events.append if events is not None else None))


def open_request(pair: tuple[Path, Path], n: int = 2) -> dict[str, Any]:
    return {"video_a": str(pair[0]), "video_b": str(pair[1]), "action": "a bodyweight squat",
            "n_differences": n}


def test_graph_shape_matches_snapshot(fake_embedder):
    """The node/edge structure (incl. retry edges) is part of the public contract."""
    mermaid = make_graph(ScriptedChatModel(script={}), fake_embedder).get_graph().draw_mermaid()
    assert_matches_snapshot(mermaid, "viddiff_graph.mmd")
    for retry_edge in ("propose -.-> propose", "stage_transcript -.-> stage_transcript",
                       "link -.-> link", "difference -.-> difference"):
        assert retry_edge in mermaid


def test_review_is_a_node_between_propose_and_link(fake_embedder):
    graph = build_viddiff_graph(ModelRoles.single(ScriptedChatModel(script={})),
                                clip_loader=lambda spec: fake_embedder, review_proposals=True)
    mermaid = graph.compile().get_graph().draw_mermaid()
    assert_matches_snapshot(mermaid, "viddiff_review_graph.mmd")
    assert "propose -.-> review" in mermaid and "review -.-> link" in mermaid
    assert "propose -.-> link" not in mermaid


def make_check_links_node(exits: Exits, seen: list[dict[str, list[str]]]):
    """A node a newcomer might add after ``link``: it looks at the links and hands over."""

    def check_links(state: VidDiffState) -> Command[Any]:
        if state.get("error"):
            return Command(goto=END)
        seen.append(dict(state["links"]))
        return Command(goto=exits.then)

    return check_links


def test_a_node_is_inserted_by_the_factory_alone(synthetic_pair, fake_embedder, tmp_path):
    """Inserting a node between link and select_frames changes the factory's wiring, not the
    nodes around it: the link node is handed the new successor, the new node gets link's."""
    seen: list[dict[str, list[str]]] = []
    graph = build_viddiff_graph(ModelRoles.single(ScriptedChatModel(script=standard_script())),
                                clip_loader=lambda spec: fake_embedder,
                                successors={LINK: "check_links"})
    check = Exits("check_links", then=SUCCESSORS[LINK])
    add_routed(graph, check, make_check_links_node(check, seen))
    inserted = graph.compile()
    mermaid = inserted.get_graph().draw_mermaid()
    assert "link -.-> check_links" in mermaid and "check_links -.-> select_frames" in mermaid
    assert "link -.-> select_frames" not in mermaid

    result = run(inserted, open_request(synthetic_pair), context(tmp_path / "inserted"))
    plain = run(make_graph(ScriptedChatModel(script=standard_script()), fake_embedder),
                open_request(synthetic_pair), context(tmp_path / "plain"))
    assert seen == [{"depth": ["descent"], "speed": ["descent"]}]
    assert result.model_dump() == plain.model_dump()
    assert [d.label for d in result.differences] == ["a", "a"]


def test_open_mode_end_to_end(synthetic_pair, fake_embedder, tmp_path):
    model = ScriptedChatModel(script=standard_script())
    events: list[dict[str, Any]] = []
    result = run(make_graph(model, fake_embedder), open_request(synthetic_pair), context(tmp_path),
                 events)
    assert result.mode == "open"
    assert [d.name for d in result.differences] == ["depth", "speed"]
    assert all(d.label == "a" and d.status == "answered" for d in result.differences)
    depth, speed = result.differences
    assert len(depth.frames_a) == len(depth.frames_b) == 1
    assert len(speed.frames_a) == len(speed.frames_b) == 3
    assert len({f.sampled_index for f in speed.frames_a}) == 3
    # the differencer saw the query string and the images of both videos
    verdict_calls = model.calls_for("Verdict")
    assert len(verdict_calls) == 2
    by_query = {("hips are lower" in c.text): c for c in verdict_calls}
    assert len(by_query[True].images) == 2
    assert len(by_query[False].images) == 6
    assert all(u.model == "scripted-model" for u in result.usage)
    assert sum(u.calls for u in result.usage) == 6
    assert [s.stage for s in result.segments_a] == ["setup", "descent", "finish"]
    kinds = {e["event"] for e in events}
    assert {"node", "frames_embedded", "differences", "difference_answered"} <= kinds


def test_closed_mode_uses_given_differences(synthetic_pair, fake_embedder, tmp_path):
    script = standard_script(diff_names=["the knees go further forward"])
    model = ScriptedChatModel(script=script)
    request = {"video_a": str(synthetic_pair[0]), "video_b": str(synthetic_pair[1]),
               "action": "a squat",
               "differences": [{"description": "the knees go further forward"}]}
    result = run(make_graph(model, fake_embedder), request, context(tmp_path))
    assert result.mode == "closed"
    assert not model.calls_for("ProposedDifferences")
    (diff,) = result.differences
    assert diff.query_string == "the knees go further forward"
    assert diff.num_frames == "1"
    assert diff.stages == ["descent"]


def test_malformed_reply_takes_the_retry_edge(synthetic_pair, fake_embedder, tmp_path):
    script = standard_script()
    script["StageTranscript"] = ['{"stages": [{"name": "setup", ', script["StageTranscript"]]
    model = ScriptedChatModel(script=script)
    result = run(make_graph(model, fake_embedder), open_request(synthetic_pair), context(tmp_path))
    calls = model.calls_for("StageTranscript")
    assert len(calls) == 2
    assert "could not be used" in calls[1].text and "not valid JSON" in calls[1].text
    assert len(result.differences) == 2


def test_semantic_validation_error_is_shown_to_the_model(synthetic_pair, fake_embedder, tmp_path):
    script = standard_script()
    thin = {"stages": [dict(s, retrieval_strings=s["retrieval_strings"][:1])
                       for s in script["StageTranscript"]["stages"]]}
    script["StageTranscript"] = [thin, script["StageTranscript"]]
    model = ScriptedChatModel(script=script)
    run(make_graph(model, fake_embedder), open_request(synthetic_pair), context(tmp_path))
    assert "fewer than 3 retrieval strings" in model.calls_for("StageTranscript")[1].text


def test_repairable_transcript_is_repaired_not_refused(synthetic_pair, fake_embedder, tmp_path):
    """Too many stages are cut to the limit and a repeated name is numbered, with a note,
    without asking the model again."""
    script = standard_script()
    first = script["StageTranscript"]["stages"][0]
    stages = [dict(first, name=f"s{i}") for i in range(9)]
    stages[1] = dict(first, name="S0 ")
    script["StageTranscript"] = {"stages": stages}
    model = ScriptedChatModel(script=script)
    result = run(make_graph(model, fake_embedder), open_request(synthetic_pair),
                 context(tmp_path))
    assert len(model.calls_for("StageTranscript")) == 1
    assert [s.name for s in result.stages] == ["s0", "S0 2", "s2", "s3", "s4"]
    note = next(n for n in result.notes if n.startswith("stage transcript repaired"))
    assert "kept the first 5 of 9 stages" in note and "'S0' to 'S0 2'" in note


def test_give_up_message_lists_every_attempt(synthetic_pair, fake_embedder, tmp_path):
    script = standard_script()
    thin = {"stages": [dict(s, retrieval_strings=s["retrieval_strings"][:1])
                       for s in script["StageTranscript"]["stages"]]}
    script["StageTranscript"] = ["not json", thin, {"stages": []}]
    model = ScriptedChatModel(script=script)
    with pytest.raises(ModelReplyError) as err:
        run(make_graph(model, fake_embedder), open_request(synthetic_pair), context(tmp_path))
    text = str(err.value)
    assert "after 3 attempts" in text and "\n" not in text
    assert "attempt 1: the reply is not valid JSON" in text
    assert "attempt 2: stage " in text and "fewer than 3 retrieval strings" in text
    assert "attempt 3: no stages were given" in text


def test_persistently_malformed_reply_ends_in_failed_state(synthetic_pair, fake_embedder,
                                                           tmp_path):
    script = standard_script()
    script["ProposedDifferences"] = "not json at all"
    model = ScriptedChatModel(script=script)
    graph = make_graph(model, fake_embedder)
    with pytest.raises(ModelReplyError, match=r"propose: model 'scripted-model' gave no usable "
                                              r"reply after 3 attempts"):
        run(graph, open_request(synthetic_pair), context(tmp_path))
    assert len(model.calls_for("ProposedDifferences")) == 3
    assert not model.calls_for("Verdict")  # nothing downstream ran on a failed run
    out = asyncio.run(graph.ainvoke(open_request(synthetic_pair), context=context(tmp_path)))
    assert out["error"].node == "propose" and out.get("result") is None


def test_hallucinated_link_names_are_repaired(synthetic_pair, fake_embedder, tmp_path):
    script = standard_script()
    script["LinkReply"] = {"links": [{"difference": "Depth", "stages": ["Descent phase", "nap"]},
                                     {"difference": "jump height", "stages": ["setup"]}]}
    model = ScriptedChatModel(script=script)
    result = run(make_graph(model, fake_embedder), open_request(synthetic_pair), context(tmp_path))
    depth, speed = result.differences
    assert depth.stages == ["descent"]
    assert speed.stages == ["descent"]  # unlinked: the middle stage
    assert any("unknown stage 'nap'" in n for n in result.notes)
    assert any("unknown difference 'jump height'" in n for n in result.notes)


def test_one_failed_difference_does_not_sink_the_others(synthetic_pair, fake_embedder,
                                                        tmp_path):
    script = standard_script()
    script["Verdict"] = lambda msgs: ("{oops" if "moves faster" in str(msgs[1].content)
                                      else verdict("b", "B goes lower"))
    model = ScriptedChatModel(script=script)
    result = run(make_graph(model, fake_embedder), open_request(synthetic_pair), context(tmp_path))
    depth, speed = result.differences
    assert (depth.label, depth.status) == ("b", "answered")
    assert speed.status == "failed" and speed.label is None and "3 attempts" in speed.reason
    assert "attempts 1-3: the reply is not valid JSON" in speed.reason
    assert result.model_dump(mode="json")["differences"][1]["label"] is None


def test_transcript_is_cached_per_action(synthetic_pair, fake_embedder, tmp_path):
    model = ScriptedChatModel(script=standard_script())
    graph = make_graph(model, fake_embedder)
    run(graph, open_request(synthetic_pair), context(tmp_path))
    run(graph, open_request(synthetic_pair), context(tmp_path))
    assert len(model.calls_for("StageTranscript")) == 1
    assert len(model.calls_for("RefinedStages")) == 1


def test_embedding_runs_while_llm_calls_are_in_flight(synthetic_pair, fake_embedder, tmp_path):
    """Ordering, not wall-clock: the proposer's and the transcript's replies are held until
    the first frames are embedded. Were the embedding to wait for them, each would time out
    without seeing it (and a slow machine cannot make this pass or fail by chance)."""
    embedded = threading.Event()
    encode_images = fake_embedder.encode_images

    def encode_and_signal(*args: Any, **kwargs: Any) -> Any:
        embedded.set()
        return encode_images(*args, **kwargs)

    fake_embedder.encode_images = encode_and_signal
    seen: dict[str, bool] = {}

    def held(schema: str, reply: Any) -> Any:
        def reply_once_embedded(messages: list[Any]) -> Any:
            seen[schema] = embedded.wait(timeout=30)
            return reply
        return reply_once_embedded

    script = standard_script()
    for schema in ("ProposedDifferences", "StageTranscript"):
        script[schema] = held(schema, script[schema])
    run(make_graph(ScriptedChatModel(script=script), fake_embedder),
        open_request(synthetic_pair), context(tmp_path))
    assert seen == {"ProposedDifferences": True, "StageTranscript": True}


def test_fewer_frames_than_stages_degrades_gracefully(tmp_path, fake_embedder):
    from tests.support.videos import write_video

    a = write_video(tmp_path / "a.mp4", n_frames=4, fps=12)
    b = write_video(tmp_path / "b.mp4", n_frames=4, fps=12)
    model = ScriptedChatModel(script=standard_script())
    result = run(make_graph(model, fake_embedder), open_request((a, b)),
                 context(tmp_path, fps=6))
    assert result.video_a.n_sampled == 2
    assert len(result.differences) == 2
    assert any("fewer than" in n for n in result.notes)
