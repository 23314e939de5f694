"""Visual reports of a comparison: one self-contained HTML page, a PNG contact sheet, and a
gallery of the worst-scored pairs of an eval run.

Everything starts from a :class:`~viddiff.graphs.schemas.ComparisonResult` (in memory, or read
back with :func:`load_result`); frames are decoded again from the videos it names.

>>> from viddiff.agent.report import load_result, write_report, write_contact_sheet
>>> result = load_result("r.json")                        # doctest: +SKIP
>>> write_report(result, "report.html")                   # doctest: +SKIP
>>> write_contact_sheet(result, "sheet.png")              # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from viddiff.agent.report.gallery import render_gallery, write_gallery
from viddiff.agent.report.html import render_view
from viddiff.agent.report.load import ReportError, ResultFormatError, load_result, parse_result
from viddiff.agent.report.output import write_atomic
from viddiff.agent.report.sheet import Sheet, render_sheet
from viddiff.agent.report.view import ReportOptions, ReportView, build_view
from viddiff.graphs.schemas import ComparisonResult

__all__ = [
    "ReportError", "ReportOptions", "ReportView", "ResultFormatError", "Sheet", "build_view",
    "contact_sheet", "contact_sheet_png", "load_result", "parse_result", "render_gallery",
    "render_html", "write_contact_sheet", "write_gallery", "write_report",
]


def _view(source: ComparisonResult | ReportView, options: ReportOptions | None) -> ReportView:
    return source if isinstance(source, ReportView) else build_view(source, options)


def render_html(source: ComparisonResult | ReportView, options: ReportOptions | None = None) -> str:
    """The report page as HTML text (pass a built view to reuse decoded frames)."""
    return render_view(_view(source, options))


def write_report(source: ComparisonResult | ReportView, out_path: str | Path,
                 options: ReportOptions | None = None) -> Path:
    """Write the self-contained HTML report; returns the path written."""
    return write_atomic(out_path, render_html(source, options).encode("utf-8"))


def contact_sheet(source: ComparisonResult | ReportView,
                  options: ReportOptions | None = None) -> Sheet:
    """The contact sheet image with the boxes of its parts."""
    return render_sheet(_view(source, options))


def contact_sheet_png(source: ComparisonResult | ReportView,
                      options: ReportOptions | None = None) -> bytes:
    """The contact sheet as PNG bytes (e.g. a chat artifact)."""
    return contact_sheet(source, options).png()


def write_contact_sheet(source: ComparisonResult | ReportView, out_path: str | Path,
                        options: ReportOptions | None = None) -> Path:
    """Write the contact sheet PNG; returns the path written."""
    return write_atomic(out_path, contact_sheet_png(source, options))
