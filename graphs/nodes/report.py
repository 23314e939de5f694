"""Assemble the final :class:`ComparisonResult` once every branch has finished."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from viddiff.graphs.schemas import ComparisonResult, UsageRecord, UsageSummary
from viddiff.graphs.state import VidDiffState


def summarize_usage(records: list[UsageRecord]) -> list[UsageSummary]:
    """Tokens per (role, model), in the order roles were first used."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for rec in records:
        t = totals[(rec.role, rec.model)]
        t[0] += 1
        t[1] += rec.input_tokens
        t[2] += rec.output_tokens
    return [UsageSummary(role=r, model=m, calls=c, input_tokens=i, output_tokens=o)
            for (r, m), (c, i, o) in totals.items()]


def make_report_node(models: dict[str, str], engine: str = "vlm"):
    def report(state: VidDiffState) -> dict[str, Any]:
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
        )
        return {"result": result}

    return report
