"""Transcript lines in each agent's own shapes (docs/formats.md), for the tests and the
benchmarks alike: one set of line builders (`codex_line`, `claude_entry`, `exec_output`,
`codex_turn_context`, `jsonl`) behind every session below.

Small hand-written sessions, one of each agent (what the dashboard, restore and
redaction tests read):

- `codex_lines`, `claude_lines`, `openclaw_lines`, `pi_lines`: small realistic sessions
  with one compaction each; `hostile_lines`: what a dashboard must survive.

Generated sessions of any size, seeded:

- `big_session_lines`: Codex-like lines from a small fixed vocabulary, fast and the same
  on every machine; what tests and the store/reload/redaction benchmarks that need
  volume, not realism, use.
- `TranscriptGen` (with a `Corpus`): Codex and Claude Code turns, filled with code and
  prose from the standard library's sources, so their line sizes and compression ratio
  are those of real transcripts; what `bench_watch.py` and `bench_watch_redaction.py`
  measure `watch` on.

Writing them into a store as the uploader would is `tests/support/session_factory.py`'s job.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import random
import re
import sysconfig
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

CWD = "/home/dev/shop-api"
MB = 1_000_000

CODEX_SID = "019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f"
CLAUDE_SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"
OPENCLAW_SID = "7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77"
PI_SID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
HOSTILE_SID = "hostile-session"


# -- line builders ------------------------------------------------------------------------


def jsonl(obj: dict[str, Any]) -> bytes:
    """One line as the agents write them: compact JSON, non-ASCII kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class _Clock:
    """Timestamps moving forward from a start, as ISO strings and epoch milliseconds."""

    def __init__(self, start: str) -> None:
        self.t = _epoch(start)

    def tick(self, seconds: float = 1.0) -> str:
        self.t += seconds
        return iso(self.t)

    def ms(self) -> int:
        return round(self.t * 1000)

    def jump_to(self, iso: str) -> str:
        self.t = _epoch(iso)
        return iso


def _hex8(seed: str, n: int) -> str:
    return hashlib.sha1(f"{seed}:{n}".encode()).hexdigest()[:8]


def exec_output(output: str, exit_code: int = 0, seconds: float = 0.2) -> str:
    """Codex wraps a tool's output in a JSON string inside the JSON line."""
    meta = {"exit_code": exit_code, "duration_seconds": seconds}
    return json.dumps({"output": output, "metadata": meta}, separators=(",", ":"))


