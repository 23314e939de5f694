"""viddiff inside another app: as a subgraph of a host graph, as a tool of a host agent, with
host checkpointers (in memory and SQLite), and paused for human review of the proposals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypedDict

import aiosqlite
import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from tests.support.fake_chat import ScriptedChatModel, tool_call
from tests.support.scripts import standard_script
from viddiff.agent.api import create_compare_tool
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.engine import CHECK_PATHS_NODE, build_graph, create_graph
from viddiff.graphs.nodes.review import apply_review
from viddiff.graphs.schemas import ComparisonResult, Difference, VideoRef
from viddiff.graphs.serde import serializable_types, viddiff_serde
from viddiff.tools.paths import PathPolicy, PathRefused


def ctx(tmp_path: Path) -> VidDiffContext:
    return VidDiffContext(fps=6.0, cache_dir=tmp_path / "cache", kinematics=False)


def viddiff(model: ScriptedChatModel, embedder: Any, **kw: Any) -> CompiledStateGraph:
    return create_graph(model, clip_loader=lambda spec: embedder, **kw)


# ------------------------------------------------------------------------- host graph


class HostState(TypedDict, total=False):
    """A host app's own state: it knows nothing of viddiff's internals."""

    clip_a: str
    clip_b: str
    comparison: ComparisonResult | None
    verdict: str


def host_graph(compare: CompiledStateGraph, context: VidDiffContext, checkpointer: Any
               ) -> CompiledStateGraph:
    """A tiny host graph calling the compiled viddiff graph as a subgraph from a node."""

    async def compare_clips(state: HostState) -> dict[str, Any]:
        out = await compare.ainvoke({"video_a": state["clip_a"], "video_b": state["clip_b"],
                                     "action": "a bodyweight squat", "n_differences": 2},
                                    context=context)
        return {"comparison": out["result"]}

    def decide(state: HostState) -> dict[str, Any]:
        result = state["comparison"]
        assert isinstance(result, ComparisonResult)  # restored as an object, not a dict
        votes = [d.label for d in result.differences]
        return {"verdict": max("ab", key=votes.count)}

    host = StateGraph(HostState)
    host.add_node("compare_clips", compare_clips)
    host.add_node("decide", decide)
    host.add_edge(START, "compare_clips")
    host.add_edge("compare_clips", "decide")
    host.add_edge("decide", END)
    return host.compile(checkpointer=checkpointer)


def test_host_graph_runs_viddiff_as_subgraph_with_in_memory_checkpointer(
        synthetic_pair, fake_embedder, tmp_path):
    model = ScriptedChatModel(script=standard_script())
    host = host_graph(viddiff(model, fake_embedder), ctx(tmp_path),
                      InMemorySaver(serde=viddiff_serde()))
    config = {"configurable": {"thread_id": "host-1"}}
    out = asyncio.run(host.ainvoke({"clip_a": str(synthetic_pair[0]),
                                    "clip_b": str(synthetic_pair[1])}, config))
    assert out["verdict"] == "a"
    saved = host.get_state(config).values["comparison"]
    assert isinstance(saved, ComparisonResult)
    assert [d.name for d in saved.differences] == ["depth", "speed"]


def test_review_interrupt_inside_a_host_survives_a_sqlite_restart(
        synthetic_pair, fake_embedder, tmp_path):
    """Pause in the subgraph, drop every object, reopen the SQLite file, resume: the
    subgraph's state (pydantic records) comes back from disk and the run completes."""
    db = tmp_path / "host.sqlite"
    model = ScriptedChatModel(script=standard_script(["depth", "tempo"]))
    config = {"configurable": {"thread_id": "host-2"}}
    request = {"clip_a": str(synthetic_pair[0]), "clip_b": str(synthetic_pair[1])}
    edited = [{"name": "depth", "description": "the squat is deeper",
               "query_string": "the hips are lower", "num_frames": "1"},
              {"name": "tempo", "description": "the descent is slower"}]

    async def session(value: Any) -> dict[str, Any]:
        """One process lifetime: open the file, run or resume, close everything."""
        async with aiosqlite.connect(db) as conn:
            host = host_graph(viddiff(model, fake_embedder, review_proposals=True),
                              ctx(tmp_path), AsyncSqliteSaver(conn, serde=viddiff_serde()))
            return await host.ainvoke(value, config)

    out = asyncio.run(session(request))
    (pending,) = out["__interrupt__"]
    assert pending.value["kind"] == "review_differences"
    assert [d["name"] for d in pending.value["differences"]] == ["depth", "speed"]

    out = asyncio.run(session(Command(resume=edited)))
    result = out["comparison"]
    assert [d.name for d in result.differences] == ["depth", "tempo"]
    assert result.differences[1].num_frames == "gt_1"  # motion wording → several frames
    assert any("reviewer edited" in n for n in result.notes)
    assert len(model.calls_for("ProposedDifferences")) == 1  # not proposed again on resume


