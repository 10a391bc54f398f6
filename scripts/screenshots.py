"""Screenshots of the dashboard for docs/, 1280x800: the sessions list, a session's
conversation and its raw NDJSON, from the fixture store the tests use; and one real
session of each agent (tests/fixtures/real), docs/session-<agent>.png.

    .venv/bin/python scripts/screenshots.py [--out docs] [--sid SID]

Runs `agent-uploader host` over temporary stores and drives Debian's Chromium with
Playwright (both as in tests/e2e/test_browser.py). The hostile test session is left out unless
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
sys.path.insert(0, str(ROOT))

from playwright.sync_api import ViewportSize, sync_playwright  # noqa: E402

from tests.support.browser import dashboard_url, launch, stop  # noqa: E402
from tests.support.real_sessions import write_real_sessions  # noqa: E402
from tests.support.session_factory import populated_store  # noqa: E402
from tests.support.transcripts import CLAUDE_SID, HOSTILE_SID  # noqa: E402
from uploader.stores.local import LocalStore  # noqa: E402

SIZE: ViewportSize = {"width": 1280, "height": 800}
#: One real session of each agent, at a place that shows what the view does there.
REAL_SHOTS = {
    # apply_patch as a diff, encrypted reasoning, a failed command with its exit code
    "session-codex.png": "s/019e1625-789d-76c0-80ab-3724b5ddb799?line=255",
    # the subagents, reasoning, a command with its result, Markdown
    "session-claude.png": "s/258c7280-ae70-4798-800f-63464d01a85d",
    # the session's token totals, notes, thinking, tool calls with their results and usage
    "session-openclaw.png": "s/f967d602-325a-4a45-8d54-ee17484cfd96",
    # an edit as a diff, usage with its cost
    "session-pi.png": "s/5fd1e58c-9635-410e-a644-133a96057c90?line=14",
}


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
        shoot(store, Path(tmp) / "host.log", args.out, {
            "sessions.png": "",
            "session.png": f"s/{args.sid}",
            "raw.png": f"s/{args.sid}?view=raw",
        })  # fmt: skip
        real = Path(tmp) / "real"
        write_real_sessions(LocalStore(real))
        shoot(real, Path(tmp) / "real.log", args.out, REAL_SHOTS)
    return 0


def shoot(store: Path, log: Path, out_dir: Path, shots: dict[str, str]) -> None:
    """`host` over the store, and a screenshot of each page (a path below its URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "SUPABASE_"))}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uploader", "host", "--store", f"file://{store}",
             "--ui-port", "0", "--index", str(store.with_name(store.name + "-index.sqlite3"))],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
        )  # fmt: skip
    try:
        url = dashboard_url(proc, log)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(viewport=SIZE, color_scheme="light")
            context.set_default_timeout(10_000)
            page = context.new_page()
            for name, path in shots.items():
                page.goto(url + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=out_dir / name)
                print(out_dir / name)
            browser.close()
    finally:
        stop(proc)


if __name__ == "__main__":
    sys.exit(main())
