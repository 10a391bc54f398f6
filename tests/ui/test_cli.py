"""`host` and the dashboard of `watch` as a user starts them: real processes, real ports."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_cli, start_cli, wait_until
from tests.support.session_factory import populated_store
from tests.support.transcripts import CODEX_SID
from uploader.stores.local import LocalStore

URL = re.compile(r"dashboard at (http://\S+/)")


def dashboard_url(log: Path, proc: subprocess.Popen[bytes]) -> str:
    found: list[str] = []

    def ready() -> bool:
        assert proc.poll() is None, log.read_text()
        found.extend(URL.findall(log.read_text()))
        return bool(found)

    wait_until(ready, timeout=20, what="the dashboard's address in the log")
    return found[0]


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    populated_store(LocalStore(root))
    return root


def test_host_serves_the_store_and_stops_on_sigterm(tmp_path: Path, store_dir: Path) -> None:
    log = tmp_path / "host.log"
    proc = start_cli("host", "--store", f"file://{store_dir}", "--ui-port", "0", log=log)
    try:
        url = dashboard_url(log, proc)
        body = get_json(url + "api/sessions")
        assert isinstance(body, dict)
        assert body["total"] == 5
        assert CODEX_SID in {s["sid"] for s in body["sessions"]}
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "Add pagination to /orders" in response.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_host_never_writes_to_the_store(tmp_path: Path, store_dir: Path) -> None:
    before = sorted((p.relative_to(store_dir), p.stat().st_mtime_ns) for p in store_dir.rglob("*"))
    log = tmp_path / "host.log"
    proc = start_cli("host", "--store", f"file://{store_dir}", "--ui-port", "0", log=log)
    try:
        url = dashboard_url(log, proc)
        for path in ("", f"s/{CODEX_SID}", f"s/{CODEX_SID}?view=raw", "api/sessions"):
            urllib.request.urlopen(url + path, timeout=10).close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    after = sorted((p.relative_to(store_dir), p.stat().st_mtime_ns) for p in store_dir.rglob("*"))
    assert after == before


def test_host_on_a_busy_port_is_one_clear_error(store_dir: Path, busy_port: int) -> None:
    result = run_cli("host", "--store", f"file://{store_dir}", "--ui-port", str(busy_port))
    assert result.returncode == 1
    assert f"Error: port {busy_port} on 127.0.0.1 is already in use" in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_watch_on_a_busy_port_fails_before_reading(tmp_path: Path, busy_port: int) -> None:
    source = tmp_path / f"{CODEX_SID}.jsonl"
    source.write_bytes(b'{"type":"x"}\n')
    result = run_cli(
        "watch",
        "--file", str(source),
        "--store", f"file://{tmp_path / 'store'}",
        "--spool-dir", str(tmp_path / "spool"),
        "--ui-port", str(busy_port),
    )  # fmt: skip
    assert result.returncode == 1
    assert "already in use" in result.stderr
    assert "--ui-disable" in result.stderr
    assert not (tmp_path / "store").exists()
    assert not (tmp_path / "spool" / "state").exists()


def test_binding_beyond_loopback_needs_a_token(store_dir: Path) -> None:
    result = run_cli("host", "--store", f"file://{store_dir}", "--ui-bind", "0.0.0.0")
    assert result.returncode == 2
    assert "Error: --ui-bind 0.0.0.0 would show every session" in result.stderr
    assert "--ui-token" in result.stderr


def test_token_guards_every_request(tmp_path: Path, store_dir: Path) -> None:
    log = tmp_path / "host.log"
    proc = start_cli(
        "host", "--store", f"file://{store_dir}", "--ui-port", "0",
        env={"AGENT_UI_TOKEN": "correct horse battery staple"}, log=log,
    )  # fmt: skip
    try:
        url = dashboard_url(log, proc)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "api/sessions", timeout=10)
        assert refused.value.code == 401
        refused.value.close()
        request = urllib.request.Request(
            url + "api/sessions", headers={"Authorization": "Bearer correct horse battery staple"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["total"] == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert "correct horse battery staple" not in log.read_text()


def test_host_of_a_missing_store_changes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    result = run_cli("host", "--store", f"file://{missing}", "--ui-port", "0")
    assert result.returncode == 1
    assert f"Error: no store at {missing}" in result.stderr
    assert not missing.exists()


def test_host_cannot_read_an_upload_url(tmp_path: Path) -> None:
    result = run_cli("host", "--upload-url", "http://127.0.0.1:9/up", "--ui-port", "0")
    assert result.returncode == 1
    assert "can only be written" in result.stderr


def test_ui_dist_without_index_is_refused(tmp_path: Path, store_dir: Path) -> None:
    result = run_cli(
        "host", "--store", f"file://{store_dir}", "--ui-port", "0", "--ui-dist", str(tmp_path)
    )
    assert result.returncode == 1
    assert "has no index.html" in result.stderr
