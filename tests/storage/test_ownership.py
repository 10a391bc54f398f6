"""Two machines writing the same session id must not destroy each other's data
(uploader.storage.ownership): two real `watch` processes on every store, then the
Ownership calls the shipper makes, on a local folder (read back and compared) and on S3
(conditional writes), each checked by what the store holds afterwards."""

from __future__ import annotations

import gzip
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import open_url, start_cli, store_args, wait_until
from tests.support.storeview import manifest, segment_bytes
from uploader.core.errors import SessionConflict
from uploader.storage.ownership import Ownership
from uploader.stores import Store
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store

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


# -- the calls the shipper makes --------------------------------------------------------------

KEY = f"sessions/{SID}/segments/session-000001.jsonl.gz"
MANIFEST = f"sessions/{SID}/manifest.json"


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest) -> Store:
    store: LocalStore | S3Store = request.getfixturevalue(f"{request.param}_store")
    return store


def manifest_by(writer: str, segments: int) -> bytes:
    return b'{"sid":"%s","writer":"%s","segments":%d}' % (SID.encode(), writer.encode(), segments)


def test_a_segment_written_again_with_its_own_bytes_is_a_retry(any_store: Store) -> None:
    own = Ownership(any_store, "host-a/spool-a")
    own.create(KEY, b"segment one", "application/gzip")
    own.create(KEY, b"segment one", "application/gzip")  # the answer was lost: retried
    assert any_store.get(KEY) == b"segment one"


def test_a_segment_of_another_writer_is_a_conflict_and_stays(any_store: Store) -> None:
    Ownership(any_store, "host-b/spool-b").create(KEY, b"theirs", "application/gzip")
    with pytest.raises(SessionConflict):
        Ownership(any_store, "host-a/spool-a").create(KEY, b"ours", "application/gzip")
    assert any_store.get(KEY) == b"theirs"


def test_a_writer_updates_its_own_manifest(any_store: Store) -> None:
    own = Ownership(any_store, "host-a/spool-a")
    for n in (1, 2, 3):
        own.write_manifest(MANIFEST, manifest_by("host-a/spool-a", n), "application/json")
    assert any_store.get(MANIFEST) == manifest_by("host-a/spool-a", 3)


def test_a_manifest_another_writer_changed_is_not_overwritten(any_store: Store) -> None:
    own = Ownership(any_store, "host-a/spool-a")
    own.write_manifest(MANIFEST, manifest_by("host-a/spool-a", 1), "application/json")
    theirs = manifest_by("host-b/spool-b", 5)
    any_store.put(MANIFEST, theirs, "application/json")
    with pytest.raises(SessionConflict, match="host-b/spool-b"):
        own.write_manifest(MANIFEST, manifest_by("host-a/spool-a", 2), "application/json")
    assert any_store.get(MANIFEST) == theirs


def test_a_manifest_of_its_own_from_before_a_restart_is_taken_over(any_store: Store) -> None:
    """Killed after writing a manifest but before remembering it: the next process with
    the same spool (the same writer) finds its own manifest and goes on."""
    any_store.put(MANIFEST, manifest_by("host-a/spool-a", 4), "application/json")
    again = Ownership(any_store, "host-a/spool-a")
    again.write_manifest(MANIFEST, manifest_by("host-a/spool-a", 5), "application/json")
    assert any_store.get(MANIFEST) == manifest_by("host-a/spool-a", 5)
