"""Images and tokens the VLM differencer sends per comparison.

Runs the VidDiff graph on the real clips (cam01 vs cam02) against the local OpenAI-compatible
server (no latency), with the model calling the ``measure`` tool for every difference, and
counts what went over the wire: images per request, images per difference, distinct images,
JPEG encodes, and approximate input tokens (text characters / 4, plus OpenAI's image price:
85 tokens at detail "low", 85 + 170 per 512-px tile otherwise; 255 for our 384-px frames).

The reference method shows 1 frame per video for a single-frame difference and 3 for a
multi-frame one (2 and 6 images); the scripted model asks for one measurement per
difference, whose evidence frames (one per video) the verdict shows after the difference's own.
Run: ``python -m bench.bench_images`` (writes its section of bench/RESULTS.md; ``--label before``
and ``--no-write`` to compare against another checkout).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_e2e import script
from bench.results import machine_line, update_section
from tests.support.fake_openai import FakeOpenAIServer
from tests.support.videos import CLIPS_DIR
from viddiff.graphs.context import VidDiffContext
from viddiff.graphs.frames import clear_memos
from viddiff.graphs.models import EndpointSettings, build_models
from viddiff.graphs.runner import run_comparison
from viddiff.graphs.viddiff import build_viddiff_graph
from viddiff.tools import images as images_mod


def image_tokens(url: dict[str, Any]) -> int:
    """OpenAI's price of one image part (the frames are ≤ 512 px: one tile)."""
    if url.get("detail") == "low":
        return 85
    return 85 + 170 * math.ceil(384 / 512) ** 2


async def one_run(a: Path, b: Path, n: int, cache: Path) -> dict[str, Any]:
    clear_memos()  # and the encoded frames: each run counts its own encodes
    encodes = 0
    original = images_mod.to_data_url

    def counting(frame: Any, max_side: int | None) -> str:
        nonlocal encodes
        encodes += 1
        return original(frame, max_side)

    images_mod.to_data_url = counting  # image_part looks it up at call time
    try:
        with FakeOpenAIServer(script(n)) as srv:
            settings = EndpointSettings(base_url=srv.base_url, api_key="bench",
                                        models=dict.fromkeys(
                                            ("proposer", "stages", "linker", "differencer"),
                                            "m"))
            graph = build_viddiff_graph(build_models(settings)).compile()
            ctx = VidDiffContext(fps=8, clip_pretrained=None, cache_dir=cache,
                                 max_concurrency=16)
            request = {"video_a": str(a), "video_b": str(b), "action": "a lunge",
                       "n_differences": n}
            result = await run_comparison(graph, request, ctx)
            requests = list(srv.requests)
    finally:
        images_mod.to_data_url = original
    per_request = []
    distinct: set[str] = set()
    tokens = 0
    for req in requests:
        parts = [p for m in req.messages if isinstance(m.get("content"), list)
                 for p in m["content"] if isinstance(p, dict)]
        imgs = [p["image_url"] for p in parts if p.get("type") == "image_url"]
        text = json.dumps([m for m in req.messages], default=str)
        text_chars = len(text) - sum(len(u["url"]) for u in imgs)
        tokens += text_chars // 4 + sum(image_tokens(u) for u in imgs)
        distinct.update(hashlib.sha256(u["url"].encode()).hexdigest() for u in imgs)
        if imgs:
            per_request.append(len(imgs))
    shown = sum(len(d.frames_a) + len(d.frames_b) for d in result.differences)
    single = sum(1 for d in result.differences if d.num_frames == "1")
    reference = 2 * single + 6 * (len(result.differences) - single)
    return {"requests": len(requests), "with_images": len(per_request),
            "images": sum(per_request), "distinct": len(distinct), "encodes": encodes,
            "tokens": tokens, "answered": len(result.differences), "reference": reference,
            "shown": shown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    a = CLIPS_DIR / "Demo_SinglePerson_cam01.mp4"
    b = CLIPS_DIR / "Demo_SinglePerson_cam02.mp4"
    rows = []
    for n in (8, 16):
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(one_run(a, b, n, Path(tmp)))
        rows.append((n, r))
        print(args.label, n, json.dumps(r))
    table = ("| differences | requests (with images) | images sent | reference method's images "
             "| frames recorded in the result | distinct images | JPEG encodes "
             "| approx. input tokens |\n|---|---|---|---|---|---|---|---|\n")
    table += "\n".join(
        f"| {n} | {r['requests']} ({r['with_images']}) | {r['images']} | {r['reference']} "
        f"| {r['shown']} | {r['distinct']} | {r['encodes']} | {r['tokens']} |" for n, r in rows)
    print(table)
    if not args.no_write:
        update_section(f"Differencer images ({args.label}, bench/bench_images.py)",
                       f"{machine_line()}. Command: `python -m bench.bench_images`.\n\n{table}")


if __name__ == "__main__":
    main()
