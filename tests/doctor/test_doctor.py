"""`agent-uploader doctor`: every check passing on a machine set up right, and each one
failing (or warning) for its own reason: a config file that exposes a secret, a store
that cannot be written, refuses the credentials, has no bucket or does not answer, a
clock far from the store's, a spool that cannot be written or whose disk is full, no
agent folders, no service, an index that does not answer, the dashboard's port taken.

The machine's own systemd, agents and config are kept out: HOME and XDG_CONFIG_HOME are
the test's (XDG_DATA_HOME is already, tests/conftest.py), systemctl a fake first on PATH.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support import service_tools as fakes
from tests.support.cli import open_url, run_cli, tmpfs
from tests.support.httpstub import fixed_status_server
from tests.support.service_tools import NO_BUS, UNIT, Tools
from tests.support.supabase_standin import SupabaseStandin
from uploader.cli import main
from uploader.core.metrics import Health
from uploader.doctor import FAIL, OK, WARN, Check, Doctor, checks
from uploader.doctor.runner import Task
from uploader.index.base import SessionFacts
from uploader.index.sqlite import SqliteIndex
from uploader.stores import StoreOptions, open_store
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store
from uploader.write.spool import Spool
from uploader.write.status import STATUS_NAME, Sample, StatusBoard

NAMES = [
    "config",
    "store",
    "credentials",
    "clock",
    "spool",
    "agents",
    "service",
    "index",
    "dashboard",
]
SID = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No agent, store or index settings of the machine the tests run on."""
    for name in (
        "CODEX_HOME",
        "AGENT_UPLOADER_CONFIG",
        "AGENT_UPLOADER_STORE",
        "AGENT_UI_PORT",
        "AGENT_UPLOADER_INDEX",
        "SUPABASE_URL",
        "SUPABASE_KEY",
        "AGENT_UPLOAD_URL",
    ):
        monkeypatch.delenv(name, raising=False)


# tests/support/service_tools.py's fixtures: a HOME and an XDG_CONFIG_HOME of the test's own;
# and systemctl (and its friends) faked first on PATH.
home = fakes.home
service_tools = fakes.tools


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_args(tmp_path: Path, *more: str) -> list[str]:
    """A local store and a spool in the test's folder, and a free dashboard port."""
    return [
        "--store",
        f"file://{tmp_path / 'store'}",
        "--spool-dir",
        str(tmp_path / "spool"),
        "--ui-port",
        str(free_port()),
        *more,
    ]


def doctor(*args: str) -> Result:
    """`agent-uploader doctor --json ARGS` in this process."""
    return CliRunner().invoke(main, ["doctor", "--json", *args])


