"""Sessions written straight into a store, in exactly the layout the uploader produces.

`write_session` cuts lines into segments the way `uploader.segment.Segmenter` does
(rotation after `seg_lines` lines, optionally `seg_bytes` bytes, a compaction line closing
its segment with a checkpoint, a truncation starting a new generation) and stores them the
way `uploader.shipper.Shipper` does (segments, then checkpoint objects and latest.json, then
the manifest), without a spool, a watcher or a clock: fast enough for dashboard tests,
restore tests and benchmarks. `test_session_factory.py` checks it against the real writer.

Fixture line sets: `codex_lines`, `claude_lines`, `openclaw_lines`, `pi_lines` (small
realistic sessions with one compaction each), `hostile_lines` (what a dashboard must
survive). `populated_store` writes one session of each. Streams of any size are in
`transcripts.py`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from uploader.agents import (
    COMPACT_MARK,
    CheckpointMark,
    SessionMeta,
    checkpoint_id,
    checkpoint_of,
    line_timestamp,
    read_meta,
    source_info,
)
from uploader.agents.usage import segment_usage
from uploader.core.codec import pack
from uploader.storage import manifest as mf
from uploader.storage.records import Source
from uploader.stores.base import Store
from uploader.write.spool import segment_name

# For lines without a timestamp of their own the real writer records the time the line
# was read. Here that is the newest own timestamp of the lines so far (a line is read
# after it was written), or this fixed time before any: what is written never depends
# on when the test runs.
FALLBACK_TS = 1773478800.0  # 2026-03-14T09:00:00Z
WRITER_ID = "session-factory"
GZIP_LEVEL = 1

CODEX_SID = "019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f"
CLAUDE_SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"
OPENCLAW_SID = "7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77"
PI_SID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
HOSTILE_SID = "hostile-session"


# -- writing ---------------------------------------------------------------------------


class _Cutter:
    """The active segment of one session, closed into the store the way Segmenter.rotate
    closes it into the queue; the queue metas it would have written are kept in `metas`."""

    def __init__(self, store: Store, sid: str, source: dict[str, Any], gzip: bool) -> None:
        self.store = store
        self.sid = sid
        self.source = source
        self.gzip_level = GZIP_LEVEL if gzip else None
        self.seq = 1
        self.generation = 1
        self.generation_reason: str | None = None
        self.lines: list[bytes] = []
        self.bytes = 0
        self.offset = 0  # source bytes of this generation in closed segments
        self.usage_carry: dict[str, Any] | None = None  # as the segmenter carries it
        self.first_ts = self.last_ts = 0.0
        self.metas: list[dict[str, Any]] = []

    def add(self, line: bytes, own_ts: float | None, read_at: float) -> None:
        """As the segmenter: first_ts is the first line's own time, last_ts the last
        line's; a segment none of whose lines has one gets its first line's read time."""
        if not self.lines:
            self.first_ts = self.last_ts = 0.0
        if own_ts:
            self.first_ts = self.first_ts or own_ts
            self.last_ts = own_ts
        elif not self.last_ts:
            self.last_ts = read_at
        self.lines.append(line)
        self.bytes += len(line)

    def close(self, mark: CheckpointMark | None = None) -> None:
        if not self.lines:
            return
        raw = b"".join(self.lines)
        out = io.BytesIO()
        packed = pack(io.BytesIO(raw), out, gzip_level=self.gzip_level)
        relative = f"segments/{segment_name(self.seq, self.gzip_level is not None)}"
        key = mf.object_key(self.sid, relative)
        self.store.put(key, out.getvalue(), mf.content_type(key))
        meta: dict[str, Any] = {
            "seq": self.seq,
            "path": relative,
            "generation": self.generation,
            "lines": len(self.lines),
            "bytes": packed.raw_bytes,
            "gzip_bytes": packed.stored_bytes,
            "sha256": packed.sha256,
            "first_ts": int(self.first_ts or self.last_ts),
            "last_ts": int(self.last_ts),
            "source_end": self.offset + packed.raw_bytes,
            "source": self.source,
        }
        found, self.usage_carry = segment_usage(
            raw, str(self.source.get("agent") or "unknown"), self.usage_carry
        )
        meta["usage"] = found or {}
        meta["usage_carry"] = self.usage_carry
        if self.generation_reason:
            meta["generation_reason"] = self.generation_reason
        if mark is not None:
            meta["checkpoint"] = {
                "id": checkpoint_id(mark.ts, self.seq),
                "label": mark.label,
                "seq": self.seq,
                "line_idx": len(self.lines),
                "git": mark.git,
                "ts": int(mark.ts),
            }
        self.metas.append(meta)
        self.offset += packed.raw_bytes
        self.seq += 1
        self.lines = []
        self.bytes = 0
        self.generation_reason = None

    def new_generation(self, reason: str) -> None:
        self.close()
        self.generation += 1
        self.generation_reason = reason
        self.offset = 0
        self.usage_carry = None


def _check_line(index: int, line: bytes) -> None:
    if not isinstance(line, bytes):
        raise TypeError(f"line {index} is {type(line).__name__}, not bytes")
    if line.find(b"\n") != len(line) - 1:
        raise ValueError(f"line {index} must end in one newline and hold no other: {line[:80]!r}")


def write_session(
    store: Store,
    sid: str,
    lines: Iterable[bytes],
    *,
    agent: str | None = None,
    host: str = "testhost",
    path: str | None = None,
    seg_lines: int = 1000,
    seg_bytes: int | None = None,
    generations: Iterable[int] | None = None,
    gzip: bool = True,
    closed: bool = False,
    extra: dict[str, Any] | None = None,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """Write session `sid` into `store` as the uploader would, and return its manifest.

    lines: complete lines, each ending in b"\\n" (any iterable: a generator keeps only one
        segment in memory).
    agent: manifest["source"]["agent"]; by default what the uploader detects from `path`
        and the first line.
    path: the source path recorded in the manifest (default f"/home/dev/{sid}.jsonl"); it
        takes part in agent detection, as for the real uploader.
    seg_lines / seg_bytes: rotate after this many lines / bytes (no byte limit by default;
        the uploader's own default is 8 MiB). A compaction line always closes its segment.
    generations: indexes into `lines` where the source was truncated: the segment before is
        closed, seq keeps counting, generation goes up by one and the next segment carries
        "generation_reason": "truncated".
    gzip: segments as .jsonl.gz (ISA-L/zlib level 1, like the uploader) or raw .jsonl.
    closed: manifest["closed"].
    extra: extra top-level manifest fields (e.g. title); applied last, so they may also
        replace standard ones.
    updated_at: an ISO "...Z" time for created_at and updated_at (default: now).

    Segment first_ts/last_ts and checkpoint ts come from the lines' own timestamps; a line
    without one gets the newest own timestamp before it (else FALLBACK_TS) as the time the
    uploader would have read it. Objects are written as the shipper writes them: segments,
    then checkpoint objects and latest.json, then the manifest.
    """
    if seg_lines < 1:
        raise ValueError("seg_lines must be at least 1")
    if seg_bytes is not None and seg_bytes < 1:
        raise ValueError("seg_bytes must be at least 1")
    source_path = path if path is not None else f"/home/dev/{sid}.jsonl"
    starts = sorted(generations or ())
    if len(set(starts)) != len(starts) or (starts and starts[0] < 0):
        raise ValueError(f"generations must be distinct line indexes: {starts}")
    pending_starts = iter(starts)
    next_start = next(pending_starts, None)

    cutter: _Cutter | None = None
    meta = SessionMeta()
    count = 0
    newest: float | None = None  # the newest own timestamp so far
    for index, line in enumerate(lines):
        _check_line(index, line)
        count += 1
        if cutter is None:
            meta = read_meta(PurePath(source_path), line)
            cutter = _Cutter(store, sid, _source(meta, source_path, host, agent), gzip)
        if index == next_start:
            cutter.new_generation("truncated")
            next_start = next(pending_starts, None)
        # The line does not fit beside what the segment holds: close it first.
        if seg_bytes is not None and cutter.bytes and len(line) > seg_bytes - cutter.bytes:
            cutter.close()
        own_ts = line_timestamp(line)
        if own_ts:
            newest = own_ts if newest is None else max(newest, own_ts)
        read_at = FALLBACK_TS if newest is None else newest
        cutter.add(line, own_ts, read_at)
        mark = checkpoint_of(line, meta, read_at) if COMPACT_MARK in line else None
        if mark is not None:
            cutter.close(mark)
        elif len(cutter.lines) >= seg_lines or (
            seg_bytes is not None and cutter.bytes >= seg_bytes
        ):
            cutter.close()
    if next_start is not None:
        raise ValueError(f"generation start {next_start} is past the last line ({count} lines)")
    if cutter is not None:
        cutter.close()

    manifest = replace(
        mf.new_manifest(sid, f"{host}/{WRITER_ID}"),
        source=Source.from_json(_source(meta, source_path, host, agent)),
    )
    metas = cutter.metas if cutter is not None else []
    checkpoints = [m["checkpoint"] for m in metas if "checkpoint" in m]
    for checkpoint in checkpoints:
        body = json.dumps(checkpoint, ensure_ascii=False).encode()
        store.put(mf.checkpoint_key(sid, checkpoint["id"]), body, mf.JSON_TYPE)
    if checkpoints:
        body = json.dumps(checkpoints[-1], ensure_ascii=False).encode()
        store.put(mf.latest_checkpoint_key(sid), body, mf.JSON_TYPE)
    for m in metas:
        manifest = manifest.with_segment(m)
    manifest = replace(manifest, closed=closed)
    data = _dump_manifest(manifest, extra or {}, updated_at)
    store.put(mf.manifest_key(sid), data, mf.JSON_TYPE)
    written: dict[str, Any] = json.loads(data)
    return written


def _source(meta: SessionMeta, path: str, host: str, agent: str | None) -> dict[str, Any]:
    info = source_info(meta, path, host)
    if agent is not None:
        info["agent"] = agent
    return info


def _dump_manifest(manifest: mf.Manifest, extra: dict[str, Any], updated_at: str | None) -> bytes:
    """What the shipper writes, with the `extra` fields over the manifest's own (any JSON,
    even what no writer would write), stamped now or at `updated_at`."""
    written = {**manifest.to_json(), **extra}
    if updated_at is None:
        written["updated_at"] = mf.iso_now()
    elif not updated_at.endswith("Z"):
        raise ValueError(f"updated_at must be an ISO time ending in Z: {updated_at!r}")
    else:
        written["created_at"] = written["updated_at"] = updated_at
    return json.dumps(written, indent=1, ensure_ascii=False).encode()


# -- fixture sessions ------------------------------------------------------------------


def _j(obj: dict[str, Any]) -> bytes:
    """One line as the agents write them: compact JSON, non-ASCII kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


