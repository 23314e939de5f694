"""How fast a run fails when the endpoint is gone, and how often it finishes under faults.

Three measurements, each with the code under test chosen by ``PYTHONPATH`` (so the same script
measures an older checkout: ``--before DIR`` runs the figures against ``DIR/.mypy-src``):

1. **unreachable**: ``viddiff compare`` (a real subprocess, real clips, CLIP with random
   weights embedding in parallel) against a closed port on 127.0.0.1; seconds to exit 3.
2. **hung**: the same against a socket that accepts connections and never answers.
3. **faults**: 20 seeded runs (closed mode, 3 differences) through the real langchain-openai
   client against the local server of ``tests/support/fake_openai.py``, answering like a
   server that follows the JSON schema it is sent exactly (vLLM guided decoding, OpenAI
   strict mode: lengths anywhere the schema allows), with 25 % of replies malformed JSON and
   10 % HTTP 429; the share of runs that end with a result.

Run: ``python -m bench.bench_failfast`` from the repo root (writes bench/RESULTS.md);
``--before DIR`` adds the figures of the checkout in DIR (a ``git archive`` of main).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLIPS = Path(os.environ.get("VIDDIFF_CLIPS", REPO.parent / "shared" / "data" / "clips"))
WORDS = ("stand", "crouch", "reach", "lift", "drop", "hold", "turn", "push", "rise", "rest")


# --------------------------------------------------------------------------- endpoints


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def hung_endpoint() -> Iterator[int]:
    """A listening socket that accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(1)
        for conn in held:
            conn.close()
        server.close()


def code_env(root: Path) -> tuple[dict[str, str], str]:
    """Environment and working folder that make ``python`` import the checkout in ``root``
    (its ``.mypy-src`` maps ``viddiff.*`` onto the top-level folders, as the install does);
    the working folder is empty, so nothing else named ``viddiff`` comes first."""
    cwd = Path(tempfile.gettempdir()) / "viddiff-bench-cwd"
    cwd.mkdir(exist_ok=True)
    return ({**os.environ, "PYTHONPATH": f"{root / '.mypy-src'}{os.pathsep}{root}"},
            str(cwd))