def found(result: Result | subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    """The checks `--json` printed, by name (each line one object)."""
    out = result.stdout if isinstance(result, subprocess.CompletedProcess) else result.output
    objects = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [o["name"] for o in objects] == NAMES, out
    assert all(set(o) == {"name", "verdict", "detail", "hint"} for o in objects)
    return {o["name"]: o for o in objects}


def set_up_well(home: Path, tools: Tools) -> None:
    """An agent folder with a session, and the service installed and running."""
    project = home / ".claude" / "projects" / "-home-me-shop"
    project.mkdir(parents=True)
    (project / f"{SID}.jsonl").write_text('{"type":"user"}\n', encoding="utf-8")
    unit = Path(os.environ["XDG_CONFIG_HOME"]) / "systemd" / "user" / UNIT
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\n", encoding="utf-8")
    tools.answer(f"systemctl --user is-enabled {UNIT}", out="enabled\n")
    tools.answer(f"systemctl --user is-active {UNIT}", out="active\n")


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """A folder this process cannot write in: mode 0500 for a user; for root, whom no mode
    stops, a read-only file system (skipped where none can be mounted)."""
    if os.geteuid() != 0:
        folder.mkdir()
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    with tmpfs(folder, "1m"):
        done = subprocess.run(
            ["mount", "-o", "remount,ro", str(folder)], capture_output=True, check=False
        )
        if done.returncode != 0:
            pytest.skip("a read-only file system cannot be mounted here")
        yield folder


# -- all well --------------------------------------------------------------------------------


def test_all_checks_pass_on_a_machine_set_up_right(
    tmp_path: Path, home: Path, service_tools: Tools
) -> None:
    set_up_well(home, service_tools)
    result = run_cli("doctor", *local_args(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["ok", name] for name in NAMES]
    assert lines[-1] == "9 checks: 0 failed, 0 warning(s)"
    assert "Claude Code ~/.claude/projects: 1 session file(s)" in result.stdout
    assert "wrote, read back and removed doctor/probe-" in result.stdout
    assert not [p for p in (tmp_path / "store").rglob("*") if p.is_file()]  # the probe is gone
    assert result.stderr == ""

    as_json = found(run_cli("doctor", "--json", *local_args(tmp_path)))
    assert {c["verdict"] for c in as_json.values()} == {OK}
    assert all(c["hint"] is None for c in as_json.values())


# -- 1. the config file --------------------------------------------------------------------


def test_a_config_file_exposing_a_secret_fails_and_the_other_checks_still_run(
    tmp_path: Path, home: Path
) -> None:
    config = tmp_path / "config" / "agent-uploader" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        'store = "s3://nowhere/x"\nsupabase_key = "doctor-secret-1234"\n', encoding="utf-8"
    )
    config.chmod(0o644)
    result = run_cli("doctor", *local_args(tmp_path))
    assert result.returncode == 1
    first, hint = result.stdout.splitlines()[:2]
    assert first.startswith("FAIL  config") and "mode 0644" in first and "refused" in first
    assert "chmod 600" in hint and hint.lstrip().startswith("hint:")
    assert "ok    store" in result.stdout  # the flags' store, without the file
    assert "doctor-secret-1234" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr

    config.chmod(0o600)
    check = found(doctor(*local_args(tmp_path)))["config"]
    assert check["verdict"] == OK
    assert (
        "secrets written in it (supabase_key), private to its owner (mode 0600)" in check["detail"]
    )


def test_a_config_file_with_a_bad_key_names_its_line(tmp_path: Path, home: Path) -> None:
    config = tmp_path / "team.toml"
    config.write_text('ui_port = 4334\nspool_dri = "x"\n', encoding="utf-8")
    check = found(doctor("--config", str(config), *local_args(tmp_path)))["config"]
    assert check["verdict"] == FAIL
    assert f"{config}:2: spool_dri is not a setting" in check["detail"]
    assert check["hint"] == "did you mean 'spool_dir'?"


def test_no_config_file_is_fine(tmp_path: Path, home: Path) -> None:
    check = found(doctor(*local_args(tmp_path)))["config"]
    assert check["verdict"] == OK and "no config file at" in check["detail"]


# -- 2, 3. the store and its credentials -----------------------------------------------------


@pytest.mark.parametrize("how", ["read-only folder", "under a file"])
def test_a_store_that_cannot_be_written_fails(tmp_path: Path, home: Path, how: str) -> None:
    with contextlib.ExitStack() as stack:
        if how == "under a file":
            (tmp_path / "afile").write_text("x", encoding="utf-8")
            folder = tmp_path / "afile" / "store"
        else:
            folder = stack.enter_context(read_only(tmp_path / "ro"))
        result = doctor("--store", f"file://{folder}", "--spool-dir", str(tmp_path / "spool"))
    checks_ = found(result)
    assert result.exit_code == 1
    assert checks_["store"]["verdict"] == FAIL
    assert "cannot write doctor/probe-" in checks_["store"]["detail"]
    assert checks_["credentials"]["verdict"] == FAIL
    assert checks_["clock"]["verdict"] == OK  # not applicable to a local folder


def test_refused_s3_credentials_are_named_and_never_shown(
    tmp_path: Path, home: Path, moto_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto.settings

    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)  # moto checks keys
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADOCTORTEST00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "doctor-secret-access-key")
    result = doctor(
        "--store",
        f"s3://{s3_bucket}/x",
        "--s3-endpoint-url",
        moto_endpoint,
        "--s3-region",
        "us-east-1",
        "--spool-dir",
        str(tmp_path / "spool"),
    )
    checks_ = found(result)
    assert result.exit_code == 1
    assert checks_["credentials"]["verdict"] == FAIL
    assert "refused our credentials" in checks_["credentials"]["detail"]
    assert "AWS_ACCESS_KEY_ID" in checks_["credentials"]["hint"]
    assert checks_["store"]["verdict"] == FAIL
    assert "doctor-secret-access-key" not in result.output


