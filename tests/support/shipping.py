"""A session pushed through the write path, and what a user checks of it in the store:
the lines of one Claude-shaped session (some with invalid UTF-8 and CRLF, a compaction
line), a spool filled by a real Pipeline, the Shipper draining it as `watch` does, a
virtual clock for RetryPolicy, and `assert_exact` (the session rebuilt from the store's
manifest equals the source byte for byte, nothing stray). Shared by the fault tests
(tests/e2e/test_faults.py) and the shipper's and retry's own (tests/write/)."""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.support.storeview import manifest, rebuild
from uploader.core.metrics import Metrics
from uploader.stores import Store
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
