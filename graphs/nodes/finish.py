"""Assemble the final :class:`ComparisonResult` once every branch has finished."""

from __future__ import annotations

from typing import Any

from viddiff.graphs.llm import summarize_usage
from viddiff.graphs.schemas import ComparisonResult
from viddiff.graphs.state import VidDiffState


def make_finish_node(models: dict[str, str], engine: str = "vlm"):
    def finish(state: VidDiffState) -> dict[str, Any]:
        if state.get("error"):
            return {}
        order = {d.name: i for i, d in enumerate(state.get("candidates") or [])}
        results = sorted(state.get("results") or [], key=lambda r: order.get(r.name, len(order)))
        segments = state.get("segments") or {}
        result = ComparisonResult(
            action=state["action"], mode=state.get("mode", "closed"),  # type: ignore[arg-type]
            engine=engine,  # type: ignore[arg-type]
            video_a=state["videos"]["a"], video_b=state["videos"]["b"],
            stages=state.get("stages") or [], segments_a=segments.get("a", []),
            segments_b=segments.get("b", []), differences=results, models=models,
            usage=summarize_usage(state.get("usage") or []),
            notes=list(dict.fromkeys(state.get("notes") or [])),
            alignment=state.get("alignment") or [],
            events=state.get("events") or [],
        )
        return {"result": result}

    return finish
