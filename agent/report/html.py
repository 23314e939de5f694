"""The report as one self-contained HTML page: inline CSS, images and clips as data URLs,
and one small script (the player's) that the Content Security Policy admits by its hash.

Self-contained because it is mailed, attached to tickets and opened offline; a Content Security
Policy forbids every fetch, so a stray external reference fails visibly in testing instead of
leaking a request, and no script but :data:`PLAYER_JS` (no inline handler, no injected
markup) can run. All text from the result goes through :func:`esc`; only colours from
:mod:`~viddiff.agent.report.style` and numbers formatted here reach attributes unescaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Iterable

from PIL import Image

from viddiff.agent.report.player import PlayerView
from viddiff.agent.report.style import VERDICTS, VIDEO_COLOURS, text_on, tick_step
from viddiff.agent.report.view import DiffView, Frame, ReportView, StageGroup, Track

#: The player: A is the clock; B follows along the alignment (playing at the map's local
#: rate, re-seeked when it drifts), one scrubber moves both, a difference's link shows its
#: measured moment of A and of B. No inline handlers: the CSP admits only this text.
PLAYER_JS = """(function () {
  function interp(x, xs, ys) {
    if (x <= xs[0]) return ys[0];
    for (var i = 1; i < xs.length; i++) {
      if (x <= xs[i]) {
        var f = xs[i] > xs[i - 1] ? (x - xs[i - 1]) / (xs[i] - xs[i - 1]) : 1;
        return ys[i - 1] + f * (ys[i] - ys[i - 1]);
      }
    }
    return ys[ys.length - 1];
  }
  document.querySelectorAll('.player').forEach(function (p) {
    var a = p.querySelector('video.A'), b = p.querySelector('video.B');
    var scrub = p.querySelector('input.scrub'), play = p.querySelector('button.play');
    var speed = p.querySelector('select.speed'), clock = p.querySelector('.clock');
    var pairs = JSON.parse(p.getAttribute('data-alignment'));
    var ta = pairs.map(function (q) { return q[0]; });
    var tb = pairs.map(function (q) { return q[1]; });
    var held = null;
    p.bAt = function (t) { return interp(t, ta, tb); };
    function target() { return held !== null ? held : p.bAt(a.currentTime); }
    function show() {
      var want = target();
      scrub.value = a.currentTime;
      clock.textContent = 'A ' + a.currentTime.toFixed(2) + ' s \u00b7 B ' +
        want.toFixed(2) + ' s';
    }
    function follow() {
      var t = a.currentTime, want = target();
      var rate = (p.bAt(t + 0.2) - p.bAt(t)) / 0.2 * a.playbackRate;
      if (a.paused || rate < 0.07) {
        if (!b.paused) b.pause();
        if (Math.abs(b.currentTime - want) > 0.02) b.currentTime = want;
      } else {
        b.playbackRate = Math.min(Math.max(rate, 0.07), 16);
        if (Math.abs(b.currentTime - want) > 0.1) b.currentTime = want;
        if (b.paused) b.play().catch(function () {});
      }
      show();
    }
    function tick() { follow(); if (!a.paused && !a.ended) requestAnimationFrame(tick); }
    play.addEventListener('click', function () {
      held = null;
      if (a.paused) a.play().catch(function () {}); else a.pause();
    });
    speed.addEventListener('change', function () { a.playbackRate = parseFloat(speed.value); });
    a.addEventListener('play', function () {
      play.textContent = 'Pause'; requestAnimationFrame(tick);
    });
    a.addEventListener('pause', function () { play.textContent = 'Play'; follow(); });
    a.addEventListener('ended', function () { b.pause(); follow(); });
    a.addEventListener('seeked', follow);
    scrub.addEventListener('input', function () {
      held = null; a.currentTime = parseFloat(scrub.value); follow();
    });
    document.querySelectorAll('a.jump[data-player="' + p.id + '"]').forEach(function (link) {
      link.addEventListener('click', function (ev) {
        ev.preventDefault();
        a.pause();
        held = parseFloat(link.getAttribute('data-tb'));
        a.currentTime = parseFloat(link.getAttribute('data-ta'));
        follow();
        p.scrollIntoView({block: 'nearest'});
      });
    });
    p.jump = function (tA, tB) { a.pause(); held = tB; a.currentTime = tA; follow(); };
    show();
  });
})();"""
PLAYER_JS_HASH = base64.b64encode(hashlib.sha256(PLAYER_JS.encode("utf-8")).digest()).decode()
CSP = ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
       f"script-src 'sha256-{PLAYER_JS_HASH}'")
_ENGINES = {"offline": "offline engine (pose measurements)",
            "vlm": "vision-language model engine"}

SKELETON_HINT = ('<p class="hint legend">Pose skeletons: '
                 '<b style="color:#d97706">orange</b> = the person\'s left side, '
                 '<b style="color:#0284c7">blue</b> = right side, '
                 '<b style="color:#ca8a04">yellow dots</b> = the joints the measurement is '
                 'about.</p>')

CSS = """
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;
--a:%(A)s;--b:%(B)s}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1320px;margin:0 auto;padding:24px 28px 48px}
.t1{font-size:26px;margin:2px 0 6px}.t2{font-size:19px;margin:34px 0 4px}
.t3{font-size:17px;margin:0;flex:1}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted)}
.meta,.hint{color:var(--muted);margin:0 0 12px}.legend{margin-top:12px}
.videos{display:flex;gap:14px;flex-wrap:wrap}
.video{display:flex;gap:10px;align-items:center;background:var(--card);border:1px solid var(--line);
border-radius:10px;padding:10px 14px;min-width:0;flex:1 1 380px}
.vname{font-weight:600;word-break:break-all}.facts{color:var(--muted);font-size:13px}
.tag{display:inline-flex;align-items:center;justify-content:center;min-width:26px;height:26px;
border-radius:6px;color:#fff;font-weight:700;font-size:14px;padding:0 6px}
.tag.A{background:var(--a)}.tag.B{background:var(--b)}
.problem{background:#fef3c7;border:1px solid #f59e0b;border-radius:8px;padding:8px 12px;
margin:12px 0}
.timeline{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.track{display:flex;align-items:center;gap:10px;margin:6px 0}
.tlabel{width:34px;flex:none}
.lane{position:relative;flex:1;height:46px;border-radius:6px;
background:repeating-linear-gradient(135deg,#f8fafc 0 6px,#e2e8f0 6px 12px)}
.extent{position:absolute;top:0;bottom:0;left:0;background:#f1f5f9;border-radius:6px 0 0 6px;
border-right:2px dashed #94a3b8}
.bar{position:absolute;top:4px;bottom:4px;border-radius:5px;padding:2px 6px;overflow:hidden;
white-space:nowrap;font-size:12px;line-height:1.25;border:1px solid rgba(0,0,0,.15)}
.bar b{display:block;font-size:13px;overflow:hidden;text-overflow:ellipsis}
.bar span{overflow:hidden;text-overflow:ellipsis;display:block}
.tick{position:absolute;bottom:0;width:1px;height:5px;background:#334155;opacity:.55}
.axis{position:relative;height:20px;margin-left:44px;font-size:12px;color:var(--muted)}
.axis span{position:absolute;transform:translateX(-50%%);white-space:nowrap}
.axis span:first-child{transform:none}.axis span.last{transform:translateX(-100%%)}
.groups{display:flex;flex-wrap:wrap;gap:12px;margin-top:10px}
.group{background:var(--card);border:1px solid var(--line);border-top:5px solid var(--stage);
border-radius:10px;padding:8px 10px}
.ghead{font-weight:600;font-size:14px;margin-bottom:6px;display:flex;align-items:center;gap:6px}
.swatch{width:12px;height:12px;border-radius:3px;background:var(--stage)}
.gbody{display:flex;gap:10px}
.col{display:flex;flex-direction:column;gap:8px}
figure{margin:0}
figure img,.ph{display:block;border-radius:6px;border:3px solid var(--edge)}
figure.A{--edge:var(--a)}figure.B{--edge:var(--b)}
.ph{display:flex;align-items:center;justify-content:center;text-align:center;background:#e5e7eb;
color:var(--muted);font-size:13px;padding:8px}
figcaption{font-size:12px;color:var(--muted);margin-top:3px}
figcaption b{color:var(--ink)}
.empty{color:var(--muted);font-style:italic}
table{border-collapse:collapse;width:100%%;background:var(--card)}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.summary{border:1px solid var(--line);border-radius:10px;overflow:hidden;margin-top:10px}
.summary a{color:inherit}.summary .why{color:var(--muted);font-size:14px}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;font-size:13px;font-weight:600;
white-space:nowrap}
.diff{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;
margin:16px 0}
.diff>header{display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.num{color:var(--muted);font-weight:700}
.reason{margin:8px 0 4px}
.dbody{display:flex;flex-wrap:wrap;gap:4px 18px;align-items:flex-start}
.mwrap{flex:1 1 480px;margin-top:10px}.measure{font-size:14px}
.measure td.n{font-variant-numeric:tabular-nums;white-space:nowrap}
.sample{margin-top:40px;border-top:3px solid #cbd5e1}
.player{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px}
.screens{display:flex;gap:10px;justify-content:center}
.screens video{height:360px;max-width:calc(50%% - 5px);object-fit:contain;border-radius:6px;
background:#000;
border:3px solid var(--edge)}
.screens video.A{--edge:var(--a)}.screens video.B{--edge:var(--b)}
.controls{display:flex;gap:10px;align-items:center;margin-top:8px}
.controls .scrub{flex:1}.clock{font-variant-numeric:tabular-nums;color:var(--muted);
font-size:13px;min-width:150px}
.moments{margin:8px 0 0;padding-left:0;list-style:none;font-size:14px}
a.jump{font-size:13px;white-space:nowrap}
footer{margin-top:36px;color:var(--muted);font-size:13px}
footer ul{margin:4px 0 10px;padding-left:20px}
""" % VIDEO_COLOURS  # noqa: UP031 - CSS is full of braces; %-formatting keeps it readable


def esc(text: object) -> str:
    """Text for HTML element content and quoted attributes."""
    return html.escape(str(text), quote=True)


def data_url(img: Image.Image, memo: dict[int, str] | None = None) -> str:
    """The image as a JPEG data URL (photos: a fraction of PNG's size)."""
    if memo is not None and id(img) in memo:
        return memo[id(img)]
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=85, optimize=True)
    url = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    if memo is not None:
        memo[id(img)] = url
    return url


def badge(kind: str) -> str:
    text, bg, fg = VERDICTS[kind]
    return f'<span class="badge" style="background:{bg};color:{fg}">{esc(text)}</span>'


def _pct(t: float, axis: float) -> str:
    return f"{100.0 * max(0.0, min(t, axis)) / axis:.3f}%"


class _Renderer:
    def __init__(self, box: tuple[int, int]) -> None:
        self.box = box
        self.memo: dict[int, str] = {}

    # ---------------------------------------------------------------- frames and groups

    def figure(self, fr: Frame) -> str:
        caption = (f"<b>{esc(fr.video)}</b> · {fr.ref.timestamp_s:.2f} s · "
                   f"frame {fr.ref.source_frame}")
        if fr.note:
            caption += f" · {esc(fr.note)}"
        alt = f"Video {fr.video} at {fr.ref.timestamp_s:.2f} s (frame {fr.ref.source_frame})"
        if fr.image is not None:
            body = (f'<img src="{data_url(fr.image, self.memo)}" width="{fr.image.width}" '
                    f'height="{fr.image.height}" alt="{esc(alt)}">')
        else:
            w, h = self.box[0] * 3 // 5, self.box[1]
            body = f'<div class="ph" style="width:{w}px;height:{h}px">{esc(fr.note)}</div>'
            caption = f"<b>{esc(fr.video)}</b> · {fr.ref.timestamp_s:.2f} s"
        return f'<figure class="{esc(fr.video)}">{body}<figcaption>{caption}</figcaption></figure>'

    def column(self, video: str, frames: list[Frame]) -> str:
        inner = "".join(self.figure(f) for f in frames) or \
            f'<div class="empty">no {esc(video)} frame in this stage</div>'
        return f'<div class="col">{inner}</div>'

    def groups(self, groups: list[StageGroup]) -> str:
        if not groups:
            return '<p class="empty">No frames were cited.</p>'
        out = []
        for g in groups:
            out.append(
                f'<div class="group" style="--stage:{g.colour}">'
                f'<div class="ghead"><span class="swatch"></span>{esc(g.title)}</div>'
                f'<div class="gbody">{self.column("A", g.a)}{self.column("B", g.b)}</div></div>')
        return f'<div class="groups">{"".join(out)}</div>'

    # ---------------------------------------------------------------- sections

    def header(self, view: ReportView, level: int) -> str:
        engine = _ENGINES.get(view.engine, view.engine)
        cards = "".join(
            f'<div class="video"><span class="tag {esc(v.video)}">{esc(v.video)}</span><div>'
            f'<div class="vname" title="{esc(v.path)}">{esc(v.name)}</div>'
            f'<div class="facts">{esc(v.facts)}</div></div></div>' for v in view.videos)
        problems = "".join(f'<div class="problem">⚠ {esc(p)}</div>' for p in view.problems)
        eyebrow = '<div class="eyebrow">viddiff report</div>' if level == 1 else ""
        return (f'{eyebrow}<h{level} class="t1">{esc(view.title)}</h{level}>'
                f'<p class="meta">Action <b>{esc(view.action)}</b> · {esc(view.mode)} mode · '
                f'{esc(engine)}</p><div class="videos">{cards}</div>{problems}')

    def track(self, track: Track, axis: float) -> str:
        parts = [f'<div class="extent" style="width:{_pct(track.duration_s, axis)}"></div>']
        for bar in track.bars:
            left, width = bar.start_s, max(bar.end_s - bar.start_s, axis * 0.004)
            parts.append(
                f'<div class="bar" style="left:{_pct(left, axis)};width:{_pct(width, axis)};'
                f'background:{bar.colour};color:{text_on(bar.colour)}" '
                f'title="{esc(bar.stage)}: {esc(bar.times)}"><b>{esc(bar.stage)}</b>'
                f'<span>{esc(bar.times)}</span></div>')
        parts += [f'<div class="tick" style="left:{_pct(t, axis)}"></div>'
                  for t in track.frame_times]
        if not track.bars:
            parts.append('<div class="bar" style="left:0;width:100%;background:#f1f5f9;'
                         'color:#6b7280;border:0"><span>no stage segments</span></div>')
        return (f'<div class="track"><div class="tlabel"><span class="tag {esc(track.video)}">'
                f'{esc(track.video)}</span></div><div class="lane">{"".join(parts)}</div></div>')

    def timeline(self, view: ReportView) -> str:
        axis = view.axis_s
        step = tick_step(axis)
        n = int(axis / step + 1e-9)
        labels = "".join(
            f'<span{" class=last" if i == n and i * step > axis - step / 2 else ""} '
            f'style="left:{_pct(i * step, axis)}">{i * step:g} s</span>' for i in range(n + 1))
        tracks = "".join(self.track(t, axis) for t in view.tracks)
        return f'<div class="timeline">{tracks}<div class="axis">{labels}</div></div>'

    def player(self, view: ReportView, anchor: str) -> str:
        """Both clips in step along the alignment, one scrubber, the measured moments."""
        pv = view.player
        if pv is None:
            return f'<p class="hint">{esc(view.player_note)}</p>' if view.player_note else ""
        pid = f"{anchor}player"
        pairs = json.dumps([[a, b] for a, b in pv.pairs], separators=(",", ":"))
        how = ("B is stretched linearly to A's length (the result has no alignment)"
               if pv.linear else "B follows A along the alignment of the two performances")
        items = "".join(f"<li>{self.jump(pid, mo.number, mo.t_a, mo.t_b, mo.caption)}</li>"
                        for mo in pv.moments)
        moments = (f'<ul class="moments">{items}</ul>' if items else "")
        size = f"{pv.size_mb:.1f} MB" if pv.size_mb >= 0.1 else "under 0.1 MB"
        return (f'<div class="player" id="{esc(pid)}" data-alignment="{esc(pairs)}">'
                '<div class="screens">'
                f'<video class="A" src="{pv.url_a}" muted playsinline preload="auto" '
                'title="Video A"></video>'
                f'<video class="B" src="{pv.url_b}" muted playsinline preload="auto" '
                'title="Video B"></video></div>'
                '<div class="controls"><button class="play" type="button">Play</button>'
                '<select class="speed" title="Speed"><option value="1">1×</option>'
                '<option value="0.5">0.5×</option><option value="0.25">0.25×</option></select>'
                f'<input class="scrub" type="range" min="0" max="{pv.duration_a:.3f}" '
                'step="0.01" value="0" aria-label="Time in video A">'
                '<span class="clock"></span></div>'
                f'<p class="hint legend">A plays at its own pace; {esc(how)}. The two clips '
                f'are embedded ({size}; a report embeds at most '
                f'{view.player_cap_mb:g} MB).</p>{moments}</div>')

    @staticmethod
    def jump(pid: str, number: int, t_a: float, t_b: float, text: str) -> str:
        return (f'<a class="jump" href="#{esc(pid)}" data-player="{esc(pid)}" '
                f'data-ta="{t_a:.4f}" data-tb="{t_b:.4f}" data-diff="{number}">'
                f'▶ {number}. {esc(text)} (A {t_a:.2f} s, B {t_b:.2f} s)</a>')

    def summary(self, diffs: list[DiffView], anchor: str) -> str:
        rows = "".join(
            f'<tr><td class="num">{d.number}</td><td><a href="#{anchor}diff-{d.number}">'
            f'{esc(d.title)}</a></td><td>{badge(d.verdict)}</td>'
            f'<td class="why">{esc(d.reason)}</td></tr>' for d in diffs)
        return ('<table class="summary"><thead><tr><th>#</th><th>Difference</th>'
                f'<th>Verdict</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table>')

    def measurements(self, diff: DiffView) -> str:
        if not diff.measurements:
            return ""
        rows = "".join(
            f'<tr><td>{esc(m.metric)}</td><td>{esc(m.stage)}</td><td class="n">{esc(m.value_a)}'
            f'</td><td class="n">{esc(m.value_b)}</td><td class="n">{esc(m.delta)}</td>'
            f'<td class="n">{esc(m.needed)}</td><td>{esc(m.verdict)}</td></tr>'
            for m in diff.measurements)
        return ('<div class="mwrap"><table class="measure"><thead><tr><th>Measurement</th>'
                '<th>Stage</th><th>A</th><th>B</th><th>A − B</th><th>Needed</th><th>Verdict</th>'
                '</tr></thead>'
                f'<tbody>{rows}</tbody></table></div>')

    def difference(self, diff: DiffView, anchor: str, level: int,
                   player: PlayerView | None = None) -> str:
        stages = f" · stages: {esc(', '.join(diff.stages))}" if diff.stages else ""
        mo = next((m for m in player.moments if m.number == diff.number), None) \
            if player is not None else None
        if mo is not None:
            stages += " · " + self.jump(f"{anchor}player", mo.number, mo.t_a, mo.t_b,
                                        "watch the measured moment")
        return (f'<article class="diff" id="{anchor}diff-{diff.number}"><header>'
                f'<span class="num">{diff.number}</span>'
                f'<h{level} class="t3">{esc(diff.title)}</h{level}>'
                f'{badge(diff.verdict)}</header>'
                f'<p class="reason">{esc(diff.reason) or "<i>no reason given</i>"}'
                f'<span class="meta">{stages}</span></p>'
                f'<div class="dbody">{self.groups(diff.groups)}{self.measurements(diff)}</div>'
                '</article>')

    def footer(self, view: ReportView) -> str:
        def items(title: str, entries: Iterable[str]) -> str:
            li = "".join(f"<li>{esc(e)}</li>" for e in entries)
            return f"<div>{esc(title)}<ul>{li}</ul></div>" if li else ""

        return ("<footer>" + items("Notes", view.notes)
                + items("Models", (f"{k}: {v}" for k, v in view.models.items()))
                + items("Token usage", view.usage)
                + "<div>Made by viddiff from a comparison result; frames re-decoded from the "
                  "videos.</div></footer>")

    def body(self, view: ReportView, anchor: str = "", level: int = 1) -> str:
        """The report's content (no <html> shell), ids prefixed with ``anchor``."""
        h2 = f"h{level + 1}"
        sect = f'{h2} class="t2"'
        diffs = "".join(self.difference(d, anchor, level + 2, view.player)
                        for d in view.differences)
        n = len(view.differences)
        return (
            self.header(view, level)
            + (f"<{sect}>Watch them together</{h2}>" + self.player(view, anchor)
               if view.player is not None or view.player_note else "")
            + f"<{sect}>Stages over time</{h2}><p class=\"hint\">Both videos on one time scale "
              "(dashed line: end of the video); ticks mark the sampled frames.</p>"
            + self.timeline(view)
            + f"<{sect}>Stages side by side</{h2}><p class=\"hint\">The middle frame of each stage "
              "in A and in B: if the alignment is right, each pair shows the same moment.</p>"
            + self.groups(view.overview)
            + f"<{sect}>Differences ({n})</{h2}>"
            + (self.summary(view.differences, anchor)
               + (SKELETON_HINT if any(f.skeleton for d in view.differences for g in d.groups
                                       for f in (*g.a, *g.b)) else "")
               + diffs if n else
               '<p class="empty">The result lists no differences.</p>')
            + self.footer(view))


def page(title: str, body: str) -> str:
    """The HTML shell around ``body``: one file, nothing fetched."""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main>"
            + (f"<script>{PLAYER_JS}</script>" if 'class="player"' in body else "")
            + "</body></html>\n")


def render_body(view: ReportView, anchor: str = "", level: int = 1) -> str:
    """The report's content for embedding in a page (the gallery holds several)."""
    return _Renderer(view.frame_box).body(view, anchor, level)


def render_view(view: ReportView) -> str:
    """The complete page for one comparison."""
    return page(f"viddiff — {view.action}", render_body(view))
