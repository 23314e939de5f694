"""The final table of a comparison, for people.

Every piece of text here that a person or a model wrote (the action, the video paths, the
differences, the reasons, stage names, notes) is put in a rich ``Text`` as it is, never parsed
as console markup: ``[/]`` in an action used to crash the command after the work was done,
and ``[left]`` in a difference silently vanished from the table.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from viddiff.agent.console.wording import for_cli
from viddiff.graphs.schemas import ComparisonResult, FrameRef

LABEL_TEXT = {"a": Text("A", style="bold cyan"), "b": Text("B", style="bold magenta"),
              "c": Text("no clear difference")}


def _frames(frames: list[FrameRef]) -> str:
    """The frames' times in time order (a VLM run lists them in the order they were shown)."""
    return ", ".join(f"{t:.2f}s" for t in sorted(f.timestamp_s for f in frames)) or "-"


def _label(status: str, label: str | None) -> Text:
    if status == "failed":
        return Text("failed", style="red")
    if status == "not_measurable":
        return Text("not measurable", style="dim")
    return LABEL_TEXT.get(label or "", Text("-")).copy()


def result_table(result: ComparisonResult) -> Table:
    title = Text(f"{result.action} — A: {result.video_a.path}  B: {result.video_b.path}")
    table = Table(title=title, show_lines=True, title_justify="left")
    table.add_column("Difference", ratio=2)
    table.add_column("More true of", justify="center")
    table.add_column("Reason / evidence", ratio=4)
    table.add_column("Frames A", justify="right")
    table.add_column("Frames B", justify="right")
    for diff in result.differences:
        evidence = Text(diff.reason, style="red" if diff.status == "failed" else "")
        for m in diff.measurements:
            if m.statement and m.statement not in diff.reason:
                evidence.append("\n")
                evidence.append(m.statement, style="dim")
        table.add_row(Text(diff.description), _label(diff.status, diff.label), evidence,
                      _frames(diff.frames_a), _frames(diff.frames_b))
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
            seg.add_row(Text(name), *cells)
        console.print(seg)
    usage = ", ".join(f"{u.role}: {u.calls} calls, {u.input_tokens}+{u.output_tokens} tokens "
                      f"({u.model})" for u in result.usage)
    if usage:
        console.print(Text(f"Token usage — {usage}", style="dim"))
    for note in result.notes:
        console.print(Text(f"note: {for_cli(note)}", style="dim"))
