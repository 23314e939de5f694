"""Which frames of A and B each difference is judged on; one differencer task per difference.

Frames come from the linked stages' segments (:func:`viddiff.tools.frame_select.
frames_for_difference`): one frame for a static difference, a few spaced frames for motion.
The node fans out one ``Send`` per difference to the differencer its factory names, so the
differencer calls run concurrently.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.events import emit
from viddiff.graphs.frames import frame_refs, sampling_fps
from viddiff.graphs.state import DifferenceTask, VidDiffState
from viddiff.graphs.wiring import Exits
from viddiff.tools.frame_select import frames_for_difference


def make_select_frames_node(exits: Exits):
    """The ``select_frames`` join: one task per difference, sent to ``exits.then`` (the
    differencer); with no differences, straight on to ``exits.skip_to`` (the result)."""
    differencer = exits.one_successor()

    def select_frames(state: VidDiffState, runtime: Runtime[VidDiffContext]) -> Command[Any]:
        """One differencer task per difference, with the frames of both videos it should look
        at."""
        if state.get("error") or state.get("segments") is None or state.get("links") is None:
            return Command(goto=END)
        ctx = runtime.context
        videos = state["videos"]
        sends = []
        for diff in state.get("candidates") or []:
            linked = state["links"].get(diff.name, [])
            picked = {}
            for key in ("a", "b"):
                ref = videos[key]
                idx = frames_for_difference(state["segments"][key], linked, diff.num_frames,
                                            fps=sampling_fps(ref), n_frames=ref.n_sampled,
                                            spacing_s=ctx.frame_spacing_s,
                                            count=ctx.motion_frames)
                picked[key] = frame_refs(ref, idx)
            task = DifferenceTask(action=state["action"], difference=diff, stages=linked,
                                  video_a=videos["a"], video_b=videos["b"],
                                  frames_a=picked["a"], frames_b=picked["b"], feedback=None,
                                  kinematics=bool(state.get("pose_ready")),
                                  segments_a=state["segments"]["a"],
                                  segments_b=state["segments"]["b"], measurements=[])
            sends.append(Send(differencer, task))
        emit(runtime, "differences", total=len(sends))
        return Command(goto=sends or exits.skip_to)

    return select_frames