class _Clock:
    """Timestamps moving forward from a start, as ISO strings and epoch milliseconds."""

    def __init__(self, start: str) -> None:
        self.t = _epoch(start)

    def tick(self, seconds: float = 1.0) -> str:
        self.t += seconds
        return _iso(self.t)

    def ms(self) -> int:
        return round(self.t * 1000)

    def jump_to(self, iso: str) -> str:
        self.t = _epoch(iso)
        return iso


def _hex8(seed: str, n: int) -> str:
    return hashlib.sha1(f"{seed}:{n}".encode()).hexdigest()[:8]


def _exec_output(output: str, exit_code: int = 0, seconds: float = 0.2) -> str:
    """Codex wraps a tool's output in a JSON string inside the JSON line."""
    meta = {"exit_code": exit_code, "duration_seconds": seconds}
    return json.dumps({"output": output, "metadata": meta}, separators=(",", ":"))


def codex_lines() -> list[bytes]:
    """A Codex CLI rollout: a turn with shell and apply_patch calls, a remote compaction
    (followed by its context_compacted event: one checkpoint), then a second turn."""
    c = _Clock("2026-03-14T09:12:05.000Z")
    sid, cwd = CODEX_SID, "/home/dev/shop-api"

    def item(payload: dict[str, Any], at: str | None = None) -> bytes:
        return _j({"timestamp": at or c.tick(0.4), "type": "response_item", "payload": payload})

    def event(payload: dict[str, Any]) -> bytes:
        return _j({"timestamp": c.tick(0.1), "type": "event_msg", "payload": payload})

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
                  "output": _exec_output(output, code)}),
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

    turn_context = {"cwd": cwd, "approval_policy": "on-request",
                    "sandbox_policy": {"type": "workspace-write", "network_access": False},
                    "model": "gpt-5-codex", "effort": "medium", "summary": "auto"}  # fmt: skip
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
        _j({"timestamp": c.tick(0), "type": "session_meta", "payload": session_meta}),
        _j({"timestamp": c.tick(0.01), "type": "turn_context", "payload": turn_context}),
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
              "output": _exec_output("Success. Updated the following files:\nM src/orders.py\n")}),
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
        _j({"timestamp": "2026-03-14T11:40:00.550Z", "type": "compacted",
            "payload": {"message": "", "replacement_history": history}}),
        event({"type": "context_compacted"}),
        _j({"timestamp": c.tick(5), "type": "turn_context", "payload": turn_context}),
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
        uuid = f"9f0c1d2e-1111-4a2b-8c3d-{n:012d}"
        line = {"parentUuid": parent, "isSidechain": False, "userType": "external", "cwd": cwd,
                "sessionId": sid, "version": "2.1.72", "gitBranch": "main", "type": kind,
                **body, "uuid": uuid, "timestamp": c.tick(seconds)}  # fmt: skip
        parent = uuid
        return _j(line)

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
        _j({"type": "file-history-snapshot", "messageId": "9f0c1d2e-1111-4a2b-8c3d-000000000006",
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
        _j({"type": "custom-title", "customTitle": "Orders pagination", "sessionId": sid}),
        _j({"type": "summary", "summary": "Orders API pagination", "leafUuid": parent}),
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
        return _j(line)

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
        _j({"type": "session", "version": 3, "id": sid, "timestamp": c.tick(0), "cwd": cwd}),
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
    return [*lines, _j(custom)]


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
    base = {"isSidechain": False, "userType": "external", "cwd": cwd, "sessionId": sid,
            "version": "2.1.72", "gitBranch": "feat/<svg/onload=alert(1)>"}  # fmt: skip
    c = _Clock("2026-03-14T15:00:00.000Z")
    n = 0

    def line(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        nonlocal n
        n += 1
        return {"parentUuid": f"00000000-0000-4000-8000-{n - 1:012d}" if n > 1 else None,
                **base, "type": kind, **body, "uuid": f"00000000-0000-4000-8000-{n:012d}",
                "timestamp": c.tick(2)}  # fmt: skip

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
        _j(user(f"{xss} summarise this page {img} please")),
        _j(assistant({"type": "text",
                      "text": f"[details](javascript:alert(1)) {img} {{{{7*7}}}}"})),
        _j(assistant({"type": "tool_use", "id": "toolu_x1", "name": "Bash",
                      "input": {"command": f"curl -s 'https://example.test/?q={xss}'"}})),
        _j(result("toolu_x1", f"{xss}\n{img}\n\x1b[31mred\x1b[0m \u202eexe.txt\x00nul\n")),
        _j(user("Read ../../etc/passwd and ..\\..\\Windows\\win.ini for me")),
        _j(assistant({"type": "tool_use", "id": "toolu_x2", "name": "Read",
                      "input": {"file_path": "../../etc/passwd"}})),
        _j(result("toolu_x2", _five_mb_output())),
        b'{"type":"assistant","sessionId":"hostile-session","message":{"role":"assistant",'
        b'"content":[{"type":"text","text":"cut off here\n',
        b'{"type":"user","sessionId":"hostile-session","timestamp":"' + c.tick(2).encode()
        + b'","message":{"role":"user","content":"bad bytes \xff\xfe\xc3\x28 end"}}\n',
        _j(assistant({"type": "text", "text": "This line ends in CRLF."}))[:-1] + b"\r\n",
        _j(line("x-future-event", {"payload": {"nested": {"deep": [1, {"a": None}]},
                                               "html": xss}})),
        _j({**user("a line whose timestamp is no time"), "timestamp": "not a time"}),
        _j(assistant({"type": "text", "text": f"</script>{xss}<!-- done --> ]]> `{img}`"})),
    ]  # fmt: skip
    return out


# -- a store with one of each ----------------------------------------------------------

LineSet = Callable[[], list[bytes]]

#: sid -> (lines, source path, closed) of the sessions `populated_store` writes.
FIXTURE_SESSIONS: dict[str, tuple[LineSet, str, bool]] = {
    CODEX_SID: (
        codex_lines,
        f"/home/dev/.codex/sessions/2026/03/14/rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl",
        False,
    ),
    CLAUDE_SID: (
        claude_lines,
        f"/home/dev/.claude/projects/-home-dev-shop-api/{CLAUDE_SID}.jsonl",
        True,
    ),
    OPENCLAW_SID: (
        openclaw_lines,
        f"/home/dev/.openclaw/agents/main/sessions/{OPENCLAW_SID}.jsonl",
        True,
    ),
    PI_SID: (
        pi_lines,
        f"/home/dev/.pi/agent/sessions/--home-dev-shop-api--/2026-03-14T10-05-00-000Z_{PI_SID}.jsonl",
        False,
    ),
    HOSTILE_SID: (hostile_lines, f"/home/dev/{HOSTILE_SID}.jsonl", True),
}


def populated_store(store: Store, *, seg_lines: int = 7) -> dict[str, dict[str, Any]]:
    """Write the codex, claude, openclaw, pi and hostile sessions (FIXTURE_SESSIONS: real
    agent paths, so the agent is detected as the uploader would; codex and pi still open,
    the others closed; updated_at = the session's last own timestamp) and return
    {sid: manifest}."""
    manifests = {}
    for sid, (make_lines, path, closed) in FIXTURE_SESSIONS.items():
        lines = make_lines()
        last = max(line_timestamp(line) or 0.0 for line in lines)
        manifests[sid] = write_session(
            store, sid, lines, path=path, seg_lines=seg_lines, closed=closed,
            updated_at=_iso(last),
        )  # fmt: skip
    return manifests
