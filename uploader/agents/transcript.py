"""Transcript lines as conversation entries, for the dashboard and `replay --format text`.

Every line yields at least one Entry: a line we cannot read comes back as a "raw" entry
with its text, a line type we do not know as an "event" carrying its JSON, so a viewer
never hides data. Each line is parsed with json.loads once; texts are not cut here (the
renderer folds), so the dashboard can still show a whole tool output on demand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "user", "assistant", "reasoning", "tool_call", "tool_result", "summary", "compaction",
    "usage", "meta", "event", "raw",
)  # fmt: skip
_EVENT_LIMIT = 2000
_PRETTY_LIMIT = 100_000
_CONTINUED = "This session is being continued"  # how Claude Code opens a compact summary
_CONTEXT_PREFIXES = ("<", "# AGENTS.md instructions")  # Codex context sent as user messages
# Bookkeeping that duplicates or only annotates the conversation: not shown by render_text.
QUIET_EVENTS = frozenset(
    {"user_message", "agent_message", "agent_reasoning", "token_count", "progress",
     "file-history-snapshot"}
)  # fmt: skip
_CODEX_USAGE = (
    ("input_tokens", "input"), ("cached_input_tokens", "cache_read"),
    ("output_tokens", "output"), ("reasoning_output_tokens", "reasoning"),
    ("total_tokens", "total"),
)  # fmt: skip
_CLAUDE_USAGE = (
    ("input_tokens", "input"), ("output_tokens", "output"),
    ("cache_read_input_tokens", "cache_read"), ("cache_creation_input_tokens", "cache_write"),
)  # fmt: skip
_PI_USAGE = (
    ("input", "input"), ("output", "output"), ("cacheRead", "cache_read"),
    ("cacheWrite", "cache_write"), ("totalTokens", "total"),
)  # fmt: skip
_CLAUDE_ONLY = frozenset({"summary", "file-history-snapshot", "queue-operation", "custom-title",
                          "ai-title", "progress"})  # fmt: skip
_PI_TYPES = frozenset(
    {"session", "message", "compaction", "model_change", "thinking_level_change",
     "branch_summary", "custom", "custom_message", "label", "session_info", "reset"}
)  # fmt: skip
_PI_META = {"session": "cwd", "model_change": "modelId", "thinking_level_change": "thinkingLevel",
            "label": "label", "session_info": "name"}  # fmt: skip


class _Malformed(Exception):
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


def parse_line(line: bytes, index: int, agent: str, state: ParseState | None = None) -> list[Entry]:
    """The entries of one transcript line; never raises, never returns an empty list."""
    if state is None:
        state = ParseState()
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # broken JSON, invalid UTF-8, absurd nesting
        return [_raw(line, index)]
    if not isinstance(obj, dict):
        return [_raw(line, index)]
    fmt = agent if agent in _PARSERS else state.agent
    if fmt not in _PARSERS:
        fmt = _detect(obj)
        if fmt not in _PARSERS:
            return [_raw(line, index)]
        state.agent = fmt
    try:
        if not isinstance(obj.get("type"), str):
            raise _Malformed
        entries = _PARSERS[fmt](obj, index, state, len(line)) or [_event(index, obj["type"], obj)]
    except Exception:  # never raise: a shape nobody foresaw is shown as it was written
        return [_raw(line, index)]
    ts = obj.get("timestamp")
    if isinstance(ts, str):
        for entry in entries:
            entry.ts = ts
    return entries


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


def _detect(obj: dict[str, Any]) -> str:
    kind = obj.get("type")
    if not isinstance(kind, str):
        return "unknown"
    if "payload" in obj:
        return "codex"
    if kind in _CLAUDE_ONLY or (
        kind in ("user", "assistant", "system") and ("sessionId" in obj or "uuid" in obj)
    ):
        return "claude"
    if kind in _PI_TYPES:
        return "openclaw"
    return "unknown"


# -- helpers shared by the formats ------------------------------------------------------


def _raw(line: bytes, index: int) -> Entry:
    return Entry("raw", index, line.decode("utf-8", "replace").rstrip("\r\n"))


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))[:_EVENT_LIMIT]


def _event(index: int, title: str, data: dict[str, Any], text: str | None = None) -> Entry:
    """Unknown-but-valid content: kept as compact JSON so nothing is lost."""
    if text is None:
        text = _compact({k: v for k, v in data.items() if k != "type"})
    return Entry("event", index, text, title=title)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(content: Any) -> str:
    """Text of a string or of a list of content blocks (text-like joined by newlines)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _Malformed
    parts: list[str] = []
    for item in content:
        if isinstance(item, str):
            parts.append(item)
        elif not isinstance(item, dict):
            raise _Malformed
        elif isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif item.get("type") in ("image", "input_image"):
            parts.append("[image]")
        else:
            parts.append(f"[{item.get('type')}]")
    return "\n".join(parts)


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise _Malformed
    return content