def codex_line(timestamp: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One Codex rollout line: every line is a timestamped, typed payload."""
    return {"timestamp": timestamp, "type": kind, "payload": payload}


def codex_turn_context(cwd: str) -> dict[str, Any]:
    """The payload of the `turn_context` line that starts a Codex turn."""
    return {"cwd": cwd, "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write", "network_access": False},
            "model": "gpt-5-codex", "effort": "medium", "summary": "auto"}  # fmt: skip


def claude_entry(
    kind: str,
    body: dict[str, Any],
    *,
    parent: str | None,
    uuid: str,
    timestamp: str,
    sid: str,
    cwd: str,
    branch: str = "main",
) -> dict[str, Any]:
    """One Claude Code line: the conversation fields every entry repeats, the entry's own
    `body` (its message and extras), then its uuid (the next entry's parentUuid) and time."""
    return {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd,
            "sessionId": sid, "version": "2.1.72", "gitBranch": branch, "type": kind,
            **body, "uuid": uuid, "timestamp": timestamp}  # fmt: skip


def numbered_line(sid: str, i: int, text: str = "hello") -> bytes:
    """A short Claude Code line numbered `i` (user and assistant in turn), for tests that
    need many distinct lines of one session rather than a realistic conversation."""
    return (
        json.dumps(
            {
                "type": "user" if i % 2 else "assistant",
                "sessionId": sid,
                "cwd": "/home/me/shop",
                "uuid": f"u-{i}",
                "message": {"role": "user", "content": f"{text} {i}"},
                "timestamp": f"2026-03-14T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
            }
        ).encode()
        + b"\n"
    )


def compact_boundary(sid: str, **more: Any) -> bytes:
    """Claude Code's compaction line (a checkpoint), to go between numbered lines; `more`:
    fields it carries too (`gitBranch`, `uuid`)."""
    return (
        json.dumps(
            {
                "type": "system",
                "subtype": "compact_boundary",
                "sessionId": sid,
                **more,
                "compactMetadata": {"trigger": "auto", "preTokens": 155210},
                "timestamp": "2026-03-14T11:40:00.000Z",
            }
        ).encode()
        + b"\n"
    )


# -- small sessions, one of each agent ------------------------------------------------


def codex_lines() -> list[bytes]:
    """A Codex CLI rollout: a turn with shell and apply_patch calls, a remote compaction
    (followed by its context_compacted event: one checkpoint), then a second turn."""
    c = _Clock("2026-03-14T09:12:05.000Z")
    sid, cwd = CODEX_SID, "/home/dev/shop-api"

    def item(payload: dict[str, Any], at: str | None = None) -> bytes:
        return jsonl(codex_line(at or c.tick(0.4), "response_item", payload))

    def event(payload: dict[str, Any]) -> bytes:
        return jsonl(codex_line(c.tick(0.1), "event_msg", payload))

    def tokens(total: int) -> bytes:
        usage = {
            "input_tokens": total - 1400,
            "cached_input_tokens": total - 9000,
            "output_tokens": 1400,
            "reasoning_output_tokens": 640,
            "total_tokens": total,
        }
        last = {
            "input_tokens": 9800,
            "cached_input_tokens": 9216,
            "output_tokens": 210,
            "reasoning_output_tokens": 96,
            "total_tokens": 10010,
        }
        info = {"total_token_usage": usage, "last_token_usage": last,
                "model_context_window": 272000}  # fmt: skip
        return event({"type": "token_count", "info": info, "rate_limits": None})

    def user(text: str) -> list[bytes]:
        content = [{"type": "input_text", "text": text}]
        return [
            item({"type": "message", "role": "user", "content": content}),
            event({"type": "user_message", "message": text, "images": []}),
        ]

    def shell(call_id: str, command: str, output: str, code: int = 0) -> list[bytes]:
        args = json.dumps({"command": ["bash", "-lc", command], "workdir": cwd})
        return [
            item({"type": "function_call", "name": "shell", "arguments": args, "call_id": call_id}),
            item({"type": "function_call_output", "call_id": call_id,
                  "output": exec_output(output, code)}),
        ]  # fmt: skip

    def reasoning(summary: str) -> list[bytes]:
        return [
            item({"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}],
                  "content": None, "encrypted_content": "gAAAAABo" + "Zk9yZGVycw" * 12}),
            event({"type": "agent_reasoning", "text": summary}),
        ]  # fmt: skip

    def answer(text: str) -> list[bytes]:
        content = [{"type": "output_text", "text": text}]
        return [
            item({"type": "message", "role": "assistant", "content": content}),
            event({"type": "agent_message", "message": text}),
        ]

    turn_context = codex_turn_context(cwd)
    patch = (
        "*** Begin Patch\n*** Update File: src/orders.py\n@@ def list_orders(\n"
        "-def list_orders(db):\n-    return db.query(Order).all()\n"
        "+def list_orders(db, limit: int = 50, offset: int = 0):\n"
        "+    return db.query(Order).order_by(Order.id).limit(limit).offset(offset).all()\n"
        "*** End Patch"
    )
    env_context = (
        "<environment_context>\n  <cwd>/home/dev/shop-api</cwd>\n"
        "  <approval_policy>on-request</approval_policy>\n"
        "  <sandbox_mode>workspace-write</sandbox_mode>\n  <shell>bash</shell>\n"
        "</environment_context>"
    )
    session_meta = {
        "id": sid, "timestamp": "2026-03-14T09:12:05.000Z", "cwd": cwd,
        "originator": "codex_cli_rs", "cli_version": "0.112.0", "source": "cli",
        "model_provider": "openai", "instructions": None,
        "git": {"commit_hash": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "branch": "main",
                "repository_url": "git@github.com:example/shop-api.git"},
    }  # fmt: skip
    out = [
        jsonl(codex_line(c.tick(0), "session_meta", session_meta)),
        jsonl(codex_line(c.tick(0.01), "turn_context", turn_context)),
        item({"type": "message", "role": "user",
              "content": [{"type": "input_text", "text": env_context}]}),
        event({"type": "task_started", "model_context_window": 272000}),
        *user("Add pagination to /orders (limit/offset, default 50)"),
        *reasoning("**Locating the orders router**"),
        *shell("call_Q1w2E3", "rg -n list_orders src", "src/orders.py:42:def list_orders(db):\n"),
        tokens(49520),
        *shell("call_R4t5Y6", "sed -n 30,60p src/orders.py",
               "@router.get('/orders')\ndef list_orders(db):\n    return db.query(Order).all()\n"),
        item({"type": "custom_tool_call", "status": "completed", "call_id": "call_U7i8O9",
              "name": "apply_patch", "input": patch}),
        item({"type": "custom_tool_call_output", "call_id": "call_U7i8O9",
              "output": exec_output("Success. Updated the following files:\nM src/orders.py\n")}),
        tokens(61230),
        *answer("Added `limit`/`offset` query parameters to `GET /orders` (default 50, ordered "
                "by id)."),
        event({"type": "task_complete", "last_agent_message": "Added limit/offset to /orders."}),
    ]  # fmt: skip
    history = [
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "Add pagination to /orders"}]},
        {"type": "compaction", "encrypted_content": "gAAAAABoQ29tcGFjdGVk" * 40},
    ]  # fmt: skip
    c.jump_to("2026-03-14T11:40:00.550Z")
    out += [
        jsonl({"timestamp": "2026-03-14T11:40:00.550Z", "type": "compacted",
            "payload": {"message": "", "replacement_history": history}}),
        event({"type": "context_compacted"}),
        jsonl(codex_line(c.tick(5), "turn_context", turn_context)),
        event({"type": "task_started", "model_context_window": 272000}),
        *user("Now add tests for the pagination"),
        *shell("call_P0a9S8", "pytest -q tests/test_orders.py",
               "F.\nFAILED tests/test_orders.py::test_default_limit - assert 100 == 50\n", 1),
        *reasoning("**Fixing the default limit**"),
        *shell("call_D7f6G5", "pytest -q tests/test_orders.py", "..\n2 passed in 0.41s\n"),
        tokens(30110),
        *answer("Tests added in `tests/test_orders.py`; both pass."),
        event({"type": "task_complete", "last_agent_message": "Tests added; both pass."}),
    ]  # fmt: skip
    return out


