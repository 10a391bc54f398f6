"""Transcript lines as conversation entries, for the dashboard and `replay --format text`.

Every line yields at least one Entry: a line we cannot read comes back as a "raw" entry
with its text, a line type we do not know as an "event" carrying its JSON, so a viewer
never hides data. Each line is parsed once (uploader.core.fastjson) and handed to its agent's
parser (the agent modules); texts are not cut here (the renderer folds), so the dashboard
can still show a whole tool output on demand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from uploader.agents import AGENTS, get, recognise
from uploader.agents.entries import (
    KINDS,
    Entry,
    Malformed,
    ParseState,
    event,
    index_images,
    raw,
)
from uploader.core import fastjson

__all__ = [
    "KINDS",
    "QUIET_EVENTS",
    "Entry",
    "ParseState",
    "first_user_text",
    "parse_line",
    "parse_lines",
    "render_text",
]

# Bookkeeping that duplicates or only annotates the conversation: not shown by render_text.
QUIET_EVENTS = frozenset().union(*(agent.quiet_events for agent in AGENTS))


def parse_line(line: bytes, index: int, agent: str, state: ParseState | None = None) -> list[Entry]:
    """The entries of one transcript line; never raises, never returns an empty list."""
    if state is None:
        state = ParseState()
    try:
        obj = fastjson.loads(line)
    except (ValueError, RecursionError):  # broken JSON, invalid UTF-8, absurd nesting
        return _recovered(line, index, agent, state) or [raw(line, index)]
    if not isinstance(obj, dict):
        return [raw(line, index)]
    return _parse_object(obj, line, index, agent, state) or [raw(line, index)]


def _parse_object(
    obj: dict[str, Any], line: bytes, index: int, agent: str, state: ParseState
) -> list[Entry] | None:
    """The entries of one parsed JSON object; None when it cannot be read as a line of any
    known format (the caller shows the line raw)."""
    parser = get(agent) or get(state.agent)
    if parser is None:
        parser = recognise(obj)
        if parser is None:
            return None
        state.agent = parser.name
    try:
        if not isinstance(obj.get("type"), str):
            raise Malformed
        state.images = {}
        if b"image" in line:  # a cheap test before walking the line for inline images
            index_images(obj, state)
        entries = parser.parse(obj, index, state, len(line)) or [event(index, obj["type"], obj)]
    except Exception:  # never raise: a shape nobody foresaw is shown as it was written
        return None
    finally:
        state.images = {}
    ts = obj.get("timestamp")
    if isinstance(ts, str):
        for entry in entries:
            entry.ts = ts
    return entries


_MAX_JOINED = 16  # entries one damaged line may hold before it is just shown raw


def _recovered(line: bytes, index: int, agent: str, state: ParseState) -> list[Entry] | None:
    """A line the agent wrote damaged but whose entries are whole: stray characters before
    the first `{` (an editor's slip), or entries joined without their newline. Each entry
    is read, after a note that says what was wrong; None when the line is not that."""
    try:
        text = line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    start = text.find("{")
    if start < 0:
        return None
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    at = start
    try:
        while at < len(text) and len(objects) < _MAX_JOINED:
            obj, at = decoder.raw_decode(text, at)
            if not isinstance(obj, dict):
                return None
            objects.append(obj)
            while at < len(text) and text[at] in " \t":
                at += 1
    except (ValueError, RecursionError):
        return None
    if at < len(text) or (start == 0 and len(objects) < 2):
        return None
    problems = []
    if start:
        problems.append(f"{start} stray characters before the entry: {text[:start][:40]!r}")
    if len(objects) > 1:
        problems.append(f"{len(objects)} entries joined without a newline")
    out = [Entry("meta", index, "; ".join(problems), title="damaged line")]
    for obj in objects:
        entries = _parse_object(obj, b"", index, agent, state)
        if entries is None:
            return None
        out.extend(entries)
    return out


def parse_lines(lines: Iterable[tuple[int, bytes]], agent: str) -> Iterator[Entry]:
    """The entries of (index, line) pairs of one transcript, in order."""
    state = ParseState()
    for index, line in lines:
        yield from parse_line(line, index, agent, state)


def first_user_text(lines: Iterable[bytes], agent: str, limit: int = 200) -> str | None:
    """What the user first asked (a session's natural title), whitespace-collapsed."""
    for entry in parse_lines(enumerate(lines), agent):
        if entry.kind == "user" and entry.title is None:  # titled: context, isMeta
            text = " ".join(entry.text.split())
            if text:
                return text if len(text) <= limit else text[: limit - 1] + "…"
    return None


# -- plain text ---------------------------------------------------------------------------


def render_text(entries: Iterable[Entry]) -> Iterator[str]:
    """Terminal lines of a conversation; long texts folded, bookkeeping events left out."""
    for e in entries:
        if e.kind == "raw":
            yield e.text
        elif e.kind in ("user", "assistant"):
            label = f"{e.kind} ({e.title})" if e.title else e.kind
            yield from _fold(f"{label}: ", e.text, 3 if e.title else 40)
        elif e.kind == "reasoning" and e.text:
            yield from _fold("  thinking: ", e.text, 3)
        elif e.kind == "tool_call":
            args = " ".join((e.arguments or "")[:600].split())  # one line, however long
            yield _cut(f"  [tool {e.name or '?'}] {args}")
        elif e.kind == "tool_result":
            yield from _fold("  [error] " if e.is_error else "  [result] ", e.text, 5)
        elif e.kind == "summary":
            yield from _fold("[summary] ", e.text, 10)
        elif e.kind == "compaction":
            yield from _fold("[compaction] ", e.text or e.title or "", 3)
        elif e.kind == "usage":
            yield "[usage] " + _usage_text(e.usage or {})
        elif e.kind == "meta":
            yield _cut(f"[{e.title or 'meta'}] {' '.join(e.text.split())}")
        elif e.kind == "event" and e.title not in QUIET_EVENTS:
            yield _cut(f"[event {e.title or '?'}] {' '.join(e.text[:300].split())}".rstrip())


def _cut(text: str, width: int = 300) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _fold(prefix: str, text: str, max_lines: int) -> Iterator[str]:
    """The first max_lines lines of text, indented under prefix, then how many were left."""
    parts = text.rstrip().split("\n", max_lines)  # a 20 MB output is not split whole
    rest = parts.pop().count("\n") + 1 if len(parts) > max_lines else 0
    pad = " " * len(prefix)
    for n, part in enumerate(parts):
        yield _cut((prefix if n == 0 else pad) + part.rstrip()).rstrip()
    if rest:
        yield f"{pad}… (+{rest} more lines)"


_USAGE_LABELS = (
    ("input", "in"), ("output", "out"), ("cache_read", "cache_read"),
    ("cache_write", "cache_write"), ("reasoning", "reasoning"), ("total", "total"),
)  # fmt: skip


def _usage_text(usage: dict[str, float]) -> str:
    parts = [f"{label} {_num(usage[key])}" for key, label in _USAGE_LABELS if key in usage]
    if "cost_usd" in usage:
        parts.append(f"${usage['cost_usd']:.4f}")
    return " ".join(parts) or "(no numbers)"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