def _pretty(value: Any) -> str | None:
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
        compact = json.dumps(value, ensure_ascii=False)
        if len(compact) > _PRETTY_LIMIT:
            return compact
    return json.dumps(value, indent=2, ensure_ascii=False)


def _usage(src: dict[str, Any], names: tuple[tuple[str, str], ...]) -> dict[str, float] | None:
    out: dict[str, float] = {}
    for key, name in names:
        value = src.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out or None


def _call(index: int, name: str | None, call_id: str | None, args: Any, st: ParseState) -> Entry:
    if call_id and name:
        st.tool_names[call_id] = name
    return Entry("tool_call", index, name=name, call_id=call_id, arguments=_pretty(args))


# -- Codex ------------------------------------------------------------------------------


def _codex(obj: dict[str, Any], i: int, st: ParseState, size: int) -> list[Entry]:
    kind, payload = obj["type"], obj.get("payload")
    if kind not in ("response_item", "event_msg", "session_meta", "turn_context", "compacted"):
        return [_event(i, kind, payload if isinstance(payload, dict) else obj)]
    if not isinstance(payload, dict):
        raise _Malformed
    if kind == "response_item":
        return [_codex_item(payload, i, st)]
    if kind == "event_msg":
        return [_codex_event(payload, i, st)]
    if kind in ("session_meta", "turn_context"):
        facts = [
            f"{k} {payload[k]}" for k in ("model", "cwd", "cli_version") if _str(payload.get(k))
        ]
        return [Entry("meta", i, " · ".join(facts), title=kind)]
    message = _texts(payload.get("message"))
    if not message:  # remote compaction: the history is encrypted, only its size is news
        history = payload.get("replacement_history")
        items = history if isinstance(history, list) else []
        n = sum(len(_str(_dict(x).get("encrypted_content")) or "") for x in items)
        message = f"remote compaction ({n or size} bytes of encrypted history)"
    return [Entry("compaction", i, message)]


def _codex_item(p: dict[str, Any], i: int, st: ParseState) -> Entry:
    ptype = p.get("type")
    if ptype == "message":
        role, text = _str(p.get("role")) or "?", _texts(p.get("content"))
        if role == "assistant":
            return Entry("assistant", i, text, role=role)
        if role == "user":
            context = text.lstrip().startswith(_CONTEXT_PREFIXES)
            return Entry("user", i, text, role=role, title="context" if context else None)
        return Entry("event", i, text, role=role, title=f"{role} message")
    if ptype == "reasoning":  # encrypted_content is opaque: only the summary is readable
        return Entry("reasoning", i, _texts(p.get("summary")) or _texts(p.get("content")))
    if ptype in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call"):
        name = {"local_shell_call": "local_shell", "web_search_call": "web_search"}.get(ptype)
        call_id = _str(p.get("call_id")) or _str(p.get("id"))
        args = next((p[k] for k in ("arguments", "input", "action") if k in p), None)
        return _call(i, name or _str(p.get("name")), call_id, args, st)
    if ptype in ("function_call_output", "custom_tool_call_output"):
        call_id = _str(p.get("call_id"))
        text, failed = _codex_output(p.get("output"))
        name = st.tool_names.get(call_id or "")
        return Entry("tool_result", i, text, name=name, call_id=call_id, is_error=failed)
    return _event(i, _str(ptype) or "response_item", p)


