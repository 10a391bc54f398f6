"""A real PostgreSQL server for the tests: initdb into a temporary folder, started with
pg_ctl on a free loopback port (its unix socket in that folder too), stopped at the end.

Debian's `postgresql` package brings the binaries (.ci/run installs it); without them the
tests that ask for the server are skipped. initdb refuses to run as root: as root, the
server runs as the `postgres` user where there is one, else as `nobody`, in a folder
given to that user.

    # the fixtures postgres_server (one for the run) and postgres_url (a new database):
    from tests.support.postgres import new_postgres_database, start_postgres_server  # noqa: F401

    def test_x(postgres_url: str) -> None: ...
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 60  # seconds: pg_ctl's own wait, and then some


@dataclass
class PostgresServer:
    """A running server: `url(db)` is a database's URL (trust auth, as `postgres`)."""

    port: int
    admin_url: str

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_databases)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


_databases = itertools.count()


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: PATH, `pg_config --bindir`, or Debian's folders."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    if shutil.which("pg_config"):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, timeout=30, check=False
        )
        candidate = Path(out.stdout.strip())
        if out.returncode == 0 and (candidate / "initdb").exists():
            return candidate
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> pwd.struct_passwd | None:
    """Whom to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip("running as root, and there is no postgres or nobody user to run initdb as")


@pytest.fixture(scope="session", name="postgres_server")
def start_postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole run."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (the postgres extra)")
    bin_dir = bindir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb): apt-get install postgresql")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="agent-uploader-pg-"))
    data, log = root / "data", root / "server.log"

    def run(*args: str, timeout: float = START_TIMEOUT) -> None:
        env = {**os.environ, "LC_ALL": "C", "HOME": str(root)}
        done = subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
            cwd=root,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )
        if done.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed:\n{done.stdout}{done.stderr}{server_log}")

    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    root.chmod(0o700)
    run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
        "--locale=C", "--no-sync")  # fmt: skip
    port = 0
    for attempt in range(3):  # a free port can be taken before the server binds it
        port = _free_port()
        options = f"-k {root} -h 127.0.0.1 -p {port} -F -c max_connections=200"
        try:
            run("pg_ctl", "start", "-w", "-t", str(START_TIMEOUT), "-D", str(data), "-l", str(log),
                "-o", options, timeout=START_TIMEOUT + 15)  # fmt: skip
            break
        except RuntimeError:
            if attempt == 2:
                raise
    server = PostgresServer(port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    try:
        yield server
    finally:
        run("pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w", timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="postgres_url")
def new_postgres_database(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server, for one test."""
    return postgres_server.create_database()
