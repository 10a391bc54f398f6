"""`agent-uploader status` as a monitor uses it, against real `watch` processes: a running
watch and a stopped one, an idle watch that leaves its status file alone, a killed watch
whose stale file reads as not running, a store outage that turns the status unhealthy and
back (the fault proxy of tests/e2e/test_faults.py in front of moto), and the dashboard's health
strip and /api/status, under the dashboard's own CSP."""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.cli import run_cli, running, wait_until
from tests.support.faultproxy import error, fault_proxy
from tests.support.storeview import rebuild
from tests.support.transcripts import numbered_line
from tests.support.uiclient import TestClient
from ui.app import UIConfig, create_app
from ui.security import CSP
from ui.service import Sessions
from uploader.core.metrics import Health
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store
from uploader.write.status import WatchStatus, report

SID = "6c2d8e1f-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
URL = re.compile(r"dashboard at (http://\S+/)")


def lines(start: int, stop: int) -> bytes:
    return b"".join(numbered_line(SID, i) for i in range(start, stop))


def status(spool: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """`status --json`: its exit code and what it printed."""
    done = run_cli("status", "--spool-dir", str(spool), "--json", *extra, timeout=30)
    assert done.stdout, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, found


def settled(spool: Path) -> bool:
    """Everything read is uploaded, as the status file says (read without the CLI)."""
    try:
        doc = json.loads((spool / "status.json").read_bytes())
    except (OSError, ValueError):
        return False
    return bool(
        doc["last_upload_at"] and doc["queue"]["segments"] == 0 and doc["bytes_behind"] == 0
    )


def file_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "--file", str(tmp_path / f"{SID}.jsonl"), "--spool-dir", str(tmp_path / "spool"),
        "--seg-lines", "5", "--poll-ms", "100", *extra,
    ]  # fmt: skip


def test_a_running_watch_then_a_stopped_one(tmp_path: Path) -> None:
    (tmp_path / f"{SID}.jsonl").write_bytes(lines(0, 10))  # two segments of 5 lines
    spool, log, store = tmp_path / "spool", tmp_path / "watch.log", tmp_path / "store"
    with running(["watch", *file_args(tmp_path, "--store", f"file://{store}")], log) as proc:
        wait_until(lambda: settled(spool), what="both segments uploaded")
        code, doc = status(spool)
        assert code == 0, doc
        assert doc["running"] is True and doc["healthy"] is True and doc["problems"] == []
        assert doc["state"] == "running" and doc["pid"] == proc.pid
        assert doc["store"] == f"file://{store}" and doc["spool"] == str(spool)
        assert doc["sessions"] == 1 and doc["bytes_behind"] == 0
        assert doc["queue"] == {"segments": 0, "oldest_queued_at": None, "oldest_age_s": None}
        assert doc["last_error"] is None and doc["consecutive_failures"] == 0
        assert doc["redactions"] == {} and "index_lag_s" in doc  # the index says, if any
        assert (spool / "status.json").stat().st_mode & 0o777 == 0o600

        human = run_cli("status", "--spool-dir", str(spool), timeout=30)
        assert human.returncode == 0, human.stderr
        rows = human.stdout.splitlines()
        assert rows[0].startswith("watch ") and f"pid {proc.pid}" in rows[0]
        assert re.fullmatch(r"health +ok", rows[-1])
        assert all(row[11:13] == "  " for row in rows)  # labels padded to one width

        # The dashboard of the same watch says the same.
        wait_until(lambda: URL.search(log.read_text()) is not None, what="dashboard")
        match = URL.search(log.read_text())
        assert match is not None
        with urllib.request.urlopen(match.group(1) + "api/status", timeout=10) as answer:
            api = json.loads(answer.read())
        assert api["running"] is True and api["healthy"] is True and api["pid"] == proc.pid
        with urllib.request.urlopen(match.group(1), timeout=10) as answer:
            assert answer.headers["content-security-policy"] == CSP
            page = answer.read().decode()
        assert '<div class="health health-ok" role="status">' in page
        assert "Uploads healthy" in page and "1 tailed" in page and "queue empty" in page
        assert "<style" not in page and " style=" not in page
        assert len(re.findall(r"<script", page)) == 1  # our own /static/app.js only

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    code, doc = status(spool)
    assert code == 3
    assert doc["running"] is False and doc["healthy"] is False and doc["state"] == "stopped"
    assert "stopped" in doc["problems"][0]
    human = run_cli("status", "--spool-dir", str(spool), timeout=30)
    assert human.returncode == 3
    assert human.stderr.startswith(
        f"Error: no watch is running on spool {spool}: its watch stopped"
    )
    assert "Hint: " in human.stderr and "Traceback" not in human.stderr