def test_a_missing_bucket_is_named(tmp_path: Path, home: Path, moto_endpoint: str) -> None:
    result = doctor(
        "--store",
        "s3://no-such-bucket-doctor/x",
        "--s3-endpoint-url",
        moto_endpoint,
        "--s3-region",
        "us-east-1",
    )
    checks_ = found(result)
    assert checks_["credentials"]["verdict"] == FAIL
    assert "bucket 'no-such-bucket-doctor' does not exist" in checks_["credentials"]["detail"]
    assert "create it" in checks_["credentials"]["hint"]
    assert checks_["store"]["verdict"] == FAIL and "NoSuchBucket" in checks_["store"]["detail"]


def test_every_store_passes_and_keeps_no_probe(
    request: pytest.FixtureRequest, store_url: str
) -> None:
    store = open_url(request, store_url)
    for check in (checks.store_probe(store), checks.credentials(store), checks.clock(store)):
        assert check.verdict == OK, check
    assert list(store.list("")) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--store", "nonsense"], "--store 'nonsense' is not a store URL"),
        (["--store", "s3://bucket/x", "--s3-region", "bad region!"], "InvalidRegionError"),
    ],
)
def test_store_settings_that_cannot_be_used_fail_the_store_check(
    tmp_path: Path, home: Path, args: list[str], said: str
) -> None:
    result = doctor(*args, "--spool-dir", str(tmp_path / "spool"))
    checks_ = found(result)
    assert result.exit_code == 1
    assert checks_["store"]["verdict"] == FAIL and said in checks_["store"]["detail"]
    for name in ("credentials", "clock"):
        assert checks_[name]["verdict"] == WARN
        assert checks_[name]["detail"].startswith("not checked")
    assert "Traceback" not in result.output


def test_a_write_only_store_is_only_written(tmp_path: Path) -> None:
    with fixed_status_server(200) as endpoint:
        store = open_store(endpoint + "/up", StoreOptions(upload_url=endpoint + "/up"))
        check = checks.store_probe(store)
    assert check.verdict == OK
    assert "wrote doctor/probe-" in check.detail and "write-only" in check.detail


def test_a_store_that_does_not_answer_fails_within_the_timeout(tmp_path: Path, home: Path) -> None:
    with socket.socket() as silent:  # takes connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = run_cli(
            "doctor",
            "--store",
            "s3://bucket/x",
            "--s3-endpoint-url",
            endpoint,
            "--s3-region",
            "us-east-1",
            "--timeout",
            "1s",
            *local_args(tmp_path)[2:],
            timeout=30,
        )
        took = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    for name in ("store", "credentials", "clock"):
        line = next(li for li in result.stdout.splitlines() if li.split()[1:2] == [name])
        assert line.startswith("FAIL") and line.endswith("no answer in 1 s"), line
    assert "the store did not answer" in result.stdout
    assert "ok    spool" in result.stdout  # the others ran meanwhile
    assert took < 20, took
    assert "Traceback" not in result.stderr


# -- 4. the clock ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "verdict"), [(0.0, OK), (-90.0, WARN), (600.0, FAIL), (-3600.0, FAIL)]
)
def test_clock_skew_against_the_store(offset: float, verdict: str) -> None:
    with fixed_status_server(200, clock_offset=offset) as endpoint:
        store = S3Store("bucket", endpoint_url=endpoint, region="us-east-1")
        try:
            check = checks.clock(store)
        finally:
            store.close()
    assert check.verdict == verdict, check
    if verdict != OK:
        assert ("behind" if offset > 0 else "ahead of") in check.detail
        assert check.hint is not None and "tolerates 2 minutes" in check.hint


def test_the_store_says_its_time(
    moto_endpoint: str, s3_bucket: str, supabase_server: SupabaseStandin, tmp_path: Path
) -> None:
    s3 = S3Store(s3_bucket, endpoint_url=moto_endpoint, region="us-east-1")
    options = StoreOptions(supabase_url=supabase_server.url, supabase_key=supabase_server.key)
    supabase = open_store(f"supabase://{supabase_server.bucket}", options)
    try:
        for store in (s3, supabase):
            said = store.server_time()  # type: ignore[attr-defined]
            assert said is not None and abs(said - time.time()) < 5, store.description
            assert checks.clock(store).verdict == OK
    finally:
        s3.close()
        supabase.close()
    check = checks.clock(LocalStore(tmp_path))
    assert check.verdict == OK and "not applicable" in check.detail


