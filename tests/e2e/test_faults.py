"""The store misbehaves; the session still arrives exact (docs/design.md: never drop data).

A fault proxy (faultproxy.py) sits between the uploader and the moto server and answers
503/500/403, resets connections, holds answers past the read timeout, drops answers
after moto committed, or cuts bodies short. Each test then checks what a user would: the
session rebuilt from the store's manifest equals the source byte for byte (seq 1..n
without gaps, every segment's sha256, bytes and lines checked), and nothing stays queued
in the spool. The verifying reads go to moto directly, never through the proxy.

Most tests run the real CLI as a process. The others need what a process cannot give
quickly or deterministically, and drive the engine's Shipper in-process over a spool
filled by a real Pipeline, the way `watch` builds them: a read timeout of 1 s instead of
30 s (S3Store(read_timeout=1); no setting was added for this), outages of minutes and
hours played on a virtual clock through RetryPolicy's injectable sleep, and a write held
by the proxy until the test releases it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import start_cli, wait_until
from tests.support.faultproxy import DROP, RESET, TRUNCATE, FaultProxy, delay, error, late
from tests.support.storeview import manifest, rebuild
from uploader.core.metrics import Metrics
from uploader.stores import Store
from uploader.stores.base import StorageUnavailable
from uploader.stores.s3 import S3Store
from uploader.write.pipeline import Pipeline
from uploader.write.retry import RetryPolicy
from uploader.write.segment import SegmentLimits
from uploader.write.shipper import Shipper
from uploader.write.spool import Spool
from uploader.write.state import StateStore

SID = "0f8e2c4a-6b1d-4e3f-9a57-2c8d1e6b4f90"
NAME = f"{SID}.jsonl"
PREFIX = "team-a"  # conftest's s3_store (the direct view of moto) uses this prefix too


# -- the session's lines ------------------------------------------------------------------


def line(i: int) -> bytes:
    """Claude-shaped lines of varying length; some carry invalid UTF-8 and CRLF."""
    body = json.dumps(
        {
            "type": "user" if i % 2 else "assistant",
            "sessionId": SID,
            "uuid": f"u-{i}",
            "message": {"role": "user", "content": f"line {i} " + "x" * (i * 37 % 700)},
            "timestamp": f"2026-03-14T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        }
    ).encode()
    return body + (b" \xff\xfe\r\n" if i % 7 == 3 else b"\n")


def lines(start: int, stop: int) -> bytes:
    return b"".join(line(i) for i in range(start, stop))


def compact_line() -> bytes:
    return (
        json.dumps(
            {
                "type": "system",
                "subtype": "compact_boundary",
                "sessionId": SID,
                "gitBranch": "main",
                "compactMetadata": {"trigger": "auto", "preTokens": 120000},
                "uuid": "c-1",
                "timestamp": "2026-03-14T10:00:00.000Z",
            }
        ).encode()
        + b"\n"
    )


def complete_lines(data: bytes) -> bytes:
    """What the store must hold: the source up to its last newline."""
    return data[: data.rfind(b"\n") + 1]


# -- what a user checks -------------------------------------------------------------------


def segments_in(store: Store) -> int:
    return len((manifest(store, SID) or {}).get("segments", []))


def queued(spool: Path) -> list[str]:
    """Files waiting under <spool>/queue/<sid>/."""
    folder = spool / "queue" / SID
    return sorted(os.listdir(folder)) if folder.exists() else []


def assert_exact(store: Store, want: bytes) -> dict[str, Any]:
    """The store holds exactly `want` for the session, with a valid manifest."""
    m = manifest(store, SID)
    assert m is not None, "no manifest in the store"
    assert rebuild(store, SID) == want  # seq 1..n, no gaps; sha256, bytes, lines per segment
    assert m["version"] == 1 and m["sid"] == SID and m["writer"]
    segs = m["segments"]
    assert {s.get("generation", 1) for s in segs} == {1}
    assert m["active_seq"] == segs[-1]["seq"] + 1
    assert sum(s["bytes"] for s in segs) == len(want)
    stored = set(store.list(f"sessions/{SID}/segments/"))
    assert stored == {f"sessions/{SID}/{s['path']}" for s in segs}, "stray or missing objects"
    for cp in m["checkpoints"]:
        assert json.loads(store.get(f"sessions/{SID}/checkpoints/{cp['id']}.json")) == cp
    if m["checkpoints"]:
        latest = json.loads(store.get(f"sessions/{SID}/checkpoints/latest.json"))
        assert latest == m["checkpoints"][-1]
    return m


# -- fixtures and the CLI -----------------------------------------------------------------


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's moto server, forwarding until told not to."""
    with FaultProxy(moto_endpoint) as p:
        yield p
    assert not p.errors, f"the fault proxy itself failed: {p.errors!r}"


def watch_args(tmp_path: Path, proxy: FaultProxy, bucket: str, spool: str = "spool") -> list[str]:
    return [
        "watch", "--file", str(tmp_path / NAME), "--store", f"s3://{bucket}/{PREFIX}",
        "--s3-endpoint-url", proxy.url, "--spool-dir", str(tmp_path / spool),
        "--seg-lines", "20", "--poll-ms", "100", "--shutdown-timeout", "60s",
    ]  # fmt: skip


