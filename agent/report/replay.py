"""The time-warp of an aligned replay: which moment of A and of B each output frame shows.

Pure arithmetic on seconds (no decoding, no drawing), so the rules the video and the HTML
player follow are tested on their own:

* A plays at its own pace (divided by the replay's speed); B is warped along the result's
  ``alignment`` (monotone ``(t_a, t_b)`` pairs, interpolated linearly between pairs), so
  corresponding moments show together. With no usable alignment the two durations are
  mapped linearly onto each other, and the replay says so in a note.
* Each difference's measured moment (the frames its first measurement was read at) is held
  for about half a second, with the measurement's sentence as the caption.
* The bar under each video shows its stage spans and, once the result carries them, named
  events, all in that video's own seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from viddiff.graphs.schemas import ComparisonResult, VideoRef
from viddiff.tools.segments import Segment

#: How long a difference's measured moment is held, in seconds of the replay.
HOLD_S = 0.5
#: Output frame rate bounds: A's own rate, clamped into this range.
MIN_FPS, MAX_FPS = 1.0, 60.0
LINEAR_NOTE = ("the result has no alignment of the two videos; B is stretched linearly to "
               "A's duration in the replay, so moments may not correspond")


@dataclass(frozen=True)
class TimeMap:
    """A piecewise-linear, non-decreasing map from A's seconds to B's seconds."""

    t_a: tuple[float, ...]
    t_b: tuple[float, ...]
    linear: bool = False

    def b_at(self, t_a: float) -> float:
        """B's moment corresponding to A's moment ``t_a`` (clamped to the mapped span)."""
        return float(np.interp(t_a, self.t_a, self.t_b))

    def a_at(self, t_b: float) -> float:
        """A's moment corresponding to B's ``t_b`` (the first one, where B is held)."""
        tb = np.asarray(self.t_b)
        ta = np.asarray(self.t_a)
        i = int(np.searchsorted(tb, t_b, side="left"))
        if i <= 0:
            return float(ta[0])
        if i >= len(tb):
            return float(ta[-1])
        lo, hi = tb[i - 1], tb[i]
        frac = 0.0 if hi <= lo else (t_b - lo) / (hi - lo)
        return float(ta[i - 1] + frac * (ta[i] - ta[i - 1]))

    def pairs(self, max_pairs: int | None = None) -> list[tuple[float, float]]:
        """The knots, thinned evenly to at most ``max_pairs`` (first and last kept)."""
        n = len(self.t_a)
        keep = range(n) if max_pairs is None or n <= max_pairs else \
            sorted({round(i * (n - 1) / (max_pairs - 1)) for i in range(max_pairs)})
        return [(round(self.t_a[i], 4), round(self.t_b[i], 4)) for i in keep]


def time_map(alignment: Sequence[Sequence[float]], duration_a: float,
             duration_b: float) -> tuple[TimeMap, str | None]:
    """The map a replay follows, and a note when it had to fall back to a linear one.

    Pairs that are not finite are dropped, the rest sorted by ``t_a``, and ``t_b`` made
    non-decreasing (a running maximum: a saved result edited by hand cannot make B run
    backwards). Fewer than two distinct ``t_a`` left: the linear map of the durations.
    """
    pts = sorted((float(a), float(b)) for a, b in (tuple(p)[:2] for p in alignment)
                 if math.isfinite(float(a)) and math.isfinite(float(b)))
    ta: list[float] = []
    tb: list[float] = []
    for a, b in pts:
        b = max(b, tb[-1]) if tb else b
        if ta and a <= ta[-1]:
            tb[-1] = max(tb[-1], b)
            continue
        ta.append(a)
        tb.append(b)
    if len(ta) >= 2:
        return TimeMap(tuple(ta), tuple(tb)), None
    da, db = max(duration_a, 1e-6), max(duration_b, 1e-6)
    return TimeMap((0.0, da), (0.0, db), linear=True), LINEAR_NOTE


def result_time_map(result: ComparisonResult) -> tuple[TimeMap, str | None]:
    """:func:`time_map` of a result's alignment and its two videos' durations."""
    return time_map(result.alignment, duration_of(result.video_a),
                    duration_of(result.video_b))


def duration_of(ref: VideoRef) -> float:
    """A video's length in seconds (its frame count at its rate when no duration is known)."""
    if ref.duration_s > 0:
        return ref.duration_s
    return ref.n_source_frames / ref.source_fps if ref.source_fps > 0 else 0.0


def frame_at(t: float, fps: float, n_frames: int) -> int:
    """The source frame on screen at ``t`` seconds (frame ``i`` shows from ``i / fps``)."""
    if fps <= 0 or n_frames <= 0:
        return 0
    return min(max(math.floor(t * fps + 1e-6), 0), n_frames - 1)


# ------------------------------------------------------------------------- holds and frames


@dataclass(frozen=True)
class Moment:
    """A difference's measured moment: the frames of A and B its number was read at."""

    number: int
    t_a: float
    t_b: float
    caption: str
    frame_a: int | None = None
    frame_b: int | None = None


def moments(result: ComparisonResult, tmap: TimeMap) -> list[Moment]:
    """One moment per difference with measurement evidence, in A's time order: the first
    evidence frame of its first measurement that has some (a side without evidence gets the
    moment the alignment gives), captioned with that measurement's sentence."""
    out: list[Moment] = []
    for number, diff in enumerate(result.differences, 1):
        m = next((m for m in diff.measurements if m.evidence_a or m.evidence_b), None)
        if m is None:
            continue
        ea = m.evidence_a[0] if m.evidence_a else None
        eb = m.evidence_b[0] if m.evidence_b else None
        t_a = ea.timestamp_s if ea is not None else tmap.a_at(eb.timestamp_s if eb else 0.0)
        t_b = eb.timestamp_s if eb is not None else tmap.b_at(t_a)
        caption = caption_of(m.statement or diff.description or diff.name)
        out.append(Moment(number, t_a, t_b, caption,
                          ea.source_frame if ea else None, eb.source_frame if eb else None))
    return sorted(out, key=lambda mo: (mo.t_a, mo.number))


