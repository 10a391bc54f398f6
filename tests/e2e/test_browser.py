"""The dashboard in real headless Chromium, served by real `agent-uploader` processes:
`host` over a store of fixture sessions (list, search, a session, raw lines, time travel,
a hostile transcript), and `watch` on a growing Codex file (a new line arrives live)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.browser import dashboard_url, stop
from tests.support.cli import start_cli, wait_until
from tests.support.session_factory import populated_store
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    codex_lines,
)
from uploader.stores.local import LocalStore

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

TITLES = {
    CODEX_SID: "Add pagination to /orders (limit/offset, default 50)",
    CLAUDE_SID: "Add pagination to /orders",
    OPENCLAW_SID: "Summarise today's merged PRs",
    PI_SID: "Why does GET /orders return 500 for offset=-1?",
}


def expect(target: Any) -> Any:
    """Playwright's expect, imported when used (a missing Playwright fails through the
    `browser` fixture with the reason, not at collection)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def no_dialogs(page: Page) -> list[str]:
    """Every alert/confirm/prompt the page opens, dismissed and recorded."""
    seen: list[str] = []

    def record(dialog: Any) -> None:
        seen.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", record)
    return seen


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`agent-uploader host` over a store holding the fixture sessions: its URL."""
    tmp = tmp_path_factory.mktemp("hosted")
    populated_store(LocalStore(tmp / "store"))
    log = tmp / "host.log"
    proc = start_cli("host", "--store", f"file://{tmp / 'store'}", "--ui-port", "0", log=log)
    try:
        yield dashboard_url(proc, log)
    finally:
        stop(proc)


def test_list_shows_every_session(page: Page, hosted: str) -> None:
    dialogs = no_dialogs(page)
    page.goto(hosted)
    rows = page.locator("#sessions tbody tr")
    expect(rows).to_have_count(5)
    for sid, title in TITLES.items():
        expect(page.locator(f'#sessions a[href="/s/{sid}"]')).to_have_text(title)
    expect(page.locator("#count")).to_have_text("5 of 5 sessions")
    assert dialogs == []


def test_search_as_you_type_narrows_the_list(page: Page, hosted: str) -> None:
    page.goto(hosted)
    page.locator("#search").press_sequentially("merged PRs")
    # static/app.js submits the form 300 ms after the last key.
    page.wait_for_url("**/?q=merged+PRs**")
    expect(page.locator("#sessions tbody tr")).to_have_count(1)
    expect(page.locator("#sessions tbody a")).to_have_text(TITLES[OPENCLAW_SID])
    expect(page.locator("#count")).to_have_text("1 of 5 sessions")
    # Enter submits at once; a search by id prefix.
    page.locator("#search").fill(PI_SID[:13])
    page.locator("#search").press("Enter")
    expect(page.locator("#sessions tbody tr")).to_have_count(1)
    expect(page.locator("#sessions tbody a")).to_have_text(TITLES[PI_SID])


def test_search_box_finds_a_line_and_opens_it(page: Page, hosted: str) -> None:
    seen = no_dialogs(page)
    page.goto(f"{hosted}s/{CLAUDE_SID}")
    page.fill("#site-search", '"keyset" OR pagination')
    page.press("#site-search", "Enter")
    page.wait_for_url("**/search?q=*")
    first = page.locator("#hits .hit").first
    expect(first.locator("mark").first).to_be_visible()
    href = first.locator(".hit-link").get_attribute("href") or ""
    line = href.split("line=", 1)[1].split("&", 1)[0]
    first.locator(".hit-link").click()
    page.wait_for_url(f"**#L{line}")
    # The line is on the page it opened, scrolled into view and outlined (:target).
    target = page.locator(f"#L{line}")
    expect(target).to_be_in_viewport()
    outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    assert seen == []


def test_session_conversation_raw_and_checkpoint(page: Page, hosted: str) -> None:
    page.goto(hosted)
    page.locator(f'#sessions a[href="/s/{CODEX_SID}"]').click()
    page.wait_for_url(f"**/s/{CODEX_SID}")
    expect(page.locator("#title")).to_have_text(TITLES[CODEX_SID])
    transcript = page.locator("#transcript")
    user = transcript.locator("article.k-user").filter(has_text=TITLES[CODEX_SID])
    expect(user).to_have_count(1)
    expect(transcript.locator("code.tool", has_text="shell").first).to_be_visible()
    expect(transcript.locator("code.tool", has_text="apply_patch")).to_be_visible()
    expect(transcript).to_contain_text("2 passed in 0.41s")

    page.locator("#tab-raw").click()
    page.wait_for_url("**view=raw**")
    numbers = page.locator("#transcript .raw-line .ln")
    total = len(codex_lines())
    expect(numbers).to_have_count(total)
    expect(numbers.first).to_have_text("1")
    expect(numbers.last).to_have_text(str(total))
    expect(page.locator("#transcript .raw-line code").first).to_contain_text('"session_meta"')

    page.locator("#checkpoints a", has_text="remote compaction").click()
    notice = page.locator("#time-travel")
    expect(notice).to_contain_text("As it stood at checkpoint")
    expect(notice).to_contain_text("remote compaction")
    expect(page.locator("#checkpoints li.current")).to_contain_text("remote compaction")
    # The raw view up to the compaction line: fewer lines, and the later turn is not there.
    shown = numbers.count()
    assert 0 < shown < total
    expect(page.locator("#transcript")).not_to_contain_text("Now add tests for the pagination")
    page.locator("#time-travel a", has_text="Back to now").click()
    expect(page.locator("#time-travel")).to_have_count(0)
    expect(numbers).to_have_count(total)

    # Back in the list, the session keeps its title (opening it must not reset it to the id).
    page.locator(".crumbs a", has_text="Sessions").click()
    expect(page.locator(f'#sessions a[href="/s/{CODEX_SID}"]')).to_have_text(TITLES[CODEX_SID])


@pytest.mark.parametrize("view", ["chat", "raw"])
def test_hostile_transcript_shows_as_text(page: Page, hosted: str, view: str) -> None:
    dialogs = no_dialogs(page)
    page.goto(f"{hosted}s/{HOSTILE_SID}?view={view}")
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("<script>alert(1)</script> summarise this page")
    expect(transcript).to_contain_text("<img src=x onerror=alert(1)>")
    # No markup from the transcript became an element.
    assert page.locator("#transcript script, #transcript img, main svg").count() == 0
    expect(page.locator(".facts")).to_contain_text("/home/dev/<b>x</b>")
    page.wait_for_timeout(300)  # time for anything that would fire late
    assert dialogs == []


def test_live_line_appears_without_reload(page: Page, tmp_path: Path) -> None:
    source = tmp_path / f"rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl"
    first = codex_lines()[:6]  # the header lines and the first user message
    source.write_bytes(b"".join(first))
    log = tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--file", str(source), "--store", f"file://{tmp_path / 'store'}",
        "--spool-dir", str(tmp_path / "spool"), "--poll-ms", "200", "--ui-port", "0",
        log=log,
    )  # fmt: skip
    try:
        url = dashboard_url(proc, log)
        wait_until(
            lambda: _lines(url, CODEX_SID) == len(first),
            timeout=15,
            what="the watcher to read the first lines",
        )
        page.goto(f"{url}s/{CODEX_SID}")
        transcript = page.locator("#transcript")
        expect(transcript).to_have_attribute(
            "data-live", f"/api/sessions/{CODEX_SID}/events?after={len(first)}&view=chat"
        )
        expect(transcript).to_contain_text(TITLES[CODEX_SID])
        text = "Live from the browser test: also sort by created_at"
        line = {"timestamp": "2026-03-14T09:20:00.000Z", "type": "response_item",
                "payload": {"type": "message", "role": "user",
                            "content": [{"type": "input_text", "text": text}]}}  # fmt: skip
        page.evaluate("window.notReloaded = true")
        with source.open("ab") as f:
            f.write(json.dumps(line).encode() + b"\n")
        entry = transcript.locator("article.k-user", has_text=text)
        expect(entry).to_have_count(1, timeout=3000)
        expect(entry.locator(".ln")).to_have_text(str(len(first) + 1))
        assert page.evaluate("window.notReloaded") is True
    finally:
        stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")[-4000:]


def _lines(url: str, sid: str) -> int | None:
    try:
        with urllib.request.urlopen(f"{url}api/sessions/{sid}", timeout=2) as response:
            return int(json.load(response)["lines"])
    except (OSError, ValueError, KeyError):
        return None


# -- the conversation view: Markdown, diffs, images, subagents -------------------------------

PARENT = "258c7280-ae70-4798-800f-63464d01a85d"
SUBAGENT = f"{PARENT}-agent-a881341"


@pytest.fixture(scope="module")
def hosted_view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`host` over a store of the view's sessions and the real Claude Code sessions (a
    parent and its subagents among them)."""
    from tests.support.real_sessions import write_real_sessions
    from tests.support.session_factory import write_session
    from tests.support.view_sessions import VIEW_SID, claude_view_lines

    tmp = tmp_path_factory.mktemp("hosted-view")
    store = LocalStore(tmp / "store")
    write_session(store, VIEW_SID, claude_view_lines(), agent="claude")
    write_real_sessions(store)
    log = tmp / "host.log"
    proc = start_cli("host", "--store", f"file://{tmp / 'store'}", "--ui-port", "0", log=log)
    try:
        yield dashboard_url(proc, log)
    finally:
        stop(proc)


