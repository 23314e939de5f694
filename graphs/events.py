"""Progress events a node sends while it works (LangGraph's ``stream_mode="custom"``).

The command line's live view and the chat view read them (through ``run_comparison``'s
``on_event``); a node never prints. Event names and fields are listed in docs/architecture.md.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime


def emit(runtime: Runtime[Any], event: str, **data: Any) -> None:
    """Send a custom progress event (``stream_mode="custom"``); silent when nobody listens."""
    runtime.stream_writer({"event": event, **data})
