"""The end-of-run report for people (rich tables) and for machines (``summary.json``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from viddiff.evals.cost import estimate
from viddiff.graphs.schemas import UsageSummary
from viddiff.tools.files import write_atomic

ERROR_LABELS = {
    "wrong_label": "wrong label (flipped prediction)",
    "undecided": "answered c (no clear difference)",
    "missing": "no answer / no matching prediction",
    "failed": "method or judge failed on the sample",
}


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def p_text(entry: Mapping[str, Any]) -> str:
    if not entry.get("total"):
        return "-"
    p = float(entry["p_value"])
    text = f"{p:.3g}" if p >= 1e-4 else f"{p:.1e}"
    return f"[bold green]{text} *[/]" if entry.get("significant") else text


def split_table(metrics: Mapping[str, Any]) -> Table:
    title = f"{metrics['mode'].capitalize()} {metrics['metric']} by split"
    table = Table(title=title, title_justify="left")
    for column in ("Split", "Samples", "Items", "Correct", "%", "p (vs 50%)"):
        table.add_column(column, justify="left" if column == "Split" else "right")
    for split, entry in metrics["splits"].items():
        table.add_row(split, str(entry["samples"]), str(entry["total"]), str(entry["correct"]),
                      pct(entry["value"]), p_text(entry))
    head = metrics["headline"]
    label = "average of " + "/".join(head["splits"]) if head["splits"] else "average"
    overall = metrics["overall"]
    table.add_section()
    table.add_row(f"[bold]{label}[/]", "", "", "", f"[bold]{pct(head['value'])}[/]", "")
    table.add_row("all items (micro)", str(metrics["samples"]["scored"]), str(overall["total"]),
                  str(overall["correct"]), pct(overall["value"]), p_text(overall))
    return table


def action_table(metrics: Mapping[str, Any]) -> Table:
    table = Table(title="By action", title_justify="left")
    for column in ("Action", "Name", "Split", "Samples", "Items", "%", "p (vs 50%)"):
        table.add_column(column, justify="right" if column in ("Samples", "Items", "%",
                                                               "p (vs 50%)") else "left")
    for action, entry in metrics["actions"].items():
        table.add_row(action, entry["name"], entry["split"], str(entry["samples"]),
                      str(entry["total"]), pct(entry["value"]), p_text(entry))
    return table


def usage_table(usage: list[UsageSummary], prices: Mapping[str, tuple[float, float]]
                ) -> tuple[Table, float | None]:
    lines, total = estimate(usage, prices)
    table = Table(title="Tokens and estimated cost", title_justify="left")
    for column in ("Role", "Model", "Calls", "Input tokens", "Output tokens", "USD"):
        table.add_column(column, justify="left" if column in ("Role", "Model") else "right")
    for line in lines:
        table.add_row(line.role, line.model, str(line.calls), f"{line.input_tokens:,}",
                      f"{line.output_tokens:,}", "n/a" if line.usd is None else f"{line.usd:.4f}")
    table.add_section()
    table.add_row("total", "", str(sum(x.calls for x in lines)),
                  f"{sum(x.input_tokens for x in lines):,}",
                  f"{sum(x.output_tokens for x in lines):,}",
                  "n/a" if total is None else f"{total:.4f}")
    return table, total


def cost_section(usage: list[UsageSummary],
                 prices: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    lines, total = estimate(usage, prices)
    return {"usd_total": total,
            "lines": [{"role": x.role, "model": x.model, "calls": x.calls,
                       "input_tokens": x.input_tokens, "output_tokens": x.output_tokens,
                       "usd": x.usd} for x in lines],
            "note": "estimate from list prices per million tokens; 'null' where a model has "
                    "no known price (set one with --price MODEL=IN,OUT)"}


def print_report(console: Console, metrics: Mapping[str, Any], usage: list[UsageSummary],
                 prices: Mapping[str, tuple[float, float]], *, sanity: str | None = None) -> None:
    """Tables per split and per action, errors, A/B balance, tokens and cost."""
    if sanity:
        expect = ("about 50%: A and B are the same video" if sanity == "duplicate" else
                  "close to the normal run: the videos were swapped and the ground truth "
                  "flipped to match")
        console.print(f"[bold yellow]Sanity check '{sanity}'[/] — expected {expect}.")
    console.print(split_table(metrics))
    if metrics["actions"]:
        console.print(action_table(metrics))
    errors = metrics["errors"]
    scored = metrics["overall"]["total"]
    parts = [f"{ERROR_LABELS[k]}: {v}" for k, v in errors.items() if k in ERROR_LABELS]
    console.print(f"Errors over {scored} scored item(s) — " + "; ".join(parts))
    samples = metrics["samples"]
    if samples["method_failed"] or samples["judge_failed"] or samples["judge_repaired"]:
        console.print(f"[yellow]Samples: {samples['method_failed']} failed in the method, "
                      f"{samples['judge_failed']} failed in the judge, "
                      f"{samples['judge_repaired']} with a repaired judge matching "
                      f"(see summary.json)[/]")
    balance = metrics["balance"]
    if balance["n"]:
        console.print(f"Ground truth balance: a {pct(balance['a'])}% / b {pct(balance['b'])}% "
                      f"of {balance['n']} scored item(s); chance is 50%. "
                      f"[dim]* p < 0.05, one-sided binomial test[/]")
    if usage:
        table, _ = usage_table(usage, prices)
        console.print(table)


def write_json(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Atomic write: an interrupted run never leaves a truncated summary behind."""
    return write_atomic(path, json.dumps(data, indent=2) + "\n")


def summary_document(metrics: Mapping[str, Any], method_usage: list[UsageSummary],
                     judge_usage: list[UsageSummary],
                     prices: Mapping[str, tuple[float, float]],
                     run: Mapping[str, Any]) -> dict[str, Any]:
    """``summary.json``: the metrics, then tokens, cost and facts about the run."""
    return {
        "metrics": dict(metrics),
        "usage": {"method": [u.model_dump() for u in method_usage],
                  "judge": [u.model_dump() for u in judge_usage]},
        "cost": cost_section(method_usage + judge_usage, prices),
        "run": dict(run),
    }
