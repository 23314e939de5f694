"""The chat agent: tools, follow-ups from memory, SQLite persistence, path attacks, terminal UI.

The chat model and the graph's models are scripted fakes and CLIP is the fake embedder, so
these run in seconds; the last tests drive ``viddiff chat`` itself over real HTTP against the
local OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from rich.console import Console

from tests.support.fake_chat import ScriptedChatModel, tool_call
from tests.support.fake_openai import FakeOpenAIServer, RecordedRequest, Reply, RouteBySchema
from tests.support.scripts import standard_script
from viddiff.agent.chat.agent import create_chat_agent
from viddiff.agent.chat.setup import sqlite_checkpointer
from viddiff.agent.chat.video_tools import (
    make_find_moment_tool,
    make_list_actions_tool,
    moment_window,
    rank_moments,
)
from viddiff.agent.cli.cmd_chat import chat_loop
from viddiff.agent.cli.main import main
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.engine import create_graph
from viddiff.graphs.schemas import ComparisonResult
from viddiff.graphs.serde import viddiff_serde
from viddiff.tools.paths import PathPolicy

COMPARE = {"video_a": "a.mp4", "video_b": "b.mp4", "action": "a bodyweight squat",
           "n_differences": 2}


@pytest.fixture
def videos(tmp_path: Path, synthetic_pair: tuple[Path, Path]) -> Path:
    """An allowed folder with a.mp4 and b.mp4, a secret next to it and a link out of it."""
    root = tmp_path / "videos"
    root.mkdir()
    shutil.copy(synthetic_pair[0], root / "a.mp4")
    shutil.copy(synthetic_pair[1], root / "b.mp4")
    secret = tmp_path / "secret.mp4"
    shutil.copy(synthetic_pair[0], secret)
    (root / "link.mp4").symlink_to(secret)
    return root


class Setup:
    """One chat agent with scripted models: ``chat`` talks, ``graph_model`` compares."""

    def __init__(self, tmp_path: Path, videos: Path, embedder: Any, turns: list[Any],
                 checkpointer: Any = None) -> None:
        self.chat = ScriptedChatModel(script={"tools": turns})
        self.graph_model = ScriptedChatModel(script=standard_script())
        self.context = VidDiffContext(fps=6.0, cache_dir=tmp_path / "cache", kinematics=False)
        self.agent = create_chat_agent(
            self.chat, create_graph(self.graph_model, clip_loader=lambda spec: embedder),
            context=self.context, policy=PathPolicy.from_dirs([videos]),
            embedder_factory=lambda: embedder,
            checkpointer=checkpointer or InMemorySaver(serde=viddiff_serde()))

    async def say(self, text: str, thread: str = "t") -> tuple[dict[str, Any], list[Any]]:
        config = {"configurable": {"thread_id": thread}}
        events = []
        async for mode, chunk in self.agent.astream({"messages": [HumanMessage(text)]}, config,
                                                    stream_mode=["custom", "updates"]):
            if mode == "custom":
                events.append(chunk)
        return (await self.agent.aget_state(config)).values, events


def tool_messages(values: dict[str, Any]) -> list[ToolMessage]:
    return [m for m in values["messages"] if isinstance(m, ToolMessage)]


def test_follow_up_questions_use_the_stored_result(tmp_path, videos, fake_embedder):
    setup = Setup(tmp_path, videos, fake_embedder, [
        tool_call("compare_videos", COMPARE), "**A** squats deeper.",
        tool_call("get_result", {"difference": "depth"}), "Frame #3 of A, at 0.50 s.",
        tool_call("get_result", {}), "The descent starts at 0.50 s."])

    async def conversation() -> tuple[dict[str, Any], list[Any]]:
        _, events = await setup.say("compare a.mp4 and b.mp4, a squat")
        await setup.say("why do you say A is deeper? which frames?")
        values, _ = await setup.say("when does the descent start?")
        return values, events

    values, events = asyncio.run(conversation())
    verdicts = len(setup.graph_model.calls_for("Verdict"))
    assert verdicts == 2  # one comparison, two differences — the follow-ups ran nothing
    (cid,) = values["comparisons"]
    assert isinstance(values["comparisons"][cid], ComparisonResult)
    compare, detail, overview = tool_messages(values)
    assert compare.text.startswith(f"Comparison {cid} (open mode")
    assert "Frames of A: source frame " in detail.text and "Stage 'descent': A " in detail.text
    assert "Stage 'descent'" in overview.text and f"Comparison {cid}" in overview.text
    # from the second turn on, the model is told which comparisons it can consult
    assert "Comparisons already run" not in setup.chat.calls[0].text
    assert f"- {cid}: 'a bodyweight squat'" in setup.chat.calls[2].text
    assert values["messages"][-1].text == "The descent starts at 0.50 s."
    assert [e["status"] for e in events if e["event"] == "comparison"] == ["start", "end"]
    assert {"node", "frames_embedded", "differences", "difference_answered"} <= {
        e["event"] for e in events}


def test_conversation_resumes_from_sqlite_after_a_restart(tmp_path, videos, fake_embedder):
    db = tmp_path / "chat.sqlite"

    async def session(turns: list[Any], text: str) -> tuple[Setup, dict[str, Any]]:
        async with sqlite_checkpointer(db) as saver:
            setup = Setup(tmp_path, videos, fake_embedder, turns, checkpointer=saver)
            values, _ = await setup.say(text, thread="squats")
            return setup, values

    asyncio.run(session([tool_call("compare_videos", COMPARE), "A squats deeper."],
                        "compare a.mp4 with b.mp4"))
    later, values = asyncio.run(session([tool_call("get_result", {"difference": "speed"}),
                                         "Both are equally fast."], "and the speed?"))
    assert not later.graph_model.calls  # the new process compared nothing
    assert "Difference 'speed'" in tool_messages(values)[-1].text
    assert all(isinstance(r, ComparisonResult) for r in values["comparisons"].values())
    assert [m.type for m in values["messages"]] == ["human", "ai", "tool", "ai",
                                                    "human", "ai", "tool", "ai"]


def test_tools_refuse_paths_outside_the_allowed_folders(tmp_path, videos, fake_embedder):
    secret = str(tmp_path / "secret.mp4")
    attacks = [
        tool_call("compare_videos", {**COMPARE, "video_a": "../secret.mp4"}),
        tool_call("compare_videos", {**COMPARE, "video_b": secret}),
        tool_call("compare_videos", {**COMPARE, "video_a": "link.mp4"}),
        tool_call("compare_videos", {**COMPARE, "video_a": "https://example.com/a.mp4"}),
        tool_call("compare_videos", {**COMPARE, "video_a": "concat:a.mp4|../secret.mp4"}),
        tool_call("find_moment", {"video": "../../etc/passwd", "moment": "a squat"}),
        tool_call("measure_pose", {"video_a": "a.mp4", "video_b": secret,
                              "metric": "knee_angle_min"}),
        tool_call("find_moment", {"video": "link.mp4", "moment": "a squat"}),
        tool_call("measure_pose", {"video_a": "https://example.com/a.mp4", "video_b": "b.mp4",
                                   "metric": "knee_angle_min"}),
        "I cannot read those files."]
    setup = Setup(tmp_path, videos, fake_embedder, attacks)
    values, _ = asyncio.run(setup.say("compare my secret video"))
    replies = tool_messages(values)
    assert len(replies) == 9
    assert all(m.status == "error" and "refused" in m.text for m in replies), [
        m.text for m in replies]
    assert "'..'" in replies[0].text and "outside the allowed folders" in replies[1].text
    assert "symlink" in replies[2].text and "URLs are not allowed" in replies[3].text
    assert "never opened" in replies[4].text
    assert "symlink" in replies[7].text and "URLs are not allowed" in replies[8].text
    assert not setup.graph_model.calls and fake_embedder.image_calls == 0


def test_every_shipped_tool_is_confined_or_takes_no_path(tmp_path, videos, fake_embedder):
    """Each LangChain tool viddiff ships: one per name; the ones that take a video path are
    built with a PathPolicy (attacked above and in test_localizer); the rest take none."""
    import inspect

    import viddiff.tools.localizer as localizer_module
    from viddiff.agent.chat.compare_tool import make_compare_tool
    from viddiff.agent.chat.stage_tool import make_localize_stages_tool
    from viddiff.agent.chat.toolset import make_chat_tools
    from viddiff.agent.chat.video_tools import make_measure_pose_tool

    policy = PathPolicy.from_dirs([videos])
    graph = create_graph(ScriptedChatModel(script={}), clip_loader=lambda spec: fake_embedder)
    tools = [*make_chat_tools(graph, policy=policy, embedder_factory=lambda: fake_embedder),
             make_localize_stages_tool(lambda: fake_embedder, policy=policy)]
    names = [t.name for t in tools]
    assert len(set(names)) == len(names)
    takes_paths = {t.name for t in tools if any("video" in arg for arg in t.args)}
    assert takes_paths == {"compare_videos", "find_moment", "measure_pose", "localize_stages"}
    for factory in (make_compare_tool, make_find_moment_tool, make_measure_pose_tool,
                    make_localize_stages_tool):
        assert "policy" in inspect.signature(factory).parameters, factory.__name__
    assert not hasattr(localizer_module, "make_localize_tool")  # the unconfined one is gone


def test_list_actions_tool():
    tool = make_list_actions_tool()
    everything = tool.invoke({})
    assert everything.count("\n- ") == 18 and "fitness_4" in everything
    checklist = tool.invoke({"action": "fitness_4"})
    assert checklist.startswith("fitness_4") and "(measurable from pose)" in checklist
    assert "no known action" in tool.invoke({"action": "underwater basket weaving"})


def test_localize_tool_finds_moments(videos, tmp_path, fake_embedder):
    ctx = VidDiffContext(fps=6.0, cache_dir=tmp_path / "cache")
    tool = make_find_moment_tool(lambda: fake_embedder, context=ctx,
                              policy=PathPolicy.from_dirs([videos]))
    text = tool.invoke({"video": "a.mp4", "moment": "the bottom of the squat", "top_k": 2})
    lines = text.splitlines()
    assert lines[0].startswith("a.mp4: 3.00 s, 18 frames sampled")
    assert lines[1].startswith("1. ") and lines[2].startswith("2. ")
    assert "The best match lasts about" in lines[-1]


def test_rank_moments_and_window():
    scores = np.array([0.1, 0.9, 0.85, 0.2, 0.8, 0.1])
    times = np.arange(6) * 0.25
    assert rank_moments(scores, times, 2, min_gap_s=0.5) == [1, 4]
    assert rank_moments(scores, times, 3, min_gap_s=0.0) == [1, 2, 4]
    assert moment_window(scores, 1) == (1, 2)
    assert moment_window(np.ones(4), 2) == (0, 3)


def test_measure_tool_uses_the_stages_of_the_last_comparison(tmp_path, videos, fake_embedder):
    pytest.importorskip("mediapipe", reason="the measure tool needs the pose extra")
    setup = Setup(tmp_path, videos, fake_embedder, [
        tool_call("compare_videos", COMPARE),
        tool_call("measure_pose", {"video_a": "a.mp4", "video_b": "b.mp4",
                              "metric": "knee_angle_min", "stage": "Descent"}),
        tool_call("measure_pose", {"video_a": "a.mp4", "video_b": "b.mp4", "metric": "nonsense"}),
        "Not measurable: no person in these clips."])
    values, _ = asyncio.run(setup.say("compare, then measure the knee angle"))
    _, measured, unknown = tool_messages(values)
    assert measured.status != "error"
    assert measured.text.startswith("knee_angle_min in stage 'descent': not measurable")
    assert unknown.status == "error" and "unknown metric 'nonsense'" in unknown.text


# ----------------------------------------------------------------------- terminal chat


def lines_from(texts: list[str]) -> Any:
    """A ``read_line`` that answers with ``texts`` and then signals end of input."""
    queue = iter(texts)

    def read(prompt: str = "") -> str:
        try:
            return next(queue)
        except StopIteration:
            raise EOFError from None

    return read


def test_chat_loop_renders_progress_tables_and_markdown(tmp_path, videos, fake_embedder):
    setup = Setup(tmp_path, videos, fake_embedder, [
        tool_call("compare_videos", COMPARE), "## Verdict\n\n**A** squats *deeper*.",
        tool_call("compare_videos", {**COMPARE, "video_a": "../secret.mp4"}), "Not allowed."])
    # a terminal: the live progress is shown only there (piped output gets none)
    console = Console(record=True, width=150, force_terminal=True, color_system=None)
    code = asyncio.run(chat_loop(setup.agent, console, "ui", lines_from(
        ["", "/help", "compare a.mp4 and b.mp4", "now my secret", "/exit", "never read"])))
    out = console.export_text()
    assert code == 0
    assert "Follow-up questions use the last result" in out  # /help
    assert "→ compare_videos(video_a='a.mp4', video_b='b.mp4'" in out
    assert "Comparing " in out and "Answering differences" in out  # live progress
    assert "the squat is deeper" in out and "Stages found" in out  # the result table
    assert "Verdict" in out and "A squats deeper." in out  # Markdown, rendered
    assert "compare_videos: refused '../secret.mp4'" in out
    assert len(setup.graph_model.calls_for("Verdict")) == 2


# --------------------------------------------------------- viddiff chat over real HTTP


def chat_routes(script: dict[str, Any]) -> RouteBySchema:
    """Graph calls by schema; chat calls (no schema) decide by the conversation so far."""

    def chat_reply(req: RecordedRequest) -> Reply:
        last = req.messages[-1]
        if last["role"] == "tool":
            return Reply.text("**A** squats deeper: its hips are lower at 0.50 s.")
        if "compare" in str(last.get("content")):
            return Reply.tool_call("compare_videos", {**COMPARE, "n_differences": 2})
        return Reply.tool_call("get_result", {"difference": "depth"})

    table: dict[str | None, Any] = {k: Reply.json(v) for k, v in script.items()}
    table[None] = chat_reply
    return RouteBySchema(table)


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Lines the terminal user types (rich's Console.input reads with ``input``)."""
    lines: list[str] = []

    def read(prompt: str = "") -> str:
        if not lines:
            raise EOFError
        return lines.pop(0)

    monkeypatch.setattr(builtins, "input", read)
    yield lines


