"""Bad input gets one clear line and a non-zero exit, and nothing half-done."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_cli, saved_state, start_cli, tmpfs, wait_until
from tests.support.httpstub import fixed_status_server
from tests.support.storeview import rebuild, store_from_url

SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / f"{SID}.jsonl"
    path.write_bytes(b'{"type":"user"}\n')
    return path


def watch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("watch", "--spool-dir", str(tmp_path / "spool"), *args, timeout=60)


def assert_one_clear_error(
    result: subprocess.CompletedProcess[str], code: int, *words: str
) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_help_documents_every_option_and_env_var() -> None:
    result = run_cli("watch", "--help")
    assert result.returncode == 0
    text = re.sub(r"\s+", " ", result.stdout)
    for option in [
        "--file", "--sid", "--store", "--bucket", "--seg-bytes", "--seg-lines", "--seg-ms",
        "--poll-ms", "--no-gzip", "--gzip-level", "--spool-dir", "--state-dir",
        "--concurrency", "--dry-run", "--dir", "--include", "--exclude", "--idle-close",
        "--scan-ms", "--ui-bind", "--ui-port", "--ui-dist", "--ui-disable",
        "--s3-endpoint-url", "--s3-region", "--log-level",
        "AGENT_SESSION_FILE", "AGENT_SID", "AGENT_UPLOADER_STORE", "SUPABASE_BUCKET",
        "AGENT_UI_BIND", "AGENT_UI_PORT", "AGENT_UI_DIST",
    ]:  # fmt: skip
        assert option in text, option


def test_python_dash_m_and_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and "agent-uploader" in result.stdout


def test_no_file_given_and_no_agent_folders(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CODEX_HOME": str(tmp_path / "codex")}
    result = run_cli("watch", "--spool-dir", str(tmp_path / "spool"), env=env)
    assert_one_clear_error(result, 2, "Error: no session file or folder given", "--dir")
    assert not (tmp_path / "spool").exists()


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = watch(tmp_path, "--file", str(missing))
    assert_one_clear_error(result, 1, f"session file {missing} does not exist", "Hint:")
    assert not (tmp_path / "spool").exists()  # nothing half-done


def test_file_given_through_the_environment(tmp_path: Path, source: Path) -> None:
    result = run_cli("watch", "--store", "s3://", env={"AGENT_SESSION_FILE": str(source)})
    assert_one_clear_error(result, 2, "not a valid S3 bucket name")


@pytest.mark.parametrize("sid", ["../etc", "a/b", "x\ty"])
def test_unsafe_sid(tmp_path: Path, source: Path, sid: str) -> None:
    result = watch(tmp_path, "--file", str(source), "--sid", sid)
    assert_one_clear_error(result, 2, "is not a safe session id", "Hint:")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/tmp/store", "is not a store URL"),
        ("file://relative/dir", "needs an absolute path"),
        ("s3://Bad_Bucket/x", "not a valid S3 bucket name"),
        ("gopher://x", "unknown scheme 'gopher'"),
    ],
)
def test_malformed_store_url(tmp_path: Path, source: Path, url: str, words: str) -> None:
    result = watch(tmp_path, "--file", str(source), "--store", url)
    assert_one_clear_error(result, 2, words, "Hint:")


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--seg-bytes", "8 apples", "'8 apples' is not a size"),
        ("--seg-ms", "soon", "'soon' is not a duration"),
        ("--seg-lines", "0", "--seg-lines"),
        ("--gzip-level", "12", "--gzip-level"),
        ("--concurrency", "x", "--concurrency"),
    ],
)
def test_malformed_flags(tmp_path: Path, source: Path, flag: str, value: str, words: str) -> None:
    result = watch(tmp_path, "--file", str(source), flag, value)
    assert_one_clear_error(result, 2, words)


def test_unknown_bucket(tmp_path: Path, source: Path, moto_endpoint: str) -> None:
    result = watch(tmp_path, "--file", str(source), "--store", "s3://no-such-bucket-x/p",
                   "--s3-endpoint-url", moto_endpoint)  # fmt: skip
    assert_one_clear_error(result, 1, "'no-such-bucket-x' does not exist", "Hint:")


def test_bad_credentials(tmp_path: Path, source: Path) -> None:
    with fixed_status_server(403) as endpoint:
        result = watch(tmp_path, "--file", str(source), "--store", "s3://bucket/p",
                       "--s3-endpoint-url", endpoint)  # fmt: skip
    assert_one_clear_error(result, 1, "refused our credentials", "AWS_ACCESS_KEY_ID")
    assert "testing" not in result.stderr  # no credential is ever logged


def test_unwritable_spool(tmp_path: Path, source: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = run_cli("watch", "--file", str(source), "--store", f"file://{tmp_path / 'store'}",
                     "--spool-dir", str(tmp_path / "afile" / "spool"))  # fmt: skip
    assert_one_clear_error(result, 1, "cannot create spool folder", "--spool-dir")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB file system, so the spool can really run out of space."""
    with tmpfs(tmp_path / "tiny", "1m") as mount:
        yield mount


def test_full_spool_disk_pauses_reading_and_loses_nothing(tmp_path: Path, tiny_disk: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    # 3 MiB of poorly compressible lines: more than the 1 MiB spool can hold at once.
    source.write_bytes(b"".join(os.urandom(3000).hex().encode() + b"\n" for _ in range(500)))
    store_url = f"file://{tmp_path / 'store'}"
    log = tmp_path / "watch.log"
    proc = start_cli("watch", "--file", str(source), "--store", store_url, "--no-gzip",
                     "--seg-bytes", "400KiB", "--poll-ms", "100",
                     "--spool-dir", str(tiny_disk / "spool"), log=log)  # fmt: skip

    def offset() -> int:
        state = saved_state(tiny_disk / "spool", SID)
        return -1 if state is None else int(state["offset"])

    try:
        wait_until(lambda: offset() == source.stat().st_size, timeout=60, what="all read")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    assert "spool disk full; reading paused" in log.read_text()
    assert rebuild(store_from_url(store_url), SID) == source.read_bytes()


def test_a_damaged_state_file_is_an_error_naming_it(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(b'{"type":"user"}\n')
    state = tmp_path / "spool" / "state" / f"{SID}.json"
    state.parent.mkdir(parents=True)
    state.write_bytes(b'{"sid": "cut sh')
    done = run_cli("watch", "--file", str(source), "--store", f"file://{tmp_path / 'store'}",
                   "--spool-dir", str(tmp_path / "spool"), "--ui-disable")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"Error: the spool's state of session {SID} ({state}) cannot be read" in done.stderr
    assert "Hint: nothing of that session was read or uploaded" in done.stderr
    assert state.read_bytes() == b'{"sid": "cut sh'