def caption_of(statement: str) -> str:
    """The first sentence of a measurement's statement: the numbers ("knee angle at the
    bottom: A 71°, B 96°"), not the verdict's reasoning."""
    first = statement.split(". ", 1)[0].strip()
    return first.rstrip(".") if first else statement.strip()


@dataclass(frozen=True)
class OutFrame:
    """One frame of the replay: A's and B's moments, the exact source frames when a held
    measured moment names them, and the caption on screen (None: none)."""

    index: int
    t_a: float
    t_b: float
    frame_a: int | None = None
    frame_b: int | None = None
    caption: str | None = None
    held: bool = False


def output_fps(source_fps_a: float) -> float:
    """The replay's frame rate: A's own, within [MIN_FPS, MAX_FPS]."""
    return min(max(source_fps_a if source_fps_a > 0 else 30.0, MIN_FPS), MAX_FPS)


def replay_frames(tmap: TimeMap, duration_a: float, fps: float, speed: float = 1.0,
                  holds: Sequence[Moment] = (), hold_s: float = HOLD_S) -> Iterator[OutFrame]:
    """The replay frame by frame (a generator: nothing grows with the clip's length).

    Output frame ``k`` of the playing part shows A at ``k * speed / fps`` seconds (so
    ``speed`` 0.5 is slow motion) and B at the map of that moment. When A's clock reaches a
    measured moment, ``round(hold_s * fps)`` frames (at least one) show that moment frozen,
    with its caption; then the playing resumes where it was.
    """
    if speed <= 0 or not math.isfinite(speed):
        raise ValueError(f"replay speed must be a positive number, not {speed}")
    step = speed / fps
    n_play = max(1, math.floor(duration_a / step + 1e-9))
    n_hold = max(1, round(hold_s * fps))
    pending = sorted(holds, key=lambda m: m.t_a)
    index = 0
    for k in range(n_play):
        t_a = k * step
        while pending and pending[0].t_a < t_a + step - 1e-9:
            mo = pending.pop(0)
            for _ in range(n_hold):
                yield OutFrame(index, mo.t_a, mo.t_b, mo.frame_a, mo.frame_b, mo.caption, True)
                index += 1
        yield OutFrame(index, t_a, tmap.b_at(t_a))
        index += 1
    for mo in pending:  # moments after the last frame's time (at the very end)
        for _ in range(n_hold):
            yield OutFrame(index, mo.t_a, mo.t_b, mo.frame_a, mo.frame_b, mo.caption, True)
            index += 1


def count_frames(duration_a: float, fps: float, speed: float, n_holds: int,
                 hold_s: float = HOLD_S) -> int:
    """How many frames :func:`replay_frames` yields (for progress and tests)."""
    n_play = max(1, math.floor(duration_a / (speed / fps) + 1e-9))
    return n_play + n_holds * max(1, round(hold_s * fps))


# ------------------------------------------------------------------------------ the bars


@dataclass(frozen=True)
class Span:
    """A named span of one video's own seconds (a stage)."""

    name: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Event:
    """A named instant of both videos ("bottom"), in each video's own seconds."""

    name: str
    t_a: float
    t_b: float


@dataclass(frozen=True)
class BarTrack:
    """What the bar under one video shows: its duration, stage spans and event instants."""

    video: str
    duration_s: float
    spans: list[Span] = field(default_factory=list)
    events: list[tuple[str, float]] = field(default_factory=list)


def stage_spans(ref: VideoRef, segments: Sequence[Segment]) -> list[Span]:
    """Each stage segment (of sampled frames) as seconds of its video: from its first frame
    to the next segment's first frame (the last one to the end of the video)."""
    ts = ref.timestamps
    end_of_video = duration_of(ref)
    spans: list[Span] = []
    for seg in segments:
        if seg.start >= len(ts):
            continue
        end = min(seg.end, len(ts) - 1)
        stop = ts[end + 1] if end + 1 < len(ts) else max(end_of_video, ts[end])
        spans.append(Span(seg.stage, ts[seg.start], stop))
    return spans


def bar_tracks(result: ComparisonResult,
               events: Sequence[Event | dict[str, object]] = ()) -> tuple[BarTrack, BarTrack]:
    """The bars of A and B: stages from the result's segments, plus the named ``events``
    (records or ``{name, t_a, t_b}`` mappings; by default the result's own ``events``)."""
    given = events or [e.model_dump() for e in result.events]
    evs = [e if isinstance(e, Event) else Event(str(e["name"]), float(e["t_a"]),  # type: ignore[arg-type]
                                                float(e["t_b"]))  # type: ignore[arg-type]
           for e in given]
    return (BarTrack("A", duration_of(result.video_a),
                     stage_spans(result.video_a, result.segments_a),
                     [(e.name, e.t_a) for e in evs]),
            BarTrack("B", duration_of(result.video_b),
                     stage_spans(result.video_b, result.segments_b),
                     [(e.name, e.t_b) for e in evs]))


def span_at(track: BarTrack, t: float) -> str | None:
    """The stage under ``t`` on a bar (None: outside every span)."""
    return next((s.name for s in track.spans if s.start_s <= t < s.end_s), None)
