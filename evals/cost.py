"""Token usage totals and a cost estimate from a small per-model price table.

Prices are list prices in US dollars per million input / output tokens as published by the
providers when this table was written; they change, so the table is easy to override
(``--price MODEL=INPUT,OUTPUT``) and a model it does not know is reported as "n/a" rather than
guessed. Local models (Ollama, vLLM) cost nothing per token: give them ``--price NAME=0,0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from viddiff.graphs.schemas import UsageRecord, UsageSummary
from viddiff.tools.errors import ConfigError

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-2024-05-13": (5.00, 15.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "gemini-1.5-pro": (1.25, 5.00),
    "gemini-1.5-flash": (0.075, 0.30),
}
"""USD per 1M (input, output) tokens; dated snapshots match their family by prefix."""


def parse_price(text: str) -> tuple[str, tuple[float, float]]:
    """``"MODEL=IN,OUT"`` (USD per million tokens) as ``(model, (in, out))``."""
    model, sep, prices = text.partition("=")
    parts = prices.split(",")
    try:
        if not sep or not model.strip() or len(parts) != 2:
            raise ValueError
        pair = (float(parts[0]), float(parts[1]))
    except ValueError:
        raise ConfigError(f"--price {text!r}: use MODEL=INPUT,OUTPUT in USD per million "
                          f"tokens, e.g. gpt-4o=2.5,10") from None
    if min(pair) < 0:
        raise ConfigError(f"--price {text!r}: prices cannot be negative")
    return model.strip(), pair


def price_for(model: str, table: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """The exact entry, else the longest entry that prefixes the name (dated snapshots)."""
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name + "-")]
    return table[max(prefixes, key=len)] if prefixes else None


def merge_usage(usage: Iterable[UsageSummary | UsageRecord]) -> list[UsageSummary]:
    """Totals per (role, model), in first-seen order."""
    totals: dict[tuple[str, str], list[int]] = {}
    for u in usage:
        t = totals.setdefault((u.role, u.model), [0, 0, 0])
        t[0] += u.calls if isinstance(u, UsageSummary) else 1
        t[1] += u.input_tokens
        t[2] += u.output_tokens
    return [UsageSummary(role=r, model=m, calls=c, input_tokens=i, output_tokens=o)
            for (r, m), (c, i, o) in totals.items()]


@dataclass(frozen=True)
class CostLine:
    role: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    usd: float | None


def estimate(usage: Iterable[UsageSummary],
             overrides: Mapping[str, tuple[float, float]] | None = None
             ) -> tuple[list[CostLine], float | None]:
    """Cost per (role, model) and in total; the total is None if any model is unpriced."""
    table = {**PRICES_PER_MTOK, **(overrides or {})}
    lines = []
    for u in usage:
        price = price_for(u.model, table)
        usd = None if price is None else (u.input_tokens * price[0]
                                          + u.output_tokens * price[1]) / 1e6
        lines.append(CostLine(u.role, u.model, u.calls, u.input_tokens, u.output_tokens, usd))
    total = None if any(line.usd is None for line in lines) else sum(
        line.usd or 0.0 for line in lines)
    return lines, total
