"""The names of the graphs' nodes: the one place they are spelled.

The graph factories (``graphs/viddiff.py``, ``graphs/offline.py``, ``graphs/eval/graph.py``)
use these names to add nodes and to tell each node where it hands over. Node modules do not
import this module: a node knows its own name and its successors only because its factory
passed them in (:class:`viddiff.graphs.wiring.Exits`), so inserting a node changes the factory,
not the nodes around it. The names are part of the public contract (the drawn graph in
``tests/snapshots/``, the ``node`` progress events), so they do not change lightly.
"""

from __future__ import annotations

# both comparison graphs (VLM and offline)
LOAD_VIDEOS = "load_videos"
PREPARE_DIFFERENCES = "prepare_differences"
ESTIMATE_POSE = "estimate_pose"
FINISH = "finish"

# the VLM graph
PROPOSE = "propose"
REVIEW = "review"
STAGE_TRANSCRIPT = "stage_transcript"
REFINE_STAGES = "refine_stages"
EMBED_FRAMES = "embed_frames"
LOCALIZE = "localize"
LINK = "link"
SELECT_FRAMES = "select_frames"
DIFFERENCE = "difference"

# the offline graph
LOCALIZE_PHASES = "localize_phases"
MEASURE_DIFFERENCES = "measure_differences"

# the evaluation graph
MATCH = "match"
FLIP = "flip"
SCORE = "score"