# ------------------------------------------------------------------------- host agent


def test_host_agent_uses_the_compare_tool(synthetic_pair, fake_embedder, tmp_path):
    graph_model = ScriptedChatModel(script=standard_script())
    root = synthetic_pair[0].parent
    tool = create_compare_tool(graph_model, clip_loader=lambda spec: fake_embedder,
                               context=ctx(tmp_path), policy=PathPolicy.from_dirs([root]))
    host_model = ScriptedChatModel(script={"tools": [
        tool_call("compare_videos", {"video_a": synthetic_pair[0].name,
                                     "video_b": synthetic_pair[1].name,
                                     "action": "a bodyweight squat", "n_differences": 2}),
        "Video A squats deeper."]})
    agent = create_agent(host_model, [tool], checkpointer=InMemorySaver(serde=viddiff_serde()))
    config = {"configurable": {"thread_id": "agent-1"}}

    async def go() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        events: list[dict[str, Any]] = []
        async for mode, chunk in agent.astream(
                {"messages": [HumanMessage("compare a and b")]}, config,
                stream_mode=["custom", "values"]):
            if mode == "custom":
                events.append(chunk)
        return events, (await agent.aget_state(config)).values

    events, values = asyncio.run(go())
    (message,) = [m for m in values["messages"] if isinstance(m, ToolMessage)]
    assert message.name == "compare_videos" and message.status != "error"
    assert "the squat is deeper → A" in message.text
    artifact = message.artifact
    if isinstance(artifact, dict):  # after the checkpoint round trip
        artifact = ComparisonResult.model_validate(artifact)
    assert [d.label for d in artifact.differences] == ["a", "a"]
    assert values["messages"][-1].text == "Video A squats deeper."
    assert events[0]["event"] == "comparison" and events[0]["status"] == "start"
    assert events[-1] == {"event": "comparison", "status": "end",
                          "comparison_id": message.text.split()[1]}
    assert {"node", "frames_embedded", "difference_answered"} <= {e["event"] for e in events}


def test_compare_tool_can_be_called_directly(synthetic_pair, tmp_path, fake_embedder):
    tool = create_compare_tool(ScriptedChatModel(script=standard_script(["knees"])),
                               clip_loader=lambda spec: fake_embedder, context=ctx(tmp_path),
                               policy=PathPolicy.from_dirs([synthetic_pair[0].parent]))
    message = tool.invoke({"type": "tool_call", "id": "t1", "name": "compare_videos", "args": {
        "video_a": "a.mp4", "video_b": "b.mp4", "action": "a squat",
        "differences": ["the knees go further forward"]}})
    assert isinstance(message, ToolMessage)
    assert isinstance(message.artifact, ComparisonResult)
    assert message.artifact.mode == "closed"
    assert tool.invoke({"video_a": "/etc/passwd", "video_b": "b.mp4", "action": "x"}
                       ).startswith("refused '/etc/passwd': outside the allowed folders")


# -------------------------------------------------------------------- review, serde, guard