def _codex_output(output: Any) -> tuple[str, bool]:
    """Output text and whether it failed; shell outputs wrap the text with an exit code."""
    if isinstance(output, dict):
        return _texts(output.get("content")) or _compact(output), output.get("success") is False
    if not isinstance(output, str):
        return _texts(output), False
    if output.startswith("{"):
        try:
            wrapped = json.loads(output)
        except (ValueError, RecursionError):
            wrapped = None
        if isinstance(wrapped, dict) and isinstance(wrapped.get("output"), str):
            code = _dict(wrapped.get("metadata")).get("exit_code")
            return wrapped["output"], isinstance(code, int) and code != 0
    if output.startswith("Exit code: "):  # newer builds: plain text with a header
        code_text = output[11:].split("\n", 1)[0].strip()
        return output, code_text.lstrip("-").isdigit() and int(code_text) != 0
    return output, False


def _codex_event(p: dict[str, Any], i: int, st: ParseState) -> Entry:
    etype = _str(p.get("type")) or "event_msg"
    if etype == "token_count":
        info = _dict(p.get("info"))
        total = info.get("total_token_usage")
        if isinstance(total, dict) and total != st.codex_total:
            st.codex_total = total
            last = info.get("last_token_usage")  # this turn's numbers, not the running sum
            numbers = _usage(last if isinstance(last, dict) else total, _CODEX_USAGE)
            return Entry("usage", i, usage=numbers)
    text = _str(p.get("message")) or _str(p.get("text"))  # user_message, agent_reasoning, ...
    return _event(i, etype, p, text)


# -- Claude Code ------------------------------------------------------------------------


def _claude(obj: dict[str, Any], i: int, st: ParseState, size: int) -> list[Entry]:
    kind = obj["type"]
    if kind in ("user", "assistant"):
        msg = obj.get("message")
        if not isinstance(msg, dict):
            raise _Malformed
        parse = _claude_user if kind == "user" else _claude_assistant
        out = parse(obj, msg, i, st)
        st.after_compact_boundary = False
        return out
    if kind == "system":
        subtype = _str(obj.get("subtype"))
        if subtype == "compact_boundary":
            st.after_compact_boundary = True
            info = _dict(obj.get("compactMetadata"))
            text = f"{_str(info.get('trigger')) or 'manual'} compaction"
            if isinstance(info.get("preTokens"), int):
                text += f" at {info['preTokens']:,} tokens"
            return [Entry("compaction", i, text, title=subtype)]
        title = f"system {subtype}" if subtype else "system"
        return [_event(i, title, obj, _str(obj.get("content")))]
    if kind == "summary":
        return [Entry("meta", i, _texts(obj.get("summary")), title="summary")]
    if kind in ("custom-title", "ai-title"):
        name = _str(obj.get("customTitle")) or _str(obj.get("aiTitle")) or _str(obj.get("title"))
        return [Entry("meta", i, name, title=kind)] if name else [_event(i, kind, obj)]
    return [_event(i, kind, obj)]


def _claude_user(obj: dict[str, Any], msg: dict[str, Any], i: int, st: ParseState) -> list[Entry]:
    out: list[Entry] = []
    texts: list[str] = []
    at = -1  # where the user's own text goes among the tool results
    role = _str(msg.get("role"))
    for block in _blocks(msg.get("content")):
        btype = block.get("type")
        if btype == "tool_result":
            call_id = _str(block.get("tool_use_id"))
            name = st.tool_names.get(call_id or "")
            failed = block.get("is_error") is True
            text = _texts(block.get("content"))
            out.append(Entry("tool_result", i, text, role, name, call_id, is_error=failed))
        elif btype in ("text", "image"):
            at = len(out) if at < 0 else at
            texts.append(_texts([block]))
        else:
            out.append(_event(i, f"block {btype}", block))
    if texts:
        text = "\n".join(texts)
        if obj.get("isCompactSummary") is True or (
            st.after_compact_boundary and text.startswith(_CONTINUED)
        ):
            out.insert(at, Entry("summary", i, text, role))
        else:
            title = "isMeta" if obj.get("isMeta") is True else None
            out.insert(at, Entry("user", i, text, role, title=title))
    return out


def _claude_assistant(
    obj: dict[str, Any], msg: dict[str, Any], i: int, st: ParseState
) -> list[Entry]:
    out = _assistant_blocks(msg.get("content"), i, st, "tool_use", "input")
    usage = msg.get("usage")
    if isinstance(usage, dict):
        key = (str(msg.get("id")), str(obj.get("requestId")))  # one message spans many lines
        if key == ("None", "None") or key not in st.usage_seen:
            st.usage_seen.add(key)
            numbers = _usage(usage, _CLAUDE_USAGE)
            out.append(Entry("usage", i, usage=numbers, title=_str(msg.get("model"))))
    return out


