"""The report as one PNG "contact sheet": for chat answers and apps that show only images.

It draws the same :class:`~viddiff.agent.report.view.ReportView` as the HTML page (header,
stage timeline, stages side by side, one row per difference with its A/B frames and numbers),
block by block: each block is its own image of the sheet's width, stacked at the end, so no
height has to be guessed in advance. ``panels`` records where each block and frame landed
(for tests, and for apps that want to crop).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from viddiff.agent.report.draw import ellipsize, font, placeholder, wrap
from viddiff.agent.report.style import VERDICTS, VIDEO_COLOURS, text_on, tick_step
from viddiff.agent.report.view import DiffView, Frame, ReportView, StageGroup, Track

WIDTH = 1400
MARGIN = 28
BG = (248, 250, 252)
CARD = (255, 255, 255)
INK = (17, 24, 39)
MUTED = (107, 114, 128)
LINE = (229, 231, 235)
FRAME_BOX = (200, 190)
"""Frames are fitted into this (w, h) box: portrait clips get tall tiles, landscape wide ones."""
TEXT_W = 470
Box = tuple[int, int, int, int]


@dataclass
class Sheet:
    """The sheet image and the boxes (left, top, right, bottom) of its named parts."""

    image: Image.Image
    panels: dict[str, Box] = field(default_factory=dict)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.image.save(buf, format="PNG", optimize=True)
        return buf.getvalue()


@dataclass
class _Block:
    image: Image.Image
    panels: dict[str, Box] = field(default_factory=dict)


def _canvas(height: int, width: int = WIDTH, colour: tuple[int, int, int] = BG) -> Image.Image:
    return Image.new("RGB", (width, max(1, height)), colour)


def _tag(draw: ImageDraw.ImageDraw, x: float, y: float, video: str, size: int = 26) -> None:
    draw.rounded_rectangle([x, y, x + size, y + size], radius=5, fill=VIDEO_COLOURS[video])
    f = font(size * 3 // 5, bold=True)
    w = draw.textlength(video, font=f)
    draw.text((x + (size - w) / 2, y + size / 2), video, fill="#FFFFFF", font=f, anchor="lm")


def _badge(draw: ImageDraw.ImageDraw, x: float, y: float, kind: str) -> float:
    """Draw a verdict pill at (x, y); returns its right edge."""
    text, bg, fg = VERDICTS[kind]
    f = font(14, bold=True)
    w = draw.textlength(text, font=f)
    draw.rounded_rectangle([x, y, x + w + 20, y + 24], radius=12, fill=bg)
    draw.text((x + 10, y + 12), text, fill=fg, font=f, anchor="lm")
    return x + w + 20


def _heading(text: str) -> _Block:
    img = _canvas(44)
    ImageDraw.Draw(img).text((MARGIN, 16), text, fill=INK, font=font(20, bold=True))
    return _Block(img)


def _header(view: ReportView) -> _Block:
    img = _canvas(2000)
    d = ImageDraw.Draw(img)
    y = MARGIN
    d.text((MARGIN, y), "VIDDIFF REPORT", fill=MUTED, font=font(12))
    y += 20
    for line in wrap(d, view.title, font(28, bold=True), WIDTH - 2 * MARGIN, max_lines=2):
        d.text((MARGIN, y), line, fill=INK, font=font(28, bold=True))
        y += 36
    meta = f"Action: {view.action} · {view.mode} mode · {view.engine} engine"
    d.text((MARGIN, y), ellipsize(d, meta, font(15), WIDTH - 2 * MARGIN), fill=MUTED,
           font=font(15))
    y += 30
    for v in view.videos:
        _tag(d, MARGIN, y, v.video)
        d.text((MARGIN + 36, y + 1), ellipsize(d, v.name, font(15, bold=True), 520), fill=INK,
               font=font(15, bold=True))
        d.text((MARGIN + 570, y + 3), ellipsize(d, v.facts, font(13), WIDTH - 600 - MARGIN),
               fill=MUTED, font=font(13))
        y += 34
    for problem in view.problems:
        lines = wrap(d, "⚠ " + problem, font(14), WIDTH - 2 * MARGIN - 24)
        h = 12 + 20 * len(lines)
        d.rounded_rectangle([MARGIN, y, WIDTH - MARGIN, y + h], radius=8, fill=(254, 243, 199),
                            outline=(245, 158, 11))
        for i, line in enumerate(lines):
            d.text((MARGIN + 12, y + 6 + 20 * i), line, fill=INK, font=font(14))
        y += h + 8
    return _Block(img.crop((0, 0, WIDTH, y)))


def _track(d: ImageDraw.ImageDraw, track: Track, axis: float, y: int, x0: int, x1: int) -> None:
    def x(t: float) -> float:
        return x0 + (x1 - x0) * max(0.0, min(t, axis)) / axis

    _tag(d, MARGIN, y + 9, track.video)
    d.rounded_rectangle([x0, y, x1, y + 44], radius=6, fill=(226, 232, 240))
    end = x(track.duration_s)
    d.rectangle([x0, y, end, y + 44], fill=(241, 245, 249))  # beyond the end: darker, no video
    for yy in range(y, y + 44, 6):
        d.line([end, yy, end, yy + 3], fill=(148, 163, 184), width=2)
    for bar in track.bars:
        bx0, bx1 = x(bar.start_s), max(x(bar.end_s), x(bar.start_s) + 3)
        d.rounded_rectangle([bx0, y + 4, bx1 - 1, y + 40], radius=5, fill=bar.colour,
                            outline=(0, 0, 0, 40))
        fg = text_on(bar.colour)
        room = bx1 - bx0 - 12
        d.text((bx0 + 6, y + 6), ellipsize(d, bar.stage, font(13, bold=True), room), fill=fg,
               font=font(13, bold=True))
        d.text((bx0 + 6, y + 23), ellipsize(d, bar.times, font(11), room), fill=fg,
               font=font(11))
    for t in track.frame_times:
        d.line([x(t), y + 39, x(t), y + 44], fill=(51, 65, 85), width=1)


def _timeline(view: ReportView) -> _Block:
    img = _canvas(2 * 52 + 30)
    d = ImageDraw.Draw(img)
    x0, x1 = MARGIN + 44, WIDTH - MARGIN
    y = 4
    for track in view.tracks:
        _track(d, track, view.axis_s, y, x0, x1)
        y += 52
    step = tick_step(view.axis_s)
    t = 0.0
    while t <= view.axis_s + 1e-9:
        px = x0 + (x1 - x0) * t / view.axis_s
        label = f"{t:g} s"
        w = d.textlength(label, font=font(12))
        shift = 0.0 if t == 0 else w if px + w / 2 > x1 else w / 2
        d.text((px - shift, y), label, fill=MUTED, font=font(12))
        t += step
    return _Block(img, {"timeline": (0, 0, WIDTH, img.height)})


def _frame_tile(fr: Frame, box: tuple[int, int]) -> Image.Image:
    """The frame fitted into ``box`` with a coloured edge and a caption strip below."""
    if fr.image is not None:
        scale = min(box[0] / fr.image.width, box[1] / fr.image.height)
        size = max(1, round(fr.image.width * scale)), max(1, round(fr.image.height * scale))
        pic = fr.image.resize(size, Image.Resampling.LANCZOS)
    else:
        pic = placeholder((box[1] * 3 // 5, box[1]), fr.note or "not available")
    tile = _canvas(pic.height + 6 + 18, pic.width + 6, CARD)
    d = ImageDraw.Draw(tile)
    d.rectangle([0, 0, pic.width + 5, pic.height + 5], fill=VIDEO_COLOURS[fr.video])
    tile.paste(pic, (3, 3))
    caption = f"{fr.video} · {fr.ref.timestamp_s:.2f} s"
    d.text((2, pic.height + 8), ellipsize(d, caption, font(12), tile.width - 2), fill=MUTED,
           font=font(12))
    return tile


def _group(g: StageGroup, box: tuple[int, int], name: str) -> _Block:
    """A stage card: coloured top edge, stage name, A frames | B frames."""
    cols: list[list[Image.Image]] = [[_frame_tile(f, box) for f in fr] for fr in (g.a, g.b)]
    col_w = [max((t.width for t in col), default=box[1] * 3 // 5) for col in cols]
    col_h = [sum(t.height + 6 for t in col) for col in cols]
    w = 20 + col_w[0] + 10 + col_w[1]
    h = 34 + max([*col_h, 30])
    img = _canvas(h, w, CARD)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w - 1, h - 1], outline=LINE)
    d.rectangle([0, 0, w - 1, 4], fill=g.colour)
    d.text((10, 10), ellipsize(d, g.title, font(13, bold=True), w - 20), fill=INK,
           font=font(13, bold=True))
    panels: dict[str, Box] = {}
    x = 10
    for video, col, cw in zip(("A", "B"), cols, col_w, strict=True):
        y = 32
        if not col:
            d.text((x, y), f"no {video}", fill=MUTED, font=font(12))
        for tile, fr in zip(col, g.a if video == "A" else g.b, strict=True):
            img.paste(tile, (x, y))
            panels[f"{name}:{video}:{fr.ref.source_frame}"] = (x + 3, y + 3, x + tile.width - 3,
                                                               y + tile.height - 21)
            y += tile.height + 6
        x += cw + 10
    return _Block(img, panels)


def _flow(blocks: list[_Block], width: int, gap: int = 12,
          colour: tuple[int, int, int] = BG) -> _Block:
    """Blocks left to right, wrapping at ``width`` (a block wider than that is shrunk)."""
    rows: list[list[tuple[int, _Block]]] = [[]]
    x = 0
    for b in blocks:
        if b.image.width > width:
            scale = width / b.image.width
            b = _Block(b.image.resize((width, max(1, round(b.image.height * scale)))),
                       {k: tuple(round(v * scale) for v in box)  # type: ignore[misc]
                        for k, box in b.panels.items()})
        if x and x + b.image.width > width:
            rows.append([])
            x = 0
        rows[-1].append((x, b))
        x += b.image.width + gap
    heights = [max((b.image.height for _, b in row), default=0) for row in rows]
    img = _canvas(sum(heights) + gap * (len(rows) - 1), width, colour)
    panels: dict[str, Box] = {}
    y = 0
    for row, rh in zip(rows, heights, strict=True):
        for x, b in row:
            img.paste(b.image, (x, y))
            panels.update(_offset(b.panels, x, y))
        y += rh + gap
    return _Block(img, panels)


def _offset(panels: dict[str, Box], dx: int, dy: int) -> dict[str, Box]:
    return {k: (x0 + dx, y0 + dy, x1 + dx, y1 + dy) for k, (x0, y0, x1, y1) in panels.items()}


def _overview(view: ReportView) -> _Block:
    groups = [_group(g, FRAME_BOX, f"stage-{i}") for i, g in enumerate(view.overview)]
    flow = _flow(groups, WIDTH - 2 * MARGIN)
    img = _canvas(flow.image.height + 8)
    img.paste(flow.image, (MARGIN, 0))
    panels = _offset(flow.panels, MARGIN, 0)
    panels["overview"] = (0, 0, WIDTH, img.height)
    return _Block(img, panels)


def _measurement_lines(diff: DiffView) -> list[str]:
    return [f"{m.metric} ({m.stage}): A {m.value_a} · B {m.value_b} · A − B {m.delta}"
            + (f" (needs {m.needed})" if m.needed != "–" else "") for m in diff.measurements]


def _difference(diff: DiffView) -> _Block:
    name = f"diff-{diff.number}"
    right_w = WIDTH - 2 * MARGIN - TEXT_W - 36 - 16
    flow = _flow([_group(g, FRAME_BOX, name) for g in diff.groups], right_w, colour=CARD) \
        if diff.groups else None
    probe = ImageDraw.Draw(_canvas(1, 1))
    title = wrap(probe, f"{diff.number}. {diff.title}", font(17, bold=True), TEXT_W, 3)
    reason = wrap(probe, diff.reason or "(no reason given)", font(14), TEXT_W, 6)
    numbers = [ln for m in _measurement_lines(diff) for ln in wrap(probe, m, font(12), TEXT_W)]
    text_h = 24 * len(title) + 36 + 20 * len(reason) + 8 + 17 * len(numbers)
    h = max(text_h, flow.image.height if flow else 40) + 32
    img = _canvas(h, WIDTH - 2 * MARGIN, CARD)
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([0, 0, img.width - 1, h - 1], radius=12, outline=LINE)
    y = 16
    for line in title:
        d.text((16, y), line, fill=INK, font=font(17, bold=True))
        y += 24
    _badge(d, 16, y + 2, diff.verdict)
    y += 36
    for line in reason:
        d.text((16, y), line, fill=INK, font=font(14))
        y += 20
    y += 8
    for line in numbers:
        d.text((16, y), line, fill=MUTED, font=font(12))
        y += 17
    panels: dict[str, Box] = {}
    if flow is not None:
        img.paste(flow.image, (TEXT_W + 36, 16))
        panels = _offset(flow.panels, TEXT_W + 36, 16)
    else:
        d.text((TEXT_W + 36, 16), "No frames were cited.", fill=MUTED, font=font(14))
    out = _canvas(h + 14)
    out.paste(img, (MARGIN, 0))
    panels = _offset(panels, MARGIN, 0)
    panels[name] = (MARGIN, 0, MARGIN + img.width, h)
    return _Block(out, panels)


def _notes(view: ReportView) -> _Block:
    img = _canvas(2000)
    d = ImageDraw.Draw(img)
    y = 10
    for note in view.notes:
        for line in wrap(d, f"note: {note}", font(13), WIDTH - 2 * MARGIN):
            d.text((MARGIN, y), line, fill=MUTED, font=font(13))
            y += 18
    return _Block(img.crop((0, 0, WIDTH, y + MARGIN - 10)))


def render_sheet(view: ReportView) -> Sheet:
    """Lay the view out as one image, ``WIDTH`` pixels wide."""
    blocks: list[tuple[str, _Block]] = [("header", _header(view)),
                                        ("", _heading("Stages over time")),
                                        ("", _timeline(view)),
                                        ("", _heading("Stages side by side")),
                                        ("", _overview(view)),
                                        ("", _heading(f"Differences ({len(view.differences)})"))]
    blocks += [("", _difference(d)) for d in view.differences]
    if not view.differences:
        blocks.append(("", _heading("  The result lists no differences.")))
    blocks.append(("", _notes(view)))
    sheet = Sheet(_canvas(sum(b.image.height for _, b in blocks)))
    y = 0
    for name, block in blocks:
        sheet.image.paste(block.image, (0, y))
        sheet.panels.update(_offset(block.panels, 0, y))
        if name:
            sheet.panels[name] = (0, y, WIDTH, y + block.image.height)
        y += block.image.height
    return sheet