def chat_args(url: str, tmp_path: Path, videos: Path) -> list[str]:
    return ["chat", "--base-url", url, "--model", "test-vlm", "--db", str(tmp_path / "c.db"),
            "--thread", "squats", "--allow", str(videos), "--clip-pretrained", "none",
            "--fps", "4", "--no-kinematics", "--cache-dir", str(tmp_path / "cache"), "--quiet"]


def restart_http_clients() -> None:
    """langchain-openai shares one async HTTP client per endpoint within a process; it belongs
    to the event loop of the first ``viddiff chat``. A real restart is a new process; here,
    forget the client so the second session gets one on its own loop."""
    from langchain_openai.chat_models import _client_utils

    _client_utils._cached_async_httpx_client.cache_clear()


@pytest.mark.integration
def test_viddiff_chat_over_http_resumes_a_thread(tmp_path, videos, typed, capsys,
                                                 monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_CHAT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    with FakeOpenAIServer(chat_routes(standard_script())) as srv:
        typed[:] = ["compare a.mp4 and b.mp4 please", "/exit"]
        assert main(chat_args(srv.base_url, tmp_path, videos)) == 0
        first = capsys.readouterr().out
        n_first = len(srv.requests)
        typed[:] = ["why is A deeper?"]
        restart_http_clients()
        assert main(chat_args(srv.base_url, tmp_path, videos)) == 0
        second = capsys.readouterr().out
        later = list(srv.requests)[n_first:]
    assert "New conversation 'squats'" in first
    assert "the squat is deeper" in first and "A squats deeper" in first
    assert "Resumed conversation 'squats': 4 messages, 1 comparisons." in second
    assert "→ get_result(difference='depth')" in second
    assert [r.schema_name for r in later] == [None, None]  # two chat calls, no comparison
    tools = later[0].tool_names
    assert set(tools) == {"compare_videos", "get_result", "find_moment", "measure_pose",
                          "list_actions"}
    tool_text = json.dumps(later[1].messages[-1])
    assert "Frames of A" in tool_text


def test_viddiff_chat_without_an_endpoint_fails_cleanly(monkeypatch, capsys, tmp_path):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    assert main(["chat", "--db", str(tmp_path / "c.db")]) == 2
    err = capsys.readouterr().err.strip()
    assert "needs a chat model" in err and len(err.splitlines()) == 1


@pytest.mark.integration
def test_thread_resumes_after_a_turn_that_hit_the_recursion_limit(tmp_path, videos, typed,
                                                                   capsys, monkeypatch):
    """A turn cut off by the recursion limit leaves an assistant message whose tool calls
    were never answered. The user gets one line; after a restart the next turn of the same
    SQLite thread works, against a server that rejects (400) any history with an unanswered
    tool call, because the dangling call is answered with an error tool message first."""
    from langchain_core.messages import AIMessage

    from viddiff.agent.cli import cmd_chat

    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDDIFF_MODEL", "VIDDIFF_CHAT_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    replies = [Reply.tool_call("list_actions", {}), Reply.text("Here is my answer.")]
    with FakeOpenAIServer(replies) as srv:
        monkeypatch.setattr(cmd_chat, "RECURSION_LIMIT", 3)  # stops right after the model
        typed[:] = ["list every action you know", "/exit"]
        assert main(chat_args(srv.base_url, tmp_path, videos)) == 0
        first = capsys.readouterr().out

        async def saved_messages() -> list[Any]:
            async with sqlite_checkpointer(tmp_path / "c.db") as saver:
                state = await saver.aget({"configurable": {"thread_id": "squats"}})
            return list((state or {}).get("channel_values", {}).get("messages", []))

        broken = asyncio.run(saved_messages())
        assert isinstance(broken[-1], AIMessage) and broken[-1].tool_calls  # dangling

        monkeypatch.setattr(cmd_chat, "RECURSION_LIMIT", 50)
        typed[:] = ["so, which actions?"]
        assert main(chat_args(srv.base_url, tmp_path, videos)) == 0
        second = capsys.readouterr().out
        requests = list(srv.requests)
        rejected = srv.rejected_count
    stopped = [ln for ln in first.splitlines() if "stopped without an answer" in ln]
    assert len(stopped) == 1 and "after 1 model call and 1 tool call " in stopped[0], stopped
    assert "Traceback" not in first + second and "error" not in second
    assert "unfinished tool calls were closed" in second  # history is not printed again
    assert "list_actions" not in second and "Here is my answer." in second
    assert rejected == 0 and len(requests) == 2
    sent = requests[1].messages
    call_id = broken[-1].tool_calls[0]["id"]
    i = next(k for k, m in enumerate(sent) if m.get("tool_calls"))
    assert sent[i + 1]["role"] == "tool" and sent[i + 1]["tool_call_id"] == call_id
    assert "never completed" in json.dumps(sent[i + 1]["content"])
    assert sent[-1]["role"] == "user" and "which actions" in json.dumps(sent[-1]["content"])
    repaired = asyncio.run(saved_messages())
    assert [type(m).__name__ for m in repaired[-4:]] == ["AIMessage", "ToolMessage",
                                                         "HumanMessage", "AIMessage"]


def test_dangling_calls_are_answered_where_they_were_made():
    from langchain_core.messages import AIMessage

    from viddiff.agent.chat.repair import answer_dangling_calls

    calls = [{"name": "list_actions", "args": {}, "id": i} for i in ("c1", "c2")]
    history = [HumanMessage("hi", id="h1"), AIMessage("", tool_calls=calls, id="a1"),
               ToolMessage("done", tool_call_id="c1", id="t1"), HumanMessage("again", id="h2")]
    fixed = answer_dangling_calls(history)
    assert fixed is not None
    assert [getattr(m, "tool_call_id", m.id) for m in fixed] == ["h1", "a1", "c1", "c2", "h2"]
    assert fixed[3].status == "error" and "never completed" in fixed[3].text
    assert answer_dangling_calls(fixed) is None  # nothing left to repair
