"""A gallery page of the worst-scored samples of an eval run, to see *why* they scored low.

The eval runner passes (sample id, result, score) triples; the page lists them from lowest
score up, then shows each one's compact report (timeline, cited frames, verdicts) on one page
with smaller frames, so a few dozen samples stay a file a browser opens quickly.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

from viddiff.agent.report.html import esc, page, render_body
from viddiff.agent.report.output import write_atomic
from viddiff.agent.report.view import ReportOptions, build_view
from viddiff.graphs.schemas import ComparisonResult

GALLERY_FRAME_BOX = (200, 170)


def _rank(score: float) -> tuple[int, float]:
    """Lowest first; a NaN score (the sample could not be scored) counts as the worst."""
    return (0, 0.0) if math.isnan(score) else (1, score)


def render_gallery(items: Sequence[tuple[str, ComparisonResult, float]],
                   options: ReportOptions | None = None, *, title: str = "Worst-scored pairs",
                   limit: int | None = None) -> str:
    """The gallery page as HTML text (see :func:`write_gallery`)."""
    base = options or ReportOptions()
    (w, h), (gw, gh) = base.frame_box, GALLERY_FRAME_BOX
    opts = dataclasses.replace(base, frame_box=(min(w, gw), min(h, gh)))
    ranked = sorted(items, key=lambda it: _rank(float(it[2])))
    if limit is not None:
        ranked = ranked[:max(0, limit)]
    rows = "".join(
        f'<tr><td class="num">{i}</td><td><a href="#s{i}-">{esc(sample)}</a></td>'
        f"<td>{esc(result.action)}</td><td class=\"n\">{float(score):.3f}</td></tr>"
        for i, (sample, result, score) in enumerate(ranked, 1))
    parts = [f'<div class="eyebrow">viddiff eval gallery</div><h1>{esc(title)}</h1>',
             f'<p class="meta">{len(ranked)} samples, lowest score first.</p>']
    if ranked:
        parts.append('<table class="summary"><thead><tr><th>#</th><th>Sample</th><th>Action'
                     f"</th><th>Score</th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        parts.append('<p class="empty">No samples.</p>')
    for i, (sample, result, score) in enumerate(ranked, 1):
        view = build_view(result, dataclasses.replace(  # no players: one page, many pairs
            opts, title=f"{i}. {sample} — score {float(score):.3f}", player=False))
        parts.append(f'<section class="sample" id="s{i}-">'
                     f"{render_body(view, anchor=f's{i}-', level=2)}</section>")
    return page(title, "".join(parts))


def write_gallery(items: Sequence[tuple[str, ComparisonResult, float]], out_path: str | Path,
                  options: ReportOptions | None = None, *, title: str = "Worst-scored pairs",
                  limit: int | None = None) -> Path:
    """Write the gallery of ``items`` (sample id, result, score; lower = worse) to
    ``out_path`` as one self-contained HTML file; ``limit`` keeps only the worst N."""
    html_text = render_gallery(items, options, title=title, limit=limit)
    return write_atomic(out_path, html_text.encode("utf-8"))
