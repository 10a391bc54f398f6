"""Token usage and cost as the conversation view shows them: summed per message and per
session, priced at list prices when the agent recorded no cost, and put in words.
"""

from __future__ import annotations

from collections.abc import Iterable

from uploader.agents.transcript import Entry
from uploader.agents.usage import add_usage_entry


def summed(a: dict[str, float] | None, b: dict[str, float] | None) -> dict[str, float] | None:
    if not a or not b:
        return a or b
    return {k: a.get(k, 0) + b.get(k, 0) for k in dict.fromkeys([*a, *b])}


_USAGE_NAMES = (
    ("input", "in"), ("output", "out"), ("cache_read", "cache read"),
    ("cache_write", "cache write"), ("reasoning", "reasoning"), ("total", "total"),
)  # fmt: skip


def usage_parts(usage: dict[str, float] | None) -> list[str]:
    """Token numbers as a page shows them: `in 1,204`, `out 88`, `$0.0970`."""
    if not usage:
        return []
    parts = [f"{label} {_number(usage[key])}" for key, label in _USAGE_NAMES if key in usage]
    if usage.get("cost_usd"):  # a cost of 0 is a proxy that does not count, not news
        parts.append(cost(usage["cost_usd"]))
    if usage.get("estimate_usd"):
        partial = " (partial: unknown model)" if usage.get("unpriced") else ""
        parts.append(f"≈ {cost(usage['estimate_usd'])} at list prices{partial}")
    return parts


def cost(value: float) -> str:
    """Dollars to four places (`$0.0970`), or to two from a dollar up."""
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def totals(entries: Iterable[Entry]) -> dict[str, float]:
    """The sum of the usage entries (each counted once by the parsers), with the list
    price of those whose agent recorded no cost (`estimate_usd`; `unpriced`: how many
    messages of a model the price table does not know)."""
    out: dict[str, float] = {}
    for e in entries:
        if e.kind == "usage" and e.usage:
            add_usage_entry(out, e.usage, e.title)
    return out
