"""What is read from a transcript's lines the same way whatever the agent, on the hot path.

Lines stay bytes. JSON is parsed only for the few lines that matter: the first line of a
source (session metadata) and lines that name a compaction (possible checkpoints: found
by a scan for `compact`, then kept only if the line holds one of COMPACTION_VALUES).
Timestamps come from a regex over the head and tail of a line, so a 20 MB line costs no
more than a short one. The first line of a file is read here, once, for every caller
that needs it (metadata, `--sid auto`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from uploader.core import fastjson

#: Only lines holding these bytes can be compaction lines: the rest are never parsed.
COMPACT_MARK = b"compact"
#: How a compaction line names its kind, as a whole JSON string: Codex's `compacted`,
#: Claude Code's `compact_boundary`, pi's and OpenClaw's `compaction`. A line that only
#: mentions compacting (a prompt, a diff) has none of them, and is not parsed.
COMPACTION_VALUES = (b'"compacted"', b'"compact_boundary"', b'"compaction"')
#: Longer first lines are not parsed for metadata (nor waited for by `--sid auto`).
FIRST_LINE_LIMIT = 1 << 20
#: Metadata is looked for in at most this many complete lines at the start of a file
#: (and within its first FIRST_LINE_LIMIT bytes).
EARLY_LINES = 16
_TS_KEYS = (b'"timestamp"', b'"ts"')
# Matched at a key found by bytes.find: the value after `"timestamp":` or `"ts":`.
_ISO_AT = re.compile(rb'"(?:timestamp|ts)"\s*:\s*"(\d{4}-\d\d-\d\dT[^"]{2,40})"')
_NUM_AT = re.compile(rb'"(?:timestamp|ts)"\s*:\s*(\d{9,13}(?:\.\d+)?)[,}\s]')


def first_line_of(head: bytes) -> bytes | None:
    """The first line of a file from its first FIRST_LINE_LIMIT bytes (or fewer): the line
    with its newline; b"" when the line is longer than the limit (it is never parsed); None
    while it is not complete (the agent is still writing it)."""
    nl = head.find(b"\n", 0, FIRST_LINE_LIMIT)
    if nl >= 0:
        return head[: nl + 1]
    return b"" if len(head) >= FIRST_LINE_LIMIT else None


def read_first_line(path: Path) -> bytes | None:
    """first_line_of the file at path (OSError if it cannot be read)."""
    with open(path, "rb") as f:
        return first_line_of(f.readline(FIRST_LINE_LIMIT))


def loads(line: bytes) -> dict[str, Any] | None:
    """A line's JSON object, or None for anything else (broken, not UTF-8, absurdly nested,
    not an object)."""
    try:
        obj = fastjson.loads(line)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def line_timestamp(buf: bytes, start: int = 0, end: int | None = None) -> float | None:
    """The own `timestamp` (else `ts`) of the line buf[start:end] in epoch seconds,
    wherever it is in the line: Claude Code writes it after the message, which may be
    megabytes long. A key inside a string (escaped quotes) is not the line's own."""
    end = len(buf) if end is None else end
    for key in _TS_KEYS:
        at = buf.find(key, start, end)
        while at >= 0:
            if at == start or buf[at - 1] != 0x5C:  # not `\"timestamp\"` inside a string
                ts = _value_at(buf, at, end)
                if ts is not None:
                    return ts
            at = buf.find(key, at + len(key), end)
    return None


def _value_at(buf: bytes, at: int, end: int) -> float | None:
    m = _ISO_AT.match(buf, at, end)
    if m:
        return parse_timestamp(m.group(1).decode("ascii", "replace"))
    n = _NUM_AT.match(buf, at, end)
    if n:
        value = float(n.group(1))
        return _plausible(value / 1000 if value > 1e11 else value)
    return None


def parse_timestamp(text: str) -> float | None:
    """An ISO 8601 timestamp (UTC when it names no zone) in epoch seconds; None when it
    is not one."""
    try:
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return _plausible(dt.timestamp())
    except (ValueError, OverflowError):
        return None


def _plausible(ts: float) -> float | None:
    """Epoch seconds a checkpoint id can be made of (years 1970-9999), else None."""
    return ts if 0 <= ts < 253402300800 else None


def checkpoint_id(ts: float, seq: int) -> str:
    """`2026-03-14T11-40-00Z-000002`: sortable, safe as a file name, unique per seq."""
    when = datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    return f"{when}-{seq:06d}"


#: Lines looked at from each end of a piece for a time of their own (Claude Code files
#: open with `summary` and `file-history-snapshot` lines, which have none).
OWN_TS_LINES = 64


def first_own_ts(data: bytes, start: int, end: int) -> float | None:
    """The time of the first line in data[start:end] that has one of its own (within
    OWN_TS_LINES lines)."""
    pos = start
    for _ in range(OWN_TS_LINES):
        if pos >= end:
            break
        line_end = data.find(b"\n", pos, end) + 1 or end
        ts = line_timestamp(data, pos, line_end)
        if ts is not None:
            return ts
        pos = line_end
    return None


def last_own_ts(data: bytes, start: int, end: int) -> float | None:
    """The time of the last line in data[start:end] that has one of its own (within
    OWN_TS_LINES lines of the end)."""
    stop = end
    for _ in range(OWN_TS_LINES):
        if stop <= start:
            break
        line_start = data.rfind(b"\n", start, stop - 1) + 1 or start
        ts = line_timestamp(data, line_start, stop)
        if ts is not None:
            return ts
        stop = line_start
    return None