def test_review_accept_edit_and_bad_reply(synthetic_pair, fake_embedder, tmp_path):
    model = ScriptedChatModel(script=standard_script())
    graph = viddiff(model, fake_embedder, review_proposals=True,
                    checkpointer=InMemorySaver(serde=viddiff_serde()))
    request = {"video_a": str(synthetic_pair[0]), "video_b": str(synthetic_pair[1]),
               "action": "a squat", "n_differences": 2}
    config = {"configurable": {"thread_id": "review"}}
    first = asyncio.run(graph.ainvoke(request, config, context=ctx(tmp_path)))
    assert "result" not in first and first["__interrupt__"]
    again = asyncio.run(graph.ainvoke(Command(resume=42), config, context=ctx(tmp_path)))
    assert "got int" in again["__interrupt__"][0].value["error"]  # asked again, not crashed
    done = asyncio.run(graph.ainvoke(Command(resume="accept"), config, context=ctx(tmp_path)))
    assert [d.name for d in done["result"].differences] == ["depth", "speed"]
    assert not any("reviewer" in n for n in done["result"].notes)


def test_apply_review_rules():
    proposed = [Difference(name="depth", description="the squat is deeper",
                           query_string="hips lower", num_frames="1")]
    assert apply_review(proposed, None) == (proposed, [])
    assert apply_review(proposed, {"differences": [proposed[0].model_dump()]}) == (proposed, [])
    edited, notes = apply_review(proposed, ["wider stance", "wider stance"])
    assert [d.name for d in edited] == ["wider stance", "wider stance (2)"] and notes
    assert apply_review(proposed, [])[0] == []
    with pytest.raises(ValueError, match="difference 1: description"):
        apply_review(proposed, [{"name": "x"}])
    with pytest.raises(ValueError, match="empty"):
        apply_review(proposed, ["  "])


def test_default_graph_has_no_review_node(fake_embedder):
    plain = build_graph(ScriptedChatModel(script={}), clip_loader=lambda spec: fake_embedder)
    reviewed = build_graph(ScriptedChatModel(script={}), review_proposals=True,
                           clip_loader=lambda spec: fake_embedder)
    assert "review" not in plain.nodes and "review" in reviewed.nodes
    assert "measure_differences" in build_graph(None).nodes  # no models: the offline engine


def test_guarded_graph_refuses_paths_before_decoding(synthetic_pair, fake_embedder, tmp_path):
    model = ScriptedChatModel(script=standard_script())
    graph = viddiff(model, fake_embedder,
                    policy=PathPolicy.from_dirs([synthetic_pair[0].parent]))
    assert CHECK_PATHS_NODE in graph.get_graph().nodes
    for bad in ("../a.mp4", "/etc/passwd", "https://example.com/a.mp4"):
        with pytest.raises(PathRefused):
            asyncio.run(graph.ainvoke({"video_a": bad, "video_b": "b.mp4", "action": "a squat",
                                       "n_differences": 1}, context=ctx(tmp_path)))
    assert not model.calls  # nothing reached a model
    out = asyncio.run(graph.ainvoke({"video_a": "a.mp4", "video_b": "b.mp4",
                                     "action": "a squat", "n_differences": 2},
                                    context=ctx(tmp_path)))
    assert out["result"].video_a.path == str(synthetic_pair[0].resolve())


def test_serde_restores_every_record_and_refuses_strangers(monkeypatch):
    names = {name for _, name in serializable_types()}
    assert {"ComparisonResult", "VideoRef", "Difference", "Segment", "Measurement",
            "Feedback", "RunError", "SampleEvaluation"} <= names
    serde = viddiff_serde()
    ref = VideoRef(path="a.mp4", digest="d", source_fps=30, n_source_frames=3, duration_s=0.1,
                   width=4, height=4, target_fps=6, indices=[0], timestamps=[0.0])
    assert serde.loads_typed(serde.dumps_typed({"videos": {"a": ref}})) == {"videos": {"a": ref}}

    from pydantic import BaseModel

    class Stranger(BaseModel):
        x: int = 1

    restored = serde.loads_typed(serde.dumps_typed(Stranger()))
    assert not isinstance(restored, Stranger)  # unregistered types are not rebuilt
