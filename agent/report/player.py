"""The report's player: both clips in the page, kept in step along the alignment.

What the page needs is worked out here (the HTML is in :mod:`viddiff.agent.report.html`):
the two videos as data URLs, the alignment (thinned), and each difference's measured moment.
The page stays one self-contained file, so the clips are embedded only up to
:data:`PLAYER_CAP_MB` together; above that, or when a clip is in a format browsers do not
play, the player is left out and the report says why.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import av

from viddiff.agent.report.replay import Moment, moments, result_time_map
from viddiff.graphs.schemas import ComparisonResult, VideoRef

#: Largest total size of the two clips a report embeds (megabytes of video, before base64).
PLAYER_CAP_MB = 20.0
#: The most alignment pairs the page carries (the map is interpolated between them).
MAX_PAIRS = 600
#: Codecs every current browser plays, and the MIME type of each container suffix.
BROWSER_CODECS = frozenset({"h264", "vp8", "vp9", "av1"})
_MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/mp4", ".webm": "video/webm"}


@dataclass(frozen=True)
class PlayerView:
    """What the player shows: the two clips (data URLs), their lengths, the map from A's
    seconds to B's, and the measured moments the differences jump to."""

    url_a: str
    url_b: str
    duration_a: float
    duration_b: float
    pairs: list[tuple[float, float]]
    moments: list[Moment] = field(default_factory=list)
    linear: bool = False
    size_mb: float = 0.0


def _playable(key: str, path: Path) -> str | None:
    """Why a browser cannot play the clip, or None when it can."""
    if path.suffix.lower() not in _MIME:
        return f"video {key} is a {path.suffix or 'suffix-less'} file, which browsers do not play"
    try:
        with av.open(str(path)) as container:
            codec = container.streams.video[0].codec_context.name
    except (av.error.FFmpegError, OSError, IndexError):
        return f"video {key} cannot be read"
    if codec not in BROWSER_CODECS:
        return f"video {key} is {codec} video, which browsers do not all play"
    return None


def _data_url(path: Path) -> str:
    mime = _MIME[path.suffix.lower()]
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def build_player(result: ComparisonResult, available: dict[str, bool],
                 cap_mb: float = PLAYER_CAP_MB) -> tuple[PlayerView | None, str | None]:
    """The player of a result's report, or None and a one-line reason it is left out.
    ``available``: whether each video (``"A"``, ``"B"``) is there and unchanged (the report
    checked that when it decoded its frames)."""
    refs: dict[str, VideoRef] = {"A": result.video_a, "B": result.video_b}
    for key in refs:
        if not available.get(key, False):
            return None, f"the player is left out: video {key} is not available"
    paths = {key: Path(ref.path).expanduser() for key, ref in refs.items()}
    size_mb = sum(p.stat().st_size for p in paths.values()) / 1e6
    if size_mb > cap_mb:
        return None, (f"the player is left out: the two clips are {size_mb:.1f} MB together, "
                      f"above the {cap_mb:g} MB a self-contained report embeds (watch the "
                      "replay instead: viddiff report RESULT --video replay.mp4)")
    for key, path in paths.items():
        why = _playable(key, path)
        if why:
            return None, f"the player is left out: {why}"
    tmap, _ = result_time_map(result)
    return PlayerView(url_a=_data_url(paths["A"]), url_b=_data_url(paths["B"]),
                      duration_a=tmap.t_a[-1] if tmap.linear else
                      max(result.video_a.duration_s, tmap.t_a[-1]),
                      duration_b=result.video_b.duration_s, pairs=tmap.pairs(MAX_PAIRS),
                      moments=moments(result, tmap), linear=tmap.linear,
                      size_mb=size_mb), None
