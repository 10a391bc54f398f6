"""The session-tree format OpenClaw and pi share (OpenClaw runs pi's agent core).

The first line is a `session` header (id, cwd); every later line is an entry with `id` and
`parentId`: `message` (user, assistant, toolResult, bashExecution, summaries), `compaction`,
`branch_summary`, and settings changes (`model_change`, `thinking_level_change`, ...).
openclaw.py and pi.py say where each keeps its files and how it names them.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from uploader.agents.base import Agent, CheckpointMark, SessionMeta, short, short_git
from uploader.agents.entries import (
    Entry,
    Malformed,
    ParseState,
    assistant_blocks,
    call,
    compact,
    event,
    images_in,
    str_of,
    texts,
    usage,
)

_TYPES = frozenset(
    {"session", "message", "compaction", "model_change", "thinking_level_change",
     "branch_summary", "custom", "custom_message", "label", "session_info", "reset"}
)  # fmt: skip
_META = {"session": "cwd", "model_change": "modelId", "thinking_level_change": "thinkingLevel",
         "label": "label", "session_info": "name"}  # fmt: skip
_USAGE = (
    ("input", "input"), ("output", "output"), ("cacheRead", "cache_read"),
    ("cacheWrite", "cache_write"), ("totalTokens", "total"),
)  # fmt: skip


class SessionTree(Agent):
    """What OpenClaw and pi files have in common: everything but where they lie."""

    # OpenClaw notes the model at every start; the usage of each message names it too.
    quiet_events = frozenset({"custom model-snapshot"})

    def is_header(self, obj: dict[str, Any], path: PurePath) -> bool:
        return obj.get("type") == "session"

    def read_meta(self, obj: dict[str, Any], path: PurePath, meta: SessionMeta) -> bool:
        if obj.get("type") != "session":
            return False
        meta.first_line_id = str_of(obj.get("id"))
        meta.cwd = str_of(obj.get("cwd"))
        return True

    def recognises(self, obj: dict[str, Any]) -> bool:
        return obj.get("type") in _TYPES

    def checkpoint_of(
        self, obj: dict[str, Any], meta: SessionMeta, ts: float
    ) -> CheckpointMark | None:
        if obj.get("type") != "compaction":
            return None
        summary = str_of(obj.get("summary"))
        tokens = obj.get("tokensBefore")
        if summary:
            label = short(summary)
        elif isinstance(tokens, int):
            label = f"compaction at {tokens:,} tokens"
        else:
            label = "compaction"
        return CheckpointMark(label, short_git(meta.git_commit or meta.git_branch), ts)

    def parse(self, obj: dict[str, Any], i: int, st: ParseState, size: int) -> list[Entry]:
        kind = obj["type"]
        if kind == "message":
            msg = obj.get("message")
            if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
                raise Malformed
            return _message(msg, i, st, str_of(obj.get("id")))
        if kind == "compaction":
            tokens = obj.get("tokensBefore")
            title = f"compaction at {tokens:,} tokens" if isinstance(tokens, int) else "compaction"
            return [Entry("compaction", i, texts(obj.get("summary")), title=title)]
        if kind == "branch_summary":
            return [Entry("summary", i, texts(obj.get("summary")), title=kind)]
        if kind in _META:
            detail = str_of(obj.get(_META[kind]))
            rest = {
                k: v for k, v in obj.items() if k not in ("type", "id", "parentId", "timestamp")
            }
            title = f"{kind} {detail}" if detail and kind != "session" else kind
            return [Entry("meta", i, compact(rest), title=title)]
        if kind == "custom" and str_of(obj.get("customType")):  # an extension's own entry
            return [event(i, f"custom {obj['customType']}", obj)]
        return [event(i, kind, obj)]


def _message(msg: dict[str, Any], i: int, st: ParseState, entry_id: str | None) -> list[Entry]:
    role, content = msg["role"], msg.get("content")
    if role == "user":
        return [Entry("user", i, texts(content), role, images=images_in(content, st))]
    if role == "assistant":
        out = assistant_blocks(content, i, st, "toolCall", "arguments")
        if str_of(msg.get("errorMessage")):
            out.append(Entry("event", i, msg["errorMessage"], role, is_error=True, title="error"))
        spent = msg.get("usage")
        if isinstance(spent, dict):
            numbers = usage(spent, _USAGE) or {}
            cost = spent.get("cost")
            if isinstance(cost, dict) and isinstance(cost.get("total"), int | float):
                numbers["cost_usd"] = float(cost["total"])
            out.append(Entry("usage", i, usage=numbers or None, title=str_of(msg.get("model"))))
        return out
    if role == "toolResult":
        call_id = str_of(msg.get("toolCallId"))
        name = str_of(msg.get("toolName")) or st.tool_names.get(call_id or "")
        failed = msg.get("isError") is True
        result = Entry("tool_result", i, texts(content), role, name, call_id, is_error=failed)
        result.images = images_in(content, st)
        return [result]
    if role == "bashExecution":  # the user ran a shell command: a call and its result
        code = msg.get("exitCode")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        failed = (code is not None and code != 0) or msg.get("cancelled") is True
        pair = entry_id or f"bash@{i}"  # older files have no entry ids: the call and its result
        shell = call(i, "bash", pair, {"command": msg.get("command")}, st)
        text = texts(msg.get("output"))
        result = Entry("tool_result", i, text, role, "bash", pair, is_error=failed)
        result.exit_code = code
        return [shell, result]
    if role in ("compactionSummary", "branchSummary"):
        return [Entry("summary", i, texts(msg.get("summary")) or texts(content), role)]
    return [event(i, f"message {role}", msg, texts(content) or None)]
