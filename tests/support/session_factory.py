"""Sessions written straight into a store, in exactly the layout the uploader produces.

`write_session` cuts lines into segments the way `uploader.write.segment.Segmenter` does
(rotation after `seg_lines` lines, optionally `seg_bytes` bytes, a compaction line closing
its segment with a checkpoint, a truncation starting a new generation) and stores them the
way `uploader.write.shipper.Shipper` does (segments, then checkpoint objects and
latest.json, then the manifest), without a spool, a watcher or a clock: fast enough for
dashboard tests, restore tests and benchmarks. tests/write/test_session_factory.py checks
it against the real writer.

The lines themselves come from `tests/support/transcripts.py` (one set of builders for every agent);
`populated_store` writes its five small sessions (FIXTURE_SESSIONS).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import PurePath
from typing import Any

from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    claude_lines,
    codex_lines,
    hostile_lines,
    iso,
    openclaw_lines,
    pi_lines,
)
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
            updated_at=iso(last),
        )  # fmt: skip
    return manifests
