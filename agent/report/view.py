"""What a report shows, worked out once from a result: the HTML page and the PNG sheet both
draw this view, so they always agree on stages, alignment, verdicts and numbers.

Frames are "aligned by stage": each frame a difference cites is placed under the stage whose
segment (of its own video) contains it, so the A and B frames of one stage sit side by side
even when the two performances run at different speeds.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from viddiff.agent.report.draw import joints_for_metric
from viddiff.agent.report.frames import VideoFrames, load_frames
from viddiff.agent.report.player import PLAYER_CAP_MB, PlayerView, build_player
from viddiff.agent.report.style import NO_STAGE_COLOUR, VERDICTS, stage_colour
from viddiff.graphs.context import VidDiffContext, default_cache_dir
from viddiff.graphs.frames import nearest_sample
from viddiff.graphs.schemas import ComparisonResult, DifferenceResult, FrameRef, VideoRef
from viddiff.tools.kinematics.registry import METRICS
from viddiff.tools.kinematics.results import Measurement
from viddiff.tools.segments import Segment

_UNITS = {"deg": "°", "TL": " TL", "TL/s": " TL/s", "s": " s", "ratio": ""}
_DECIMALS = {"deg": 0, "s": 2}


@dataclass(frozen=True)
class ReportOptions:
    """How a report is made.

    ``pose``: draw skeletons; ``None`` means only when some difference rests on measurements
    (the pose model is slow to load, and VLM results have nothing to draw on). ``max_side``
    should be the comparison's (default the same). ``context``: the comparison's settings, so
    skeletons come from its dense pose (cached) instead of a new pose run; None: the default
    settings with ``cache_dir`` and ``max_side``. ``player``: embed both clips in a player
    that keeps them in step along the alignment, when together they are at most
    ``player_cap_mb`` megabytes (the page stays one file).
    """

    cache_dir: Path | None = None
    max_side: int = VidDiffContext.max_side or 448
    pose: bool | None = None
    frame_box: tuple[int, int] = (360, 300)
    title: str | None = None
    context: VidDiffContext | None = None
    player: bool = True
    player_cap_mb: float = PLAYER_CAP_MB

    @property
    def pose_cache(self) -> Path:
        return Path(self.cache_dir or default_cache_dir()) / "pose"

    @property
    def frame_store(self) -> Path:
        """Where shown frames are kept between reports (tools/frame_store.py)."""
        return Path(self.cache_dir or default_cache_dir()) / "frames"


@dataclass
class Frame:
    """One frame cell: which video and frame, its stage, the picture (or why there is none)."""

    video: str
    ref: FrameRef
    stage: str | None
    image: Image.Image | None
    note: str = ""
    skeleton: bool = False


@dataclass
class StageGroup:
    """The A and B frames that fall in one stage (``stage`` None: outside every segment)."""

    stage: str | None
    colour: str
    a: list[Frame] = field(default_factory=list)
    b: list[Frame] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.stage if self.stage is not None else "outside the stages"


@dataclass(frozen=True)
class Bar:
    """One stage segment on the timeline, in seconds of its video."""

    stage: str
    colour: str
    start_s: float
    end_s: float
    first_frame_s: float
    last_frame_s: float

    @property
    def times(self) -> str:
        return f"{self.first_frame_s:.2f}–{self.last_frame_s:.2f} s"


@dataclass(frozen=True)
class Track:
    """One video's row of the timeline."""

    video: str
    name: str
    duration_s: float
    bars: list[Bar]
    frame_times: list[float]


@dataclass(frozen=True)
class MeasurementRow:
    metric: str
    stage: str
    value_a: str
    value_b: str
    delta: str
    needed: str
    verdict: str
    statement: str


@dataclass
class DiffView:
    number: int
    title: str
    verdict: str
    reason: str
    stages: list[str]
    groups: list[StageGroup]
    measurements: list[MeasurementRow]

    @property
    def verdict_text(self) -> str:
        return VERDICTS[self.verdict][0]


@dataclass(frozen=True)
class VideoInfo:
    video: str
    path: str
    name: str
    facts: str
    problem: str | None


@dataclass
class ReportView:
    title: str
    action: str
    mode: str
    engine: str
    videos: list[VideoInfo]
    tracks: list[Track]
    axis_s: float
    overview: list[StageGroup]
    differences: list[DiffView]
    problems: list[str]
    notes: list[str]
    models: dict[str, str]
    usage: list[str]
    frame_box: tuple[int, int]
    player: PlayerView | None = None
    player_note: str | None = None
    player_cap_mb: float = PLAYER_CAP_MB


# --------------------------------------------------------------------------------------------


