"""What the terminal chat shows while the agent works, fed by its stream.

The agent is streamed with ``stream_mode=["custom", "updates"]``: ``custom`` carries the
comparison's progress events (forwarded by ``compare_videos``), which drive the same
:class:`LiveProgress` view as ``viddiff compare``; ``updates`` carries the agent's messages:
tool calls are shown as one dim line, a finished comparison as its result table, the final
answer as Markdown.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, RemoveMessage, ToolMessage
from rich.console import Console
from rich.markdown import Markdown
from rich.text import Text

from viddiff.agent.chat.stored_results import COMPARE_TOOL, as_result
from viddiff.agent.console.live_view import LiveProgress
from viddiff.agent.console.result_table import print_result

ARG_CHARS = 60


def tool_call_line(call: dict[str, Any]) -> str:
    """``→ compare_videos(video_a='a.mp4', …)``, long values shortened."""
    parts = []
    for key, value in (call.get("args") or {}).items():
        text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
        parts.append(f"{key}={text if len(text) <= ARG_CHARS else text[:ARG_CHARS - 1] + '…'}")
    return f"→ {call.get('name')}({', '.join(parts)})"


class ChatTurnView:
    """Renders one agent turn; call it with each ``(mode, chunk)`` of the stream."""

    def __init__(self, console: Console, *, progress: bool = True, tables: bool = True) -> None:
        self.console = console
        self.progress_enabled = progress
        self.tables = tables
        self.live: LiveProgress | None = None
        self.answers: list[str] = []
        self.model_calls = 0
        """Replies of the chat model seen this turn (one per model call)."""
        self.tool_calls = 0

    def __call__(self, mode: str, chunk: Any) -> None:
        if mode == "custom" and isinstance(chunk, dict):
            self.on_event(chunk)
        elif mode == "updates" and isinstance(chunk, dict):
            for update in chunk.values():
                if not isinstance(update, dict):
                    continue
                messages = update.get("messages") or []
                if any(isinstance(m, RemoveMessage) for m in messages):
                    # a history rewrite (ThreadRepair), not new messages: say what it did
                    self.console.print(Text("(the previous turn ended early; its unfinished "
                                            "tool calls were closed)", style="dim"))
                    continue
                for message in messages:
                    self.on_message(message)

    def on_event(self, event: dict[str, Any]) -> None:
        if event.get("event") == "comparison":
            status = event.get("status")
            if status == "start":
                self.close()
                self.console.print(Text(f"Comparing {event.get('video_a')} (A) with "
                                        f"{event.get('video_b')} (B)…", style="dim"))
                self.live = LiveProgress(self.console, enabled=self.progress_enabled)
                self.live.__enter__()
            else:
                self.close()
            return
        if self.live is not None:
            self.live(event)

    def on_message(self, message: BaseMessage) -> None:
        if isinstance(message, AIMessage):
            self.model_calls += 1
            self.tool_calls += len(message.tool_calls)
            for call in message.tool_calls:
                self.console.print(Text(tool_call_line(dict(call)), style="dim"))
            text = message.text.strip()
            if text and not message.tool_calls:
                self.answers.append(text)
                self.console.print(Markdown(text))
            elif text:
                self.console.print(Text(text, style="dim"))
        elif isinstance(message, ToolMessage):
            if message.status == "error":
                self.console.print(Text(f"{message.name}: {message.text}", style="yellow"))
            elif message.name == COMPARE_TOOL and self.tables:
                result = as_result(message.artifact)
                if result is not None:
                    print_result(self.console, result)

    def close(self) -> None:
        """Stop the live progress view, if one is running."""
        if self.live is not None:
            self.live.__exit__(None, None, None)
            self.live = None
