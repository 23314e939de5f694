"""Run settings for the VidDiff graphs, read by nodes through ``runtime.context``.

Everything that tunes a run lives in this one dataclass, so a caller (command line, host
agent, eval runner, ``langgraph dev``) sets it in one place. Models are *not* here: they are
injected into the graph factories, so nodes never construct a client themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

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


@dataclass(kw_only=True)
class VidDiffContext:
    """Settings of one comparison run."""

    fps: float = 6.0
    """Frames per second sampled from each video (by timestamp, any source fps)."""

    max_frames: int | None = 96
    """Cap on sampled frames per video; long videos are sampled uniformly below it.
    ``None``: no cap (the paper's protocol; a long video at a high rate costs more)."""

    pose_fps: float = 30.0
    """Frames per second the pose measurements read (their own sampling, denser than the
    frames shown to a vision model): the source rate up to this."""

    pose_max_frames: int = 1800
    """Cap on pose frames per video (1800: a 2-minute clip at 15 frames/s)."""

    max_side: int | None = 448
    """Frames are resized on decode so their longer side is at most this many pixels
    (``None``: decoded at the source resolution)."""

    clip_model: str = "ViT-B-32"
    """open_clip architecture used by the frame localizer."""

    clip_pretrained: str | None = "laion2b_s34b_b79k"
    """open_clip pretrained tag; ``None`` with no checkpoint means random weights (tests)."""

    clip_checkpoint: str | None = None
    """A local open_clip checkpoint file, used instead of the pretrained tag."""

    device: str = "auto"
    """Torch device for CLIP: ``auto`` picks CUDA (half precision) when present."""

    cache_dir: Path = field(default_factory=default_cache_dir)
    """Embedding/pose cache; a second run on the same video does no embedding work."""

    max_stages: int = 5
    """Upper bound on the stages of the transcript."""

    min_retrieval_strings: int = 3
    """Fewest retrieval strings a stage may keep after refinement."""

    llm_attempts: int = 3
    """How many replies a node may get from its model before the run fails (parse retries)."""

    max_concurrency: int = 8
    """How many differencer calls run at once."""

    deadline_s: float | None = None
    """Wall-clock limit of the whole run in seconds (``None``: none); past it the run stops
    with an ``EndpointError``. Each request is limited separately by the endpoint's timeout."""

    frame_spacing_s: float = 0.35
    """Spacing of the frames shown for motion (``gt_1``) differences; never under one frame."""

    motion_frames: int = 3
    """Frames per video shown for a motion (``gt_1``) difference."""

    image_max_side: int | None = 384
    """Frames sent to the vision model are resized so their longer side fits this
    (``None``: sent at the decoded size, the paper's protocol)."""

    image_detail: ImageDetail | None = None
    """The ``detail`` asked of the vision model per image; ``None`` sends none (provider
    default, "auto"). The paper's runs sent "high": more tiles, more input tokens."""

    answer_labels: Literal["abc", "ab"] = "abc"
    """The differencer's choices: ``abc`` lets it say "c" (similar / cannot tell), which a user
    wants; ``ab`` forces a or b, as the benchmark scores only a/b ground truth (a "c" is always
    wrong there) and as the paper's differencer prompt did."""

    proposer_wording: Literal["at_most", "exactly"] = "at_most"
    """How the proposer is asked for ``n_differences``: "at most n" (fewer, better ones), or
    "list n" as in the paper's prompt (recall@N_diff rewards filling the budget)."""

    transcript_cache: bool = True
    """Reuse the stage transcript per action (and model) across samples and runs. Off: each
    comparison drafts its own, as the paper did, so one bad transcript does not hit every
    sample of an action and seeds stay independent."""

    structured_output: Literal["json_schema", "function_calling", "json_mode"] = "json_schema"
    """How replies are constrained: provider-enforced JSON schema, tool calls, or JSON mode."""

    localizer: Literal["auto", "clip", "pose"] = "auto"
    """Stage localizer: CLIP + Viterbi, pose phases + DTW (no CLIP weights needed), or
    ``auto`` = CLIP, falling back to pose (with a note) when CLIP weights are unavailable."""

    kinematics: bool = True
    """Estimate pose (``pose`` extra) and let the differencer call measurement tools."""

    min_person_fraction: float = 0.5
    """Measurements are offered only when a person is found in at least this share of frames."""

    max_tool_calls: int = 3
    """Measurements one differencer call may ask for."""

    def clip_spec(self) -> ClipSpec:
        """The CLIP model these settings ask for (no model is built here)."""
        return ClipSpec(model_name=self.clip_model, pretrained=self.clip_pretrained,
                        checkpoint=self.clip_checkpoint, device=self.device)


OPERATIONAL = frozenset({"cache_dir", "device", "max_concurrency", "deadline_s"})
"""Settings that change how fast or where a run goes, not what it computes (left out of run
identities, resume fingerprints and result-cache keys)."""


def default_clip_loader(spec: ClipSpec) -> ClipEmbedder:
    """open_clip's model for ``spec`` (imports torch and open_clip on first call). Without
    the ``clip`` extra this is a one-line ConfigError, so ``localizer="auto"`` falls back to
    pose phases with a note and ``localizer="clip"`` stops before any work."""
    require_extra("clip", "the CLIP frame localizer")
    from viddiff.tools.clip.model import load_clip

    return load_clip(spec)
