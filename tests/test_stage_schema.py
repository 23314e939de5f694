"""Stage-transcript rules travel in the JSON schema sent, so a server that follows the schema
exactly (vLLM guided decoding, OpenAI structured outputs) produces replies that pass.

Through the real langchain-openai client against the local server, which records what went
over the wire.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from tests.support.fake_openai import FakeOpenAIServer, RecordedRequest, Reply, RouteBySchema
from tests.support.scripts import standard_script
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.models import ROLES, EndpointSettings, build_models
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.viddiff import build_viddiff_graph


def run(base_url: str, embedder: Any, pair: tuple[Path, Path], cache: Path) -> Any:
    settings = EndpointSettings(base_url=base_url, api_key="test",
                                models=dict.fromkeys(ROLES, "m"), timeout_s=20)
    graph = build_viddiff_graph(build_models(settings),
                                clip_loader=lambda spec: embedder).compile()
    request = {"video_a": str(pair[0]), "video_b": str(pair[1]), "action": "a squat",
               "differences": [{"description": "the squat is deeper"}]}
    ctx = VidDiffContext(fps=6, cache_dir=cache, kinematics=False)
    return asyncio.run(run_comparison(graph, request, ctx))


def routes() -> RouteBySchema:
    return RouteBySchema({name: Reply.json(reply) for name, reply in standard_script().items()})


def array(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    node = schema
    for key in path:
        node = node[key]
    return node


def test_proposer_schema_bounds_the_number_of_differences(synthetic_pair, fake_embedder,
                                                          tmp_path):
    with FakeOpenAIServer(routes()) as srv:
        settings = EndpointSettings(base_url=srv.base_url, api_key="test",
                                    models=dict.fromkeys(ROLES, "m"), timeout_s=20)
        graph = build_viddiff_graph(build_models(settings),
                                    clip_loader=lambda spec: fake_embedder).compile()
        request = {"video_a": str(synthetic_pair[0]), "video_b": str(synthetic_pair[1]),
                   "action": "a squat", "n_differences": 4}
        asyncio.run(run_comparison(graph, request, VidDiffContext(
            fps=6, cache_dir=tmp_path, kinematics=False)))
        sent = next(r for r in srv.requests if r.schema_name == "ProposedDifferences")
    assert sent.json_schema is not None
    diffs = array(sent.json_schema, "properties", "differences")
    assert (diffs["minItems"], diffs["maxItems"]) == (1, 4)


def test_limits_are_in_the_schema_sent(synthetic_pair, fake_embedder, tmp_path):
    with FakeOpenAIServer(routes()) as srv:
        run(srv.base_url, fake_embedder, synthetic_pair, tmp_path)
        sent = {r.schema_name: r for r in srv.requests}
    transcript = sent["StageTranscript"].json_schema
    assert transcript is not None
    stages = array(transcript, "properties", "stages")
    assert (stages["minItems"], stages["maxItems"]) == (1, 5)
    strings = array(transcript, "$defs", "StageDraft", "properties", "retrieval_strings")
    assert strings["minItems"] == 3 and "maxItems" not in strings
    refined = sent["RefinedStages"].json_schema
    assert refined is not None
    assert array(refined, "properties", "stages")["maxItems"] == len(
        standard_script()["StageTranscript"]["stages"])
    assert array(refined, "$defs", "RefinedStage", "properties",
                 "retrieval_strings")["minItems"] == 3
    # what OpenAI's strict mode would refuse is not sent: no strict flag, so the bounds are
    # the only constraints a server adds, and every keyword used is one it supports
    rf = sent["StageTranscript"].response_format or {}
    assert rf.get("json_schema", {}).get("strict") in (None, False)
    assert "uniqueItems" not in str(transcript)


class SchemaFollower:
    """Answers every structured request with the longest reply its schema allows (7 items
    when unbounded), the fewest strings it allows (1 when unbounded), and repeated stage
    names, which JSON schema cannot forbid; the other replies are the standard script."""

    def __init__(self) -> None:
        self.script = routes()
        self.seen: list[RecordedRequest] = []
        self.lock = threading.Lock()

    def __call__(self, req: RecordedRequest) -> Reply:
        with self.lock:
            self.seen.append(req)
        schema = req.json_schema or {}
        if req.schema_name not in ("StageTranscript", "RefinedStages"):
            return self.script(req)
        stages = schema["properties"]["stages"]
        item = "StageDraft" if req.schema_name == "StageTranscript" else "RefinedStage"
        strings = schema["$defs"][item]["properties"]["retrieval_strings"]
        n_stages = stages.get("maxItems", 7)
        n_strings = strings.get("minItems", 1)
        reply = [{"name": "phase" if i < 2 else f"phase {i + 1}x", "description": f"part {i}",
                  "retrieval_strings": [f"A person in pose {i}-{j}" for j in range(n_strings)]}
                 for i in range(n_stages)]
        if req.schema_name == "RefinedStages":
            reply = [{"name": s["name"], "retrieval_strings": s["retrieval_strings"]}
                     for s in reply]
        return Reply.json({"stages": reply})


def test_a_schema_following_server_gets_through(synthetic_pair, fake_embedder, tmp_path):
    follower = SchemaFollower()
    with FakeOpenAIServer(follower) as srv:
        result = run(srv.base_url, fake_embedder, synthetic_pair, tmp_path)
        srv.assert_no_errors()
    transcript_calls = [r for r in follower.seen if r.schema_name == "StageTranscript"]
    assert len(transcript_calls) == 1  # no retry: the first reply was usable
    names = [s.name for s in result.stages]
    assert len(names) == 5 and len(set(n.lower() for n in names)) == 5
    assert names[:2] == ["phase", "phase 2"]
    assert any("renamed the repeated stage 'phase'" in n for n in result.notes)
    assert [d.status for d in result.differences] == ["answered"]