# -- 5. the spool ----------------------------------------------------------------------------


def test_a_spool_that_cannot_be_made_or_written_fails(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    check = checks.spool(tmp_path / "afile" / "spool")
    assert check.verdict == FAIL and "is not a folder" in check.detail
    assert check.hint is not None and "--spool-dir" in check.hint
    with read_only(tmp_path / "ro") as folder:
        made = checks.spool(folder / "spool")
        written = checks.spool(folder)
    assert made.verdict == FAIL and "cannot be made" in made.detail
    assert written.verdict == FAIL and "cannot be written" in written.detail


def test_a_spool_on_a_full_disk_fails(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "tiny", "1m") as mount:
        check = checks.spool(mount / "spool")
    assert check.verdict == FAIL and "free on its disk" in check.detail
    assert check.hint is not None and "free some space" in check.hint


def test_a_spool_on_a_nearly_full_disk_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nearly = shutil.disk_usage(tmp_path)._replace(free=checks.FREE_WARN_BYTES - 1)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: nearly)
    check = checks.spool(tmp_path / "spool")
    assert check.verdict == WARN and "only 1024.0 MB free" in check.detail


def test_a_spool_others_can_open_and_an_old_queue_warn(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    assert checks.spool(spool.root).verdict == OK
    spool.root.chmod(0o755)
    check = checks.spool(spool.root)
    assert check.verdict == WARN and "mode 0755" in check.detail
    assert check.hint == f"chmod 700 {spool.root}"
    spool.root.chmod(0o700)
    data, meta = spool.enqueue_paths(SID, 1, True)
    data.write_bytes(b"x")
    meta.write_text(json.dumps({"path": str(data), "seq": 1, "queued_at": time.time() - 3600}))
    check = checks.spool(spool.root)
    assert check.verdict == WARN
    assert "1 segment(s) queued, the oldest for 1h" in check.detail
    assert check.hint is not None and "agent-uploader watch" in check.hint


# -- 6. the agents' folders ------------------------------------------------------------------


def test_no_agent_folders_warn_naming_where_each_agent_keeps_them(home: Path) -> None:
    check = checks.agent_folders()
    assert check.verdict == WARN
    assert check.hint is not None
    for folder in (
        "~/.codex/sessions",
        "~/.claude/projects",
        "~/.openclaw/agents/*/sessions",
        "~/.pi/agent/sessions",
    ):
        assert folder in check.hint
    (home / ".codex" / "sessions" / "2026").mkdir(parents=True)
    (home / ".codex" / "sessions" / "2026" / "a.jsonl").write_bytes(b"x" * 2048)
    check = checks.agent_folders()
    assert check.verdict == OK
    assert check.detail == "Codex ~/.codex/sessions: 1 session file(s), 2.0 KB"


# -- 7. the service --------------------------------------------------------------------------


def test_the_service_not_installed_warns(home: Path, service_tools: Tools) -> None:
    check = checks.service_state()
    assert check.verdict == WARN and "not installed" in check.detail
    assert check.hint == "agent-uploader service install"
    assert service_tools.calls() == []  # nothing to ask systemd about


def test_the_service_installed_but_stopped_fails(home: Path, service_tools: Tools) -> None:
    set_up_well(home, service_tools)
    service_tools.answer(f"systemctl --user is-active {UNIT}", rc=3, out="failed\n")
    check = checks.service_state()
    assert check.verdict == FAIL and "not running (failed)" in check.detail
    assert check.hint is not None and "agent-uploader service logs" in check.hint
    service_tools.answer(f"systemctl --user is-active {UNIT}", out="active\n")
    service_tools.answer(f"systemctl --user is-enabled {UNIT}", rc=1, out="disabled\n")
    check = checks.service_state()
    assert check.verdict == WARN and "will not start at login (disabled)" in check.detail
    service_tools.answer(f"systemctl --user is-enabled {UNIT}", rc=1, err=NO_BUS)
    check = checks.service_state()
    assert check.verdict == WARN and "cannot be reached" in check.detail


# -- 8. the search index ---------------------------------------------------------------------


def test_an_index_that_does_not_answer_fails(tmp_path: Path, home: Path) -> None:
    result = doctor("--index", "postgresql://127.0.0.1:1/x", *local_args(tmp_path))
    check = found(result)["index"]
    assert result.exit_code == 1
    assert check["verdict"] == FAIL
    assert check["detail"].startswith("cannot open the search index postgresql://127.0.0.1:1/x")
    assert "--index" in check["hint"]


def test_the_index_off_not_made_counted_and_of_another_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    off = checks.index_state("off", store)
    assert off.verdict == OK and off.detail.startswith("off")
    path = tmp_path / "index.sqlite3"
    assert "not made yet" in checks.index_state(str(path), store).detail
    assert not path.exists()  # doctor made none
    index = SqliteIndex(path)
    index.bind(store.description)
    index.close()
    check = checks.index_state(str(path), store)
    assert check.verdict == OK and check.detail.endswith(
        "0 session(s), 0 segment(s), 0 document(s)"
    )
    index = SqliteIndex(path)
    index.bind("file:///elsewhere")
    index.put_session(SessionFacts(SID, "claude", "t", None, None, False, {}))
    index.close()
    check = checks.index_state(str(path), store)
    assert check.verdict == FAIL and "is of file:///elsewhere" in check.detail
    assert check.hint is not None and "index --rebuild" in check.hint


# -- 9. the dashboard's port -----------------------------------------------------------------


def test_a_port_taken_by_another_program_fails(tmp_path: Path, home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli(
            "doctor",
            "--store",
            f"file://{tmp_path / 'store'}",
            "--spool-dir",
            str(tmp_path / "spool"),
            "--ui-port",
            str(port),
        )
    assert result.returncode == 1
    line = next(li for li in result.stdout.splitlines() if li.startswith("FAIL"))
    assert line.split()[:2] == ["FAIL", "dashboard"]
    assert line.endswith(f"127.0.0.1:{port} is in use by another program")
    assert "--ui-port" in result.stdout


def test_a_port_taken_by_the_running_watch_only_warns(tmp_path: Path) -> None:
    """The status file of a running watch (this process, as far as it says) whose
    dashboard listens on the port."""
    spool = tmp_path / "spool"
    spool.mkdir()
    board = StatusBoard(
        spool / STATUS_NAME,
        store="file:///x",
        spool=spool,
        health=Health(),
        sample=lambda: Sample(0, 0),
        queue=lambda: (0, None),
    )
    board.start()
    with socket.socket() as dashboard:
        dashboard.bind(("127.0.0.1", 0))
        dashboard.listen(1)
        port = dashboard.getsockname()[1]
        check = checks.dashboard_port("127.0.0.1", port, spool)
    assert check.verdict == WARN, check
    assert f"by the dashboard of the running watch (pid {os.getpid()})" in check.detail
    assert checks.dashboard_port("127.0.0.1", port, spool).verdict == OK  # free again
    assert checks.dashboard_port("127.0.0.1", 0, spool).verdict == OK


# -- the runner ------------------------------------------------------------------------------


def test_a_check_that_crashes_is_a_failed_check_without_a_traceback(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash() -> Check:
        raise RuntimeError("boom at https://user:pw@example.com/x?token=abc")

    monkeypatch.setattr(checks, "agent_folders", crash)
    result = CliRunner().invoke(main, ["doctor", *local_args(tmp_path)])
    assert result.exit_code == 1
    line = next(li for li in result.output.splitlines() if li.startswith("FAIL"))
    assert line.startswith("FAIL  agents      the check crashed: RuntimeError: boom at")
    assert "pw" not in line and "abc" not in line
    assert "Traceback" not in result.output


def test_a_check_that_does_not_end_is_cut_off_at_the_timeout() -> None:
    release = threading.Event()

    def stuck() -> Check:
        release.wait(10)  # bounded: let go below
        return Check("stuck", OK, "late")

    started = time.monotonic()
    run = Doctor(
        [Task("stuck", stuck, "try later"), Task("quick", lambda: Check("quick", OK, "."))],
        timeout=0.3,
    )
    results = list(run.results())
    assert time.monotonic() - started < 5
    assert results == [
        Check("stuck", FAIL, "no answer in 0.3 s", "try later"),
        Check("quick", OK, "."),
    ]
    assert not run.finished
    release.set()