def _assistant_blocks(content: Any, i: int, st: ParseState, call: str, args: str) -> list[Entry]:
    """Claude and pi assistant blocks; they differ only in the tool call's names."""
    out: list[Entry] = []
    for block in _blocks(content):
        btype = block.get("type")
        if btype == "text":
            out.append(Entry("assistant", i, _texts(block.get("text")), "assistant"))
        elif btype == "thinking":
            out.append(Entry("reasoning", i, _texts(block.get("thinking"))))
        elif btype == "redacted_thinking":
            out.append(Entry("reasoning", i, "[redacted]"))
        elif btype in (call, "server_tool_use"):
            name, call_id = _str(block.get("name")), _str(block.get("id"))
            out.append(_call(i, name, call_id, block.get(args), st))
        else:
            out.append(_event(i, f"block {btype}", block))
    return out


# -- OpenClaw and pi ----------------------------------------------------------------------


def _pi(obj: dict[str, Any], i: int, st: ParseState, size: int) -> list[Entry]:
    kind = obj["type"]
    if kind == "message":
        msg = obj.get("message")
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise _Malformed
        return _pi_message(msg, i, st, _str(obj.get("id")))
    if kind == "compaction":
        tokens = obj.get("tokensBefore")
        title = f"compaction at {tokens:,} tokens" if isinstance(tokens, int) else "compaction"
        return [Entry("compaction", i, _texts(obj.get("summary")), title=title)]
    if kind == "branch_summary":
        return [Entry("summary", i, _texts(obj.get("summary")), title=kind)]
    if kind in _PI_META:
        detail = _str(obj.get(_PI_META[kind]))
        rest = {k: v for k, v in obj.items() if k not in ("type", "id", "parentId", "timestamp")}
        title = f"{kind} {detail}" if detail and kind != "session" else kind
        return [Entry("meta", i, _compact(rest), title=title)]
    return [_event(i, kind, obj)]


def _pi_message(msg: dict[str, Any], i: int, st: ParseState, entry_id: str | None) -> list[Entry]:
    role, content = msg["role"], msg.get("content")
    if role == "user":
        return [Entry("user", i, _texts(content), role)]
    if role == "assistant":
        out = _assistant_blocks(content, i, st, "toolCall", "arguments")
        if _str(msg.get("errorMessage")):
            out.append(Entry("event", i, msg["errorMessage"], role, is_error=True, title="error"))
        usage = msg.get("usage")
        if isinstance(usage, dict):
            numbers = _usage(usage, _PI_USAGE) or {}
            cost = usage.get("cost")
            if isinstance(cost, dict) and isinstance(cost.get("total"), int | float):
                numbers["cost_usd"] = float(cost["total"])
            out.append(Entry("usage", i, usage=numbers or None, title=_str(msg.get("model"))))
        return out
    if role == "toolResult":
        call_id = _str(msg.get("toolCallId"))
        name = _str(msg.get("toolName")) or st.tool_names.get(call_id or "")
        failed = msg.get("isError") is True
        return [Entry("tool_result", i, _texts(content), role, name, call_id, is_error=failed)]
    if role == "bashExecution":  # the user ran a shell command: a call and its result
        code = msg.get("exitCode")
        failed = (isinstance(code, int) and code != 0) or msg.get("cancelled") is True
        call = _call(i, "bash", entry_id, {"command": msg.get("command")}, st)
        text = _texts(msg.get("output"))
        return [call, Entry("tool_result", i, text, role, "bash", entry_id, is_error=failed)]
    if role in ("compactionSummary", "branchSummary"):
        return [Entry("summary", i, _texts(msg.get("summary")) or _texts(content), role)]
    return [_event(i, f"message {role}", msg, _texts(content) or None)]


_PARSERS: dict[str, Callable[[dict[str, Any], int, ParseState, int], list[Entry]]] = {
    "codex": _codex, "claude": _claude, "openclaw": _pi, "pi": _pi,
}  # fmt: skip


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
