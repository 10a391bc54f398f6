"""Shared fixtures: a real moto S3 server on 127.0.0.1, stores, and the CLI as a process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser, page  # noqa: F401
from supabase_fixtures import supabase_server, supabase_standin_session  # noqa: F401

from uploader.stores import Store, StoreOptions, open_store
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store
from uploader.write.state import StateStore

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(autouse=True, scope="session")
def _data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's data folder (where each store's search index is made by default) in a
    temp dir, for the processes the tests start too (each store has its own index file
    there), set before any fixture starts one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
        yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the whole run, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    for key, value in AWS_ENV.items():
        os.environ.setdefault(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


_bucket_counter = iter(range(1_000_000))


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> str:
    """A fresh, empty bucket per test."""
    import boto3

    name = f"test-{os.getpid()}-{next(_bucket_counter)}"
    boto3.client("s3", endpoint_url=moto_endpoint, **_client_kwargs()).create_bucket(Bucket=name)
    return name


def _client_kwargs() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS_ENV["AWS_DEFAULT_REGION"],
    }


@pytest.fixture
def s3_store(moto_endpoint: str, s3_bucket: str) -> Iterator[S3Store]:
    store = S3Store(s3_bucket, "team-a", endpoint_url=moto_endpoint, region="us-east-1")
    yield store
    store.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(params=["local", "s3", "supabase"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The stores of the end-to-end tests, as a user names them with --store. The CLI
    arguments that go with it are `store_args(request)`; `open_url(request, url)` opens
    the same store for the test to read."""
    if request.param == "local":
        request.node.store_args = []
        return f"file://{tmp_path / 'store'}"
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        request.node.s3_endpoint = endpoint
        request.node.store_args = ["--s3-endpoint-url", endpoint]
        request.node.store_options = StoreOptions(s3_endpoint_url=endpoint, s3_region="us-east-1")
        return f"s3://{bucket}/team-a"
    server = request.getfixturevalue("supabase_server")
    request.node.store_args = ["--supabase-url", server.url, "--supabase-key", server.key]
    request.node.store_options = StoreOptions(supabase_url=server.url, supabase_key=server.key)
    return f"supabase://{server.bucket}/team-a"


def store_args(request: pytest.FixtureRequest) -> list[str]:
    return list(getattr(request.node, "store_args", []))


def open_url(request: pytest.FixtureRequest, url: str) -> Store:
    options = getattr(request.node, "store_options", StoreOptions(s3_region="us-east-1"))
    store = open_store(url, options)
    request.addfinalizer(store.close)
    return store


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "SUPABASE_"))}
    env.update(AWS_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    env["AGENT_UI_PORT"] = "0"  # any free port: tests run side by side
    env.update(extra or {})
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uploader", *args],
        capture_output=True,
        text=True,
        env=cli_env(env),
        timeout=timeout,
        check=False,
    )


def start_cli(
    *args: str, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else None  # noqa: SIM115 - the child keeps its own copy
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "uploader", *args],
            stdout=out or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=cli_env(env),
        )
    finally:
        if out is not None:
            out.close()


def wait_until(
    check: Callable[[], bool], *, timeout: float = 20.0, interval: float = 0.05, what: str = ""
) -> None:
    """Poll `check` until true; fail the test after `timeout` seconds (bounded loops only)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")


def saved_state(spool: Path, sid: str) -> dict[str, Any] | None:
    """The resume state a `watch` saved in its spool, as a dict; None if there is none
    (or it cannot be read yet)."""
    try:
        state = StateStore(spool / "state").load(sid)
    except (OSError, ValueError):
        return None
    return asdict(state) if state is not None else None


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A real file system of `size` (like "1m") at `mount`, so a disk can really fill up;
    the test is skipped where mounting needs root."""
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
