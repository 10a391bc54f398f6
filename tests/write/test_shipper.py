"""The shipper (uploader.write.shipper): a spool's queue drained into the store, driven
in-process over a spool filled by a real Pipeline, the way `watch` builds them, so that
it can meet what a process cannot give quickly or deterministically: a read timeout of
1 s instead of 30 s (S3Store(read_timeout=1)), outages of minutes played on a virtual
clock through RetryPolicy's injectable sleep, a write held by the fault proxy
(tests/support/faultproxy.py, in front of moto) until the test releases it. Each test
checks the session rebuilt from the store against the source, byte for byte, and an
empty queue."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import wait_until
from tests.support.faultproxy import FaultProxy, delay, error, late
from tests.support.shipping import (
    PREFIX,
    VirtualClock,
    assert_exact,
    compact_line,
    lines,
    queued,
    segments_in,
    ship,
    spool_with_segments,
)
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store
from uploader.write.retry import RetryPolicy


@pytest.fixture
def via_proxy(proxy: FaultProxy, s3_bucket: str) -> Iterator[S3Store]:
    """The uploader's store, through the proxy, with the default timeouts."""
    store = S3Store(s3_bucket, PREFIX, endpoint_url=proxy.url, region="us-east-1")
    yield store
    store.close()


@pytest.fixture
def impatient(proxy: FaultProxy, s3_bucket: str) -> Iterator[S3Store]:
    """Through the proxy with a read timeout of 1 s instead of 30 s."""
    store = S3Store(s3_bucket, PREFIX, endpoint_url=proxy.url, region="us-east-1", read_timeout=1.0)
    yield store
    store.close()


@pytest.mark.parametrize("commit", [True, False], ids=["committed", "not-committed"])
def test_answers_later_than_the_read_timeout(
    commit: bool,
    tmp_path: Path,
    proxy: FaultProxy,
    impatient: S3Store,
    s3_store: S3Store,
) -> None:
    """Every PUT's first answer comes 4 s late (past the 1 s read timeout), whether the
    store wrote the object meanwhile or never saw it."""
    data = lines(0, 60)
    spool = spool_with_segments(tmp_path, data, seg_lines=20)
    slow = proxy.inject(delay(4.0, commit=commit), method="PUT", per_key=1)
    retry = RetryPolicy(base=0.05, cap=0.2)
    ship(spool, impatient, retry)
    # Three segments, the manifest and its change-feed mark, once each.
    assert slow.hits == 5
    assert retry.stats.retries >= 4  # more if a retry is slow too (the mark is not retried)
    assert_exact(s3_store, data)
    assert queued(spool.root) == []


def test_a_late_write_of_an_old_manifest_does_not_hide_newer_segments(
    tmp_path: Path, proxy: FaultProxy, impatient: S3Store, s3_store: S3Store
) -> None:
    """The first manifest PUT times out but reaches the store only later, after its
    retry and after the next manifest: the old manifest must not win (its If-Match
    names a version that is gone by then, so S3 refuses it)."""
    release = threading.Event()
    held = proxy.inject(late(release), method="PUT", path="/manifest.json", times=1)
    retry = RetryPolicy(base=0.05, cap=0.2)
    spool = spool_with_segments(tmp_path, lines(0, 40), seg_lines=20)
    ship(spool, impatient, retry)  # manifest 1 (segments 1-2) held, its retry written
    spool = spool_with_segments(tmp_path, lines(0, 60), seg_lines=20)
    ship(spool, impatient, retry)  # manifest 2 (segments 1-3)
    assert held.hits == 1 and segments_in(s3_store) == 3
    release.set()  # the held first attempt of manifest 1 reaches the store now
    wait_until(lambda: proxy.done("late") == 1, what="the late write")
    assert_exact(s3_store, lines(0, 60))


def test_outage_longer_than_a_minute_loses_nothing(
    tmp_path: Path,
    proxy: FaultProxy,
    via_proxy: S3Store,
    s3_store: S3Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store answers 503 to everything for 90 s of virtual time, then recovers.
    Shippers that give up after 5 retries lose this data; this one keeps retrying."""
    data = lines(0, 100) + compact_line() + lines(100, 130)
    spool = spool_with_segments(tmp_path, data, seg_lines=20)
    assert len(queued(spool.root)) == 2 * 8  # 5 x 20 lines, the compaction line, 20, 10
    clock = VirtualClock()
    outage = proxy.inject(error(503), when=lambda req: clock.now < 90)
    retry = RetryPolicy(sleep=clock.sleep, rng=random.Random(1))
    with caplog.at_level(logging.WARNING, logger="uploader"):
        ship(spool, via_proxy, retry)
    assert clock.now > 60
    assert retry.stats.retries > 5
    assert outage.hits == retry.stats.retries == len(clock.sleeps)  # no real sleeping
    assert max(clock.sleeps) <= 30  # the cap
    m = assert_exact(s3_store, data)
    assert len(m["segments"]) == 8 and [c["seq"] for c in m["checkpoints"]] == [6]
    assert queued(spool.root) == []
    assert sum("retry" in r.getMessage() for r in caplog.records) == retry.stats.retries


def test_auth_refusal_keeps_data_queued_then_recovers_by_itself(
    tmp_path: Path,
    proxy: FaultProxy,
    via_proxy: S3Store,
    s3_store: S3Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """403 on every PUT: each refusal is logged at ERROR and the segments stay queued;
    when the store accepts again, the waiting uploads go through without a restart."""
    data = lines(0, 50)
    spool = spool_with_segments(tmp_path, data, seg_lines=20)
    waiting = queued(spool.root)
    assert len(waiting) == 2 * 3
    clock = VirtualClock()
    snapshots: list[list[str]] = []

    async def sleep(delay: float, stop: asyncio.Event) -> bool:
        snapshots.append(queued(spool.root))
        return await clock.sleep(delay, stop)

    # Nine refusals (three per segment, on average), then the credentials are fixed.
    denied = proxy.inject(error(403), method="PUT", times=9)
    retry = RetryPolicy(sleep=sleep, rng=random.Random(1))
    with caplog.at_level(logging.WARNING, logger="uploader"):
        ship(spool, via_proxy, retry)
    assert denied.hits == 9
    assert all(snap == waiting for snap in snapshots)  # nothing left the queue meanwhile
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 9
    assert all("AccessDenied" in e and "stays in the spool" in e for e in errors)
    assert all(d == retry.cap for d in clock.sleeps)  # refusals wait at the cap
    assert_exact(s3_store, data)
    assert queued(spool.root) == []


# -- without faults ---------------------------------------------------------------------


def test_a_drained_queue_is_the_session_in_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    data = lines(0, 45) + compact_line() + lines(45, 50)
    spool = spool_with_segments(tmp_path, data, seg_lines=20)
    ship(spool, store, RetryPolicy())
    m = assert_exact(store, data)
    assert [s["lines"] for s in m["segments"]] == [20, 20, 6, 5]  # the compaction closes one
    assert [c["seq"] for c in m["checkpoints"]] == [3]
    assert queued(spool.root) == []


def test_a_later_drain_adds_segments_after_those_in_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    spool = spool_with_segments(tmp_path, lines(0, 30), seg_lines=20)
    ship(spool, store, RetryPolicy())
    first = assert_exact(store, lines(0, 30))
    spool = spool_with_segments(tmp_path, lines(0, 55), seg_lines=20)
    ship(spool, store, RetryPolicy())
    m = assert_exact(store, lines(0, 55))
    assert m["segments"][:2] == first["segments"]  # the uploaded ones are left as they were
    assert [s["seq"] for s in m["segments"]] == [1, 2, 3, 4]
