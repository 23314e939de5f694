"""``viddiff chat``: talk about videos; comparisons run as tool calls, with live progress.

::

    viddiff chat [--thread NAME] [--db FILE] [--allow DIR ...] [--allow-urls]
                 [--chat-model NAME] [--offline] [endpoint and sampling options]

Conversations are checkpointed in SQLite: ``--thread NAME`` resumes one after a restart, with
its earlier comparisons, so follow-up questions need no new run. Videos may only be read
from the ``--allow`` folders (default: the working directory); URLs only with ``--allow-urls``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from viddiff.agent.chat.setup import default_chat_db
from viddiff.agent.cli import async_run
from viddiff.agent.cli.options import (
    add_endpoint_options,
    add_sampling_options,
    context_from_args,
    endpoint_from_args,
)
from viddiff.tools.errors import VidDiffError, one_line
from viddiff.tools.extras import require_extra
from viddiff.tools.paths import PathPolicy

if TYPE_CHECKING:  # the agent stack is imported when a chat starts, not for `viddiff --help`
    from langgraph.graph.state import CompiledStateGraph

    from viddiff.agent.chat.view import ChatTurnView

EXIT_WORDS = {"/exit", "/quit", "exit", "quit", ":q"}
HELP = ("Ask about two videos, e.g. *compare squat_a.mp4 and squat_b.mp4: is one squat "
        "deeper?* Follow-up questions use the last result. `/exit` (or Ctrl-D) leaves; the "
        "conversation is kept — resume it with `--thread`.")

ReadLine = Callable[[str], str]

RECURSION_LIMIT = 50
"""Graph steps one chat turn may take (a model call and a tool round are one step each)."""
RECURSION_TEXT = ("the agent stopped without an answer after {calls} on this question (a "
                  "turn may take {limit} graph steps). Ask again more narrowly, e.g. one "
                  "comparison at a time; the conversation so far is kept.")


def recursion_text(view: ChatTurnView) -> str:
    """What a turn that hit the step limit did, counted from what it showed (the limit counts
    graph steps, which are not the model calls a person sees)."""
    calls = f"{view.model_calls} model call{'s' if view.model_calls != 1 else ''}"
    if view.tool_calls:
        calls += f" and {view.tool_calls} tool call{'s' if view.tool_calls != 1 else ''}"
    return RECURSION_TEXT.format(calls=calls, limit=RECURSION_LIMIT)


def register(sub: Any) -> None:
    chat = sub.add_parser("chat", help="chat about videos (comparisons run as tool calls)")
    chat.add_argument("--thread", metavar="NAME",
                      help="conversation to resume or start (default: a new one)")
    chat.add_argument("--db", type=Path, default=None, metavar="FILE",
                      help=f"SQLite file of conversations (default {default_chat_db()})")
    chat.add_argument("--allow", action="append", default=[], metavar="DIR",
                      help="folder the agent may read videos from; repeat for more "
                           "(default: the working directory)")
    chat.add_argument("--allow-urls", action="store_true",
                      help="let the agent open http(s) URLs")
    chat.add_argument("--chat-model", metavar="NAME",
                      help="model that chats and calls tools (default $VIDDIFF_CHAT_MODEL, "
                           "else the proposer's model)")
    chat.add_argument("--no-tables", dest="tables", action="store_false",
                      help="do not print the result table after a comparison")
    chat.add_argument("--quiet", "-q", action="store_true", help="no live progress")
    add_endpoint_options(chat)
    add_sampling_options(chat, protocol=False)
    chat.set_defaults(handler=handle)


async def run_turn(agent: CompiledStateGraph[Any, Any, Any, Any], text: str, thread: str,
                   view: ChatTurnView) -> None:
    """Send one user message and render the agent's work until it answers."""
    from langchain_core.messages import HumanMessage

    config = {"configurable": {"thread_id": thread}, "recursion_limit": RECURSION_LIMIT}
    try:
        async for mode, chunk in agent.astream(  # type: ignore[call-overload]
                {"messages": [HumanMessage(text)]}, config=config,
                stream_mode=["custom", "updates"]):
            view(mode, chunk)
    finally:
        view.close()


async def chat_loop(agent: CompiledStateGraph[Any, Any, Any, Any], console: Console,
                    thread: str, read_line: ReadLine, *, progress: bool = True,
                    tables: bool = True) -> int:
    """Read, run, render until the user leaves. A failed turn (endpoint down, a bug) prints
    one line and the chat goes on; the conversation up to the last checkpoint is kept."""
    from langgraph.errors import GraphRecursionError

    from viddiff.agent.chat.view import ChatTurnView
    from viddiff.graphs.runner import endpoint_error

    while True:
        try:
            # read on this thread: nothing else runs between turns, and Ctrl-C stays prompt
            text = read_line("[bold]you>[/] ").strip()
        except EOFError:
            console.print()
            return 0
        if not text:
            continue
        if text.lower() in EXIT_WORDS:
            return 0
        if text.lower() in ("/help", "help", "?"):
            console.print(Markdown(HELP))
            continue
        view = ChatTurnView(console, progress=progress, tables=tables)
        try:
            await run_turn(agent, text, thread, view)
        except VidDiffError as exc:
            console.print(Text(f"error: {exc}", style="red"))
        except GraphRecursionError:
            console.print(Text(recursion_text(view), style="red"))
        except Exception as exc:  # one failed turn must not end the conversation
            mapped = endpoint_error(exc)
            console.print(Text(f"error: {mapped or f'{type(exc).__name__}: {one_line(exc)}'}",
                               style="red"))


async def resume_note(agent: CompiledStateGraph[Any, Any, Any, Any], thread: str) -> str:
    """How much an existing thread holds, to tell the user what was resumed."""
    state = await agent.aget_state({"configurable": {"thread_id": thread}})
    values = state.values or {}
    messages = values.get("messages") or []
    if not messages:
        return f"New conversation {thread!r} (resume it later with --thread {thread})."
    return (f"Resumed conversation {thread!r}: {len(messages)} messages, "
            f"{len(values.get('comparisons') or {})} comparisons.")


async def chat(args: argparse.Namespace, console: Console, read_line: ReadLine) -> int:
    from viddiff.agent.chat.agent import create_chat_agent
    from viddiff.agent.chat.setup import chat_model, comparison_graph, sqlite_checkpointer

    settings = endpoint_from_args(args)
    model = chat_model(settings, args.chat_model)
    context = context_from_args(args)
    graph, engine = comparison_graph(settings, offline=args.offline, context=context)
    policy = PathPolicy.from_dirs(args.allow, allow_urls=args.allow_urls)
    thread = args.thread or time.strftime("chat-%Y%m%d-%H%M%S")
    async with sqlite_checkpointer(args.db or default_chat_db()) as saver:
        agent = create_chat_agent(model, graph, engine=engine, context=context,
                                  policy=policy, checkpointer=saver)
        console.print(Text(await resume_note(agent, thread), style="dim"))
        console.print(Text(f"Videos: {policy.describe()}. /help for help, /exit to leave.",
                           style="dim"))
        return await chat_loop(agent, console, thread, read_line, progress=not args.quiet,
                               tables=args.tables)


def handle(args: argparse.Namespace, console: Console) -> int:
    require_extra("chat", "viddiff chat")
    # the prompt is read on the loop's thread: Ctrl-C must raise there to end the read
    return async_run.run(chat(args, console, console.input), cancel_on_interrupt=False)