def claude_lines() -> list[bytes]:
    """A Claude Code session: thinking and tool_use sharing one message.id, tool results,
    a file-history snapshot, a compact_boundary with its summary, a title and a summary."""
    c = _Clock("2026-03-14T09:12:06.000Z")
    sid, cwd = CLAUDE_SID, "/home/dev/shop-api"
    n = 0
    parent: str | None = None

    def entry(kind: str, body: dict[str, Any], *, seconds: float = 1.5) -> bytes:
        nonlocal n, parent
        n += 1
        me = f"9f0c1d2e-1111-4a2b-8c3d-{n:012d}"
        line = claude_entry(kind, body, parent=parent, uuid=me, timestamp=c.tick(seconds),
                            sid=sid, cwd=cwd)  # fmt: skip
        parent = me
        return jsonl(line)

    def user(content: str | list[dict[str, Any]], **more: Any) -> bytes:
        return entry("user", {"message": {"role": "user", "content": content}, **more})

    def assistant(msg_id: str, req: str, block: dict[str, Any], stop: str | None) -> bytes:
        usage = {"input_tokens": 12, "cache_creation_input_tokens": 5120,
                 "cache_read_input_tokens": 18000, "output_tokens": 88}  # fmt: skip
        message = {"id": msg_id, "type": "message", "role": "assistant",
                   "model": "claude-sonnet-4-5-20250929", "content": [block],
                   "stop_reason": stop, "stop_sequence": None, "usage": usage}  # fmt: skip
        return entry("assistant", {"requestId": req, "message": message})

    def tool_use(msg_id: str, req: str, tool_id: str, name: str, args: dict[str, Any]) -> bytes:
        block = {"type": "tool_use", "id": tool_id, "name": name, "input": args}
        return assistant(msg_id, req, block, "tool_use")

    def result(tool_id: str, text: str, error: bool = False) -> bytes:
        block = {"type": "tool_result", "tool_use_id": tool_id, "content": text, "is_error": error}
        return user([block], toolUseResult={"stdout": text, "stderr": "", "interrupted": False})

    source = (
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/orders')\n"
        "def list_orders(db):\n    return db.query(Order).all()\n"
    )
    out = [
        user("Add pagination to /orders"),
        assistant("msg_01Qx", "req_011CAbc",
                  {"type": "thinking", "thinking": "Find the orders router first.",
                   "signature": "EqQBCkYIBxgCKkB" + "x" * 40}, None),
        tool_use("msg_01Qx", "req_011CAbc", "toolu_01Xy", "Grep",
                 {"pattern": "def list_orders", "path": "src"}),
        result("toolu_01Xy", "src/orders.py:7:def list_orders(db):"),
        tool_use("msg_01R2", "req_011CAbd", "toolu_01Rd", "Read",
                 {"file_path": "/home/dev/shop-api/src/orders.py"}),
        result("toolu_01Rd", source),
        jsonl({"type": "file-history-snapshot", "messageId": "9f0c1d2e-1111-4a2b-8c3d-000000000006",
            "snapshot": {"messageId": "9f0c1d2e-1111-4a2b-8c3d-000000000006",
                         "trackedFileBackups": {}, "timestamp": c.tick(0.1)},
            "isSnapshotUpdate": False}),
        tool_use("msg_01E3", "req_011CAbe", "toolu_01Ed", "Edit",
                 {"file_path": "/home/dev/shop-api/src/orders.py",
                  "old_string": "def list_orders(db):\n    return db.query(Order).all()",
                  "new_string": "def list_orders(db, limit: int = 50, offset: int = 0):\n"
                                "    return db.query(Order).limit(limit).offset(offset).all()"}),
        result("toolu_01Ed", "The file /home/dev/shop-api/src/orders.py has been updated."),
        assistant("msg_01T4", "req_011CAbf",
                  {"type": "text", "text": "Pagination added: `limit` (default 50) and `offset`."},
                  "end_turn"),
    ]  # fmt: skip
    c.jump_to("2026-03-14T11:39:59.000Z")
    before = parent
    parent = None
    out += [
        entry("system", {"logicalParentUuid": before, "subtype": "compact_boundary",
                         "content": "Conversation compacted", "level": "info",
                         "compactMetadata": {"trigger": "auto", "preTokens": 155210}}),
        user("This session is being continued from a previous conversation that ran out of "
             "context. Summary: pagination (limit/offset) added to GET /orders in "
             "src/orders.py.", isCompactSummary=True, isVisibleInTranscriptOnly=True),
        user("Now add tests for the pagination"),
        tool_use("msg_01B5", "req_011CAbg", "toolu_01Bp", "Bash",
                 {"command": "pytest -q tests/test_orders.py", "description": "Run the tests"}),
        result("toolu_01Bp", "F.\nFAILED tests/test_orders.py::test_default_limit", error=True),
        tool_use("msg_01B6", "req_011CAbh", "toolu_01Bq", "Bash",
                 {"command": "pytest -q tests/test_orders.py", "description": "Run again"}),
        result("toolu_01Bq", "..\n2 passed in 0.41s"),
        assistant("msg_01T7", "req_011CAbi", {"type": "text", "text": "Both tests pass now."},
                  "end_turn"),
    ]  # fmt: skip
    out += [
        jsonl({"type": "custom-title", "customTitle": "Orders pagination", "sessionId": sid}),
        jsonl({"type": "summary", "summary": "Orders API pagination", "leafUuid": parent}),
    ]
    return out


def _openclaw_style(
    sid: str,
    cwd: str,
    start: str,
    provider: str,
    model: str,
    turns: list[tuple[str, list[tuple[str, dict[str, Any], str]], str]],
    compaction: tuple[str, str, int],
    after: list[tuple[str, list[tuple[str, dict[str, Any], str]], str]],
) -> list[bytes]:
    """An OpenClaw / pi v3 session: header, model and thinking changes, then per turn a
    user message, an assistant toolCall + toolResult per call, and an assistant answer."""
    c = _Clock(start)
    n = 0
    parent: str | None = None
    ids: list[str] = []

    def entry(kind: str, body: dict[str, Any], seconds: float = 1.0) -> bytes:
        nonlocal n, parent
        n += 1
        eid = _hex8(sid, n)
        line = {"type": kind, "id": eid, "parentId": parent, "timestamp": c.tick(seconds), **body}
        parent = eid
        ids.append(eid)
        return jsonl(line)

    def message(msg: dict[str, Any], seconds: float = 1.0) -> bytes:
        c.tick(seconds)
        return entry("message", {"message": {**msg, "timestamp": c.ms() + 1}}, 0.001)

    def usage(inp: int, outp: int) -> dict[str, Any]:
        cost = round(inp * 3e-6 + outp * 15e-6, 6)
        return {"input": inp, "output": outp, "cacheRead": 0, "cacheWrite": 0,
                "totalTokens": inp + outp,
                "cost": {"input": round(inp * 3e-6, 6), "output": round(outp * 15e-6, 6),
                         "cacheRead": 0, "cacheWrite": 0, "total": cost}}  # fmt: skip

    def turn(spec: tuple[str, list[tuple[str, dict[str, Any], str]], str]) -> list[bytes]:
        text, calls, answer = spec
        lines = [message({"role": "user", "content": [{"type": "text", "text": text}]})]
        for i, (tool, args, output) in enumerate(calls):
            call_id = f"call_{_hex8(sid + text, i)}"
            blocks: list[dict[str, Any]] = [{"type": "toolCall", "id": call_id, "name": tool,
                                             "arguments": args}]  # fmt: skip
            if i == 0:
                blocks.insert(0, {"type": "thinking", "thinking": f"Use {tool} first."})
            lines.append(
                message(
                    {
                        "role": "assistant",
                        "content": blocks,
                        "api": "messages",
                        "provider": provider,
                        "model": model,
                        "usage": usage(820 + 300 * i, 64),
                        "stopReason": "toolUse",
                    }
                )
            )
            lines.append(message({"role": "toolResult", "toolCallId": call_id, "toolName": tool,
                                  "content": [{"type": "text", "text": output}],
                                  "isError": False}, 0.5))  # fmt: skip
        lines.append(message({"role": "assistant", "content": [{"type": "text", "text": answer}],
                              "api": "messages", "provider": provider, "model": model,
                              "usage": usage(2400, 180), "stopReason": "stop"}))  # fmt: skip
        return lines

    out = [
        jsonl({"type": "session", "version": 3, "id": sid, "timestamp": c.tick(0), "cwd": cwd}),
        entry("model_change", {"provider": provider, "modelId": model}, 0.01),
        entry("thinking_level_change", {"thinkingLevel": "low"}, 0.01),
    ]
    for spec in turns:
        out += turn(spec)
    summary, when, tokens = compaction
    kept = ids[-2]
    c.jump_to(when)
    out.append(entry("compaction", {"summary": summary, "firstKeptEntryId": kept,
                                    "tokensBefore": tokens}, 0))  # fmt: skip
    for spec in after:
        out += turn(spec)
    return out


