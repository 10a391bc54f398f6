"""Transcript lines as conversation entries: the Entry a reader sees, the ParseState a line's
meaning depends on, and the small readers every agent's parser shares (texts of content
blocks, tool calls, usage numbers, unknown-but-valid content kept as JSON).

The agents' own parsers are in their modules; transcript.py runs them over lines.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
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


@dataclass(frozen=True, slots=True)
class Image:
    """An image carried in its line as base64: the `index`-th such image of the line (in
    document order, see inline_images), which the dashboard serves by that number."""

    index: int
    media_type: str
    size: int  # characters of base64: about 4/3 of the image's bytes


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
    exit_code: int | None = None  # a command's exit status, when the agent recorded one
    message: str | None = None  # the API message id several lines share (Claude)
    images: list[Image] = field(default_factory=list)
    subagent: str | None = None  # the agent id a tool call's subagent ran as (Claude Task)


@dataclass
class ParseState:
    """What a line's meaning depends on from earlier lines of the same transcript."""

    agent: str = "unknown"  # the format detected from earlier lines when the caller had none
    codex_total: dict[str, Any] | None = None  # a token_count counts only when this changes
    model: str | None = None  # Codex: the model of the turn (turn_context), for its usage
    # Claude: what each API message's usage has counted so far, by (message.id, requestId)
    usage_counted: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    usage_last: tuple[str, str] | None = None  # Claude: the message counted last
    after_compact_boundary: bool = False  # Claude: the next user line may be the summary
    tool_names: dict[str, str] = field(default_factory=dict)  # call_id -> name, for results
    images: dict[int, Image] = field(default_factory=dict)  # this line's: id(block) -> Image


def inline_image(block: dict[str, Any]) -> tuple[str, str] | None:
    """(media type, base64 data) of an image block that carries its bytes: Claude's
    `{"type":"image","source":{"type":"base64",...}}`, pi's and OpenClaw's
    `{"type":"image","data","mimeType"}`, Codex's
    `{"type":"input_image","image_url":"data:..."}`."""
    btype = block.get("type")
    if btype == "image":
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "base64":
            media, data = source.get("media_type"), source.get("data")
        else:
            media, data = block.get("mimeType") or block.get("media_type"), block.get("data")
        if isinstance(media, str) and isinstance(data, str) and data:
            return media, data
    elif btype == "input_image":
        url = block.get("image_url")
        if isinstance(url, dict):
            url = url.get("url")
        if isinstance(url, str) and url.startswith("data:"):
            head, comma, data = url[5:].partition(",")
            if comma and head.endswith(";base64") and data:
                return head[:-7], data
    return None


def inline_images(obj: Any) -> list[dict[str, Any]]:
    """Every image block of a parsed line that carries its bytes, in document order (the
    numbering the dashboard's image route uses). No recursion: JSON may nest deep."""
    found: list[dict[str, Any]] = []
    stack: list[Any] = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("type") in ("image", "input_image") and inline_image(value):
                found.append(value)
            else:
                stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return found


def index_images(obj: Any, st: ParseState) -> None:
    """Number the line's inline images for images_in (parse_line calls this per line)."""
    st.images = {}
    for n, block in enumerate(inline_images(obj)):
        media, data = inline_image(block) or ("", "")
        st.images[id(block)] = Image(n, media, len(data))


def images_in(value: Any, st: ParseState) -> list[Image]:
    """The inline images inside `value` (a block, or a list of them), as numbered in st."""
    if not st.images:
        return []
    found: list[Image] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            image = st.images.get(id(item))
            if image is not None:
                found.append(image)
            else:
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def raw(line: bytes, index: int) -> Entry:
    return Entry("raw", index, line.decode("utf-8", "replace").rstrip("\r\n"))


def compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))[:_EVENT_LIMIT]


#: Whether entries are made to be shown: an event carries its JSON as its text, tool
#: arguments are indented. The search index sets this off while it parses: it leaves a
#: known agent's events out and needs the arguments' words, not their layout (dumping
#: JSON it then dropped was a tenth of its time).
FOR_DISPLAY: ContextVar[bool] = ContextVar("for_display", default=True)


def event(index: int, title: str, data: dict[str, Any], text: str | None = None) -> Entry:
    """Unknown-but-valid content: kept as compact JSON so nothing is lost."""
    if text is None:
        text = compact({k: v for k, v in data.items() if k != "type"}) if FOR_DISPLAY.get() else ""
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
        if len(dumped) > _PRETTY_LIMIT or not FOR_DISPLAY.get():
            return dumped
    if not FOR_DISPLAY.get():
        return json.dumps(value, ensure_ascii=False)  # escapes decoded: `\nls` is `ls`
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
            thought = texts(block.get("thinking"))
            sealed = not thought.strip() and any(
                str_of(block.get(k)) for k in ("signature", "thinkingSignature")
            )
            out.append(Entry("reasoning", i, thought, title="encrypted" if sealed else None))
        elif btype == "redacted_thinking":  # the model's thinking, sent back encrypted
            out.append(Entry("reasoning", i, "", title="encrypted"))
        elif btype in (call_type, "server_tool_use"):
            name, call_id = str_of(block.get("name")), str_of(block.get("id"))
            out.append(call(i, name, call_id, block.get(args), st))
        else:
            out.append(event(i, f"block {btype}", block))
    return out
