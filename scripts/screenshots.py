"""Screenshots of the dashboard for docs/: the sessions list, a session's conversation and
its raw NDJSON, 1280x800, from the fixture store the tests use.

    .venv/bin/python scripts/screenshots.py [--out docs] [--sid SID]

Runs `agent-uploader host` over a temporary store and drives Debian's Chromium with
Playwright (both as in tests/test_browser.py). The hostile test session is left out unless
--hostile is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from browser_fixtures import dashboard_url, launch, stop  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from session_factory import CLAUDE_SID, HOSTILE_SID, populated_store  # noqa: E402

from uploader.stores.local import LocalStore  # noqa: E402

SIZE = {"width": 1280, "height": 800}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    parser.add_argument("--sid", default=CLAUDE_SID, help="the session to show")
    parser.add_argument(
        "--hostile", action="store_true", help="keep the hostile session in the list"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="agent-uploader-shots-") as tmp:
        store = Path(tmp) / "store"
        local = LocalStore(store)
        populated_store(local)
        if not args.hostile:  # the test of escaping, not what a reader should see first
            local.delete(list(local.list(f"sessions/{HOSTILE_SID}/")))
        log = Path(tmp) / "host.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "SUPABASE_"))}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "uploader", "host", "--store", f"file://{store}",
                 "--ui-port", "0"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            )  # fmt: skip
        try:
            url = dashboard_url(proc, log)
            shots = {
                "sessions.png": url,
                "session.png": f"{url}s/{args.sid}",
                "raw.png": f"{url}s/{args.sid}?view=raw",
            }
            with sync_playwright() as playwright:
                browser = launch(playwright)
                context = browser.new_context(viewport=SIZE, color_scheme="light")
                context.set_default_timeout(10_000)
                page = context.new_page()
                for name, address in shots.items():
                    page.goto(address)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=args.out / name)
                    print(args.out / name)
                browser.close()
        finally:
            stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
