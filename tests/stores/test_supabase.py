"""`watch` with Supabase Storage and with an upload URL, as a user runs it."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_cli, start_cli, wait_until
from tests.support.httpstub import fixed_status_server
from tests.support.storeview import manifest, rebuild
from tests.support.supabase_standin import SupabaseStandin
from uploader.stores.s3 import S3Store
from uploader.stores.supabase import SupabaseStore

SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"


def lines(start: int, stop: int) -> bytes:
    return b"".join(
        json.dumps({"type": "user", "i": i, "timestamp": "2026-03-14T09:00:00Z"}).encode() + b"\n"
        for i in range(start, stop)
    )


COMPACT = b'{"type":"compaction","id":"e5f6a7b8","summary":"done","tokensBefore":9}\n'


def assert_one_clear_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / f"{SID}.jsonl"
    path.write_bytes(lines(0, 5))
    return path


def test_supabase_is_chosen_by_its_environment(
    tmp_path: Path, source: Path, supabase_server: SupabaseStandin
) -> None:
    """No --store: SUPABASE_URL and SUPABASE_KEY select supabase://$SUPABASE_BUCKET."""
    env = {"SUPABASE_URL": supabase_server.url, "SUPABASE_KEY": supabase_server.key,
           "SUPABASE_BUCKET": supabase_server.bucket}  # fmt: skip
    log = tmp_path / "log"
    proc = start_cli("watch", "--file", str(source), "--spool-dir", str(tmp_path / "spool"),
                     env=env, log=log)  # fmt: skip
    try:
        wait_until(lambda: " watching " in log.read_text(), what="start")
        with open(source, "ab") as f:
            f.write(lines(5, 9) + COMPACT + lines(9, 12))
        wait_until(lambda: supabase_server.get_object(f"sessions/{SID}/manifest.json") is not None,
                   what="the checkpoint's segment and manifest")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    text = log.read_text()
    assert "supabase://sessions/" in text
    assert supabase_server.key not in text  # no credential is ever logged
    store = SupabaseStore(supabase_server.url, supabase_server.key, supabase_server.bucket)
    try:
        assert rebuild(store, SID) == source.read_bytes()
        m = manifest(store, SID)
        assert m is not None and [c["label"] for c in m["checkpoints"]] == ["done"]
    finally:
        store.close()
    seg = supabase_server.get_object(f"sessions/{SID}/segments/session-000001.jsonl.gz")
    assert seg is not None and seg.content_type == "application/gzip"


def test_supabase_faults_lose_and_double_nothing(
    tmp_path: Path, source: Path, supabase_server: SupabaseStandin
) -> None:
    """A gateway's 503 page, a reset connection, and an upload committed whose answer
    was lost: each is retried, and the store ends exact."""
    log, queue = tmp_path / "log", tmp_path / "spool" / "queue" / SID
    proc = start_cli(
        "watch", "--file", str(source), "--store", f"supabase://{supabase_server.bucket}",
        "--supabase-url", supabase_server.url, "--supabase-key", supabase_server.key,
        "--spool-dir", str(tmp_path / "spool"), "--seg-lines", "4", "--poll-ms", "50",
        log=log,
    )  # fmt: skip
    # On segment uploads: the change feed's mark is written once, best effort, and a
    # fault there is said, not retried (tests/index/test_indexer.py).
    faults: dict[str, Callable[[], None]] = {
        "gateway 503": lambda: supabase_server.fail_next(
            1, method="POST", path="/segments/", status=503
        ),
        "reset": lambda: supabase_server.reset_next(1, method="POST", path="/segments/"),
        "dropped answer": lambda: supabase_server.drop_next(1, method="POST", path="/segments/"),
        "manifest dropped": lambda: supabase_server.drop_next(1, path="manifest.json"),
    }
    try:
        wait_until(lambda: " watching " in log.read_text(), what="start")
        for i, (name, inject) in enumerate(faults.items()):
            inject()
            with open(source, "ab") as f:
                f.write(lines(100 + 8 * i, 108 + 8 * i))
            wait_until(lambda: not supabase_server.pending_faults(), what=f"the {name}")
            wait_until(lambda: not any(queue.glob("*.meta.json")), timeout=30,
                       what=f"the queue to drain after the {name}")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, log.read_text()
    assert log.read_text().count("; retry ") >= len(faults)
    store = SupabaseStore(supabase_server.url, supabase_server.key, supabase_server.bucket)
    try:
        assert rebuild(store, SID) == source.read_bytes()
    finally:
        store.close()


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missing-bucket", ["'no-such-bucket'", "Hint:"]),
        ("wrong-key", ["refused our credentials", "SUPABASE_KEY"]),
        ("unreachable", ["cannot reach store", "Hint:"]),
    ],
)
def test_supabase_start_up_probe(
    tmp_path: Path, source: Path, supabase_server: SupabaseStandin, case: str, words: list[str]
) -> None:
    url, key, bucket = supabase_server.url, supabase_server.key, supabase_server.bucket
    if case == "missing-bucket":
        bucket = "no-such-bucket"
    elif case == "wrong-key":
        key = "wrong-key"
    else:
        with fixed_status_server(503) as closed:
            pass
        url = closed
    result = run_cli("watch", "--file", str(source), "--store", f"supabase://{bucket}",
                     "--supabase-url", url, "--supabase-key", key,
                     "--spool-dir", str(tmp_path / "spool"), timeout=60)  # fmt: skip
    assert_one_clear_error(result, *words)
    assert "wrong-key" not in result.stderr
    assert not (tmp_path / "spool" / "queue").exists() or not any(
        (tmp_path / "spool" / "queue").iterdir()
    )


def test_supabase_store_needs_url_and_key(tmp_path: Path, source: Path) -> None:
    result = run_cli("watch", "--file", str(source), "--store", "supabase://sessions",
                     "--spool-dir", str(tmp_path / "spool"))  # fmt: skip
    assert result.returncode == 2
    assert "needs the project's URL and key" in result.stderr
    assert "SUPABASE_URL" in result.stderr


def test_watch_with_an_upload_url(
    tmp_path: Path, source: Path, moto_endpoint: str, s3_bucket: str, s3_store: S3Store
) -> None:
    log = tmp_path / "log"
    proc = start_cli("watch", "--file", str(source),
                     "--upload-url", f"{moto_endpoint}/{s3_bucket}/team-a",
                     "--spool-dir", str(tmp_path / "spool"), log=log)  # fmt: skip
    try:
        wait_until(lambda: " watching " in log.read_text(), what="start")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    assert "write-only" in log.read_text()
    assert rebuild(s3_store, SID) == source.read_bytes()


def test_store_and_upload_url_together_is_bad_usage(tmp_path: Path, source: Path) -> None:
    result = run_cli("watch", "--file", str(source), "--store", "file:///tmp/x",
                     "--upload-url", "http://127.0.0.1:9/up")  # fmt: skip
    assert result.returncode == 2
    assert "both --store and --upload-url" in result.stderr
