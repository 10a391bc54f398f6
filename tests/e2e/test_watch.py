"""`agent-uploader watch` as a user runs it: a real process, a real file, a real store."""

from __future__ import annotations

import gzip
import json
import os
import signal
from pathlib import Path

import pytest

from tests.support.cli import open_url, run_cli, start_cli, store_args, wait_until
from tests.support.storeview import manifest, rebuild, store_from_url
from tests.support.transcripts import compact_boundary, numbered_line

SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"


def claude_line(i: int, text: str = "hello") -> bytes:
    return numbered_line(SID, i, text)


def compact_line(i: int) -> bytes:
    return compact_boundary(SID, gitBranch="main", uuid=f"c-{i}")


def endpoint_args(request: pytest.FixtureRequest) -> list[str]:
    return store_args(request)


def test_watch_uploads_appended_lines_exactly(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b"".join(claude_line(i) for i in range(50)))
    log = tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--file", str(source), "--store", store_url, *endpoint_args(request),
        "--spool-dir", str(tmp_path / "spool"), "--seg-lines", "40", "--poll-ms", "100",
        log=log,
    )  # fmt: skip
    try:
        store = open_url(request, store_url)
        with open(source, "ab") as f:
            for i in range(50, 130):
                f.write(claude_line(i))
                if i == 90:
                    f.write(compact_line(i))
                f.flush()
        # Segments of 40 lines and the checkpoint close on their own; the rest at Ctrl+C.
        wait_until(lambda: len((manifest(store, SID) or {}).get("segments", [])) >= 3,
                   what="three segments in the store")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    assert rebuild(store, SID) == source.read_bytes()
    m = manifest(store, SID)
    assert m is not None
    assert all(s["lines"] <= 40 for s in m["segments"])
    assert m["source"]["agent"] == "claude"
    [checkpoint] = m["checkpoints"]
    assert checkpoint["label"] == "auto compaction at 155,210 tokens"
    assert checkpoint["git"] == "main"
    seg = next(s for s in m["segments"] if s["seq"] == checkpoint["seq"])
    assert seg["lines"] == checkpoint["line_idx"]  # the compaction line ends its segment
    latest = json.loads(store.get(f"sessions/{SID}/checkpoints/latest.json"))
    assert latest == checkpoint
    assert json.loads(store.get(f"sessions/{SID}/checkpoints/{checkpoint['id']}.json")) == latest
    assert "uploaded segment" in log.read_text()


