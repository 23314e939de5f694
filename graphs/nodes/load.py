"""Load both videos: validate the request, plan the sampled frames, keep only references.

Nothing is decoded here: the offline engine never needs the vision model's frames, and the
VLM engine decodes them where it uses them (CLIP on a cache miss, the frames it shows).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.frames import planned_ref, sampled
from viddiff.graphs.schemas import DifferenceSpec, difference_spec
from viddiff.graphs.state import VidDiffState
from viddiff.tools.errors import ConfigError, VideoError

MIN_SAMPLED_FRAMES = 2


def request_mode(state: VidDiffState) -> str:
    """``closed`` when differences are given, ``open`` when a budget is; else a clear error."""
    if not str(state.get("action") or "").strip():
        raise ConfigError("no action description given: say what the videos show, "
                          "e.g. --action 'a bodyweight squat'")
    diffs = state.get("differences") or []
    n_open = state.get("n_differences")
    if diffs and n_open:
        raise ConfigError("give either differences to check (closed mode) or a number of "
                          "differences to propose (open mode), not both")
    if diffs:
        return "closed"
    if n_open is None or int(n_open) < 1:
        raise ConfigError("nothing to compare: give at least one difference (closed mode) "
                          "or a number of differences to propose (open mode, >= 1)")
    return "open"


def parse_specs(raw: list[Any]) -> list[DifferenceSpec]:
    """The request's differences (texts, dicts or specs) as specs."""
    return [difference_spec(item) for item in raw]


def load_videos(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> dict[str, Any]:
    """Plan A and B at the run's fps (no decoding); fail early with a one-line message on
    bad input."""
    ctx = runtime.context
    mode = request_mode(state)
    emit(runtime, "node", node="load_videos", status="start")
    refs = {}
    for key in ("a", "b"):
        path = state[f"video_{key}"]  # type: ignore[literal-required]
        ref = planned_ref(path, ctx)  # no decoding: frames are decoded where needed
        if ref.n_sampled < MIN_SAMPLED_FRAMES:
            raise VideoError(f"{path}: video too short ({ref.n_sampled} frame at "
                             f"{ctx.fps:g} fps; at least {MIN_SAMPLED_FRAMES} are needed)")
        refs[key] = ref
    notes = []
    fa, fb = refs["a"].source_fps, refs["b"].source_fps
    if abs(fa - fb) > 0.01 * max(fa, fb):
        notes.append(f"videos have different frame rates (A {fa:g} fps, B {fb:g} fps); both "
                     f"were sampled by timestamp at {ctx.fps:g} fps so times are comparable")
    for key, ref in refs.items():
        if ref.n_sampled < ctx.max_stages:
            notes.append(f"video {key.upper()} has only {ref.n_sampled} sampled frames, fewer "
                         f"than the {ctx.max_stages} possible stages; some stages may get none")
    update: dict[str, Any] = {"mode": mode, "videos": refs, "notes": notes}
    if mode == "closed":
        update["differences"] = parse_specs(list(state.get("differences") or []))
    emit(runtime, "node", node="load_videos", status="end",
         frames={k: r.n_sampled for k, r in refs.items()})
    return update


__all__ = ["load_videos", "parse_specs", "request_mode", "sampled"]