def csp_reports(page: Page) -> list[str]:
    """Console messages about anything the Content-Security-Policy blocked."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def test_markdown_table_renders(page: Page, hosted_view: str) -> None:
    from tests.support.view_sessions import VIEW_SID

    dialogs, blocked = no_dialogs(page), csp_reports(page)
    page.goto(f"{hosted_view}s/{VIEW_SID}")
    table = page.locator("#L6 .md table")
    expect(table).to_be_visible()
    expect(table.locator("th")).to_have_text(["Endpoint", "Limit"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first.locator("code")).to_have_text("/orders")
    expect(table.locator("strong")).to_have_text("50")
    expect(page.locator("#L6")).to_contain_text("<script>alert('md')</script>")  # as text
    expect(page.locator("#L6 a", has_text="a link")).to_have_count(0)  # javascript: stays text
    expect(page.locator("#L6 pre code .k").first).to_have_text("def")  # highlighted
    colour = page.locator("#L6 pre code .k").first.evaluate("e => getComputedStyle(e).color")
    assert colour not in ("rgb(29, 31, 33)", "")  # highlight.css applies (no inline styles)
    page.wait_for_timeout(200)
    assert dialogs == [] and blocked == []


def test_edit_shows_as_a_diff(page: Page, hosted_view: str) -> None:
    from tests.support.view_sessions import VIEW_SID

    page.goto(f"{hosted_view}s/{VIEW_SID}")
    diff = page.locator("#L7 pre.diff")
    expect(diff).to_be_visible()
    expect(diff.locator(".d-del")).to_have_text(["-LIMIT = 20"])
    expect(diff.locator(".d-add")).to_have_text(["+LIMIT = 50"])
    expect(diff.locator(".d-ctx")).to_have_text([" MAX = 100"])
    added = diff.locator(".d-add").evaluate("e => getComputedStyle(e).backgroundColor")
    removed = diff.locator(".d-del").evaluate("e => getComputedStyle(e).backgroundColor")
    assert added != removed and "0, 0, 0, 0" not in added
    expect(page.locator("#L7 .tool-result")).to_contain_text("updated")  # the result, same card


def test_image_shows_inline(page: Page, hosted_view: str) -> None:
    from tests.support.view_sessions import VIEW_SID

    blocked = csp_reports(page)
    page.goto(f"{hosted_view}s/{VIEW_SID}")
    shots = page.locator("#L3 .images img")
    expect(shots).to_have_count(2)
    shots.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#L3 .images img')].every(i => i.complete)"
    )
    sizes = shots.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert sizes == [[4, 3], [2, 2]]  # decoded: served with their type, allowed by the CSP
    assert blocked == []


def test_subagent_link_and_back(page: Page, hosted_view: str) -> None:
    page.goto(f"{hosted_view}s/{PARENT}")
    listed = page.locator(f'#subagents a[href="/s/{SUBAGENT}"]')
    expect(listed).to_be_visible()
    listed.click()
    page.wait_for_url(f"**/s/{SUBAGENT}")
    expect(page.locator("#title")).to_contain_text("What is the output contract")
    back = page.locator("#parent a")
    expect(back).to_have_text("Implement spotter-gqc")
    back.click()
    page.wait_for_url(f"**/s/{PARENT}")
    # The Task call that ran it links to it too, on its page.
    page.goto(f"{hosted_view}s/{PARENT}?line=1472")
    page.wait_for_url(f"**/s/{PARENT}?start=1400#L1472")
    expect(page.locator(f'.subagent a[href="/s/{SUBAGENT}"]')).to_be_visible()
