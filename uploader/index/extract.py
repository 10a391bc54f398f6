"""A segment's lines as what the index holds: searchable documents and usage records.

Every line is parsed once by its agent's parser (uploader.agents.transcript), the same
one the dashboard shows, so a hit is the text a reader sees on that line. What is kept
is capped: a document holds the first TEXT_CAP characters of its text, base64 runs and
other unbroken blobs are dropped, images never come in (their blocks are "[image]").

Usage is counted as the segment's own accounting counts it (uploader.agents.usage): the
parse state starts from the previous segment's `usage_carry`, so a message split over
two segments counts once, and the records of a session add up to its manifest's usage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from uploader.agents import usage as agent_usage
from uploader.agents.entries import FOR_DISPLAY, Entry
from uploader.agents.lines import line_timestamp, parse_timestamp
from uploader.agents.prices import estimate
from uploader.agents.transcript import parse_line
from uploader.index.base import MARK_END, MARK_START, Doc, UsageRecord

#: Characters of a document's text that are indexed (a multi-megabyte tool output is
#: found by its first pages).
TEXT_CAP = 16_384
_READ_CAP = 8 * TEXT_CAP  # read this much of a text for its words (blobs are dropped)
#: A run this long without a space is data (base64, minified code), not words.
_BLOB_CHARS = 256
_MARKS = re.compile(f"[{MARK_START}{MARK_END}]")
# Paths in a tool call's arguments: the argument names agents use for files, and
# apply_patch's file headers.
_PATH_ARG = re.compile(
    r'"(?:file_path|filePath|path|notebook_path|filename|file|target_file|cwd|workdir)"'
    r'\s*:\s*"([^"\n]{1,512})"'
)
_PATCH_FILE = re.compile(r"\*\*\* (?:Update|Add|Delete) File: ([^\n\\]{1,512})")

_ROLE_OF_KIND = {
    "user": "user",
    "assistant": "assistant",
    "reasoning": "reasoning",
    "tool_call": "tool_call",
    "tool_result": "tool_output",
    "summary": "summary",
    "compaction": "summary",
}


def segment_docs(
    data: bytes,
    agent: str,
    first_line: int,
    carry: Mapping[str, Any] | None = None,
    default_model: str | None = None,
) -> tuple[list[Doc], list[UsageRecord]]:
    """The documents and usage records of a segment's bytes. `first_line`: the index of
    its first line in its generation; `carry`: the previous segment's usage_carry;
    `default_model`: the session's model, for usage lines that do not name theirs."""
    state = agent_usage.state_from(carry)
    known = agent != "unknown"
    docs: list[Doc] = []
    records: list[UsageRecord] = []
    described = FOR_DISPLAY.set(not known)  # a known agent's events are not indexed
    try:
        for index, start, end in _lines(data, first_line):
            line = data[start:end]
            entries = parse_line(line, index, agent, state)
            ts = _own_timestamp(entries)
            if ts is None:  # not an ISO string at the top of the line: look in the bytes
                ts = line_timestamp(data, start, end)
            docs.extend(_docs(entries, index, ts, known))
            for entry in entries:
                if entry.kind == "usage" and entry.usage:
                    records.append(_record(entry, index, ts, default_model))
    finally:
        FOR_DISPLAY.reset(described)
    return docs, records


def _own_timestamp(entries: list[Entry]) -> float | None:
    """The line's `timestamp`, which its parser found (a cheaper read than the bytes')."""
    text = entries[0].ts
    return parse_timestamp(text) if text else None


def _lines(data: bytes, first: int) -> Iterator[tuple[int, int, int]]:
    """(index, start, end) of each line of data, without its newline."""
    start, index, size = 0, first, len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end < 0:
            end = size
        if end > start:
            yield index, start, end
        index += 1
        start = end + 1


def _docs(entries: list[Entry], index: int, ts: float | None, known: bool) -> Iterator[Doc]:
    """One document per role of the line (a line with two tool calls is one document).
    A known agent's bookkeeping lines (events) are left out; an unknown format's lines
    are all there is, so they are kept as `other`."""
    by_role: dict[str, list[Entry]] = {}
    for entry in entries:
        role = _ROLE_OF_KIND.get(entry.kind)
        if role is None and not known and entry.kind in ("event", "raw"):
            role = "other"
        if role is not None:
            by_role.setdefault(role, []).append(entry)
    for role, group in by_role.items():
        parts: list[str] = []
        tool = None
        paths: list[str] = []
        for entry in group:
            if role == "tool_call":
                tool = tool or entry.name
                args = entry.arguments or ""
                parts.append(f"{entry.name or ''} {args[:_READ_CAP]}")
                paths += _PATH_ARG.findall(args) + _PATCH_FILE.findall(args)
            else:
                if role == "tool_output":
                    tool = tool or entry.name
                parts.append(entry.text[:_READ_CAP])
        text = clean("\n".join(parts))
        if text.strip() or paths:
            yield Doc(index, role, text, ts, tool, " ".join(dict.fromkeys(paths)))


def clean(text: str) -> str:
    """A document's text as indexed: capped, without blobs and without snippet marks."""
    if len(text) >= _BLOB_CHARS:  # blobs out first, so that words after one still count
        text = text[:_READ_CAP]
        words = text.split()  # str.split and len in C: three times a regex's speed
        if words and max(map(len, words)) >= _BLOB_CHARS:
            text = " ".join(w for w in words if len(w) < _BLOB_CHARS)
    text = text[:TEXT_CAP]
    if MARK_START in text or MARK_END in text:
        text = _MARKS.sub("", text)
    return text


def _record(entry: Entry, index: int, ts: float | None, default: str | None) -> UsageRecord:
    figures = dict(entry.usage or {})
    model = entry.title or default
    if "cost_usd" not in figures:
        cost = estimate(figures, model)
        if cost is not None:
            figures["cost_usd"] = cost
    return UsageRecord(index, ts, model, figures)
