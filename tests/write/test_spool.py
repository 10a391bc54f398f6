"""The spool (uploader.write.spool): the folders a `watch` keeps its work in, its lock,
the upload queue as the shipper reads it, and what a kill or a deleted session leaves."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.support.segmenters import SID, lines, make, queued
from uploader.core.errors import SpoolLocked
from uploader.write.spool import Spool
from uploader.write.state import StateStore


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    return spool


def test_its_folders_are_private(spool: Spool) -> None:
    for folder in (spool.root, spool.active_dir, spool.queue_dir, spool.state_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_second_watcher_is_refused_until_the_first_lets_go(tmp_path: Path, spool: Spool) -> None:
    spool.lock()
    other = Spool(tmp_path / "spool")
    with pytest.raises(SpoolLocked) as refused:
        other.lock()
    assert "pid" in str(refused.value)
    spool.unlock()
    other.lock()  # free again
    other.unlock()


def test_the_queue_is_in_seq_order_and_a_segment_leaves_it_when_removed(tmp_path: Path) -> None:
    seg = make(tmp_path, max_lines=3)
    seg.append(lines(10), 0.0)  # segments 1-3 queued, one line active
    spool = seg.spool
    assert [q.seq for q in spool.pending(SID)] == [1, 2, 3]
    assert b"".join(data for _, data in queued(seg)) == lines(9)
    assert spool.sids_with_work() == [SID]
    assert spool.queue_summary()[0] == 3
    first = spool.pending(SID)[0]
    spool.remove(first)
    assert not first.data_path.exists() and not spool.queued(SID, 1)
    assert [q.seq for q in spool.pending(SID)] == [2, 3]


def test_an_ended_session_is_marked_until_cleared(spool: Spool) -> None:
    assert not spool.is_ended(SID)
    spool.mark_ended(SID)
    assert spool.is_ended(SID) and spool.sids_with_work() == [SID]
    spool.clear_ended(SID)
    assert not spool.is_ended(SID)
    assert not spool.session_queue(SID).exists()  # nothing else waited: the folder goes


def test_forget_drops_everything_of_one_session_only(tmp_path: Path) -> None:
    seg = make(tmp_path, max_lines=2)
    seg.append(lines(5), 0.0)
    seg.save()
    spool = seg.spool
    spool.manifest_cache(SID).write_bytes(b"{}")
    other = "another-session"
    spool.mark_ended(other)
    assert spool.holds(SID)
    seg.close()
    spool.forget(SID)
    assert not spool.holds(SID)
    assert spool.pending(SID) == [] and StateStore(spool.state_dir).load(SID) is None
    assert spool.is_ended(other)


def test_start_up_removes_only_what_a_kill_left_behind(tmp_path: Path) -> None:
    seg = make(tmp_path, max_lines=2)
    seg.append(lines(5), 0.0)  # two segments queued, one line active
    queue = seg.spool.session_queue(SID)
    (queue / "session-000009.jsonl.gz").write_bytes(b"uploaded, meta already removed")
    (queue / "session-000003.jsonl.gz.tmp").write_bytes(b"half a rotation")
    (seg.spool.state_dir / f".{SID}.json.123.tmp").write_bytes(b"{")
    assert seg.spool.clean_orphans() == 3
    assert sorted(p.name for p in queue.iterdir()) == [
        "session-000001.jsonl.gz", "session-000001.meta.json",
        "session-000002.jsonl.gz", "session-000002.meta.json",
    ]  # fmt: skip
    assert [m["seq"] for m, _ in queued(seg)] == [1, 2]