@contextlib.contextmanager
def running(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The CLI as a process; killed if the test fails before stopping it."""
    proc = start_cli(*args, log=log)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def interrupt(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl+C, as a user stops it: the active segment closes and the queue drains."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=90) == 0, log.read_text()


# -- the CLI through faults ---------------------------------------------------------------

# Every distinct request (method and key) fails its first attempts; the retries pass.
# With botocore's own retries off, each fault reaches the uploader's retry policy.
CLI_FAULTS = {
    "503-burst": (error(503), 2),  # two SlowDowns in a row on every call
    "500": (error(500), 1),
    "reset": (RESET, 1),  # the connection dies before the store saw the request
    "dropped-after-commit": (DROP, 1),  # the store wrote it; the answer never came
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(CLI_FAULTS))
def test_watch_ends_exact_despite_store_faults(
    fault: str, tmp_path: Path, proxy: FaultProxy, s3_bucket: str, s3_store: S3Store
) -> None:
    kind, attempts = CLI_FAULTS[fault]
    rule = proxy.inject(kind, per_key=attempts)
    source, log = tmp_path / NAME, tmp_path / "watch.log"
    source.write_bytes(lines(0, 50))
    with running(watch_args(tmp_path, proxy, s3_bucket), log) as proc:
        wait_until(lambda: segments_in(s3_store) == 2, timeout=60, what="segments 1-2")
        with open(source, "ab") as f:  # 40..69 and the compaction line, then 70..94
            f.write(lines(50, 70) + compact_line())
            f.flush()
            f.write(lines(70, 95) + b'{"unterminated":')
        wait_until(lambda: segments_in(s3_store) == 5, timeout=60, what="segments 3-5")
        interrupt(proc, log)  # closes segment 6 (lines 90..94) and uploads it
    m = assert_exact(s3_store, complete_lines(source.read_bytes()))
    assert [s["lines"] for s in m["segments"]] == [20, 20, 20, 11, 20, 5]
    assert [c["seq"] for c in m["checkpoints"]] == [4]
    assert queued(tmp_path / "spool") == []
    # Every segment, the manifest and both checkpoint objects met the fault.
    assert rule.hits >= attempts * (6 + 1 + 2)
    assert "retry 1 in" in log.read_text()


@pytest.mark.slow
def test_403_keeps_the_data_queued_and_says_so(
    tmp_path: Path, proxy: FaultProxy, s3_bucket: str, s3_store: S3Store
) -> None:
    """Bad credentials on PUT: nothing is dropped, the log says so at ERROR; once the
    store accepts again (here at the next start), everything arrives."""
    denied = proxy.inject(error(403), method="PUT")
    source, log = tmp_path / NAME, tmp_path / "watch.log"
    spool = tmp_path / "spool"
    source.write_bytes(lines(0, 50))
    args = [*watch_args(tmp_path, proxy, s3_bucket), "--shutdown-timeout", "1s"]
    with running(args, log) as proc:
        wait_until(lambda: "ERROR" in log.read_text(), timeout=60, what="an ERROR line")
        refusal = next(ln for ln in log.read_text().splitlines() if "ERROR" in ln)
        assert "AccessDenied" in refusal and "stays in the spool" in refusal
        assert queued(spool)[:2] == ["session-000001.jsonl.gz", "session-000001.meta.json"]
        interrupt(proc, log)  # the uploads are still refused: the rest waits on disk
    assert denied.hits >= 1
    assert manifest(s3_store, SID) is None
    assert queued(spool) == [
        f"session-00000{seq}.{ext}" for seq in (1, 2, 3) for ext in ("jsonl.gz", "meta.json")
    ]
    assert "not uploaded yet stay in" in log.read_text()

    proxy.heal()  # the credentials are fixed
    with running(watch_args(tmp_path, proxy, s3_bucket), log) as proc:
        wait_until(lambda: not queued(spool), timeout=60, what="the queue to drain")
        interrupt(proc, log)
    m = assert_exact(s3_store, source.read_bytes())
    assert [s["lines"] for s in m["segments"]] == [20, 20, 10]


@pytest.mark.slow
def test_manifest_read_cut_short_at_start_is_retried(
    tmp_path: Path, proxy: FaultProxy, s3_bucket: str, s3_store: S3Store
) -> None:
    """A new spool (another machine) learns the session from the store's manifest; a
    body cut short must be read again, not taken for "no session" (which would start
    over at seq 1 and overwrite the store's segments)."""
    source, log = tmp_path / NAME, tmp_path / "watch.log"
    source.write_bytes(lines(0, 30))
    with running(watch_args(tmp_path, proxy, s3_bucket, spool="spool-a"), log) as proc:
        wait_until(lambda: segments_in(s3_store) == 1, timeout=60, what="segment 1")
        interrupt(proc, log)
    first = manifest(s3_store, SID)
    assert first is not None and [s["lines"] for s in first["segments"]] == [20, 10]

    cut = proxy.inject(TRUNCATE, method="GET", path="/manifest.json", times=1)
    with open(source, "ab") as f:
        f.write(lines(30, 55))
    with running(watch_args(tmp_path, proxy, s3_bucket, spool="spool-b"), log) as proc:
        wait_until(lambda: segments_in(s3_store) == 3, timeout=60, what="segment 3")
        interrupt(proc, log)
    assert cut.hits == 1
    m = assert_exact(s3_store, source.read_bytes())
    assert m["segments"][:2] == first["segments"]  # continued, not started over
    assert [s["lines"] for s in m["segments"]] == [20, 10, 20, 5]


IDLE_WINDOW_S = 2.0  # the subject of the test: how long an idle watcher is observed


@pytest.mark.slow
def test_idle_watch_makes_no_store_requests(
    tmp_path: Path, proxy: FaultProxy, s3_bucket: str, s3_store: S3Store
) -> None:
    source, log = tmp_path / NAME, tmp_path / "watch.log"
    source.write_bytes(lines(0, 60) + b'{"unterminated":')
    args = [*watch_args(tmp_path, proxy, s3_bucket), "--poll-ms", "50"]
    with running(args, log) as proc:
        wait_until(lambda: segments_in(s3_store) == 3, timeout=60, what="the startup uploads")
        wait_until(lambda: not queued(tmp_path / "spool"), timeout=60, what="an empty queue")
        # The search index has read the store once at the start and caught up since
        # (from the bytes it uploaded: it reads none back).
        wait_until(lambda: index_lag(tmp_path / "spool") == 0, timeout=60, what="the index")
        before = proxy.counts()
        assert before["PUT"] >= 4  # three segments and a manifest went through the proxy
        deadline = time.monotonic() + IDLE_WINDOW_S
        while time.monotonic() < deadline:
            os.utime(source)  # wake the watcher: a file event, nothing new to read
            time.sleep(0.1)
        assert proxy.counts() == before, proxy.seen()[-5:]
        interrupt(proc, log)
    assert_exact(s3_store, complete_lines(source.read_bytes()))


def index_lag(spool: Path) -> float | None:
    try:
        lag = json.loads((spool / "status.json").read_bytes()).get("index_lag_s")
    except (OSError, ValueError):
        return None
    return float(lag) if isinstance(lag, int | float) else None


# -- in-process: the Shipper over a spool of closed segments ----------------------------


def spool_with_segments(tmp_path: Path, data: bytes, seg_lines: int) -> Spool:
    """Tail a real file through a real Pipeline into the spool, closing every segment.
    Called again with longer data, it appends the rest to the file and spools that."""
    source = tmp_path / NAME
    old = source.read_bytes() if source.exists() else b""
    assert data.startswith(old)
    with open(source, "ab") as f:
        f.write(data[len(old) :])
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    limits = SegmentLimits(max_lines=seg_lines)
    pipeline = Pipeline(source, SID, spool, StateStore(spool.state_dir), limits, Metrics())
    pipeline.open(None)
    pipeline.step()
    pipeline.finish()
    return spool


def ship(spool: Spool, store: Store, retry: RetryPolicy, concurrency: int = 2) -> Shipper:
    """Drain the spool's queue into the store, as `watch` does."""

    async def main() -> Shipper:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="store") as pool:
            shipper = Shipper(
                spool,
                store,
                executor=pool,
                concurrency=concurrency,
                retry=retry,
                writer=f"test/{spool.spool_id}",
                metrics=Metrics(),
            )
            clean = await asyncio.wait_for(shipper.drain(), timeout=120)
            assert clean is not False, "the shipper left work in the queue"
        return shipper

    return asyncio.run(main())


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


class VirtualClock:
    """RetryPolicy's sleep on a virtual clock: returns at once, time only advances.

    Sleeps that start in the same turn of the event loop overlap, as they would in real
    time; a sleep that starts later counts from the clock's time then."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    async def sleep(self, delay: float, stop: asyncio.Event) -> bool:
        start = self.now
        self.sleeps.append(delay)
        await asyncio.sleep(0)
        self.now = max(self.now, start + delay)
        return stop.is_set()


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


def test_retry_outlasts_an_outage_of_a_day(caplog: pytest.LogCaptureFixture) -> None:
    """One call failing for 24 h of virtual time (thousands of retries) still succeeds in
    the end. (The backoff's 2**attempt used to overflow a float at retry 1024, about four
    hours into an outage, and the OverflowError escaped the retry loop.)"""
    day = 24 * 3600.0
    clock = VirtualClock()
    retry = RetryPolicy(sleep=clock.sleep, rng=random.Random(2))

    async def put() -> str:
        if clock.now < day:
            raise StorageUnavailable("PUT sessions/x: 503 SlowDown")
        return "stored"

    async def main() -> str:
        return await retry.run(put, what="PUT sessions/x", stop=asyncio.Event())

    caplog.set_level(logging.ERROR, logger="uploader.write.retry")  # thousands of WARNING lines
    assert asyncio.run(main()) == "stored"
    assert clock.now >= day
    assert retry.stats.retries > 1024
    assert retry.base / 2 <= min(clock.sleeps) and max(clock.sleeps) <= retry.cap


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