def test_no_watch_ever_on_the_spool(tmp_path: Path) -> None:
    human = run_cli("status", "--spool-dir", str(tmp_path / "nothing"), timeout=30)
    assert human.returncode == 3 and human.stdout == ""
    assert "Error: no watch is running" in human.stderr and "no status file" in human.stderr
    code, doc = status(tmp_path / "nothing")
    assert code == 3 and doc["running"] is False and doc["healthy"] is False


def test_an_idle_watch_does_not_rewrite_its_status(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(0, 5))
    spool, log = tmp_path / "spool", tmp_path / "watch.log"
    path = spool / "status.json"
    args = file_args(tmp_path, "--store", f"file://{tmp_path / 'store'}", "--ui-disable")
    with running(["watch", *args], log) as proc:
        wait_until(lambda: settled(spool), what="the segment uploaded")
        time.sleep(1.5)  # a look that was due when it settled has passed

        def stamp() -> tuple[int, int, bytes]:
            st = path.stat()
            return st.st_ino, st.st_mtime_ns, path.read_bytes()

        before = stamp()
        time.sleep(3.5)  # three looks at it, at least
        assert stamp() == before, "an idle watch rewrote its status file"

        with open(source, "ab") as f:  # something happens: the file is rewritten
            f.write(lines(5, 10))
        wait_until(lambda: stamp()[:2] != before[:2], timeout=20, what="a rewrite")
        wait_until(lambda: settled(spool) and stamp()[2] != before[2], what="new figures")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()


def test_a_killed_watch_reads_as_not_running(tmp_path: Path) -> None:
    (tmp_path / f"{SID}.jsonl").write_bytes(lines(0, 5))
    spool, log = tmp_path / "spool", tmp_path / "watch.log"
    args = file_args(tmp_path, "--store", f"file://{tmp_path / 'store'}", "--ui-disable")
    with running(["watch", *args], log) as proc:
        wait_until(lambda: settled(spool), what="the segment uploaded")
        assert status(spool)[0] == 0
        proc.kill()
        proc.wait(timeout=30)
    left = json.loads((spool / "status.json").read_bytes())
    assert left["state"] == "running"  # a kill leaves the file as it was
    code, doc = status(spool)
    assert code == 3 and doc["running"] is False
    assert f"pid {proc.pid}" in doc["problems"][0] and "killed" in doc["problems"][0]
    human = run_cli("status", "--spool-dir", str(spool), timeout=30)
    assert human.returncode == 3 and "killed" in human.stderr

    # The pid taken by another live process (here, this test's): its start time differs.
    (spool / "status.json").write_text(json.dumps({**left, "pid": os.getpid()}))
    code, doc = status(spool)
    assert code == 3 and doc["running"] is False


