"""Cutting lines into segments: exact limits, checkpoints, and repair after a kill."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from tests.support.segmenters import SID, lines, make, queued
from uploader.agents.usage import segment_usage


def test_line_limit_is_exact(tmp_path: Path) -> None:
    seg = make(tmp_path, max_lines=7)
    data = lines(30)
    seg.append(data, 0.0)
    segs = queued(seg)
    assert [m["lines"] for m, _ in segs] == [7, 7, 7, 7]  # the 5th is still active, 2 lines
    assert seg.state.lines == 2
    assert b"".join(b for _, b in segs) == data[: 28 * 10]
    assert seg.state.offset == len(data)


def test_byte_limit_is_never_exceeded_except_by_one_long_line(tmp_path: Path) -> None:
    seg = make(tmp_path, max_bytes=100)
    data = lines(25) + b"x" * 350 + b"\n" + lines(3)
    for i in range(0, len(data), 37):  # odd chunk boundaries must not matter
        chunk_end = data.rfind(b"\n", 0, i + 37) + 1
        chunk_start = data.rfind(b"\n", 0, i) + 1 if i else 0
        if chunk_end > chunk_start:
            seg.append(data[chunk_start:chunk_end], 0.0)
    seg.rotate()
    segs = queued(seg)
    assert b"".join(b for _, b in segs) == data
    for meta, body in segs:
        assert len(body) == meta["bytes"]
        assert len(body) <= 100 or body.count(b"\n") == 1, meta
    assert [len(b) for _, b in segs] == [100, 100, 50, 351, 30]


def test_checkpoint_line_closes_its_segment(tmp_path: Path) -> None:
    seg = make(tmp_path)
    compacted = json.dumps({
        "timestamp": "2026-03-14T11:40:00.550Z", "type": "compacted",
        "payload": {"message": "", "replacement_history": [{"type": "compaction"}]},
    }).encode() + b"\n"  # fmt: skip
    talk = b'{"type":"event_msg","payload":{"type":"agent_message","message":"compact it"}}\n'
    seg.append(lines(3) + talk + compacted + lines(2), 0.0)
    [(meta, body)] = queued(seg)
    assert body.endswith(compacted)
    cp = meta["checkpoint"]
    assert isinstance(cp, dict)
    assert cp["id"] == "2026-03-14T11-40-00Z-000001"
    assert (cp["seq"], cp["line_idx"], cp["label"]) == (1, 5, "remote compaction")
    assert cp["ts"] == 1773488400
    assert seg.state.lines == 2  # the text "compact it" did not cut a segment


@pytest.mark.parametrize(
    ("line", "label"),
    [
        (b'{"type":"system","subtype":"compact_boundary","gitBranch":"dev",'
         b'"compactMetadata":{"trigger":"manual","preTokens":1200}}',
         "manual compaction at 1,200 tokens"),
        (b'{"type":"compaction","id":"e5f6a7b8","summary":"PR digest done","tokensBefore":9}',
         "PR digest done"),
        (b'{"type":"compacted","label":"before refactor"}', "before refactor"),
    ],
)  # fmt: skip
def test_every_format_has_its_checkpoint(tmp_path: Path, line: bytes, label: str) -> None:
    seg = make(tmp_path)
    seg.append(lines(1) + line + b"\n", 0.0)
    [(meta, _)] = queued(seg)
    assert meta["checkpoint"]["label"] == label  # type: ignore[index]


def test_lines_stay_bytes(tmp_path: Path) -> None:
    seg = make(tmp_path, max_lines=2)
    data = b'{"a":"\xff\xfe"}\r\n' + b"plain\r\n" + b"\xc3\x28 not utf-8\n"
    seg.append(data, 0.0)
    seg.rotate()
    assert b"".join(b for _, b in queued(seg)) == data


def test_recover_cuts_back_lines_the_state_never_counted(tmp_path: Path) -> None:
    seg = make(tmp_path)
    seg.append(lines(5), 0.0)
    seg.sync()
    # A kill after appending more bytes but before the state was saved:
    with open(seg.active_path, "ab") as f:
        f.write(lines(3, start=5))
    seg.close()
    again = make(tmp_path)
    assert again.state.offset == 50 and again.state.lines == 5
    assert again.active_path.read_bytes() == lines(5)


def test_recover_after_kill_between_queue_and_state(tmp_path: Path) -> None:
    seg = make(tmp_path)
    seg.append(lines(5), 0.0)
    seg.sync()
    saved = seg.state.to_bytes()
    seg.rotate()
    # The kill came after the segment was queued but before the state moved on:
    seg.states.path(SID).write_bytes(saved)
    seg.close()
    again = make(tmp_path)
    assert again.state.seq == 2 and again.state.bytes == 0 and again.state.offset == 50
    assert [m["seq"] for m, _ in queued(again)] == [1]
    again.append(lines(1, start=5), 0.0)
    again.rotate()
    assert b"".join(b for _, b in queued(again)) == lines(6)


REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
USAGE_SESSIONS = [
    ("claude", "claude/258c7280-ae70-4798-800f-63464d01a85d.jsonl"),
    ("codex", "codex/rollout-2026-05-11T11-26-55-019e1625-789d-76c0-80ab-3724b5ddb799.jsonl"),
    ("pi", "pi/2025-11-20T23-33-50-805Z_d703a1a9-1b7b-4fb1-b512-c9738b1fe617.jsonl"),
]


@pytest.mark.parametrize(("agent", "name"), USAGE_SESSIONS)
def test_usage_counted_while_appending_is_the_usage_of_the_stored_bytes(
    tmp_path: Path, agent: str, name: str
) -> None:
    """Usage is counted from the lines as they are appended, and from the file at rotation
    for a segment begun before a restart: each segment's record is what counting its
    stored bytes from the previous record's carry gives, either way."""
    data = (REAL / name).read_bytes()
    seg = make(tmp_path, max_bytes=len(data) // 6)
    seg.meta.agent = agent
    starts = [i + 1 for i, b in enumerate(data) if b == 10][:-1]
    cuts = [0, *sorted(random.Random(2).sample(starts, 12)), len(data)]
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        seg.append(data[a:b], 0.0)
        if i == 6:  # a restart with a segment half full: the rest of it counted from the file
            seg.sync()
            seg.close()
            seg = make(tmp_path, max_bytes=len(data) // 6)
    seg.rotate()
    carry = None
    records = queued(seg)
    assert b"".join(body for _, body in records) == data and len(records) >= 6
    for meta, body in records:
        usage, carry_after = segment_usage(body, agent, carry)
        assert (meta["usage"] or None, meta["usage_carry"]) == (usage, carry_after)
        carry = carry_after
    assert sum(bool(meta["usage"]) for meta, _ in records) >= 5  # these sessions used tokens
