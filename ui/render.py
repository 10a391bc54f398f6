"""Transcript entries as the templates show them: tool calls beside their results, long
texts folded and capped, numbers and times made readable.

Escaping is Jinja's job (autoescape is on for every template): nothing here builds HTML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from uploader.agents.transcript import QUIET_EVENTS, Entry
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


@dataclass
class Item:
    kind: str
    entry: Entry
    text: Shown
    result: Entry | None = None  # a tool call's result, when on the same page
    result_text: Shown = field(default_factory=lambda: Shown(""))
    arguments: Shown = field(default_factory=lambda: Shown(""))

    @property
    def line(self) -> int:
        return self.entry.line

    @property
    def chars(self) -> int:
        """Characters of transcript this item puts on a page."""
        return len(self.text.text) + len(self.arguments.text) + len(self.result_text.text)


def items(entries: list[Entry]) -> list[Item]:
    """One item per entry, except that a tool result found on the same page joins its
    call (and is not shown twice)."""
    results = {e.call_id: e for e in entries if e.kind == "tool_result" and e.call_id}
    calls = {e.call_id for e in entries if e.kind == "tool_call" and e.call_id}
    out = []
    for e in entries:
        if e.kind == "tool_result" and e.call_id in calls:
            continue
        if e.kind == "event" and e.title in QUIET_EVENTS:
            continue  # copies of turns shown already (Codex event_msg), kept in the raw view
        item = Item(e.kind, e, shown(e.text), arguments=shown(e.arguments))
        if e.kind == "tool_call" and e.call_id in results:
            item.result = results[e.call_id]
            item.result_text = shown(item.result.text)
        out.append(item)
    return out


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


def fit_items(items: list[Item], budget: int, stop: int) -> tuple[list[Item], int]:
    """Items while their text stays within `budget` characters (at least one), and the
    first line the next page starts at (`stop` when all fit)."""
    used = 0
    for n, item in enumerate(items[:-1]):
        used += item.chars
        if used >= budget:
            return items[: n + 1], items[n + 1].line
    return items, stop


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


def visible(text: str | None) -> str:
    """A title or label as a page shows it: control and bidi characters written out
    (`\\u202e`), so that a session cannot pose as another (`evil\\u202etxt.exe`) or
    hide part of its name. HTML escaping stays Jinja's."""
    return printable(text or "")
