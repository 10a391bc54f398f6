"""What a running `watch` shows before the store has it (uploader.write.live): a real
Pipeline writes a real spool, and the session read through LiveSessions must be the
source's complete lines, whether they sit in the upload queue, the active segment or
already in the store; a line still being written is not shown."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.shipping import ship
from uploader.core.metrics import Metrics
from uploader.storage.reading import iter_bytes, plan
from uploader.stores.local import LocalStore
from uploader.write.live import LiveSessions
from uploader.write.pipeline import Pipeline
from uploader.write.retry import RetryPolicy
from uploader.write.segment import SegmentLimits
from uploader.write.spool import Spool
from uploader.write.state import StateStore

SID = "0f8e2c4a-6b1d-4e3f-9a57-2c8d1e6b4f90"  # tests.support.shipping's session


def lines(start: int, stop: int) -> bytes:
    return b"".join(b'{"n":%d}\n' % i for i in range(start, stop))


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, Spool, Pipeline]]:
    """A source of 10 lines read by a pipeline (segments of 4 lines): two queued
    segments and an active one of 2 lines, the pipeline still open, as under `watch`."""
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(0, 10))
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    pipeline = Pipeline(source, SID, spool, StateStore(spool.state_dir),
                        SegmentLimits(max_lines=4), Metrics())  # fmt: skip
    pipeline.open()
    pipeline.step()
    yield source, spool, pipeline
    pipeline.finish()


def live_of(spool: Spool, pipeline: Pipeline) -> LiveSessions:
    return LiveSessions(spool, lambda: {SID: pipeline.seg.state} if pipeline.seg else {})


def shown(live: LiveSessions, store: LocalStore) -> bytes:
    return b"".join(iter_bytes(plan(live.manifest(SID)), live.fetch(store, SID)))


def test_queued_and_active_segments_read_as_the_source(
    tmp_path: Path, watched: tuple[Path, Spool, Pipeline]
) -> None:
    _, spool, pipeline = watched
    live = live_of(spool, pipeline)
    store = LocalStore(tmp_path / "store")  # empty: nothing uploaded yet
    segments = live.manifest(SID).segments
    assert [(s.seq, s.extra["where"]) for s in segments] == [
        (1, "spool"), (2, "spool"), (3, "active"),
    ]  # fmt: skip
    assert shown(live, store) == lines(0, 10)
    assert live.sids() == [SID] and live.total_lines(SID) == 10


def test_a_line_still_being_written_is_not_shown(
    tmp_path: Path, watched: tuple[Path, Spool, Pipeline]
) -> None:
    source, spool, pipeline = watched
    live = live_of(spool, pipeline)
    with open(source, "ab") as f:
        f.write(lines(10, 11) + b'{"n":')
    pipeline.step()
    active = spool.active_path(SID)
    counted = active.stat().st_size
    with open(active, "ab") as f:
        f.write(b'{"engine": "appending')  # written by the engine, not yet counted
    assert shown(live, LocalStore(tmp_path / "store")) == lines(0, 11)
    assert live.total_lines(SID) == 11
    os.truncate(active, counted)  # as the engine would have it, for the pipeline's finish


def test_segments_uploaded_meanwhile_are_read_from_the_store(
    tmp_path: Path, watched: tuple[Path, Spool, Pipeline]
) -> None:
    _, spool, pipeline = watched
    store = LocalStore(tmp_path / "store")
    ship(spool, store, RetryPolicy())  # segments 1 and 2 leave the queue
    assert spool.pending(SID) == []
    live = live_of(spool, pipeline)
    segments = live.manifest(SID).segments
    assert [(s.seq, s.extra["where"]) for s in segments] == [
        (1, "store"), (2, "store"), (3, "active"),
    ]  # fmt: skip
    assert shown(live, store) == lines(0, 10)


def test_only_sessions_that_moved_are_active_for_the_index(
    watched: tuple[Path, Spool, Pipeline],
) -> None:
    source, spool, pipeline = watched
    live = live_of(spool, pipeline)
    [active] = live.active_segments({})
    assert (active.sid, active.seq) == (SID, 3)
    assert live.active_segments({SID: (3, 2)}) == []  # the index has seen these lines
    with open(source, "ab") as f:
        f.write(lines(10, 11))
    pipeline.step()
    assert [a.seq for a in live.active_segments({SID: (3, 2)})] == [3]


def test_a_session_not_watched_here_is_not_live(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    live = LiveSessions(spool, dict)
    assert live.sids() == [] and live.total_lines(SID) is None
    assert live.active_segments({}) == []