def test_restart_resumes_without_loss_or_doubles(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    store_url = f"file://{tmp_path / 'store'}"
    spool = tmp_path / "spool"
    log = tmp_path / "watch.log"
    args = ["watch", "--file", str(source), "--store", store_url, "--spool-dir", str(spool)]
    # Each run stops with a partial line in the file; the next run completes it.
    source.write_bytes(b"".join(claude_line(i) for i in range(10)) + b'{"partial":')
    for round_ in range(3):
        if round_:
            with open(source, "ab") as f:
                f.write(b" 1}\n" + b"".join(claude_line(i) for i in range(10)) + b'{"p":')
        proc = start_cli(*args, log=log)
        started = round_ + 1

        def watching(n: int = started) -> bool:
            return log.read_text().count(" watching ") == n

        wait_until(watching, what="start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        want = source.read_bytes().rpartition(b"\n")[0] + b"\n"
        assert rebuild(store_from_url(store_url), SID) == want, f"round {round_}"


def test_dry_run_writes_nothing_and_reports(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(claude_line(1) + compact_line(2) + claude_line(3))
    log = tmp_path / "watch.log"
    store_dir = tmp_path / "store"
    proc = start_cli(
        "watch", "--file", str(source), "--store", f"file://{store_dir}", "--dry-run",
        "--spool-dir", str(tmp_path / "spool"), log=log,
    )  # fmt: skip
    wait_until(lambda: "would write" in log.read_text(), what="dry-run report")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    text = log.read_text()
    assert f"would write sessions/{SID}/segments/session-000001.jsonl.gz" in text
    assert f"would write sessions/{SID}/checkpoints/latest.json" in text
    assert f"would write sessions/{SID}/manifest.json" in text
    assert not store_dir.exists() or not any(store_dir.rglob("*.json"))
    assert not (tmp_path / "spool" / "state").exists()


def test_no_gzip_uploads_plain_jsonl(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b"".join(claude_line(i) for i in range(5)))
    store_url = f"file://{tmp_path / 'store'}"
    proc = start_cli("watch", "--file", str(source), "--store", store_url, "--no-gzip",
                     "--spool-dir", str(tmp_path / "spool"))  # fmt: skip
    store = store_from_url(store_url)
    wait_until(lambda: (tmp_path / "spool" / "state" / f"{SID}.json").exists())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    m = manifest(store, SID)
    assert m is not None
    assert m["segments"][0]["path"] == "segments/session-000001.jsonl"
    assert store.get(f"sessions/{SID}/segments/session-000001.jsonl") == source.read_bytes()


def test_gzip_output_is_standard_gzip(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b"".join(claude_line(i) for i in range(200)))
    store_dir = tmp_path / "store"
    proc = start_cli("watch", "--file", str(source), "--store", f"file://{store_dir}",
                     "--spool-dir", str(tmp_path / "spool"))  # fmt: skip
    wait_until(lambda: (tmp_path / "spool" / "state" / f"{SID}.json").exists())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    [seg] = list(store_dir.rglob("*.jsonl.gz"))
    assert gzip.decompress(seg.read_bytes()) == source.read_bytes()


def test_deleting_the_source_ends_the_session(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b"".join(claude_line(i) for i in range(5)))
    store_url = f"file://{tmp_path / 'store'}"
    proc = start_cli("watch", "--file", str(source), "--store", store_url, "--poll-ms", "100",
                     "--spool-dir", str(tmp_path / "spool"), log=tmp_path / "log")  # fmt: skip
    wait_until(lambda: (tmp_path / "spool" / "state" / f"{SID}.json").exists())
    with open(source, "ab") as f:
        f.write(claude_line(5) + b'{"tail without newline":1}')
    want = source.read_bytes()
    os.unlink(source)
    assert proc.wait(timeout=30) == 0, (tmp_path / "log").read_text()
    store = store_from_url(store_url)
    m = manifest(store, SID)
    assert m is not None and m["closed"] is True
    assert rebuild(store, SID) == want  # everything read, the unterminated tail too


def test_second_watch_on_the_same_spool_refuses(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(claude_line(1))
    args = ["watch", "--file", str(source), "--store", f"file://{tmp_path / 'store'}",
            "--spool-dir", str(tmp_path / "spool")]  # fmt: skip
    first = start_cli(*args)
    try:
        wait_until(lambda: (tmp_path / "spool" / "state" / f"{SID}.json").exists())
        second = run_cli(*args, timeout=30)
        assert second.returncode == 1
        assert "already in use" in second.stderr
        assert "--spool-dir" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=30)


def test_auto_sid_waits_for_the_first_line_when_the_name_has_none(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    source.write_bytes(b'{"type":"session","version":3,"id":"7d3f9a10-5c2e-4b8a')
    store_url = f"file://{tmp_path / 'store'}"
    log = tmp_path / "log"
    proc = start_cli("watch", "--file", str(source), "--store", store_url, "--poll-ms", "50",
                     "--spool-dir", str(tmp_path / "spool"), log=log)  # fmt: skip
    try:
        wait_until(lambda: "waiting for the first line" in log.read_text(), what="waiting")
        with open(source, "ab") as f:
            f.write(b'-9f01-2e6c4d8b1a77","cwd":"/w"}\n')
        wait_until(lambda: " watching " in log.read_text(), what="start")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    store = store_from_url(store_url)
    sid = "7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77"
    assert rebuild(store, sid) == source.read_bytes()
    assert (manifest(store, sid) or {})["source"]["agent"] == "openclaw"


def test_one_stop_request_delivered_twice_still_uploads(tmp_path: Path) -> None:
    """`timeout -s INT` (and some supervisors) signal the process and its group at once:
    that is one request to stop, not a second Ctrl+C that abandons the uploads."""
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b"".join(claude_line(i) for i in range(5)))
    store_url = f"file://{tmp_path / 'store'}"
    log = tmp_path / "log"
    proc = start_cli("watch", "--file", str(source), "--store", store_url,
                     "--spool-dir", str(tmp_path / "spool"), log=log)  # fmt: skip
    wait_until(lambda: " watching " in log.read_text(), what="start")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0, log.read_text()
    assert rebuild(store_from_url(store_url), SID) == source.read_bytes()
