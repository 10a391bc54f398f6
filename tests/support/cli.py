"""The CLI as a process (`run_cli`, `start_cli`, `running`) and its commands
(`commands`), bounded waits, and what a `watch` leaves behind (its spool's resume state),
for tests that run real processes; `store_args` and `open_url` go with conftest's
`store_url` fixture."""

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

import click
import pytest

from uploader.cli import main
from uploader.stores import Store, StoreOptions, open_store
from uploader.write.state import StateStore

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def store_args(request: pytest.FixtureRequest) -> list[str]:
    return list(getattr(request.node, "store_args", []))


def open_url(request: pytest.FixtureRequest, url: str) -> Store:
    options = getattr(request.node, "store_options", StoreOptions(s3_region="us-east-1"))
    store = open_store(url, options)
    request.addfinalizer(store.close)
    return store


def commands() -> dict[str, click.Command]:
    """Every command, a group's named as typed (`service install`)."""
    found: dict[str, click.Command] = {}
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            found.update({f"{name} {sub}": each for sub, each in command.commands.items()})
        else:
            found[name] = command
    return found


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


@contextlib.contextmanager
def running(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The CLI as a process; killed if the test fails before stopping it."""
    proc = start_cli(*args, log=log)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


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
