"""Two machines writing the same session id must not destroy each other's data."""

from __future__ import annotations

import gzip
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import open_url, start_cli, store_args, wait_until
from tests.support.storeview import manifest, segment_bytes
from uploader.stores import Store

SID = "shared-session"


def lines(tag: bytes, start: int, stop: int) -> bytes:
    return b"".join(b'{"type":"user","from":"%s","i":%d}\n' % (tag, i) for i in range(start, stop))


def segment_objects(store: Store) -> dict[str, bytes]:
    keys = [k for k in store.list(f"sessions/{SID}/segments/")]
    return {key: store.get(key) for key in keys}


def uploads(log: Path) -> int:
    return log.read_text().count("uploaded segment") if log.exists() else 0


def test_a_second_writer_is_reported_and_loses_nothing_of_the_first(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    store = open_url(request, store_url)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"

    def watch(source: Path, spool: str, log: Path) -> subprocess.Popen[bytes]:
        return start_cli(
            "watch", "--file", str(source), "--sid", SID, "--store", store_url,
            *store_args(request), "--spool-dir", str(tmp_path / spool),
            "--seg-lines", "3", "--poll-ms", "50", log=log,
        )  # fmt: skip

    a.write_bytes(lines(b"a", 0, 9))
    first = watch(a, "spool-a", log_a)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: uploads(log_a) == 3, what="the first writer's three segments")
        before = segment_objects(store)
        assert len(before) == 3

        # Another machine, another file, the same session id.
        b.write_bytes(lines(b"b", 0, 6))
        second = watch(b, "spool-b", log_b)
        wait_until(lambda: uploads(log_b) >= 2, what="the second writer's segments")

        # The first writer goes on: its next writes meet the second writer's.
        with open(a, "ab") as f:
            f.write(lines(b"a", 9, 15))

        def reported() -> bool:
            text = log_a.read_text() + log_b.read_text()
            return "another writer" in text

        wait_until(reported, timeout=30, what="the conflict to be reported")
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)

    after = segment_objects(store)
    for key, data in before.items():
        assert after.get(key) == data, f"{key} of the first writer was overwritten or removed"
    m = manifest(store, SID)
    assert m is not None
    named = {f"sessions/{SID}/{s['path']}" for s in m["segments"]}
    assert set(before) <= named, "the manifest dropped segments of the first writer"
    assert set(named) <= set(after), "the manifest names segments the store does not hold"
    # Every line of the first writer is in the store or, after the conflict, still in its
    # spool: nothing was dropped.
    stored = b"".join(
        segment_bytes(store, SID, s)
        for s in m["segments"]
        if f"sessions/{SID}/{s['path']}" in before
    )
    waiting = b"".join(
        gzip.decompress(p.read_bytes())
        for p in sorted((tmp_path / "spool-a" / "queue" / SID).glob("*.jsonl.gz"))
    )
    assert stored + waiting == a.read_bytes()
    assert waiting, "the conflicting segments should wait in the spool"
