"""The session factory writes what the uploader writes: read back through the store, and
compared with the real Segmenter cutting the same lines."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

import pytest

from tests.support.session_factory import (
    FALLBACK_TS,
    FIXTURE_SESSIONS,
    populated_store,
    write_session,
)
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    big_session_lines,
    claude_lines,
    codex_lines,
    hostile_lines,
)
from uploader.agents import checkpoint_id, checkpoint_of, line_timestamp, read_meta
from uploader.storage import manifest as mf
from uploader.stores.base import Store
from uploader.stores.local import LocalStore
from uploader.write.segment import Segmenter, SegmentLimits
from uploader.write.segment_entry import HOST
from uploader.write.spool import Spool
from uploader.write.state import ResumeState, StateStore

AGENTS = {
    CODEX_SID: "codex",
    CLAUDE_SID: "claude",
    OPENCLAW_SID: "openclaw",
    PI_SID: "pi",
    HOSTILE_SID: "claude",
}


def stored_manifest(store: Store, sid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.get(mf.manifest_key(sid)))
    return data


def segment_data(store: Store, sid: str, entry: dict[str, Any]) -> bytes:
    """One segment as stored, checked against its manifest entry."""
    stored = store.get(mf.object_key(sid, entry["path"]))
    data = gzip.decompress(stored) if entry["path"].endswith(".gz") else stored
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert len(data) == entry["bytes"]
    assert len(stored) == entry["gzip_bytes"]
    assert data.count(b"\n") == entry["lines"]
    return data


def segment_lines(store: Store, sid: str, entry: dict[str, Any]) -> list[bytes]:
    return segment_data(store, sid, entry).splitlines(keepends=True)


def rebuild(store: Store, sid: str) -> bytes:
    m = stored_manifest(store, sid)
    seqs = [s["seq"] for s in m["segments"]]
    assert seqs == list(range(1, len(seqs) + 1))
    return b"".join(segment_data(store, sid, s) for s in m["segments"])


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_populated_store_reads_back_line_for_line(store: LocalStore) -> None:
    manifests = populated_store(store)
    assert set(manifests) == set(FIXTURE_SESSIONS)
    for sid, (make_lines, path, closed) in FIXTURE_SESSIONS.items():
        lines = make_lines()
        m = stored_manifest(store, sid)
        assert m == manifests[sid]
        assert rebuild(store, sid) == b"".join(lines)
        assert len(m["segments"]) >= 2
        assert all(1 <= s["lines"] <= 7 for s in m["segments"])
        assert m["active_seq"] == len(m["segments"]) + 1
        assert m["source"]["agent"] == AGENTS[sid]
        assert m["source"]["path"] == path
        assert m["source"]["host"] == "testhost"
        assert m["closed"] is closed
        assert m["created_at"] == m["updated_at"]
        assert m["updated_at"].endswith("Z")
        expected = {mf.manifest_key(sid)}
        expected |= {mf.object_key(sid, s["path"]) for s in m["segments"]}
        expected |= {mf.checkpoint_key(sid, c["id"]) for c in m["checkpoints"]}
        if m["checkpoints"]:
            expected.add(mf.latest_checkpoint_key(sid))
        assert set(store.list(f"sessions/{sid}/")) == expected


@pytest.mark.parametrize("sid", [CODEX_SID, CLAUDE_SID, OPENCLAW_SID, PI_SID])
def test_checkpoint_points_at_the_compaction_line(store: LocalStore, sid: str) -> None:
    make_lines, path, _ = FIXTURE_SESSIONS[sid]
    lines = make_lines()
    m = write_session(store, sid, lines, path=path, seg_lines=7)
    meta = read_meta(PurePath(path), lines[0])
    assert sum(checkpoint_of(line, meta, 0.0) is not None for line in lines) == 1
    [cp] = m["checkpoints"]
    entry = m["segments"][cp["seq"] - 1]
    assert entry["seq"] == cp["seq"] < len(m["segments"])  # lines follow the compaction
    seg = segment_lines(store, sid, entry)
    assert cp["line_idx"] == len(seg)  # the compaction line closes its segment
    mark = checkpoint_of(seg[cp["line_idx"] - 1], meta, 0.0)
    assert mark is not None
    assert (cp["label"], cp["git"], cp["ts"]) == (mark.label, mark.git, int(mark.ts))
    assert cp["id"] == checkpoint_id(mark.ts, cp["seq"])
    assert json.loads(store.get(mf.checkpoint_key(sid, cp["id"]))) == cp
    assert json.loads(store.get(mf.latest_checkpoint_key(sid))) == cp


def test_generations_are_recorded(store: LocalStore) -> None:
    lines = codex_lines()
    m = write_session(store, "gen", lines, seg_lines=4, generations=[20, 10])
    gens = [s["generation"] for s in m["segments"]]
    assert gens == sorted(gens) and set(gens) == {1, 2, 3}
    assert [s["seq"] for s in m["segments"]] == list(range(1, len(gens) + 1))
    reasons = {s["seq"]: s["generation_reason"] for s in m["segments"] if "generation_reason" in s}
    firsts = {gens.index(g) + 1 for g in (2, 3)}
    assert reasons == dict.fromkeys(firsts, "truncated")
    by_generation: dict[int, bytes] = {}
    for s in m["segments"]:
        data = segment_data(store, "gen", s)
        by_generation[s["generation"]] = by_generation.get(s["generation"], b"") + data
    bounds = [(1, 0, 10), (2, 10, 20), (3, 20, len(lines))]
    assert by_generation == {g: b"".join(lines[a:b]) for g, a, b in bounds}


Lines = Callable[[], list[bytes]]


@pytest.mark.parametrize(
    ("make_lines", "seg_lines", "seg_bytes", "starts", "gz"),
    [
        (codex_lines, 7, None, [12], True),
        (claude_lines, 5, 2000, [0, 3], False),
        (hostile_lines, 4, 1 << 20, [9], True),
    ],
)
def test_same_layout_as_the_real_segmenter(
    tmp_path: Path,
    store: LocalStore,
    make_lines: Lines,
    seg_lines: int,
    seg_bytes: int | None,
    starts: list[int],
    gz: bool,
) -> None:
    lines, sid, path = make_lines(), "parity", "/home/dev/.claude/projects/x/parity.jsonl"
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    limits = SegmentLimits(
        max_bytes=seg_bytes or 1 << 40, max_lines=seg_lines, gzip_level=1 if gz else None
    )
    seg = Segmenter(spool, StateStore(spool.state_dir), ResumeState(sid, path), limits)
    seg.meta = read_meta(PurePath(path), lines[0])
    newest: float | None = None
    try:
        for i, line in enumerate(lines):
            if i in starts:
                seg.start_generation("truncated")
            own = line_timestamp(line)
            if own:
                newest = own if newest is None else max(newest, own)
            seg.append(line, FALLBACK_TS if newest is None else newest)
        seg.rotate()
    finally:
        seg.close()
    built = mf.new_manifest(sid, "w")
    queued = spool.pending(sid)
    for item in queued:
        built = built.with_segment(item.meta)
    real = built.to_json()

    ours = write_session(
        store, sid, lines, host=HOST, path=path, seg_lines=seg_lines, seg_bytes=seg_bytes,
        generations=starts, gzip=gz,
    )  # fmt: skip
    assert ours["segments"] == real["segments"]
    assert ours["checkpoints"] == real["checkpoints"]
    assert ours["source"] == real["source"]
    assert ours["active_seq"] == real["active_seq"]
    for item in queued:
        assert store.get(mf.object_key(sid, item.meta["path"])) == item.data_path.read_bytes()


def test_raw_segments_and_manifest_options(store: LocalStore) -> None:
    lines = claude_lines()
    m = write_session(
        store, "opts", lines, agent="custom-agent", host="box", seg_lines=8, gzip=False,
        closed=True, extra={"title": "<b>Orders</b>", "first_message": "Add pagination"},
        updated_at="2026-03-14T12:00:00.000Z",
    )  # fmt: skip
    assert m == stored_manifest(store, "opts")
    assert all(
        s["path"].endswith(".jsonl") and s["bytes"] == s["gzip_bytes"] for s in m["segments"]
    )
    assert m["segments"][0]["path"] == "segments/session-000001.jsonl"
    assert rebuild(store, "opts") == b"".join(lines)
    assert m["source"] == {"agent": "custom-agent", "path": "/home/dev/opts.jsonl", "host": "box",
                           "cwd": "/home/dev/shop-api", "git_branch": "main"}  # fmt: skip
    assert (m["title"], m["first_message"]) == ("<b>Orders</b>", "Add pagination")
    assert m["created_at"] == m["updated_at"] == "2026-03-14T12:00:00.000Z"
    assert (m["closed"], m["writer"], m["version"]) == (True, "box/session-factory", 1)

    empty = write_session(store, "empty", [])
    assert (empty["segments"], empty["checkpoints"], empty["active_seq"]) == ([], [], 1)
    assert empty["source"]["agent"] == "unknown"


def test_bad_input_is_refused(store: LocalStore) -> None:
    with pytest.raises(ValueError, match="newline"):
        write_session(store, "bad", [b'{"a":1}'])
    with pytest.raises(ValueError, match="newline"):
        write_session(store, "bad", [b'{"a":1}\n{"b":2}\n'])
    with pytest.raises(ValueError, match="past the last line"):
        write_session(store, "bad", [b"{}\n"], generations=[1])
    with pytest.raises(ValueError, match="distinct"):
        write_session(store, "bad", [b"{}\n", b"{}\n"], generations=[1, 1])


def test_fixture_lines_have_the_promised_shape() -> None:
    for sid, (make_lines, _, _) in FIXTURE_SESSIONS.items():
        lines = make_lines()
        if sid == HOSTILE_SID:
            continue
        assert 10 <= len(lines) <= 40
        assert all(isinstance(json.loads(line), dict) for line in lines)
    hostile = hostile_lines()
    text = b"".join(hostile)
    for needle in (b"<script>alert(1)</script>", b"<img src=x onerror=alert(1)>",
                   b"../../etc/passwd", b"\xff\xfe", b"\r\n"):  # fmt: skip
        assert needle in text
    huge = [line for line in hostile if len(line) >= 5 * 1024 * 1024]
    assert len(huge) == 1 and json.loads(huge[0])
    broken = 0
    for line in hostile:
        try:
            json.loads(line)
        except ValueError:
            broken += 1
    assert broken == 2  # the cut-off line and the invalid UTF-8 one


def test_big_session_lines_are_deterministic(store: LocalStore) -> None:
    lines = list(big_session_lines(1_500_000, seed=7))
    assert lines == list(big_session_lines(1_500_000, seed=7))
    assert lines[:40] != list(big_session_lines(40_000, seed=8))[:40]
    total = sum(map(len, lines))
    assert total >= 1_500_000 > total - len(lines[-1])
    assert json.loads(lines[0])["type"] == "session_meta"
    for line in lines:
        obj = json.loads(line)
        assert {"timestamp", "type", "payload"} <= obj.keys()
        assert len(line) <= 20_480 or obj["payload"]["type"] == "function_call_output"
    m = write_session(store, "big", iter(lines), seg_lines=500)
    assert sum(s["lines"] for s in m["segments"]) == len(lines)
    assert m["source"]["agent"] == "codex"
    assert rebuild(store, "big") == b"".join(lines)
