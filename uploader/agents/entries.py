"""Transcript lines as conversation entries: the Entry a reader sees, the ParseState a line's
meaning depends on, and the small readers every agent's parser shares (texts of content
blocks, tool calls, usage numbers, unknown-but-valid content kept as JSON).

The agents' own parsers are in their modules; transcript.py runs them over lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "user", "assistant", "reasoning", "tool_call", "tool_result", "summary", "compaction",
    "usage", "meta", "event", "raw",
)  # fmt: skip
_EVENT_LIMIT = 2000
_PRETTY_LIMIT = 100_000


class Malformed(Exception):
    """A known line type whose fields have unexpected types: the line is shown raw."""


@dataclass(slots=True)
class Entry:
    """One thing a reader sees in a conversation; `line` points back at the source line."""

    kind: str
    line: int
    text: str = ""
    role: str | None = None
    name: str | None = None
    call_id: str | None = None
    arguments: str | None = None
    is_error: bool = False
    usage: dict[str, float] | None = None
    ts: str | None = None
    title: str | None = None


@dataclass
class ParseState:
    """What a line's meaning depends on from earlier lines of the same transcript."""

    agent: str = "unknown"  # the format detected from earlier lines when the caller had none
    codex_total: dict[str, Any] | None = None  # a token_count counts only when this changes
    usage_seen: set[tuple[str, str]] = field(default_factory=set)  # Claude (message.id, requestId)
    after_compact_boundary: bool = False  # Claude: the next user line may be the summary
    tool_names: dict[str, str] = field(default_factory=dict)  # call_id -> name, for results


def raw(line: bytes, index: int) -> Entry:
    return Entry("raw", index, line.decode("utf-8", "replace").rstrip("\r\n"))


def compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))[:_EVENT_LIMIT]


def event(index: int, title: str, data: dict[str, Any], text: str | None = None) -> Entry:
    """Unknown-but-valid content: kept as compact JSON so nothing is lost."""
    if text is None:
        text = compact({k: v for k, v in data.items() if k != "type"})
    return Entry("event", index, text, title=title)


def dict_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def str_of(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def texts(content: Any) -> str:
    """Text of a string or of a list of content blocks (text-like joined by newlines)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Malformed
    parts: list[str] = []
    for item in content:
        if isinstance(item, str):
            parts.append(item)
        elif not isinstance(item, dict):
            raise Malformed
        elif isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif item.get("type") in ("image", "input_image"):
            parts.append("[image]")
        else:
            parts.append(f"[{item.get('type')}]")
    return "\n".join(parts)


def blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise Malformed
    return content


def pretty(value: Any) -> str | None:
    """Tool arguments as indented JSON when they are JSON and not huge, else as they were."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > _PRETTY_LIMIT or not value.lstrip().startswith(("{", "[")):
            return value
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return str(value)
    else:
        dumped = json.dumps(value, ensure_ascii=False)
        if len(dumped) > _PRETTY_LIMIT:
            return dumped
    return json.dumps(value, indent=2, ensure_ascii=False)


def usage(src: dict[str, Any], names: tuple[tuple[str, str], ...]) -> dict[str, float] | None:
    out: dict[str, float] = {}
    for key, name in names:
        value = src.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out or None


def call(index: int, name: str | None, call_id: str | None, args: Any, st: ParseState) -> Entry:
    if call_id and name:
        st.tool_names[call_id] = name
    return Entry("tool_call", index, name=name, call_id=call_id, arguments=pretty(args))


def assistant_blocks(
    content: Any, i: int, st: ParseState, call_type: str, args: str
) -> list[Entry]:
    """Claude and pi assistant blocks; they differ only in the tool call's names."""
    out: list[Entry] = []
    for block in blocks(content):
        btype = block.get("type")
        if btype == "text":
            out.append(Entry("assistant", i, texts(block.get("text")), "assistant"))
        elif btype == "thinking":
            out.append(Entry("reasoning", i, texts(block.get("thinking"))))
        elif btype == "redacted_thinking":
            out.append(Entry("reasoning", i, "[redacted]"))
        elif btype in (call_type, "server_tool_use"):
            name, call_id = str_of(block.get("name")), str_of(block.get("id"))
            out.append(call(i, name, call_id, block.get(args), st))
        else:
            out.append(event(i, f"block {btype}", block))
    return out
