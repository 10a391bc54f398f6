"""Real headless Chromium for the dashboard's browser tests (Playwright for Python driving
Debian's `chromium`, which `.ci/run` installs when missing), and a dashboard process to
point it at.

`browser` (one per test run) and `page` (a fresh context per test) are fixtures; a missing
Playwright or Chromium fails the test with the reason instead of skipping it. `launch` and
`dashboard_url` are shared with `scripts/screenshots.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Every Playwright action and wait gives up after this long (milliseconds).
DEFAULT_TIMEOUT_MS = 10_000
URL_LINE = re.compile(rb"dashboard at (http://\S+/)")


def chromium_path() -> str:
    """Debian's Chromium; the reason in words when it is not there."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "no Chromium for the browser tests: install Debian's `chromium` package "
            "(`.ci/run` does: apt-get install chromium)"
        )
    return found


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


def dashboard_url(proc: subprocess.Popen[Any], log: Path, timeout: float = 20.0) -> str:
    """The URL a `watch` or `host` process logs once its dashboard listens ("dashboard at
    http://127.0.0.1:PORT/" at INFO); fails with the log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = URL_LINE.search(log.read_bytes()) if log.exists() else None
        if found:
            return found.group(1).decode()
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    state = f"exited with {proc.returncode}" if proc.poll() is not None else f"{timeout}s passed"
    raise AssertionError(f"no dashboard URL in the log ({state}):\n{text[-4000:]}")


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not gone within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps an asyncio loop marked as
    # running in this thread while it is started, and later tests call asyncio.run().
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright is missing ({exc}): pip install -e '.[test]'", pytrace=False)
    try:
        chromium_path()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="light")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