def time_to_exit(root: Path, port: int, cap_s: float,
                 extra: list[str]) -> tuple[float, int | None, str]:
    """Seconds until ``viddiff compare`` exits against ``port``; (cap, None, '') if killed."""
    a, b = CLIPS / "Demo_SinglePerson_cam01.mp4", CLIPS / "Demo_SinglePerson_cam02.mp4"
    base, cwd = code_env(root)
    with tempfile.TemporaryDirectory() as cache:
        env = {**base, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
               "OPENAI_API_KEY": "bench", "VIDDIFF_CACHE_DIR": cache}
        env.pop("VIDDIFF_TIMEOUT", None)
        cmd = [sys.executable, "-m", "viddiff.agent.cli.main", "compare", str(a), str(b),
               "--action", "a squat",
               "-d", "the squat is deeper", "--clip-pretrained", "none", "--quiet", *extra]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            _, err = proc.communicate(timeout=cap_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return cap_s, None, ""
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        return time.perf_counter() - t0, proc.returncode, lines[-1] if lines else ""


# --------------------------------------------------------------------------- fault runs


def fake_instance(schema: dict[str, Any], rng: random.Random,
                  defs: dict[str, Any] | None = None) -> Any:
    """A random value that fits ``schema`` as a schema-following server would produce it:
    array lengths anywhere in [minItems, maxItems] (1..7 when unbounded), enums at random,
    strings from a small vocabulary (so names repeat now and then)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return fake_instance(defs[schema["$ref"].rsplit("/", 1)[-1]], rng, defs)
    if "anyOf" in schema:
        return fake_instance(rng.choice(schema["anyOf"]), rng, defs)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return {k: fake_instance(v, rng, defs) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", max(low, 7)))
        return [fake_instance(schema.get("items", {}), rng, defs)
                for _ in range(rng.randint(low, high))]
    if kind == "integer":
        return rng.randint(0, 5)
    if kind == "number":
        return rng.random()
    if kind == "boolean":
        return rng.random() < 0.5
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2)))


class SchemaFollower:
    """Responder: 25 % malformed JSON, 10 % 429, else a random reply that fits the schema."""

    def __init__(self, seed: int, malformed: float = 0.25, limited: float = 0.10) -> None:
        self.rng = random.Random(seed)
        self.malformed, self.limited = malformed, limited
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "malformed": 0, "429": 0}

    def __call__(self, req: Any) -> Any:
        from tests.support.fake_openai import Reply

        with self.lock:
            self.counts["requests"] += 1
            roll = self.rng.random()
            if roll < self.limited:
                self.counts["429"] += 1
                return Reply.rate_limited(0.05)
            if roll < self.limited + self.malformed:
                self.counts["malformed"] += 1
                return Reply.malformed()
            schema = req.json_schema
            if schema is None:
                return Reply.text("No measurement needed.")
            return Reply.json(fake_instance(schema, self.rng))


async def fault_run(seed: int, video_a: str, video_b: str, cache: Path) -> dict[str, Any]:
    from tests.support.fake_openai import FakeOpenAIServer
    from viddiff.graphs.context import VidDiffContext
    from viddiff.graphs.models import ROLES, EndpointSettings, build_models
    from viddiff.graphs.runner import run_comparison
    from viddiff.graphs.viddiff import build_viddiff_graph
    from viddiff.tools.errors import VidDiffError

    responder = SchemaFollower(seed)
    with FakeOpenAIServer(responder) as srv:
        settings = EndpointSettings(base_url=srv.base_url, api_key="bench",
                                    models=dict.fromkeys(ROLES, "m"))
        graph = build_viddiff_graph(build_models(settings)).compile()
        ctx = VidDiffContext(fps=4, clip_pretrained=None, cache_dir=cache / str(seed),
                             localizer="pose", kinematics=False)
        request = {"video_a": video_a, "video_b": video_b, "action": f"a squat {seed}",
                   "differences": [{"description": d} for d in
                                   ("the squat is deeper", "the back is straighter",
                                    "the descent is faster")]}
        t0 = time.perf_counter()
        try:
            result = await run_comparison(graph, request, ctx)
            outcome, detail = "result", sum(d.status == "failed" for d in result.differences)
        except VidDiffError as exc:
            outcome, detail = "error", str(exc)
        return {"seed": seed, "outcome": outcome, "detail": detail,
                "wall_s": round(time.perf_counter() - t0, 2), **responder.counts}


def fault_runs(seeds: int) -> dict[str, Any]:
    """All seeds, one after another; prints one JSON line (read by the parent process)."""
    a, b = CLIPS / "Demo_SinglePerson_cam01.mp4", CLIPS / "Demo_SinglePerson_cam03.mp4"
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(seeds):
            runs.append(asyncio.run(fault_run(seed, str(a), str(b), Path(tmp))))
    return {"runs": runs}


# --------------------------------------------------------------------------- driver


def measure(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The figures of the checkout in ``root`` (each part in a fresh process)."""
    out: dict[str, Any] = {}
    extra = ["--timeout", str(args.timeout)] if args.timeout and not args.old_cli else []
    out["unreachable"] = time_to_exit(root, closed_port(), args.cap, [])
    with hung_endpoint() as port:
        out["hung"] = time_to_exit(root, port, args.cap, [])
        if extra:
            out["hung_timeout"] = time_to_exit(root, port, args.cap, extra)
    env, cwd = code_env(root)
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--faults-only",
                           "--seeds", str(args.seeds)], cwd=cwd, capture_output=True,
                          text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise SystemExit(f"fault runs failed:\n{proc.stderr[-3000:]}")
    out["faults"] = json.loads(lines[-1])["runs"]
    return out


def exit_cell(row: tuple[float, int | None, str], cap: float) -> str:
    seconds, code, line = row
    if code is None:
        return f"still running at {cap:.0f} s (killed)"
    return f"**{seconds:.1f} s**, exit {code}: `{line.replace('|', '/')[:150]}`"