def openclaw_lines() -> list[bytes]:
    """An OpenClaw agent session (v3 header): tool calls, a compaction, a later turn."""
    lines = _openclaw_style(
        OPENCLAW_SID, "/home/dev/.openclaw/workspace", "2026-03-14T09:00:00.000Z",
        "anthropic", "claude-sonnet-4-5",
        [("Summarise today's merged PRs",
          [("bash", {"command": "gh pr list --state merged --limit 5"},
            "#412 Fix auth refresh\n#409 Orders pagination\n"),
           ("bash", {"command": "gh pr view 412 --json title,body"},
            '{"title":"Fix auth refresh","body":"Refresh tokens 60s before expiry."}')],
          "Two PRs merged today: #412 (auth refresh) and #409 (orders pagination).")],
        ("User asked for a PR digest; #412 and #409 reviewed.", "2026-03-14T13:00:00.000Z",
         182400),
        [("Post the digest to #eng",
          [("message", {"action": "send", "channel": "slack", "target": "#eng",
                        "text": "Merged today: #412, #409"}, '{"ok":true,"ts":"1773493201.0001"}')],
          "Posted to #eng.")],
    )  # fmt: skip
    custom = {"type": "custom", "customType": "openclaw.heartbeat", "id": "f0e1d2c3",
              "parentId": json.loads(lines[-1])["id"], "timestamp": "2026-03-14T13:05:00.000Z",
              "data": {"status": "idle", "queue": 0}}  # fmt: skip
    return [*lines, jsonl(custom)]


def pi_lines() -> list[bytes]:
    """A pi-coding-agent session: the OpenClaw v3 schema, read/edit/bash tools."""
    return _openclaw_style(
        PI_SID, "/home/dev/shop-api", "2026-03-14T10:05:00.000Z", "openai", "gpt-5",
        [("Why does GET /orders return 500 for offset=-1?",
          [("read", {"path": "src/orders.py"},
            "def list_orders(db, limit: int = 50, offset: int = 0):\n"
            "    return db.query(Order).limit(limit).offset(offset).all()\n"),
           ("edit", {"path": "src/orders.py", "oldText": "offset: int = 0",
                     "newText": "offset: int = Query(0, ge=0)"},
            "Successfully replaced text in src/orders.py."),
           ("bash", {"command": "pytest -q"}, "....\n4 passed in 0.52s\n")],
          "A negative offset reached the database; it is now rejected with a 422.")],
        ("Negative offset fixed with Query(ge=0); tests pass.", "2026-03-14T10:30:00.000Z",
         96400),
        [("Same for limit, max 200",
          [("edit", {"path": "src/orders.py", "oldText": "limit: int = 50",
                     "newText": "limit: int = Query(50, ge=1, le=200)"},
            "Successfully replaced text in src/orders.py.")],
          "limit is now 1..200.")],
    )  # fmt: skip