def test_a_store_outage_turns_status_unhealthy_and_back(
    tmp_path: Path, moto_endpoint: str, s3_bucket: str, s3_store: S3Store
) -> None:
    with fault_proxy(moto_endpoint) as proxy:
        source = tmp_path / f"{SID}.jsonl"
        source.write_bytes(lines(0, 5))
        spool, log = tmp_path / "spool", tmp_path / "watch.log"
        args = file_args(
            tmp_path, "--store", f"s3://{s3_bucket}/team-a", "--s3-endpoint-url", proxy.url,
            "--ui-disable", "--shutdown-timeout", "60s",
        )  # fmt: skip
        strict = ("--max-failing", "1s", "--max-queue-age", "3s")
        with running(["watch", *args], log) as proc:
            wait_until(lambda: settled(spool), what="the first segment uploaded")
            assert status(spool, *strict)[0] == 0

            proxy.inject(error(503), method="PUT")  # the store is down for writes
            with open(source, "ab") as f:
                f.write(lines(5, 10))

            def unhealthy() -> bool:
                code, doc = status(spool, *strict)
                return code == 1 and len(doc["problems"]) == 2

            wait_until(unhealthy, timeout=60, interval=0.5, what="status unhealthy")
            code, doc = status(spool, *strict)
            assert code == 1 and doc["running"] is True and doc["healthy"] is False
            failing, waiting = doc["problems"]
            assert failing.startswith("uploads have been failing for ") and "SlowDown" in failing
            assert waiting.startswith("the oldest queued segment has waited ")
            assert doc["queue"]["segments"] >= 1 and doc["consecutive_failures"] >= 1
            assert doc["last_error"]["at"] > doc["last_upload_at"]
            assert "testing" not in json.dumps(doc)  # no credential in what it says
            human = run_cli("status", "--spool-dir", str(spool), *strict, timeout=30)
            assert human.returncode == 1 and "uploads have been failing" in human.stdout
            assert status(spool, "--max-failing", "1h", "--max-queue-age", "1h")[0] == 0

            proxy.heal()  # the store is back: the queue drains and the status recovers
            wait_until(lambda: status(spool, *strict)[0] == 0, timeout=90, interval=0.5,
                       what="status healthy again")  # fmt: skip
            code, doc = status(spool, *strict)
            assert code == 0 and doc["healthy"] is True and doc["problems"] == []
            assert doc["consecutive_failures"] == 0 and doc["failing_since"] is None
            assert doc["last_upload_at"] > doc["last_error"]["at"]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=90) == 0, log.read_text()
        assert rebuild(s3_store, SID) == source.read_bytes()


def test_the_health_strip_is_on_every_page_past_the_token(tmp_path: Path) -> None:
    now = time.time()
    failing = {
        "version": 1, "state": "running", "pid": 1, "started_at": now - 600,
        "store": "s3://bucket/team-a", "spool": str(tmp_path), "sessions": 2,
        "bytes_behind": 0, "queue": {"segments": 3, "oldest_queued_at": now - 900},
        "last_upload_at": now - 1000, "consecutive_failures": 40, "failing_since": now - 950,
        "last_error": {"at": now - 5, "message": "PUT x failed: 503 <SlowDown>"},
        "redactions": {}, "index_lag_s": None,
    }  # fmt: skip
    shown = report(WatchStatus(tmp_path, failing, True), now)
    assert shown["healthy"] is False and len(shown["problems"]) == 2
    app = create_app(
        Sessions(LocalStore(tmp_path / "store")), UIConfig(token="s3cret", health=lambda: shown)
    )
    with TestClient(app) as c:
        login = c.get("/login")
        assert login.status_code == 200 and 'class="health' not in login.text
        assert c.get("/api/status").status_code == 401  # nothing said without the token
        c.post("/login", data={"token": "s3cret", "next": "/"}, follow_redirects=False)
        for path in ("/", "/s/no-such-session"):
            page = c.get(path)
            assert '<div class="health health-bad" role="status">' in page.text, path
            assert "Uploads need attention" in page.text and "2 tailed" in page.text
            assert "queue 3, oldest 15m ago" in page.text
            assert "503 &lt;SlowDown&gt;" in page.text  # escaped, never markup
            assert page.headers["content-security-policy"] == CSP
        assert c.get("/api/status").json() == shown
    # `host` (no watch): no strip, and /api/status says so.
    with TestClient(create_app(Sessions(LocalStore(tmp_path / "store")), UIConfig())) as c:
        assert 'class="health' not in c.get("/").text
        assert c.get("/api/status").json()["running"] is False


def test_a_read_that_works_does_not_end_a_run_of_failed_writes() -> None:
    health = Health()
    health.failed("GET m failed: 503", wrote=False)
    health.succeeded(wrote=False)  # the read retried: nothing is failing
    assert health.failing_since is None and health.consecutive_failures == 0
    health.failed("PUT s failed: 503", wrote=True)
    since = health.failing_since
    health.succeeded(wrote=False)  # a read went through, the writes still fail
    health.failed("PUT s failed: 503", wrote=True)
    assert health.failing_since == since and health.consecutive_failures == 2
    assert health.last_upload is None
    health.succeeded(wrote=True)
    assert health.failing_since is None and health.consecutive_failures == 0
    assert health.last_upload is not None and health.last_error == "PUT s failed: 503"