def fault_cell(runs: list[dict[str, Any]]) -> str:
    done = sum(r["outcome"] == "result" for r in runs)
    failed_diffs = sum(r["detail"] for r in runs if r["outcome"] == "result")
    requests = sum(r["requests"] for r in runs)
    return (f"**{done}/{len(runs)}** runs with a result ({failed_diffs} difference(s) marked "
            f"failed in them; {requests} requests, "
            f"{sum(r['malformed'] for r in runs)} malformed, {sum(r['429'] for r in runs)} "
            f"429)")


def failure_summary(runs: list[dict[str, Any]]) -> str:
    """Where the runs without a result stopped: node and the kind of error, counted."""
    from collections import Counter

    kinds: Counter[str] = Counter()
    for run in runs:
        if run["outcome"] == "result":
            continue
        node = str(run["detail"]).split(":", 1)[0]
        text = str(run["detail"])
        rule = any(w in text for w in ("fewer than", "stages given", "unique"))
        if "(last: " in text:  # that version reported only the last attempt's error
            kind = ("a rule the schema did not state, last attempt" if rule else
                    "malformed last reply (earlier attempts' errors not reported)")
        elif rule:
            kind = "a rule the schema did not state"
        elif "attempts 1-3: the reply is not valid JSON" in text:
            kind = "3 malformed replies in a row"
        else:
            kind = "mixed errors"
        kinds[f"{node}, {kind}"] += 1
    return "; ".join(f"{n}× {k}" for k, n in kinds.most_common()) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="also measure the checkout in DIR (e.g. a git archive of main)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cap", type=float, default=200.0,
                        help="kill a run still going after this many seconds")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="also time the hung endpoint with --timeout this (after only)")
    parser.add_argument("--faults-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--old-cli", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.faults_only:  # run as a script: this file's folder is not the code's
        print(json.dumps(fault_runs(args.seeds)))
        return
    if not (CLIPS / "Demo_SinglePerson_cam01.mp4").exists():
        raise SystemExit(f"needs the real clips at {CLIPS} (or set VIDDIFF_CLIPS)")
    versions = []
    if args.before is not None:
        before_args = argparse.Namespace(**{**vars(args), "old_cli": True})
        versions.append(("before (main)", measure(args.before.resolve(), before_args)))
    versions.append(("after", measure(REPO, args)))
    rows = []
    failures = []
    for name, res in versions:
        failures.append(f"{name}: {failure_summary(res['faults'])}")
        rows.append(f"| {name} | unreachable endpoint (closed port), time to exit | "
                    f"{exit_cell(res['unreachable'], args.cap)} |")
        rows.append(f"| {name} | hung endpoint (accepts, never answers), default settings | "
                    f"{exit_cell(res['hung'], args.cap)} |")
        if "hung_timeout" in res:
            rows.append(f"| {name} | hung endpoint, `--timeout {args.timeout:g}` | "
                        f"{exit_cell(res['hung_timeout'], args.cap)} |")
        rows.append(f"| {name} | fault runs: 25 % malformed + 10 % 429, schema-following "
                    f"replies, {args.seeds} seeds | {fault_cell(res['faults'])} |")
    from bench.results import machine_line, update_section

    load = os.getloadavg()[0]
    body = (f"{machine_line()}; 1-min load average {load:.2f} at the end (a shared machine: "
            f"other jobs slow the CPU-bound parts). Command: `python -m bench.bench_failfast"
            f"{' --before DIR' if args.before else ''}`. The exit rows run `viddiff compare` "
            f"as a subprocess on two real clips (CLIP random weights embedding in parallel); "
            f"the fault rows run the graph in-process through the real langchain-openai "
            f"client against tests/support/fake_openai.py.\n\n| code | measure | result |\n"
            f"|---|---|---|\n" + "\n".join(rows) + "\n\nFault runs without a result, "
            "where they stopped (the last error of a node that gave up): "
            + " — ".join(failures) + ".")
    print(body)
    if not args.no_write:
        update_section("Failing fast (bench/bench_failfast.py)", body)


if __name__ == "__main__":
    main()