def stage_order(result: ComparisonResult) -> list[str]:
    """Stage names in transcript order, then any only the segments or differences name."""
    names = [s.name for s in result.stages]
    names += [s.stage for s in (*result.segments_a, *result.segments_b)]
    names += [st for d in result.differences for st in d.stages]
    return list(dict.fromkeys(names))


def stage_of(segments: list[Segment], sampled_index: int) -> str | None:
    for seg in segments:
        if seg.start <= sampled_index <= seg.end:
            return seg.stage
    return None


def _period(ref: VideoRef) -> float:
    ts = ref.timestamps
    if len(ts) >= 2:
        gaps = sorted(b - a for a, b in itertools.pairwise(ts) if b > a)
        if gaps:
            return gaps[len(gaps) // 2]
    return 1.0 / ref.target_fps if ref.target_fps > 0 else 0.0


def track_of(video: str, ref: VideoRef, segments: list[Segment],
             colours: dict[str, str]) -> Track:
    """Timeline row: each segment spans from its first frame to the next segment's first frame
    (the sampled frames stand for the time until the next one)."""
    ts = ref.timestamps
    period = _period(ref)
    duration = ref.duration_s if ref.duration_s > 0 else (ts[-1] + period if ts else 0.0)
    bars = []
    for seg in segments:
        if seg.start >= len(ts):
            continue  # a segment beyond the frames the result lists (foreign file): skip
        end = min(seg.end, len(ts) - 1)
        stop = ts[end + 1] if end + 1 < len(ts) else min(duration, ts[end] + period)
        bars.append(Bar(stage=seg.stage, colour=colours.get(seg.stage, NO_STAGE_COLOUR),
                        start_s=ts[seg.start], end_s=max(stop, ts[seg.start]),
                        first_frame_s=ts[seg.start], last_frame_s=ts[end]))
    return Track(video=video, name=Path(ref.path).name, duration_s=duration, bars=bars,
                 frame_times=list(ts))


def _number(value: float | None, unit: str, unc: float | None = None,
            signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    d = _DECIMALS.get(unit, 2)
    suffix = _UNITS.get(unit, f" {unit}" if unit else "")
    text = f"{value:+.{d}f}" if signed else f"{value:.{d}f}"
    if unc is not None and math.isfinite(unc) and unc > 0:
        text += f" ± {unc:.{max(d, 1)}f}"
    return text + suffix


def measurement_row(m: Measurement) -> MeasurementRow:
    spec = METRICS.get(m.metric)
    name = spec.label if spec is not None else m.metric.replace("_", " ")
    return MeasurementRow(
        metric=name, stage=m.stage or "whole clip",
        value_a=_number(m.value_a, m.unit, m.uncertainty_a),
        value_b=_number(m.value_b, m.unit, m.uncertainty_b),
        delta=_number(m.delta, m.unit, m.uncertainty, signed=True),
        needed=f"> {_number(m.threshold, m.unit)}" if m.threshold > 0 else "–",
        verdict=VERDICTS[m.label][0], statement=m.statement)


def verdict_of(diff: DifferenceResult) -> str:
    if diff.status in ("failed", "not_measurable") or diff.label is None:
        return "failed" if diff.label is None else diff.status
    return diff.label


class _Builder:
    """Holds the decoded videos while the view is assembled."""

    def __init__(self, result: ComparisonResult, options: ReportOptions) -> None:
        self.result = result
        self.options = options
        self.order = stage_order(result)
        self.colours = {name: stage_colour(i) for i, name in enumerate(self.order)}
        self.segments = {"A": result.segments_a, "B": result.segments_b}
        want_pose = options.pose if options.pose is not None else any(
            d.measurements for d in result.differences)
        self.want_pose = want_pose
        self.videos: dict[str, VideoFrames] = {}
        for key, ref in (("A", result.video_a), ("B", result.video_b)):
            wanted = [f.source_frame for d in result.differences
                      for f in (d.frames_a if key == "A" else d.frames_b)]
            wanted += [ref.indices[s.middle] for s in self.segments[key]
                       if s.middle < len(ref.indices)]
            self.videos[key] = load_frames(key, ref, wanted, max_side=options.max_side,
                                           pose_cache=options.pose_cache, want_pose=want_pose,
                                           context=options.context,
                                           frame_store=options.frame_store)

    def stage_at(self, video: str, ref: FrameRef) -> str | None:
        """The stage a frame falls in (by its time when the dense pose sampling read it)."""
        vref = self.result.video_a if video == "A" else self.result.video_b
        index = ref.sampled_index if ref.sampled_index is not None else \
            nearest_sample(vref, ref.timestamp_s)
        return stage_of(self.segments[video], index) if index is not None else None

    def frame(self, video: str, ref: FrameRef, skeleton: bool,
              highlight: frozenset[int] = frozenset()) -> Frame:
        stage = self.stage_at(video, ref)
        vf = self.videos[video]
        if not vf.available:
            return Frame(video, ref, stage, None, f"video {video} not available")
        img = vf.image(ref.source_frame, self.options.frame_box, skeleton=skeleton,
                       highlight=highlight)
        if img is None:
            return Frame(video, ref, stage, None, f"frame {ref.source_frame} not in the video")
        found = vf.person_found(ref.source_frame) if skeleton else None
        return Frame(video, ref, stage, img, "no person found" if found is False else "",
                     skeleton=bool(found))

    def groups(self, frames_a: list[Frame], frames_b: list[Frame]) -> list[StageGroup]:
        by_stage: dict[str | None, StageGroup] = {}
        for fr in sorted([*frames_a, *frames_b], key=lambda f: f.ref.timestamp_s):
            group = by_stage.setdefault(fr.stage, StageGroup(
                fr.stage, self.colours.get(fr.stage, NO_STAGE_COLOUR) if fr.stage
                else NO_STAGE_COLOUR))
            (group.a if fr.video == "A" else group.b).append(fr)
        rank = {name: i for i, name in enumerate(self.order)}
        return sorted(by_stage.values(),
                      key=lambda g: rank.get(g.stage, len(rank)) if g.stage else len(rank) + 1)

    def difference(self, number: int, diff: DifferenceResult) -> DiffView:
        skeleton = self.want_pose and (self.options.pose is True or bool(diff.measurements))
        highlight = frozenset().union(*(joints_for_metric(m.metric) for m in diff.measurements))
        fa = [self.frame("A", f, skeleton, highlight) for f in diff.frames_a]
        fb = [self.frame("B", f, skeleton, highlight) for f in diff.frames_b]
        return DiffView(number=number, title=diff.description or diff.name,
                        verdict=verdict_of(diff), reason=diff.reason, stages=list(diff.stages),
                        groups=self.groups(fa, fb),
                        measurements=[measurement_row(m) for m in diff.measurements])

    def overview(self) -> list[StageGroup]:
        """The middle frame of every stage segment of A and B, side by side per stage."""
        frames: dict[str, list[Frame]] = {"A": [], "B": []}
        for key, ref in (("A", self.result.video_a), ("B", self.result.video_b)):
            for seg in self.segments[key]:
                i = seg.middle
                if i < len(ref.indices) and i < len(ref.timestamps):
                    fr = FrameRef(sampled_index=i, source_frame=ref.indices[i],
                                  timestamp_s=ref.timestamps[i])
                    frames[key].append(self.frame(key, fr, skeleton=False))
        return self.groups(frames["A"], frames["B"])

    def video_info(self, key: str, ref: VideoRef) -> VideoInfo:
        facts = (f"{ref.duration_s:.2f} s · {ref.source_fps:g} fps · {ref.width}×{ref.height}"
                 f" · {len(ref.indices)} frames sampled at {ref.target_fps:g}/s")
        return VideoInfo(key, ref.path, Path(ref.path).name, facts, self.videos[key].problem)

    def build(self) -> ReportView:
        r = self.result
        tracks = [track_of("A", r.video_a, r.segments_a, self.colours),
                  track_of("B", r.video_b, r.segments_b, self.colours)]
        problems = [p for v in self.videos.values() for p in (v.problem, v.pose_note) if p]
        usage = [f"{u.role}: {u.calls} calls, {u.input_tokens}+{u.output_tokens} tokens "
                 f"({u.model})" for u in r.usage]
        player, player_note = build_player(
            r, {k: v.available for k, v in self.videos.items()},
            self.options.player_cap_mb) if self.options.player else (None, None)
        return ReportView(
            title=self.options.title or f"How two performances of {r.action} differ",
            action=r.action, mode=r.mode, engine=r.engine,
            videos=[self.video_info("A", r.video_a), self.video_info("B", r.video_b)],
            tracks=tracks, axis_s=max([t.duration_s for t in tracks] + [1e-6]),
            overview=self.overview(),
            differences=[self.difference(i, d) for i, d in enumerate(r.differences, 1)],
            problems=problems, notes=list(r.notes), models=dict(r.models), usage=usage,
            frame_box=self.options.frame_box, player=player, player_note=player_note,
            player_cap_mb=self.options.player_cap_mb)


def build_view(result: ComparisonResult, options: ReportOptions | None = None) -> ReportView:
    """Decode what the report shows and lay it out (no HTML or PNG yet)."""
    return _Builder(result, options or ReportOptions()).build()
