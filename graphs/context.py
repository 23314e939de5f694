"""Run settings for the VidDiff graphs, read by nodes through ``runtime.context``.

Everything that tunes a run lives in this one dataclass, so a caller (command line, host
agent, eval runner, ``langgraph dev``) sets it in one place. Models are *not* here: they are
injected into the graph factories, so nodes never construct a client themselves.

It is also the single source of what each setting *is*: every field carries a
:class:`Setting` (its description, its command-line flag, how a flag's text is read, and
whether it changes results). The command line's options (``viddiff.agent.cli.options``), the
result-cache and resume keys (:func:`result_settings`), the run records and the CLIP spec
(:meth:`VidDiffContext.clip_spec`) are derived from these fields, so a new setting is one
field here and nothing else.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from viddiff.tools.clip.spec import ClipSpec
from viddiff.tools.extras import require_extra
from viddiff.tools.images import ImageDetail

if TYPE_CHECKING:  # torch and open_clip load when a CLIP localizer first runs, not on import
    from viddiff.tools.clip.model import ClipEmbedder
    from viddiff.tools.clip.spec import Embedder

ClipLoader = Callable[["ClipSpec"], "Embedder"]
"""Builds the CLIP embedder for a spec (the local model, or on Ray a proxy to an embedding
actor); injected into the graph factories (tests pass one
that builds random weights, hosts one that shares a model between graphs)."""


def default_cache_dir() -> Path:
    """Where embeddings and poses are cached (``VIDDIFF_CACHE_DIR`` or ``~/.cache/viddiff``)."""
    env = os.environ.get("VIDDIFF_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "viddiff"


ValueKind = Literal["number", "count", "count0", "limit", "choice", "switch", "text",
                    "optional_text", "path", "device"]
"""How a flag's text becomes a value: ``number`` a finite float > 0, ``count`` an int >= 1,
``count0`` an int >= 0, ``limit`` an int >= 1 or "none", ``choice`` one of the field's
``Literal`` values, ``switch`` ``--x/--no-x``, ``text`` any string, ``optional_text`` a
string where "none" means ``None``, ``path`` a file or folder, ``device`` a torch device."""


@dataclass(frozen=True)
class Setting:
    """What one :class:`VidDiffContext` field is, for people and for the code derived from it."""

    description: str
    """What it does and why (the field's documentation)."""
    help: str
    """The flag's line in ``--help`` (the default and the range are added to it)."""
    kind: ValueKind
    changes_results: bool = True
    """False for settings that change how fast or where a run goes, not what it computes:
    they are left out of result-cache keys, resume fingerprints and run identities."""
    flag: str | None = None
    """The command-line flag; ``None``: ``--`` and the field's name with dashes."""
    metavar: str | None = None
    group: Literal["sampling", "endpoint"] = "sampling"
    """Which option group lists it (``endpoint``: next to the model endpoint's options)."""
    clip: str | None = None
    """The :class:`ClipSpec` field this setting fills, if any."""
    server_owned: bool = False
    """True for settings that name the server's own files or devices (the cache folder, a
    checkpoint file, the torch device): on a served graph a client's run context may not
    change them (:func:`client_overrides_of_server_settings`), or it could make the server
    read and write outside its allowed folders."""


def setting(default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None,
            **info: Any) -> Any:
    """A dataclass field carrying its :class:`Setting` (in ``metadata["setting"]``)."""
    meta = {"setting": Setting(**info)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


_CLIP = ClipSpec()  # the CLIP defaults live in ClipSpec (tools layer); these fields take them


@dataclass(kw_only=True)
class VidDiffContext:
    """Settings of one comparison run (each field's :class:`Setting` says what it does)."""

    fps: float = setting(
        6.0, kind="number", help="frames sampled per second",
        description="Frames per second sampled from each video (by timestamp, any source fps).")
    max_frames: int | None = setting(
        96, kind="limit", metavar="N|none", help="cap on sampled frames per video",
        description="Cap on sampled frames per video; long videos are sampled uniformly below "
                    "it. None: no cap (the paper's protocol; a long video at a high rate costs "
                    "more).")
    pose_fps: float = setting(
        30.0, kind="number", metavar="FPS",
        help="frames per second the pose measurements read, their own sampling (the source "
             "rate up to this)",
        description="Frames per second the pose measurements read (their own sampling, denser "
                    "than the frames shown to a vision model): the source rate up to this.")
    pose_max_frames: int = setting(
        1800, kind="count", metavar="N",
        help="cap on pose frames per video; longer clips are read at a lower rate",
        description="Cap on pose frames per video (1800: a 2-minute clip at 15 frames/s).")
    max_side: int | None = setting(
        448, kind="limit", metavar="PX|none", help="longer side of decoded frames",
        description="Frames are resized on decode so their longer side is at most this many "
                    "pixels (None: decoded at the source resolution).")
    clip_model: str = setting(
        _CLIP.model_name, kind="text", clip="model_name", metavar="NAME",
        help="open_clip architecture",
        description="open_clip architecture used by the frame localizer.")
    clip_pretrained: str | None = setting(
        _CLIP.pretrained, kind="optional_text", clip="pretrained", metavar="TAG|none",
        help="open_clip pretrained tag; 'none' = random weights (testing only)",
        description="open_clip pretrained tag; None with no checkpoint means random weights "
                    "(tests).")
    clip_checkpoint: str | None = setting(
        _CLIP.checkpoint, kind="text", clip="checkpoint", metavar="FILE", server_owned=True,
        help="local open_clip checkpoint file",
        description="A local open_clip checkpoint file, used instead of the pretrained tag.")
    device: str = setting(
        _CLIP.device, kind="device", clip="device", changes_results=False, server_owned=True,
        help="torch device for CLIP",
        description="Torch device for CLIP: auto picks CUDA (half precision) when present.")
    cache_dir: Path = setting(  # noqa: RUF009 - setting() is a dataclasses.field
        factory=default_cache_dir, kind="path", changes_results=False, metavar="DIR",
        server_owned=True,
        help="embedding/pose/transcript cache",
        description="Embedding/pose/transcript cache; a second run on the same video does no "
                    "embedding or pose work ($VIDDIFF_CACHE_DIR, else ~/.cache/viddiff).")
    max_stages: int = setting(
        5, kind="count", metavar="N", help="most stages the stage transcript may have",
        description="Upper bound on the stages of the transcript.")
    min_retrieval_strings: int = setting(
        3, kind="count", metavar="N",
        help="fewest retrieval strings a stage keeps after refinement",
        description="Fewest retrieval strings a stage may keep after refinement.")
    llm_attempts: int = setting(
        3, kind="count", metavar="N",
        help="replies a node may get from its model before the run fails",
        description="How many replies a node may get from its model before the run fails "
                    "(parse retries).")
    max_concurrency: int = setting(
        8, kind="count", flag="--concurrency", changes_results=False, metavar="N",
        help="model calls in flight at once",
        description="How many differencer calls run at once.")
    deadline_s: float | None = setting(
        None, kind="number", flag="--deadline", metavar="SECONDS", changes_results=False,
        group="endpoint",
        help="stop a comparison that has not finished after this many seconds (exit 3)",
        description="Wall-clock limit of the whole run in seconds (None: none); past it the run "
                    "stops with an EndpointError. Each request is limited separately by the "
                    "endpoint's timeout.")
    frame_spacing_s: float = setting(
        0.35, kind="number", flag="--frame-spacing", metavar="SECONDS",
        help="spacing of the frames shown for motion differences (never under one frame)",
        description="Spacing of the frames shown for motion (gt_1) differences; never under "
                    "one frame.")
    motion_frames: int = setting(
        3, kind="count", metavar="N", help="frames per video shown for a motion difference",
        description="Frames per video shown for a motion (gt_1) difference.")
    image_max_side: int | None = setting(
        384, kind="limit", metavar="PX|none",
        help="longer side of the images sent to the vision model (none = as decoded)",
        description="Frames sent to the vision model are resized so their longer side fits "
                    "this (None: sent at the decoded size, the paper's protocol).")
    image_detail: ImageDetail | None = setting(  # noqa: RUF009 - as above
        None, kind="choice", help="image detail asked of the vision model (none sent unless "
                                  "given)",
        description='The "detail" asked of the vision model per image; None sends none '
                    '(provider default, "auto"). The paper\'s runs sent "high": more tiles, '
                    'more input tokens.')
    answer_labels: Literal["abc", "ab"] = setting(
        "abc", kind="choice", help="differencer answers: abc (c = similar / can't tell) or ab",
        description='The differencer\'s choices: abc lets it say "c" (similar / cannot tell), '
                    'which a user wants; ab forces a or b, as the benchmark scores only a/b '
                    'ground truth (a "c" is always wrong there) and as the paper\'s '
                    'differencer prompt did.')
    proposer_wording: Literal["at_most", "exactly"] = setting(
        "at_most", kind="choice", help="open mode: ask for at most N differences or exactly N",
        description='How the proposer is asked for n_differences: "at most n" (fewer, better '
                    'ones), or "list n" as in the paper\'s prompt (recall@N_diff rewards '
                    'filling the budget).')
    transcript_cache: bool = setting(
        True, kind="switch", help="reuse the stage transcript per action across samples and "
                                  "runs",
        description="Reuse the stage transcript per action (and model) across samples and "
                    "runs. Off: each comparison drafts its own, as the paper did, so one bad "
                    "transcript does not hit every sample of an action and seeds stay "
                    "independent.")
    structured_output: Literal["json_schema", "function_calling", "json_mode"] = setting(
        "json_schema", kind="choice",
        help="how model replies are constrained: provider-enforced JSON schema, tool calls or "
             "JSON mode",
        description="How replies are constrained: provider-enforced JSON schema, tool calls, "
                    "or JSON mode.")
    understand_with: Literal["phrases", "model", "auto"] = setting(
        "phrases", kind="choice", group="endpoint",
        help="offline engine: how free-text differences are mapped to metrics: the phrase "
             "reader, the endpoint's model (the phrase reader when its answer cannot be used), "
             "or auto (the model when an endpoint is configured)",
        description="How the offline engine maps a free-text difference to a catalogue metric: "
                    "phrases = the phrase reader, no model and no network; model = the "
                    "endpoint's model (the linker's), checked against the catalogue, with the "
                    "phrase reader answering whenever its mapping cannot be used; auto = the "
                    "model when an endpoint is configured, else the phrase reader.")
    localizer: Literal["auto", "clip", "pose"] = setting(
        "auto", kind="choice",
        help="stage localizer: CLIP + Viterbi, pose phases + DTW, or auto (CLIP, pose when "
             "CLIP or its weights are unavailable)",
        description="Stage localizer: CLIP + Viterbi (the clip extra), pose phases + DTW (no "
                    "CLIP weights needed), or auto = CLIP, falling back to pose (with a note) "
                    "when CLIP or its weights are unavailable.")
    kinematics: bool = setting(
        True, kind="switch", help="offer pose measurements to the differencer",
        description="Estimate pose (pose extra) and let the differencer call measurement "
                    "tools.")
    min_person_fraction: float = setting(
        0.5, kind="number", metavar="SHARE",
        help="measure only when a person is found in at least this share of frames",
        description="Measurements are offered only when a person is found in at least this "
                    "share of frames.")
    max_tool_calls: int = setting(
        3, kind="count0", metavar="N", help="measurements one differencer call may ask for",
        description="Measurements one differencer call may ask for.")

    def clip_spec(self) -> ClipSpec:
        """The CLIP model these settings ask for (no model is built here): the fields whose
        :class:`Setting` names a ``ClipSpec`` field."""
        return ClipSpec(**{info.clip: getattr(self, name)
                           for name, info in SETTINGS.items() if info.clip})


SETTINGS: dict[str, Setting] = {f.name: f.metadata["setting"]
                                for f in dataclasses.fields(VidDiffContext)}
"""Every run setting by field name, in declaration order."""

OPERATIONAL = frozenset(name for name, info in SETTINGS.items() if not info.changes_results)
"""Settings that change how fast or where a run goes, not what it computes (left out of run
identities, resume fingerprints and result-cache keys)."""


def settings_record(ctx: VidDiffContext) -> dict[str, Any]:
    """Every setting of ``ctx`` as JSON-ready values (paths as text), for run records."""
    return {name: str(value) if isinstance(value, Path) else value
            for name in SETTINGS for value in (getattr(ctx, name),)}


def result_settings(ctx: VidDiffContext) -> dict[str, Any]:
    """The settings a result depends on, JSON-ready: the part of a cache or resume key that
    comes from the run's settings."""
    return {k: v for k, v in settings_record(ctx).items() if k not in OPERATIONAL}


def default_clip_loader(spec: ClipSpec) -> ClipEmbedder:
    """open_clip's model for ``spec`` (imports torch and open_clip on first call). Without
    the ``clip`` extra this is a one-line ConfigError, so ``localizer="auto"`` falls back to
    pose phases with a note and ``localizer="clip"`` stops before any work."""
    require_extra("clip", "the CLIP frame localizer")
    from viddiff.tools.clip.model import load_clip

    return load_clip(spec)

SERVER_OWNED: tuple[str, ...] = tuple(name for name, info in SETTINGS.items()
                                      if info.server_owned)
"""The settings a served graph's clients may not change (see ``Setting.server_owned``)."""


def client_overrides_of_server_settings(ctx: VidDiffContext,
                                        server: VidDiffContext | None = None) -> list[str]:
    """The server-owned fields ``ctx`` sets to something other than the server's own value
    (``server``, default: the server's defaults, ``VIDDIFF_CACHE_DIR`` included). Compared as
    text, since a client sends ``cache_dir`` as a string."""
    server = VidDiffContext() if server is None else server
    return [name for name in SERVER_OWNED
            if str(getattr(ctx, name)) != str(getattr(server, name))]
