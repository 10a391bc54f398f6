"""What the engine needs to know about agent transcript formats (docs/formats.md).

Lines stay bytes. JSON is parsed only for the few lines that matter: the first
line of a source (session metadata) and lines containing `compact` (possible
checkpoints). Timestamps come from a regex over the head and tail of a line, so
a 20 MB line costs no more than a short one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

COMPACT_MARK = b"compact"
_TS_WINDOW = 512
_ISO_TS = re.compile(rb'(?<!\\)"(?:timestamp|ts)"\s*:\s*"(\d{4}-\d\d-\d\dT[^"]{2,40})"')
_NUM_TS = re.compile(rb'(?<!\\)"(?:timestamp|ts)"\s*:\s*(\d{9,13}(?:\.\d+)?)[,}\s]')
_PI_NAME = re.compile(r"^\d{4}-\d\d-\d\dT[\w\-.]+_[0-9a-f]{8}-")


@dataclass
class SessionMeta:
    """Facts about a session read from its first line(s); kept in the resume state."""

    agent: str = "unknown"
    first_line_id: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    cwd: str | None = None
    title: str | None = None  # from the agent's own index (OpenClaw sessions.json)
    parsed: bool = False  # the first line has been seen (or is too long to parse)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v is not False}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionMeta:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class CheckpointMark:
    """A compaction line found in the stream: what the checkpoint record will say."""

    label: str
    git: str | None
    ts: float


def _loads(line: bytes) -> dict[str, Any] | None:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # broken, invalid UTF-8, absurdly nested
        return None
    return obj if isinstance(obj, dict) else None


def _parse_iso(text: str) -> float | None:
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


def line_timestamp(buf: bytes, start: int = 0, end: int | None = None) -> float | None:
    """The own `timestamp`/`ts` of the line buf[start:end] in epoch seconds, looked for
    in its first and last few hundred bytes (no copy of a long line is made)."""
    end = len(buf) if end is None else end
    head = buf[start : min(end, start + _TS_WINDOW)]
    tail = buf[max(start, end - _TS_WINDOW) : end]
    for window in (head, tail):
        m = _ISO_TS.search(window)
        if m:
            ts = _parse_iso(m.group(1).decode("ascii", "replace"))
            if ts is not None:
                return ts
        n = _NUM_TS.search(window)
        if n:
            value = float(n.group(1))
            return _plausible(value / 1000 if value > 1e11 else value)
    return None


def source_info(meta: SessionMeta, path: str, host: str) -> dict[str, Any]:
    """The manifest's `source` block."""
    info: dict[str, Any] = {"agent": meta.agent, "path": path, "host": host}
    if meta.cwd:
        info["cwd"] = meta.cwd
    if meta.git_branch:
        info["git_branch"] = meta.git_branch
    if meta.git_commit:
        info["git_commit"] = meta.git_commit
    if meta.title:
        info["title"] = meta.title
    return info


def detect_agent(path: PurePath, first_line: bytes | None) -> str:
    """Which agent wrote this file, from its path first, then its first line."""
    parts = set(path.parts)
    if ".codex" in parts or path.name.startswith("rollout-"):
        return "codex"
    if ".claude" in parts:
        return "claude"
    if ".openclaw" in parts:
        return "openclaw"
    if ".pi" in parts:
        return "pi"
    obj = _loads(first_line) if first_line else None
    if obj is None:
        return "unknown"
    kind = obj.get("type")
    if kind == "session_meta":
        return "codex"
    if kind == "session":
        return "pi" if _PI_NAME.match(path.name) else "openclaw"
    if "sessionId" in obj and "uuid" in obj:
        return "claude"
    return "unknown"


def read_meta(path: PurePath, first_line: bytes | None) -> SessionMeta:
    """Session metadata from the first line of a source."""
    meta = SessionMeta(agent=detect_agent(path, first_line))
    obj = _loads(first_line) if first_line else None
    if obj is None:
        return meta
    payload = _dict(obj.get("payload"))
    if obj.get("type") == "session_meta":  # Codex
        meta.first_line_id = _str(payload.get("id"))
        meta.cwd = _str(payload.get("cwd"))
        git = _dict(payload.get("git"))
        meta.git_commit = _str(git.get("commit_hash"))
        meta.git_branch = _str(git.get("branch"))
    elif obj.get("type") == "session":  # OpenClaw / pi header
        meta.first_line_id = _str(obj.get("id"))
        meta.cwd = _str(obj.get("cwd"))
    elif "sessionId" in obj:  # Claude Code
        meta.first_line_id = _str(obj.get("sessionId"))
        meta.cwd = _str(obj.get("cwd"))
        meta.git_branch = _str(obj.get("gitBranch"))
    return meta


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def checkpoint_of(line: bytes, meta: SessionMeta, read_at: float) -> CheckpointMark | None:
    """A CheckpointMark when the line is a compaction line of any known format."""
    obj = _loads(line)
    if obj is None:
        return None
    kind = obj.get("type")
    ts = line_timestamp(line) or read_at
    if kind == "compacted":  # Codex, and the generic trigger
        payload = _dict(obj.get("payload")) or obj
        message = _str(payload.get("message"))
        if message:
            label = _short(message)
        elif payload.get("replacement_history"):
            label = "remote compaction"
        else:
            label = _str(obj.get("label")) or "compaction"
        git = _str(obj.get("git")) or meta.git_commit or meta.git_branch
        return CheckpointMark(label, _short_git(git), ts)
    if kind == "system" and obj.get("subtype") == "compact_boundary":  # Claude Code
        info = _dict(obj.get("compactMetadata"))
        trigger = _str(info.get("trigger")) or "manual"
        tokens = info.get("preTokens")
        label = f"{trigger} compaction"
        if isinstance(tokens, int):
            label += f" at {tokens:,} tokens"
        git = _str(obj.get("gitBranch")) or meta.git_commit or meta.git_branch
        return CheckpointMark(label, _short_git(git), ts)
    if kind == "compaction":  # OpenClaw / pi
        summary = _str(obj.get("summary"))
        tokens = obj.get("tokensBefore")
        if summary:
            label = _short(summary)
        elif isinstance(tokens, int):
            label = f"compaction at {tokens:,} tokens"
        else:
            label = "compaction"
        return CheckpointMark(label, _short_git(meta.git_commit or meta.git_branch), ts)
    return None


def _short_git(git: str | None) -> str | None:
    if git and re.fullmatch(r"[0-9a-f]{40}", git):
        return git[:7]
    return git


def checkpoint_id(ts: float, seq: int) -> str:
    """`2026-03-14T11-40-00Z-000002`: sortable, safe as a file name, unique per seq."""
    when = datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    return f"{when}-{seq:06d}"
