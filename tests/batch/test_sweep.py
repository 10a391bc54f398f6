"""`sweep` as a user runs it: a real OpenClaw sessions folder, the store or a Nexus
stand-in on 127.0.0.1 that answers 200, 409, 413, 500 or drops the connection."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import open_url, run_cli, start_cli, store_args, tmpfs, wait_until
from tests.support.storeview import generations, manifest, rebuild
from uploader.read.summaries import list_sids
from uploader.stores.local import LocalStore

ACTIVE = "aaaaaaaa-0000-4000-8000-000000000001"
DONE_1 = "bbbbbbbb-0000-4000-8000-000000000002"
DONE_2 = "cccccccc-0000-4000-8000-000000000003"
KEY = "s3cret"


def finished(path: Path, data: bytes) -> None:
    """A transcript its agent finished writing a while ago."""
    path.write_bytes(data)
    os.utime(path, (time.time() - 600, time.time() - 600))


def transcript(tag: str, n: int = 4) -> bytes:
    return b"".join(
        json.dumps({"type": "message", "tag": tag, "i": i, "text": "h\u00e9"}).encode() + b"\n"
        for i in range(n)
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An OpenClaw sessions folder: one active session, two finished, and what to skip."""
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for sid in (ACTIVE, DONE_1):
        finished(sessions / f"{sid}.jsonl", transcript(sid))
    finished(sessions / f"{DONE_2}.jsonl.deleted.2026-04-13T00-53-49.392Z", transcript("d2"))
    (sessions / f"{ACTIVE}.jsonl.lock").write_text("pid 1")
    finished(sessions / "notes.jsonl", transcript("not a session"))
    (sessions / "sessions.json").write_text(
        json.dumps({"agent:main:main": {"sessionId": ACTIVE, "updatedAt": 1}})
    )
    return sessions


