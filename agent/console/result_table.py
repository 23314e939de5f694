"""The final table of a comparison, for people."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from viddiff.agent.console.wording import for_cli
from viddiff.graphs.schemas import ComparisonResult, FrameRef

LABEL_TEXT = {"a": "[bold cyan]A[/]", "b": "[bold magenta]B[/]", "c": "no clear difference"}


def _frames(frames: list[FrameRef]) -> str:
    return ", ".join(f"{f.timestamp_s:.2f}s" for f in frames) or "-"


def result_table(result: ComparisonResult) -> Table:
    table = Table(title=f"{result.action} — A: {result.video_a.path}  B: {result.video_b.path}",
                  show_lines=True, title_justify="left")
    table.add_column("Difference", ratio=2)
    table.add_column("More true of", justify="center")
    table.add_column("Reason / evidence", ratio=4)
    table.add_column("Frames A", justify="right")
    table.add_column("Frames B", justify="right")
    for diff in result.differences:
        label = LABEL_TEXT.get(diff.label or "", "-")
        if diff.status == "failed":
            label = "[red]failed[/]"
        elif diff.status == "not_measurable":
            label = "[dim]not measurable[/]"
        evidence = escape(diff.reason)
        if diff.status == "failed":
            evidence = f"[red]{evidence}[/]"
        for m in diff.measurements:
            if m.statement and m.statement not in evidence:
                evidence += f"\n[dim]{m.statement}[/]"
        table.add_row(diff.description, label, evidence, _frames(diff.frames_a),
                      _frames(diff.frames_b))
    return table


def print_result(console: Console, result: ComparisonResult) -> None:
    console.print(result_table(result))
    if result.segments_a or result.segments_b:
        seg = Table(title="Stages found", title_justify="left")
        seg.add_column("Stage")
        seg.add_column("A (s)", justify="right")
        seg.add_column("B (s)", justify="right")
        names = [s.name for s in result.stages] or [s.stage for s in result.segments_a]
        for name in names:
            cells = []
            for ref, segs in ((result.video_a, result.segments_a),
                              (result.video_b, result.segments_b)):
                found = next((s for s in segs if s.stage == name), None)
                cells.append("-" if found is None else
                             f"{ref.timestamps[found.start]:.2f}–{ref.timestamps[found.end]:.2f}")
            seg.add_row(name, *cells)
        console.print(seg)
    usage = ", ".join(f"{u.role}: {u.calls} calls, {u.input_tokens}+{u.output_tokens} tokens "
                      f"({u.model})" for u in result.usage)
    if usage:
        console.print(f"[dim]Token usage — {usage}[/]")
    for note in result.notes:
        console.print(f"[dim]note: {escape(for_cli(note))}[/]")
