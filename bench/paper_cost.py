"""Estimate what reproducing the paper's tables costs per split, from the built-in prices.

Nothing here calls a model. The estimate multiplies call counts and token counts per sample by
the prices in ``viddiff.evals.cost`` (gpt-4o-2024-08-06 at the ``gpt-4o`` list price), with:

- rows, labelled differences and a/b-labelled differences per split from the paper's Table 8
  (pairs 95/265/197; annotations 578/1771/2370, of which a+b 357/1227/887), average video
  length 2.1/3.9/18.7 s;
- the share of motion (``gt_1``, three frames per video) differences per split from the
  taxonomy shipped in ``tools/data`` (the rest show one frame per video);
- image tokens by OpenAI's published rule for ``detail: "high"`` (fit in 2048x2048, shortest
  side at most 768, 170 tokens per 512-px tile + 85) at an assumed source size per domain
  (HuMMan, Ego-Exo4D, FineDiving 1920x1080; JIGSAWS 640x480), and for viddiff's own protocol
  384-px images (one tile, 255 tokens);
- text tokens per call set by reading the prompts (rounded, listed in ``TEXT`` below).

Run ``python bench/paper_cost.py`` to print the table used in docs/protocols.md. It is an order of
magnitude guide: the real figures are in each run's ``summary.json`` (usage and cost).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from viddiff.evals.cost import estimate
from viddiff.evals.protocols import DOMAIN_FPS, PAPER_METHOD_FPS
from viddiff.graphs.schemas import UsageSummary
from viddiff.tools.taxonomy import load_actions, load_differences

MODEL = "gpt-4o-2024-08-06"


@dataclass(frozen=True)
class Split:
    rows: int
    labelled: int  # annotated a, b or c
    scored: int  # a or b
    seconds: float  # average video length
    domains: dict[str, float]  # share of rows per domain (paper Table 1 / actions)


SPLITS = {
    "easy": Split(95, 578, 357, 2.1, {"fitness": 1.0}),
    "medium": Split(265, 1771, 1227, 3.9, {"fitness": 0.39, "ballsports": 0.37,
                                           "diving": 0.24}),
    "hard": Split(197, 2370, 887, 18.7, {"surgery": 0.85, "music": 0.15}),
}
SOURCE_SIZE = {"fitness": (1920, 1080), "ballsports": (1920, 1080), "diving": (1920, 1080),
               "music": (1920, 1080), "surgery": (640, 480)}
TEXT = {  # (input, output) text tokens per call
    "stages": (450, 600), "refine": (900, 450), "link": (700, 200), "propose": (450, 90),
    "differencer": (350, 90), "lmm_closed": (500, 150), "lmm_open": (450, 70),
    "match": (1200, 250), "flip": (700, 120),
}


def high_detail_tokens(width: int, height: int) -> int:
    """OpenAI's tile rule for one image sent with ``detail: "high"``."""
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def motion_share(split: str) -> float:
    actions = {k for k, a in load_actions().items() if a.split == split}
    diffs = [d for d in load_differences() if d.action in actions]
    return sum(d.num_frames == "gt_1" for d in diffs) / len(diffs)


def image_tokens(split: Split, protocol: str) -> float:
    if protocol == "viddiff":
        return 255.0
    return sum(share * high_detail_tokens(*SOURCE_SIZE[d]) for d, share in split.domains.items())


def per_sample_usage(name: str, method: str, mode: str, protocol: str) -> list[UsageSummary]:
    split = SPLITS[name]
    img = image_tokens(split, protocol)
    calls: list[tuple[str, int, float, float]] = []  # role, calls, input, output per call
    if method == "viddiff":
        n_diff = math.ceil(1.5 * split.labelled / split.rows)
        n_answers = split.scored / split.rows if mode == "closed" else n_diff
        images = 2 * (1 + 2 * motion_share(name))  # A and B: 1 or 3 frames each
        if protocol == "paper":  # a transcript per sample (viddiff: per action, cached)
            calls += [("stages", 1, *TEXT["stages"]), ("refine", 1, *TEXT["refine"])]
        calls.append(("link", 1, *TEXT["link"]))
        if mode == "open":
            calls.append(("propose", 1, TEXT["propose"][0], TEXT["propose"][1] * n_diff))
        calls.append(("differencer", round(n_answers),
                      TEXT["differencer"][0] + images * img, TEXT["differencer"][1]))
    else:
        table = DOMAIN_FPS
        frames = 2 * sum(share * split.seconds * table[d] for d, share in split.domains.items())
        key = "lmm_closed" if mode == "closed" else "lmm_open"
        out = TEXT[key][1] * (split.scored / split.rows if mode == "closed" else
                              math.ceil(1.5 * split.labelled / split.rows))
        calls.append((key, 1, TEXT[key][0] + frames * (img + 20), out))
    if mode == "open":  # the judge: one matching and one flip-check call per sample
        calls += [("match", 1, *TEXT["match"]), ("flip", 1, *TEXT["flip"])]
    return [UsageSummary(role=r, model=MODEL, calls=n, input_tokens=round(n * i),
                         output_tokens=round(n * o)) for r, n, i, o in calls]


def split_cost(name: str, method: str, mode: str, protocol: str) -> float:
    _, per_sample = estimate(per_sample_usage(name, method, mode, protocol))
    assert per_sample is not None
    return per_sample * SPLITS[name].rows


def main() -> None:
    print(f"fps: viddiff method (paper) {PAPER_METHOD_FPS}; lmm {DOMAIN_FPS}")
    print("| method | mode | protocol | easy | medium | hard | all |")
    print("|---|---|---|---|---|---|---|")
    for method, mode, protocol in (("viddiff", "closed", "paper"), ("viddiff", "open", "paper"),
                                   ("lmm", "closed", "paper"), ("lmm", "open", "paper"),
                                   ("viddiff", "closed", "viddiff")):
        costs = [split_cost(s, method, mode, protocol) for s in SPLITS]
        cells = " | ".join(f"${c:,.0f}" for c in costs)
        print(f"| {method} | {mode} | {protocol} | {cells} | ${sum(costs):,.0f} |")


if __name__ == "__main__":
    main()
