"""The store misbehaves; the session still arrives exact (docs/design.md: never drop data).

A fault proxy (tests/support/faultproxy.py) sits between the uploader and the moto
server and answers 503/500/403, resets connections, holds answers past the read timeout,
drops answers after moto committed, or cuts bodies short. Each test then checks what a
user would: the session rebuilt from the store's manifest equals the source byte for byte
(seq 1..n without gaps, every segment's sha256, bytes and lines checked), and nothing
stays queued in the spool. The verifying reads go to moto directly, never through the proxy.

Here the real CLI runs as a process. What a process cannot give quickly or
deterministically (a 1 s read timeout, outages of hours on a virtual clock, a write held
until the test releases it) drives the Shipper in-process: tests/write/test_shipper.py
and tests/write/test_retry.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import running, wait_until
from tests.support.faultproxy import DROP, RESET, TRUNCATE, FaultProxy, error
from tests.support.shipping import (
    NAME,
    PREFIX,
    SID,
    assert_exact,
    compact_line,
    complete_lines,
    lines,
    queued,
    segments_in,
)
from tests.support.storeview import manifest
from uploader.stores.s3 import S3Store

# -- the CLI through faults ---------------------------------------------------------------


def watch_args(tmp_path: Path, proxy: FaultProxy, bucket: str, spool: str = "spool") -> list[str]:
    return [
        "watch", "--file", str(tmp_path / NAME), "--store", f"s3://{bucket}/{PREFIX}",
        "--s3-endpoint-url", proxy.url, "--spool-dir", str(tmp_path / spool),
        "--seg-lines", "20", "--poll-ms", "100", "--shutdown-timeout", "60s",
    ]  # fmt: skip


def interrupt(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl+C, as a user stops it: the active segment closes and the queue drains."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=90) == 0, log.read_text()


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