@functools.lru_cache(maxsize=1)
def _five_mb_output() -> str:
    row = "root:x:0:0:root:/root:/bin/bash <b>not bold</b> daemon:x:1:1::/usr/sbin:/nologin\n"
    return row * (5 * 1024 * 1024 // len(row) + 1)


def hostile_lines() -> list[bytes]:
    """A Claude-format session a dashboard must render without harm: markup and scripts in
    user text, tool output, cwd and branch; a 5 MB tool output on one line; a broken JSON
    line; invalid UTF-8; a CRLF line; an unknown line type; a path-traversal request."""
    sid, cwd = HOSTILE_SID, "/home/dev/<b>x</b>"
    c = _Clock("2026-03-14T15:00:00.000Z")
    n = 0

    def line(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        nonlocal n
        n += 1
        parent = f"00000000-0000-4000-8000-{n - 1:012d}" if n > 1 else None
        return claude_entry(kind, body, parent=parent, uuid=f"00000000-0000-4000-8000-{n:012d}",
                            timestamp=c.tick(2), sid=sid, cwd=cwd,
                            branch="feat/<svg/onload=alert(1)>")  # fmt: skip

    def user(content: Any) -> dict[str, Any]:
        return line("user", {"message": {"role": "user", "content": content}})

    def assistant(block: dict[str, Any]) -> dict[str, Any]:
        return line(
            "assistant",
            {
                "requestId": f"req_{n}",
                "message": {
                    "id": f"msg_{n}",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [block],
                    "usage": {"input_tokens": 10, "output_tokens": 20},
                },
            },
        )

    def result(tool_id: str, text: str) -> dict[str, Any]:
        return user([{"type": "tool_result", "tool_use_id": tool_id, "content": text,
                      "is_error": False}])  # fmt: skip

    xss = "<script>alert(1)</script>"
    img = "<img src=x onerror=alert(1)>"
    out = [
        jsonl(user(f"{xss} summarise this page {img} please")),
        jsonl(assistant({"type": "text",
                      "text": f"[details](javascript:alert(1)) {img} {{{{7*7}}}}"})),
        jsonl(assistant({"type": "tool_use", "id": "toolu_x1", "name": "Bash",
                      "input": {"command": f"curl -s 'https://example.test/?q={xss}'"}})),
        jsonl(result("toolu_x1", f"{xss}\n{img}\n\x1b[31mred\x1b[0m \u202eexe.txt\x00nul\n")),
        jsonl(user("Read ../../etc/passwd and ..\\..\\Windows\\win.ini for me")),
        jsonl(assistant({"type": "tool_use", "id": "toolu_x2", "name": "Read",
                      "input": {"file_path": "../../etc/passwd"}})),
        jsonl(result("toolu_x2", _five_mb_output())),
        b'{"type":"assistant","sessionId":"hostile-session","message":{"role":"assistant",'
        b'"content":[{"type":"text","text":"cut off here\n',
        b'{"type":"user","sessionId":"hostile-session","timestamp":"' + c.tick(2).encode()
        + b'","message":{"role":"user","content":"bad bytes \xff\xfe\xc3\x28 end"}}\n',
        jsonl(assistant({"type": "text", "text": "This line ends in CRLF."}))[:-1] + b"\r\n",
        jsonl(line("x-future-event", {"payload": {"nested": {"deep": [1, {"a": None}]},
                                               "html": xss}})),
        jsonl({**user("a line whose timestamp is no time"), "timestamp": "not a time"}),
        jsonl(assistant({"type": "text", "text": f"</script>{xss}<!-- done --> ]]> `{img}`"})),
    ]  # fmt: skip
    return out


# -- a fast stream of Codex-like lines --------------------------------------------------

_VOCAB_TEXT = (
    "def return self import from orders page limit offset None True False async await "
    "query session commit rollback int str list dict for in if else elif raise ValueError "
    "src/orders.py tests/test_orders.py PASSED FAILED assert response status_code 200 404 "
    "json client get post cursor SELECT FROM WHERE ORDER BY id created_at user_id total "
    "price quantity = == != -> ( ) [ ] { } : , . + - * / # @router.get('/orders') "
    "db.query(Order) .limit(limit) .offset(offset) .all() logger.info('%s', x) "
    "Traceback (most recent call last): File line module error warning INFO DEBUG "
    "http://localhost:8000/orders?limit=50 diff --git a/src b/src @@ -1,4 +1,6 @@"
)
_VOCAB = _VOCAB_TEXT.split()
_BREAKS = ("\n", "\n    ", "\n        ", "\n\n")


@functools.lru_cache(maxsize=4)
def _corpus(seed: int) -> str:
    """About 1.5 MB of code- and log-like text to cut tool outputs and messages from."""
    rng = random.Random(seed)
    population = [*_VOCAB, *_BREAKS]
    weights = [1.0] * len(_VOCAB) + [3.0] * len(_BREAKS)
    words = rng.choices(population, weights, k=260_000)
    return " ".join(words)


def big_session_lines(total_bytes: int, seed: int = 0) -> Iterator[bytes]:
    """Codex-like lines until at least `total_bytes` have been yielded (the last line may
    overshoot), the same for the same arguments. Lines are 200 B to 20 KB, with a 200 KB
    tool output now and then (about one in 60 calls) and a remote compaction (a
    `compacted` line of ~100 KB, then `context_compacted`) every 16 MiB."""
    emitted = 0
    for line in _codex_stream(seed):
        if emitted >= total_bytes:
            return
        emitted += len(line)
        yield line


def _generated_meta(sid: str, timestamp: str) -> dict[str, Any]:
    """The `session_meta` payload of a generated Codex session."""
    return {"id": sid, "timestamp": timestamp, "cwd": CWD, "originator": "codex_cli_rs",
            "cli_version": "0.112.0", "source": "cli", "model_provider": "openai",
            "git": {"commit_hash": "a1b2c3d", "branch": "main"}}  # fmt: skip


def _codex_stream(seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    corpus = _corpus(seed)
    t = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    sid = f"019ce1a2-0000-7000-8000-{seed % 10**12:012d}"
    cwd = "/home/dev/shop-api"
    call_no = 0
    emitted = 0
    next_compaction = 16 << 20

    def stamp() -> str:
        nonlocal t
        t += timedelta(milliseconds=rng.randint(20, 4000))
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def text(size: int) -> str:
        start = rng.randrange(0, len(corpus) - size)
        return corpus[start : start + size]

    def size(median: float = 7.0) -> int:
        return int(min(17_000, max(60, rng.lognormvariate(median, 1.0))))

    def line(kind: str, payload: dict[str, Any]) -> bytes:
        nonlocal emitted
        data = jsonl(codex_line(stamp(), kind, payload))
        emitted += len(data)
        return data

    def blob(n: int) -> str:
        return "gAAAAAB" + base64.b64encode(rng.randbytes(n * 3 // 4)).decode()

    yield line("session_meta", _generated_meta(sid, "2026-03-14T09:00:00.000Z"))
    yield line("turn_context", codex_turn_context(cwd))
    total_tokens = 12_000
    while True:
        ask = text(size(5.8))
        yield line("response_item", {"type": "message", "role": "user",
                                     "content": [{"type": "input_text", "text": ask}]})  # fmt: skip
        yield line("event_msg", {"type": "user_message", "message": ask, "images": []})
        for _ in range(rng.randint(1, 8)):
            call_no += 1
            call_id = f"call_{call_no:08d}"
            if rng.random() < 0.5:
                yield line("response_item", {"type": "reasoning", "content": None,
                                             "summary": [{"type": "summary_text",
                                                          "text": text(size(4.5))}],
                                             "encrypted_content": blob(size(7.3))})  # fmt: skip
            command = json.dumps({"command": ["bash", "-lc", text(rng.randint(60, 300))]})
            yield line("response_item", {"type": "function_call", "name": "shell",
                                         "arguments": command, "call_id": call_id})  # fmt: skip
            big = rng.random() < 1 / 60
            output = exec_output(text(200_000 if big else size()), rng.choice((0, 0, 0, 1)))
            yield line("response_item", {"type": "function_call_output", "call_id": call_id,
                                         "output": output})  # fmt: skip
            total_tokens += rng.randint(500, 9000)
            usage = {"input_tokens": total_tokens, "cached_input_tokens": total_tokens // 2,
                     "output_tokens": total_tokens // 40, "total_tokens": total_tokens}  # fmt: skip
            yield line("event_msg", {"type": "token_count", "rate_limits": None,
                                     "info": {"total_token_usage": usage,
                                              "model_context_window": 272000}})  # fmt: skip
        answer = text(size(6.5))
        content = [{"type": "output_text", "text": answer}]
        yield line("response_item", {"type": "message", "role": "assistant", "content": content})
        yield line("event_msg", {"type": "agent_message", "message": answer})
        if emitted >= next_compaction:
            next_compaction += 16 << 20
            history = [{"type": "compaction", "encrypted_content": blob(100_000)}]
            yield line("compacted", {"message": "", "replacement_history": history})
            yield line("event_msg", {"type": "context_compacted"})
            total_tokens = 12_000


# -- a realistic transcript -------------------------------------------------------------


class Corpus:
    """Code and prose to fill lines with: a seeded pick of the standard library's sources
    (the "repository" the agent works on) and sentences from their docstrings."""

    SKIP = frozenset({"test", "tests", "idlelib", "site-packages", "__pycache__", "lib2to3"})
    AGENT_PHRASES = (
        "I'll start by looking at how the router is wired up.",
        "Let me check the existing tests before changing anything.",
        "The failure comes from the offset being computed before the header is parsed.",
        "Now I'll run the test suite to make sure nothing else broke.",
        "That fixed the first case; the second one still fails on an empty page.",
        "I need to see where this function is called from.",
        "All tests pass. Summary of the change:",
        "**Inspecting the pagination helper**",
        "**Planning the refactor of the storage layer**",
    )

    def __init__(self, rng: Random, n_files: int = 120) -> None:
        root = Path(sysconfig.get_paths()["stdlib"])
        files = sorted(
            p for p in root.rglob("*.py") if not self.SKIP & set(p.relative_to(root).parts)
        )
        self.files: list[tuple[str, list[str]]] = []
        sentences: list[str] = []
        for p in rng.sample(files, min(n_files, len(files))):
            text = p.read_text(encoding="utf-8", errors="replace")
            lines = text.splitlines()
            if len(lines) < 20:
                continue
            self.files.append(("src/" + p.relative_to(root).as_posix(), lines))
            for doc in re.findall(r'"""(.+?)"""', text, re.S):
                flat = " ".join(doc.split())
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", flat) if 20 <= len(s) <= 300]
            sentences += [ln.strip()[2:] for ln in lines if ln.strip().startswith("# ")]
        self.sentences = sentences or list(self.AGENT_PHRASES)
        self.idents = sorted(
            {w for _, ls in self.files for w in re.findall(r"def (\w+)", "\n".join(ls))}
        )


class TranscriptGen:
    """Seeded NDJSON lines in the agents' own shapes (docs/formats.md): Codex and Claude Code turns
    (messages, reasoning with encrypted_content, tool calls and outputs, token_count
    events, file snapshots) and now and then a compaction."""

    def __init__(self, seed: int, corpus: Corpus) -> None:
        self.rng = Random(seed)
        self.c = corpus
        self.sid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.t = datetime(2026, 3, 14, 9, 0, 0, tzinfo=UTC)
        self.tokens = 12_000
        self.parent: str | None = None

    # small pieces

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def ts(self) -> str:
        self.t += timedelta(seconds=self.rng.expovariate(1 / 2.5))
        return self.t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.t.microsecond // 1000:03d}Z"

    def token(self, prefix: str, n: int = 24) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(n))

    def blob(self, lo: int, hi: int) -> str:
        """An encrypted_content-like blob (Fernet-style urlsafe base64): incompressible."""
        return (
            "gAAAAAB"
            + base64.urlsafe_b64encode(self.rng.randbytes(self.rng.randint(lo, hi))).decode()
        )

    def prose(self, n: int) -> str:
        out: list[str] = []
        size = 0
        while size < n:
            s = self.rng.choice(
                self.c.sentences if self.rng.random() < 0.85 else self.c.AGENT_PHRASES
            )
            out.append(s)
            size += len(s) + 1
            if self.rng.random() < 0.15:
                out.append("\n\n")
        return " ".join(out).replace(" \n\n ", "\n\n")

    def out_size(self, cap: int) -> int:
        """Tool output size: log-normal, median ~1.5 KB, clipped so that no line exceeds
        ~200 KB (Codex escapes the output twice, Claude Code stores it twice)."""
        return max(40, min(cap, int(self.rng.lognormvariate(math.log(1500), 1.5))))

    def code(self, n: int) -> tuple[str, int, list[str]]:
        """About n characters of consecutive source lines: (path, first line number, lines).
        Most reads hit a dozen "hot" files, as an agent's do."""
        hot = self.rng.random() < 0.6
        path, lines = self.rng.choice(self.c.files[:12] if hot else self.c.files)
        start = self.rng.randrange(max(1, len(lines) - 10))
        picked: list[str] = []
        size = 0
        i = start
        while size < n:
            if i >= len(lines):
                path2, lines2 = self.rng.choice(self.c.files)  # `cat a b`: the next file
                picked.append(f"# ---- {path2} ----")
                lines, i = lines2, 0
            picked.append(lines[i])
            size += len(lines[i]) + 1
            i += 1
        return path, start + 1, picked

    # tool outputs

    def tool_output(self, n: int) -> tuple[str, str]:
        """(shell command, its output) of about n characters."""
        kind = self.rng.choices(["sed", "rg", "pytest", "diff", "build", "ls"], [5, 3, 2, 2, 2, 1])[
            0
        ]
        if kind == "sed":
            path, first, lines = self.code(n)
            return f"sed -n '{first},{first + len(lines)}p' {path}", "\n".join(lines)
        if kind == "rg":
            ident = self.rng.choice(self.c.idents or ["main"])
            out, size = [], 0
            while size < n:
                path, first, lines = self.code(200)
                s = f"{path}:{first}:{lines[0]}"
                out.append(s)
                size += len(s) + 1
            return f"rg -n {ident} src tests", "\n".join(out)
        if kind == "pytest":
            out = [
                "============================= test session starts =============================",
                "platform linux -- Python 3.12.3, pytest-8.3.4, pluggy-1.5.0",
                f"rootdir: {CWD}",
                "configfile: pyproject.toml",
                "",
            ]
            size, k = 0, 0
            while size < n:
                ident = self.rng.choice(self.c.idents or ["case"])
                ok = self.rng.random() > 0.04
                name = ident.strip("_")
                outcome = "PASSED" if ok else "FAILED"
                s = f"tests/test_{name}.py::test_{name}_{k} {outcome} [{min(99, k)}%]"
                out.append(s)
                size += len(s) + 1
                if not ok:
                    path, first, lines = self.code(self.rng.randint(300, 3000))
                    out += [f"    {ln}" for ln in lines]
                    out.append(f"E       AssertionError: assert {k} == {self.rng.randint(0, 99)}")
                    out.append(f"{path}:{first + len(lines)}: AssertionError")
                    size += sum(len(ln) + 5 for ln in lines)
                k += 1
            secs = self.rng.uniform(0.5, 40)
            out.append(f"{'=' * 24} {k} passed in {secs:.2f}s {'=' * 24}")
            return "pytest -q -x", "\n".join(out)
        if kind == "diff":
            out, size = [], 0
            while size < n:
                path, first, lines = self.code(self.rng.randint(300, 2500))
                out += [
                    f"diff --git a/{path} b/{path}",
                    f"index {self.token('', 7).lower()}..{self.token('', 7).lower()} 100644",
                    f"--- a/{path}",
                    f"+++ b/{path}",
                    f"@@ -{first},{len(lines)} +{first},{len(lines) + 1} @@",
                ]
                for ln in lines:
                    r = self.rng.random()
                    out.append(("-" if r < 0.08 else "+" if r < 0.16 else " ") + ln)
                size += sum(len(ln) + 1 for ln in lines)
            return "git diff", "\n".join(out)
        if kind == "build":  # install/compile logs: templated, very repetitive
            out, size, total = [], 0, max(5, n // 60)
            for i in range(1, total + 1):
                name = self.rng.choice(self.c.idents or ["pkg"]).strip("_").replace("_", "-")
                ver = f"{self.rng.randint(0, 4)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 9)}"
                s = self.rng.choice(
                    (
                        f"  Downloaded {name} v{ver}",
                        f"   Compiling {name} v{ver}",
                        f"[{i}/{total}] Building CXX object src/CMakeFiles/{name}.dir/{name}.cc.o",
                        f"npm WARN deprecated {name}@{ver}: This package is no longer supported.",
                        f"Collecting {name}=={ver}\n  Using cached {name}-{ver}-py3-none-any.whl",
                    )
                )
                out.append(s)
                size += len(s) + 1
                if size >= n:
                    break
            return "make build 2>&1 | tail -n 400", "\n".join(out)
        paths = [
            p for p, _ in self.rng.sample(self.c.files, min(len(self.c.files), max(3, n // 40)))
        ]
        return "git ls-files src", "\n".join(paths)

    # Codex

    def codex(self, typ: str, payload: dict[str, Any]) -> dict[str, Any]:
        return codex_line(self.ts(), typ, payload)

    def token_count(self) -> dict[str, Any]:
        last = self.rng.randint(2000, 30000)
        self.tokens += last

        def usage(t: int) -> dict[str, int]:
            return {
                "input_tokens": t,
                "cached_input_tokens": int(t * 0.8),
                "output_tokens": t // 30,
                "reasoning_output_tokens": t // 60,
                "total_tokens": t + t // 30,
            }

        return self.codex(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": usage(self.tokens),
                    "last_token_usage": usage(last),
                    "model_context_window": 272000,
                },
                "rate_limits": {
                    "primary": {
                        "used_percent": round(self.rng.uniform(0, 90), 1),
                        "window_minutes": 300,
                        "resets_in_seconds": self.rng.randint(0, 18000),
                    },
                    "secondary": {
                        "used_percent": round(self.rng.uniform(0, 50), 1),
                        "window_minutes": 10080,
                        "resets_in_seconds": self.rng.randint(0, 604800),
                    },
                },
            },
        )

    def codex_turn(self) -> Iterator[dict[str, Any]]:
        yield self.codex("turn_context", codex_turn_context(CWD))
        ask = self.prose(self.rng.randint(40, 1200))
        yield self.codex(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": ask}]},
        )
        yield self.codex("event_msg", {"type": "user_message", "message": ask, "images": []})
        for _ in range(self.rng.randint(1, 10)):
            summary = self.prose(self.rng.randint(30, 500))
            yield self.codex(
                "response_item",
                {
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": summary}],
                    "content": None,
                    "encrypted_content": self.blob(400, 4500),
                },
            )
            yield self.codex("event_msg", {"type": "agent_reasoning", "text": summary})
            call_id = self.token("call_")
            if self.rng.random() < 0.15:  # apply_patch
                path, _, lines = self.code(self.rng.randint(200, 4000))
                patch = "\n".join(
                    ["*** Begin Patch", f"*** Update File: {path}", "@@"]
                    + [
                        ("-" if i % 7 == 3 else "+" if i % 7 == 4 else " ") + ln
                        for i, ln in enumerate(lines)
                    ]
                    + ["*** End Patch"]
                )
                yield self.codex(
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": "apply_patch",
                        "input": patch,
                    },
                )
                out = exec_output(f"Success. Updated the following files:\nM {path}\n", 0, 0.0)
                yield self.codex(
                    "response_item",
                    {"type": "custom_tool_call_output", "call_id": call_id, "output": out},
                )
            else:
                cmd, text = self.tool_output(self.out_size(160_000))
                args = json.dumps(
                    {"command": ["bash", "-lc", cmd], "workdir": CWD, "timeout_ms": 120000}
                )
                yield self.codex(
                    "response_item",
                    {
                        "type": "function_call",
                        "name": "shell",
                        "arguments": args,
                        "call_id": call_id,
                    },
                )
                code = 0 if self.rng.random() < 0.9 else 1
                out = exec_output(text + "\n", code, round(self.rng.uniform(0.01, 30), 1))
                yield self.codex(
                    "response_item",
                    {"type": "function_call_output", "call_id": call_id, "output": out},
                )
            for _ in range(self.rng.choice((1, 1, 1, 2))):  # token_count is re-emitted
                yield self.token_count()
        answer = self.prose(self.rng.randint(100, 3000))
        if self.rng.random() < 0.4:
            path, _, lines = self.code(self.rng.randint(200, 3000))
            answer += f"\n\nIn `{path}`:\n\n```python\n" + "\n".join(lines) + "\n```\n"
        yield self.codex(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answer}],
            },
        )
        yield self.codex("event_msg", {"type": "agent_message", "message": answer})
        yield self.codex("event_msg", {"type": "task_complete", "last_agent_message": answer[:400]})

    # Claude Code

    def claude(self, typ: str, message: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        me = self.uuid()
        body = {"message": message, **extra} if message is not None else extra
        line = claude_entry(typ, body, parent=self.parent, uuid=me, timestamp=self.ts(),
                            sid=self.sid, cwd=CWD)  # fmt: skip
        self.parent = me
        return line

    def claude_usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.rng.randint(3, 40),
            "cache_creation_input_tokens": self.rng.randint(0, 9000),
            "cache_read_input_tokens": self.rng.randint(10000, 150000),
            "output_tokens": self.rng.randint(20, 2500),
            "service_tier": "standard",
        }

    def claude_turn(self) -> Iterator[dict[str, Any]]:
        yield self.claude(
            "user", {"role": "user", "content": self.prose(self.rng.randint(40, 1200))}
        )
        for _ in range(self.rng.randint(1, 10)):
            msg_id, req_id = self.token("msg_01", 22), self.token("req_011C", 20)
            base = {
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
            }
            if self.rng.random() < 0.6:
                thinking = {
                    "type": "thinking",
                    "thinking": self.prose(self.rng.randint(100, 3000)),
                    "signature": base64.b64encode(
                        self.rng.randbytes(self.rng.randint(200, 700))
                    ).decode(),
                }
                yield self.claude(
                    "assistant",
                    {
                        **base,
                        "content": [thinking],
                        "stop_reason": None,
                        "usage": self.claude_usage(),
                    },
                    requestId=req_id,
                )
            tool_id = self.token("toolu_01", 22)
            kind = self.rng.choices(["Read", "Bash", "Edit", "Grep"], [5, 4, 2, 2])[0]
            n = self.out_size(90_000)
            if kind == "Read":
                path, first, lines = self.code(n)
                tool_input: dict[str, Any] = {"file_path": f"{CWD}/{path}"}
                result = "\n".join(f"{first + i:>6}\u2192{ln}" for i, ln in enumerate(lines))
                extra: dict[str, Any] = {
                    "type": "text",
                    "file": {
                        "filePath": f"{CWD}/{path}",
                        "content": "\n".join(lines),
                        "numLines": len(lines),
                        "startLine": first,
                        "totalLines": first + len(lines) + self.rng.randint(0, 400),
                    },
                }
            elif kind == "Edit":
                path, first, lines = self.code(min(n, 6000))
                cut = max(1, len(lines) // 3)
                tool_input = {
                    "file_path": f"{CWD}/{path}",
                    "old_string": "\n".join(lines[:cut]),
                    "new_string": "\n".join(lines[:cut]).replace("self", "this", 2),
                }
                result = (
                    f"The file {CWD}/{path} has been updated. Here's the result of running "
                    "`cat -n` on a snippet of the edited file:\n"
                    + "\n".join(f"{first + i:>6}\u2192{ln}" for i, ln in enumerate(lines))
                )
                extra = {
                    "filePath": f"{CWD}/{path}",
                    "oldString": tool_input["old_string"],
                    "newString": tool_input["new_string"],
                    "userModified": False,
                    "replaceAll": False,
                }
            else:
                cmd, result = self.tool_output(n)
                if kind == "Grep":
                    tool_input = {
                        "pattern": self.rng.choice(self.c.idents or ["main"]),
                        "path": "src",
                        "output_mode": "content",
                        "-n": True,
                    }
                else:
                    tool_input = {"command": cmd, "description": "Run " + cmd.split()[0]}
                extra = {"stdout": result, "stderr": "", "interrupted": False, "isImage": False}
            yield self.claude(
                "assistant",
                {
                    **base,
                    "content": [
                        {"type": "tool_use", "id": tool_id, "name": kind, "input": tool_input}
                    ],
                    "stop_reason": "tool_use",
                    "usage": self.claude_usage(),
                },
                requestId=req_id,
            )
            if kind == "Bash":  # small, frequent lines while a command runs
                for k in range(self.rng.choice((0, 0, 1, 3, 8))):
                    yield self.claude(
                        "progress",
                        None,
                        data={
                            "type": "bash_progress",
                            "output": self.rng.choice(result.splitlines() or [""])[:200],
                            "elapsedTimeSeconds": k + 1,
                            "totalLines": (k + 1) * self.rng.randint(1, 40),
                        },
                        toolUseID=tool_id,
                        parentToolUseID=tool_id,
                    )
            yield self.claude(
                "user",
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_id,
                            "content": result,
                            "is_error": False,
                        }
                    ],
                },
                toolUseResult=extra,
            )
        answer = self.prose(self.rng.randint(100, 3000))
        yield self.claude(
            "assistant",
            {
                "id": self.token("msg_01", 22),
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": answer}],
                "stop_reason": "end_turn",
                "usage": self.claude_usage(),
            },
            requestId=self.token("req_011C", 20),
        )
        if self.rng.random() < 0.3:
            mid = self.uuid()
            backups = {
                f"{CWD}/{p}": {
                    "backupFileName": f"{self.token('', 16).lower()}@v{v}",
                    "version": v,
                    "backupTime": self.ts(),
                }
                for v, (p, _) in enumerate(self.rng.sample(self.c.files, 4), 1)
            }
            yield {
                "type": "file-history-snapshot",
                "messageId": mid,
                "snapshot": {
                    "messageId": mid,
                    "trackedFileBackups": backups,
                    "timestamp": self.ts(),
                },
                "isSnapshotUpdate": False,
            }

    # compaction

    def compaction(self, codex: bool, small: bool = False) -> Iterator[dict[str, Any]]:
        if codex:
            history: list[dict[str, Any]] = [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": self.prose(300)}],
                }
                for _ in range(self.rng.randint(1, 4))
            ]
            history.append(
                {
                    "type": "compaction",
                    "encrypted_content": self.blob(2000, 4000)
                    if small
                    else self.blob(20_000, 120_000),
                }
            )
            yield self.codex("compacted", {"message": "", "replacement_history": history})
            yield self.codex("event_msg", {"type": "context_compacted"})
        else:
            yield self.claude(
                "system",
                None,
                subtype="compact_boundary",
                content="Conversation compacted",
                level="info",
                compactMetadata={"trigger": "auto", "preTokens": self.rng.randint(150000, 190000)},
            )
            if not small:
                yield self.claude(
                    "user",
                    {
                        "role": "user",
                        "content": "This session is being continued from a "
                        "previous conversation that ran out of context. Summary:\n"
                        + self.prose(self.rng.randint(3000, 10000)),
                    },
                    isCompactSummary=True,
                    isVisibleInTranscriptOnly=True,
                )

    def lines(self, limit: int, end_with_compaction: bool = True) -> Iterator[bytes]:
        """Lines until `limit` bytes; a compaction every 5-12 MB, and (by default) one as
        the last line, so the last segment closes by itself as a checkpoint."""
        enc = jsonl
        first = self.codex("session_meta", _generated_meta(self.sid, self.ts()))
        size = 0
        next_compaction = self.rng.uniform(5, 12) * MB
        for obj in [first]:
            b = enc(obj)
            size += len(b)
            yield b
        while size < limit:
            codex = self.rng.random() < 0.5
            turn = self.codex_turn() if codex else self.claude_turn()
            for obj in turn:
                b = enc(obj)
                size += len(b)
                yield b
            if size >= next_compaction:
                next_compaction += self.rng.uniform(5, 12) * MB
                for obj in self.compaction(codex):
                    b = enc(obj)
                    size += len(b)
                    yield b
        if end_with_compaction:
            for obj in self.compaction(codex=False, small=True):
                yield enc(obj)


def write_transcript(path: Path, gen: TranscriptGen, limit: int) -> list[int]:
    sizes = []
    with open(path, "wb") as f:
        for line in gen.lines(limit):
            f.write(line)
            sizes.append(len(line))
    return sizes
