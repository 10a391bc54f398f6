"""What the templates show, made readable: long texts folded and capped, numbers, sizes
and times. (The conversation's cards are ui/page_cards.py's.)

Escaping is Jinja's job (autoescape is on for every template): nothing here builds HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from uploader.agents.usage import USAGE_KEYS
from uploader.core.terminal import printable
from uploader.core.units import format_size

DASH = "\u2013"  # what an empty cell shows
#: Characters shown before a text is folded behind "show more".
FOLD_CHARS = 1500
FOLD_LINES = 20
#: Characters sent to the browser at most per text; the rest is one click away (raw line).
CAP_CHARS = 50_000
#: Characters of one line the raw view shows (_macros.html, raw_line).
RAW_SHOWN_CHARS = 20_000


@dataclass
class Shown:
    """A text cut for the page: the part sent, and how many characters were held back."""

    text: str
    held_back: int = 0

    @property
    def folds(self) -> bool:
        return len(self.text) > FOLD_CHARS or self.text.count("\n") > FOLD_LINES

    @property
    def head(self) -> str:
        lines = self.text[:FOLD_CHARS].split("\n")[:FOLD_LINES]
        return "\n".join(lines)


def shown(text: str | None, cap: int = CAP_CHARS) -> Shown:
    text = text or ""
    if len(text) <= cap:
        return Shown(text)
    return Shown(text[:cap], len(text) - cap)


def fit_lines(lines: Iterable[tuple[int, bytes]], budget: int) -> list[tuple[int, bytes]]:
    """Raw lines while what the page shows of them stays within `budget` characters
    (at least one line). Stops reading at the budget: the rest is the next page."""
    out: list[tuple[int, bytes]] = []
    used = 0
    for i, data in lines:
        out.append((i, data))
        used += min(len(data), RAW_SHOWN_CHARS)
        if used >= budget:
            break
    return out


def size(n: float | None) -> str:
    return DASH if n is None else format_size(n)


def when(ts: float | None) -> str:
    if not ts:
        return DASH
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def ago(ts: float | None, now: float) -> str:
    if not ts:
        return DASH
    seconds = max(0, int(now - ts))
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length:
            return f"{seconds // length}{unit} ago"
    return f"{seconds}s ago"


def ratio(raw: int | None, packed: int | None) -> str:
    if not raw or not packed:
        return DASH
    return f"{raw / packed:.1f}x"


def number(n: int | float | None) -> str:
    return DASH if n is None else f"{n:,}"


def tokens(usage: Mapping[str, float] | None) -> str:
    """A session's tokens in one number: input, output, cache read and cache write."""
    if usage is None:  # not counted (a manifest from before token counts)
        return DASH
    return f"{int(sum(usage.get(key, 0) for key in USAGE_KEYS)):,}"


def session_cost(usage: Mapping[str, float] | None) -> str:
    """A session's cost in one figure: what its agent recorded (`$1.23`), with the list
    price of the messages it recorded none for (`≈ $1.23`); `+?` when some of those are
    of a model the price table does not know."""
    usage = usage or {}
    recorded, estimated = usage.get("cost_usd", 0), usage.get("estimate_usd", 0)
    value = recorded + estimated
    shown = (f"≈ {_dollars(value)}" if estimated else _dollars(value)) if value else ""
    if usage.get("unpriced"):
        shown += " +?" if shown else "?"
    return shown or DASH


def _dollars(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def visible(text: str | None) -> str:
    """A title or label as a page shows it: control and bidi characters written out
    (`\\u202e`), so that a session cannot pose as another (`evil\\u202etxt.exe`) or
    hide part of its name. HTML escaping stays Jinja's."""
    return printable(text or "")


@dataclass
class HealthStrip:
    """The bar at the top of every page of a `watch`'s dashboard: its uploads at a glance."""

    healthy: bool
    facts: list[str]
    problems: list[str]


def health_strip(status: dict[str, Any], now: float) -> HealthStrip:
    """From the status as `agent-uploader status --json` has it (uploader.write.status)."""
    queue = status.get("queue") or {}
    waiting = queue.get("segments") or 0
    facts = [f"{status.get('sessions') or 0} tailed"]
    behind = status.get("bytes_behind") or 0
    if behind:
        facts.append(f"{size(behind)} not packed yet")
    oldest = queue.get("oldest_queued_at")
    facts.append(f"queue {waiting}, oldest {ago(oldest, now)}" if waiting else "queue empty")
    last = status.get("last_upload_at")
    facts.append(f"last upload {ago(last, now)}" if last else "no upload yet")
    return HealthStrip(bool(status.get("healthy")), facts, list(status.get("problems") or []))