def sweep(folder: Path, archive: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = run_cli("sweep", str(folder), str(archive), "main", "--json", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout.splitlines()[-1])


def test_sweep_uploads_finished_sessions_and_archives_them(
    folder: Path, tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    store, archive = open_url(request, store_url), tmp_path / "archive"
    target = ["--store", store_url, *store_args(request)]
    originals = {DONE_1: (folder / f"{DONE_1}.jsonl").read_bytes(),
                 DONE_2: transcript("d2")}  # fmt: skip
    code, result = sweep(folder, archive, *target)
    assert code == 1  # the malformed name is reported
    assert result["jobId"] == "sweep-main" and result["success"] is True
    assert result["message"] == "Uploaded 2 sessions, 0 failed"
    assert result["itemsProcessed"] == 2
    assert [e for e in result["errors"] if "notes.jsonl" in e]
    assert sorted(list_sids(store)) == sorted(originals)
    for sid, data in originals.items():
        assert rebuild(store, sid) == data
        assert (manifest(store, sid) or {})["closed"] is True
    assert sorted(p.name for p in archive.iterdir()) == sorted(
        [f"{DONE_1}.jsonl", f"{DONE_2}.jsonl.deleted.2026-04-13T00-53-49.392Z"]
    )
    assert (folder / f"{ACTIVE}.jsonl").exists()  # active: left alone
    assert (folder / f"{ACTIVE}.jsonl.lock").exists()

    # Twice: nothing uploaded twice, even a file whose move failed last time.
    finished(folder / f"{DONE_1}.jsonl", originals[DONE_1])
    keys = sorted(store.list("sessions/"))
    _, result = sweep(folder, archive, *target)
    assert result["itemsProcessed"] == 1
    assert sorted(store.list("sessions/")) == keys


class Nexus:
    """What a Nexus collector does, with a chosen answer per session id."""

    def __init__(self) -> None:
        self.answers: dict[str, int | str] = {}
        self.received: list[dict[str, Any]] = []
        nexus = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = nexus.answers.get(body["sessionId"], 200)
                if self.path != f"/sessions?code={KEY}":
                    answer = 401
                if answer == "drop":
                    self.connection.close()
                    return
                nexus.received.append({**body, "path": self.path})
                self.send_response(int(answer))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def nexus() -> Iterator[Nexus]:
    server = Nexus()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.mark.parametrize(
    ("answer", "archived", "failed"),
    [(200, True, 0), (409, True, 0), (413, False, 1), (500, False, 1), ("drop", False, 1)],
)
def test_sweep_to_nexus(
    folder: Path, tmp_path: Path, nexus: Nexus, answer: int | str, archived: bool, failed: int
) -> None:
    nexus.answers[DONE_1] = answer
    archive = tmp_path / "archive"
    code, result = sweep(folder, archive, "--nexus-url", nexus.url, "--nexus-key", KEY)
    assert code == 1  # notes.jsonl is not named as a session: reported
    assert result["success"] is True
    assert result["message"] == f"Uploaded {2 - failed} sessions, {failed} failed"
    assert (archive / f"{DONE_1}.jsonl").exists() is archived
    assert (folder / f"{DONE_1}.jsonl").exists() is not archived
    posted = {r["sessionId"]: r for r in nexus.received}
    assert posted[DONE_2]["agentId"] == "main"
    assert posted[DONE_2]["transcript"] == transcript("d2").decode()
    if failed:
        assert any(DONE_1 in e for e in result["errors"])


def test_sweep_with_the_network_down_leaves_every_file(folder: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code, result = sweep(folder, tmp_path / "archive", "--nexus-url", url, "--nexus-key", KEY)
    assert code == 1 and result["success"] is True
    assert result["message"] == "Uploaded 0 sessions, 2 failed"
    assert (folder / f"{DONE_1}.jsonl").exists() and not (tmp_path / "archive").exists()


def test_an_unreadable_sessions_json_is_critical(folder: Path, tmp_path: Path) -> None:
    (folder / "sessions.json").write_text('{"agent:main:main": {"sessionId"')
    code, result = sweep(folder, tmp_path / "archive", "--store", f"file://{tmp_path / 's'}")
    assert code == 1 and result["success"] is False
    assert "sessions.json" in result["message"]
    assert (folder / f"{DONE_1}.jsonl").exists()


def test_a_full_archive_disk_keeps_the_upload(folder: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "tiny", "64k") as tiny:
        big = transcript("big", 2000)  # larger than the archive disk
        finished(folder / f"{DONE_1}.jsonl", big)
        store = LocalStore(tmp_path / "store")
        code, result = sweep(folder, tiny, "--store", f"file://{store.root}")
        assert code == 1
        assert result["itemsProcessed"] == 2  # both uploaded
        assert rebuild(store, DONE_1) == big
        assert (folder / f"{DONE_1}.jsonl").read_bytes() == big  # not lost, not half-moved
        assert [e for e in result["errors"] if "not archived" in e and DONE_1 in e]
        assert not [p for p in tiny.iterdir() if p.name.startswith(".")]


def test_jobs_file_errors_name_the_job(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([{"id": "a", "type": "session_upload", "intervalMinutes": 5,
                                 "args": ["/x", "/y"]}]))  # fmt: skip
    done = run_cli("sweep", "--jobs", str(jobs), "--store", f"file://{tmp_path / 's'}")
    assert done.returncode == 1 and "job 1" in done.stderr and "args" in done.stderr


def test_a_jobs_file_runs_each_sweep_on_its_interval(tmp_path: Path) -> None:
    jobs, specs = tmp_path / "jobs.json", []
    for agent in ("main", "ops"):
        sessions = tmp_path / agent / "sessions"
        sessions.mkdir(parents=True)
        finished(sessions / f"{DONE_1}.jsonl", transcript(agent))
        args = [str(sessions), str(tmp_path / agent / "archive"), agent]
        specs.append({"id": f"upload-{agent}", "type": "session_upload", "description": agent,
                      "intervalMinutes": 0.01, "args": args})  # fmt: skip
    jobs.write_text(json.dumps(specs))
    store = LocalStore(tmp_path / "store")
    out = tmp_path / "out.log"
    proc = start_cli("sweep", "--jobs", str(jobs), "--json", "--store", f"file://{store.root}",
                     log=out)  # fmt: skip
    try:
        wait_until(lambda: out.read_text().count('"jobId": "upload-ops"') >= 2,
                   what="the second round of the ops job")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    rounds = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    assert {r["jobId"] for r in rounds} == {"upload-main", "upload-ops"}
    assert rounds[0]["itemsProcessed"] == 1 and rounds[-1]["itemsProcessed"] == 0
    for agent in ("main", "ops"):
        assert (tmp_path / agent / "archive" / f"{DONE_1}.jsonl").read_bytes() == transcript(agent)


def test_transcripts_still_being_written_are_left_alone(folder: Path, tmp_path: Path) -> None:
    """Not listed as active, but locked by their agent or written a moment ago."""
    (folder / f"{DONE_1}.jsonl.lock").write_text("pid 2")
    with open(folder / f"{DONE_2}.jsonl.deleted.2026-04-13T00-53-49.392Z", "ab") as f:
        f.write(transcript("just now", 1))
    store = LocalStore(tmp_path / "store")
    _, result = sweep(folder, tmp_path / "archive", "--store", f"file://{store.root}")
    assert result["itemsProcessed"] == 0
    assert list(list_sids(store)) == [] and not (tmp_path / "archive").exists()


def test_the_archive_may_not_be_the_sessions_folder(folder: Path) -> None:
    code, result = sweep(folder, folder, "--store", f"file://{folder.parent / 'store'}")
    assert code == 1 and result["success"] is False and "archive" in result["message"]


def test_jobs_with_the_same_id_are_refused(tmp_path: Path) -> None:
    job = {"id": "upload", "type": "session_upload", "intervalMinutes": 5,
           "args": ["/x", "/y", "main"]}  # fmt: skip
    jobs = tmp_path / "jobs.json"
    jobs.write_text(json.dumps([job, job]))
    done = run_cli("sweep", "--jobs", str(jobs), "--store", f"file://{tmp_path / 's'}")
    assert done.returncode == 1 and "used by another job" in done.stderr


def test_a_reset_copy_and_its_new_file_keep_their_order_in_the_store(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    """OpenClaw renames a reset session's transcript to `<id>.jsonl.reset.<time>` and
    starts `<id>.jsonl` again: the new file must be the session's latest generation,
    whichever name sorts first."""
    sessions, archive = tmp_path / "sessions", tmp_path / "archive"
    sessions.mkdir()
    old, new = transcript("before the reset", 6), transcript("after", 3)
    finished(sessions / f"{DONE_1}.jsonl", new)
    reset_copy = sessions / f"{DONE_1}.jsonl.reset.2026-04-13T00-53-49.392Z"
    reset_copy.write_bytes(old)
    os.utime(reset_copy, (time.time() - 3600, time.time() - 3600))
    code, result = sweep(sessions, archive, "--store", store_url, *store_args(request))
    assert code == 0 and result["itemsProcessed"] == 2, result
    store = open_url(request, store_url)
    assert list(generations(store, DONE_1).values()) == [old, new]
    assert rebuild(store, DONE_1) == new
