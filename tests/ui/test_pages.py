"""The dashboard's HTML pages through Starlette's TestClient: what a user sees in the
sessions list and on a session's page, the hostile session shown as text, the login flow,
and a custom bundle served with --ui-dist."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape

from tests.support.session_factory import FIXTURE_SESSIONS, populated_store, write_session
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    claude_lines,
    codex_lines,
)
from tests.support.uiclient import TestClient
from ui.app import UIConfig, create_app
from ui.auth import COOKIE
from ui.markup import markdown
from ui.service import Sessions
from uploader.stores.local import LocalStore

ALL_SIDS = list(FIXTURE_SESSIONS)
TITLES = {
    CODEX_SID: "Add pagination to /orders (limit/offset, default 50)",
    CLAUDE_SID: "Add pagination to /orders",
    OPENCLAW_SID: "Summarise today's merged PRs",
    PI_SID: "Why does GET /orders return 500 for offset=-1?",
}
AGENT_NAMES = {CODEX_SID: "Codex", CLAUDE_SID: "Claude Code", OPENCLAW_SID: "OpenClaw",
               PI_SID: "pi", HOSTILE_SID: "Claude Code"}  # fmt: skip
#: Our own script tag, the only one a page may hold.
OUR_SCRIPT = '<script src="/static/app.js" defer></script>'


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ui-pages") / "store"
    store = LocalStore(root)
    populated_store(store)
    write_session(store, "recent-aaaa", claude_lines()[:3], agent="claude",
                  updated_at=iso(time.time() - 60), extra={"label": "orders-work"})  # fmt: skip
    return root


@pytest.fixture(scope="module")
def manifests(store_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        sid: json.loads((store_dir / "sessions" / sid / "manifest.json").read_bytes())
        for sid in ALL_SIDS
    }


@pytest.fixture(scope="module")
def client(store_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Sessions(LocalStore(store_dir)), UIConfig())) as c:
        yield c


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    text: str = response.text
    return text


def count(text: str, needle: str) -> int:
    return text.count(needle)


# -- the sessions list -----------------------------------------------------------------------


def test_sessions_list_shows_titles_agents_and_counts(client: TestClient) -> None:
    page = html(client.get("/"))
    for sid, title in TITLES.items():
        assert f'<a href="/s/{sid}">{escape(title)}</a>' in page, title
    for sid in AGENT_NAMES:
        assert sid in page
    for agent, name in (("codex", "Codex"), ("claude", "Claude Code"), ("openclaw", "OpenClaw"),
                        ("pi", "pi")):  # fmt: skip
        assert f'<span class="agent agent-{agent}">{name}</span>' in page
    assert "6 of 6 sessions" in page
    assert '<span class="label">orders-work</span>' in page
    assert page.count('class="session-row') == 6
    assert "testhost" in page  # the machine


def test_sessions_list_escapes_the_hostile_title(client: TestClient) -> None:
    page = html(client.get("/?q=hostile"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.replace(OUR_SCRIPT, "").count("<script") == 0
    assert "<img" not in page


def test_filters_keep_their_values_and_filter(client: TestClient) -> None:
    page = html(client.get("/?q=pagination&agent=claude&active=10080&sort=title&order=asc"))
    assert 'value="pagination"' in page
    assert '<option value="claude" selected>Claude Code</option>' in page
    assert re.search(r'<option value="10080" selected>', page)
    assert '<option value="title" selected>Sort by title</option>' in page
    assert '<option value="asc" selected>ascending</option>' in page
    assert "0 of 6 sessions" in page  # fixtures are from March: none active this week
    assert "No session matches these filters." in page
    page = html(client.get("/?q=pagination&agent=claude"))
    assert "1 of 6 sessions" in page
    assert f'href="/s/{CLAUDE_SID}"' in page and f'href="/s/{CODEX_SID}"' not in page
    page = html(client.get("/?agent=pi"))
    assert f'href="/s/{PI_SID}"' in page and page.count('class="session-row') == 1
    page = html(client.get("/?active=60"))
    assert 'href="/s/recent-aaaa"' in page and page.count('class="session-row') == 1


def test_sort_order_on_the_page(client: TestClient) -> None:
    page = html(client.get("/?sort=lines&order=asc"))
    rows = re.findall(r'<a href="/s/([^"]+)">', page)
    lines = {CODEX_SID: len(codex_lines()), "recent-aaaa": 3}
    assert rows[0] == "recent-aaaa" and rows.index("recent-aaaa") < rows.index(CODEX_SID)
    assert lines[rows[0]] == 3
    page = html(client.get("/?sort=lines&order=desc"))
    assert re.findall(r'<a href="/s/([^"]+)">', page)[0] == CODEX_SID  # 35 lines, the most


def test_pagination_links(client: TestClient) -> None:
    page = html(client.get("/?limit=2&sort=title&order=asc"))
    assert "Page 1 of 3" in page
    assert page.count('class="session-row') == 2
    assert 'href="/?limit=2&amp;sort=title&amp;order=asc&amp;page=2" rel="next"' in page
    assert 'rel="prev"' not in page
    seen = re.findall(r'<a href="/s/([^"]+)">', page)
    second = html(client.get("/?limit=2&sort=title&order=asc&page=2"))
    assert "Page 2 of 3" in second
    assert 'rel="prev"' in second and 'rel="next"' in second
    third = html(client.get("/?limit=2&sort=title&order=asc&page=3"))
    assert 'rel="next"' not in third
    for later in (second, third):
        seen += re.findall(r'<a href="/s/([^"]+)">', later)
    assert sorted(seen) == sorted([*ALL_SIDS, "recent-aaaa"])
    filtered = html(client.get("/?q=a&agent=claude&limit=1"))
    assert "page=2" in filtered
    next_link = re.search(r'href="([^"]+)" rel="next"', filtered)
    assert next_link is not None
    params = parse_qs(urlsplit(next_link.group(1).replace("&amp;", "&")).query)
    assert params == {"q": ["a"], "agent": ["claude"], "limit": ["1"], "page": ["2"]}


def test_bad_list_parameters_are_an_error_page(client: TestClient) -> None:
    page = html(client.get("/?sort=colour"), 400)
    assert "colour" in page and "choose one of" in page


def test_empty_store(tmp_path: Path) -> None:
    with TestClient(create_app(Sessions(LocalStore(tmp_path / "empty")))) as c:
        page = html(c.get("/"))
    assert "No sessions in this store yet" in page
    assert "0 of 0 sessions" in page


# -- a session's page ------------------------------------------------------------------------


def test_segments_table(client: TestClient, manifests: dict[str, dict[str, Any]]) -> None:
    page = html(client.get(f"/s/{CODEX_SID}?view=segments"))
    table = page[page.index('<table class="segments"') : page.index("</table>")]
    rows = re.findall(r"<tr>.*?</tr>", table, re.S)[1:]
    segments = manifests[CODEX_SID]["segments"]
    assert len(rows) == len(segments) == 6
    for row, seg in zip(rows, segments, strict=True):
        assert f'<td class="num">{seg["seq"]}</td>' in row
        assert f"<code>{seg['sha256'][:12]}</code>" in row
        assert "uploaded" in row
    assert 'id="tab-segments"' in page and 'class="current" id="tab-segments"' in page


def test_checkpoint_timeline_and_time_travel(
    client: TestClient, manifests: dict[str, dict[str, Any]]
) -> None:
    cp = manifests[CODEX_SID]["checkpoints"][0]
    page = html(client.get(f"/s/{CODEX_SID}?view=raw"))
    assert 'id="checkpoints"' in page
    assert f'href="/s/{CODEX_SID}?view=raw&amp;checkpoint={cp["id"]}"' in page
    assert "As it stood at checkpoint" not in page
    all_lines = page.count('class="raw-line"')
    assert all_lines == len(codex_lines())
    at = html(client.get(f"/s/{CODEX_SID}?view=raw&checkpoint={cp['id']}"))
    assert "As it stood at checkpoint" in at
    shown = at.count('class="raw-line"')
    assert 0 < shown < all_lines
    before = sum(s["lines"] for s in manifests[CODEX_SID]["segments"] if s["seq"] < cp["seq"])
    assert shown == before + cp["line_idx"]
    assert f"/api/sessions/{CODEX_SID}/download?checkpoint={cp['id']}" in at
    assert "Back to now" in at
    chat = html(client.get(f"/s/{CODEX_SID}?checkpoint={cp['id']}"))
    assert "As it stood at checkpoint" in chat
    assert "Now add tests for the pagination" not in chat  # said after the checkpoint
    assert "Now add tests for the pagination" in html(client.get(f"/s/{CODEX_SID}"))


def test_raw_view_has_line_numbers(client: TestClient) -> None:
    page = html(client.get(f"/s/{PI_SID}?view=raw"))
    lines = FIXTURE_SESSIONS[PI_SID][0]()
    for i in (0, 1, len(lines) - 1):
        assert f'<div class="raw-line" id="L{i}"><a class="ln" href="#L{i}">{i + 1}</a>' in page
    assert str(escape(lines[0].decode().rstrip("\n"))) in page


def test_raw_view_pages_through_long_sessions(client: TestClient) -> None:
    page = html(client.get(f"/s/{CODEX_SID}?view=raw&limit=10&start=10"))
    assert page.count('class="raw-line"') == 10
    assert 'id="L10"' in page and 'id="L19"' in page and 'id="L9"' not in page
    assert "Lines 11\u201320 of 35" in page
    assert 'rel="prev"' in page and 'rel="next"' in page
    last = html(client.get(f"/s/{CODEX_SID}?view=raw&limit=10&start=end"))
    assert last.count('class="raw-line"') == 5 and 'id="L34"' in last


def article(page: str, needle: str) -> str:
    """The <article> holding `needle`."""
    at = page.index(needle)
    start = page.rindex("<article", 0, at)
    return page[start : page.index("</article>", at)]


def test_conversation_pairs_tool_calls_with_results(client: TestClient) -> None:
    page = html(client.get(f"/s/{CLAUDE_SID}"))
    grep = article(page, '<code class="tool">Grep</code>')
    assert "k-tool_call" in grep
    assert '<span class="subtitle">def list_orders</span>' in grep  # the arguments
    assert '<span class="key">path</span> src' in grep
    assert "result · line 4" in grep
    assert "src/orders.py:7:def list_orders(db):" in grep  # its result, in the same entry
    assert "k-tool_result" not in page  # every result sits with its call
    failed = article(page, "FAILED tests/test_orders.py::test_default_limit")
    assert '<span class="bad">error</span>' in failed
    assert "<b>User</b>" in page and "<b>Assistant</b>" in page and "<b>Reasoning</b>" in page


def test_conversation_marks_the_compaction_summary(client: TestClient) -> None:
    page = html(client.get(f"/s/{CLAUDE_SID}"))
    summary = article(page, "This session is being continued")
    assert "k-summary" in summary and "<b>Compaction summary</b>" in summary
    assert "<b>Compaction</b>" in page  # the boundary itself


def test_conversation_shows_token_usage(client: TestClient) -> None:
    page = html(client.get(f"/s/{CLAUDE_SID}"))
    # Once per message, on the message's last card, and summed for the session.
    grep = article(page, '<code class="tool">Grep</code>')
    assert "in 12 · out 88 · cache read 18,000 · cache write 5,120</span></footer>" in grep
    assert '<dd id="totals">in ' in page
    codex = html(client.get(f"/s/{CODEX_SID}"))
    assert "in 9,800 · cache read 9,216 · out 210 · " not in codex  # labels in a fixed order
    # The turn's model (turn_context) names Codex's usage too, as Claude's and pi's.
    assert "</span> · in 9,800 · out 210 · cache read 9,216 · " in codex


@pytest.mark.parametrize(
    ("sid", "tool", "said"),
    [
        (CODEX_SID, "shell", "Tests added in `tests/test_orders.py`; both pass."),
        (CLAUDE_SID, "Edit", "Pagination added: `limit` (default 50) and `offset`."),
        (OPENCLAW_SID, "bash", "Posted to #eng."),
        (PI_SID, "edit", "limit is now 1..200."),
    ],
)
def test_conversation_of_every_format(client: TestClient, sid: str, tool: str, said: str) -> None:
    page = html(client.get(f"/s/{sid}"))
    assert f'<h1 id="title">{escape(TITLES[sid])}</h1>' in page
    assert f"<dd>{AGENT_NAMES[sid]}</dd>" in page
    assert f'<code class="tool">{tool}</code>' in page
    said_html = str(markdown(said)).strip()  # the assistant's Markdown, rendered
    assert said_html in article(page, said_html)
    assert 'class="entry k-assistant"' in page
    assert page.count('class="entry ') >= len(FIXTURE_SESSIONS[sid][0]()) // 2
    assert f'href="/api/sessions/{sid}/download"' in page
    assert "<b>Compaction" in page  # each fixture has one


def test_unknown_session_is_a_404_page_with_a_hint(client: TestClient) -> None:
    page = html(client.get("/s/no-such-session"), 404)
    assert "no session &#39;no-such-session&#39;" in page
    assert "agent-uploader ls" in page
    assert 'href="/"' in page


def test_id_prefix_and_label_redirect_to_the_full_id(client: TestClient) -> None:
    response = client.get("/s/5b1e?view=raw", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/s/{CLAUDE_SID}?view=raw"
    label = client.get("/s/orders-work", follow_redirects=False)
    assert label.headers["location"] == "/s/recent-aaaa"
    assert html(client.get("/s/7d3f")).count(escape(TITLES[OPENCLAW_SID])) >= 1
    ambiguous = html(client.get("/s/0"), 409)
    assert CODEX_SID in ambiguous and PI_SID in ambiguous


# -- the hostile session ---------------------------------------------------------------------


@pytest.mark.parametrize("view", ["chat", "raw"])
def test_hostile_session_shows_as_text(client: TestClient, view: str) -> None:
    page = html(client.get(f"/s/{HOSTILE_SID}?view={view}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    ours_removed = page.replace(OUR_SCRIPT, "")
    assert "<script" not in ours_removed.lower()
    assert "</script>" not in ours_removed
    assert "<img" not in page.lower()
    assert "<svg" not in page.lower()
    assert "onerror=alert" not in re.sub(r"&lt;img src=x onerror=alert\(1\)&gt;", "", page)
    assert "<b>x</b>" not in page and "<b>not bold</b>" not in page
    assert 'href="javascript:' not in page
    assert page.count(OUR_SCRIPT) == 1
    # The 5 MB line: a part of it, and a link to the rest.
    assert len(page.encode()) < 500_000
    assert "more characters" in page
    link = f"/api/sessions/{HOSTILE_SID}/lines/6"
    assert link in page
    whole = client.get(link)
    assert whole.status_code == 200 and len(whole.content) > 5_000_000
    # The broken JSON line and the line of invalid UTF-8 are shown, not dropped.
    assert "cut off here" in page
    assert "bad bytes" in page and "\ufffd" in page
    assert "x-future-event" in page
    assert "This line ends in CRLF." in page
    lines = FIXTURE_SESSIONS[HOSTILE_SID][0]()
    for i in range(len(lines)):  # every line: its own entry, or the result beside its call
        assert f'id="L{i}"' in page or f"result · line {i + 1}<" in page, i


def test_hostile_values_in_the_head_and_title_are_escaped(client: TestClient) -> None:
    page = html(client.get(f"/s/{HOSTILE_SID}"))
    title = page[page.index("<title>") : page.index("</title>")]
    assert "&lt;script&gt;" in title
    assert "<code>/home/dev/&lt;b&gt;x&lt;/b&gt;</code>" in page  # the cwd


@pytest.mark.parametrize(
    "bad", ["%2E%2E", "..%2F..%2Fetc%2Fpasswd", "..%2Fstore%2Fsessions", "%2Fetc%2Fpasswd", "a%00"]
)
def test_path_traversal_ids_are_refused(client: TestClient, bad: str) -> None:
    response = client.get(f"/s/{bad}", follow_redirects=False)
    assert response.status_code in (400, 404), response.status_code
    assert "root:x:0:0" not in response.text


# -- login, token, credentials ---------------------------------------------------------------


@pytest.fixture
def guarded(store_dir: Path) -> Iterator[TestClient]:
    app = create_app(Sessions(LocalStore(store_dir)), UIConfig(token="s3cret"))
    with TestClient(app) as c:
        yield c


def test_pages_redirect_to_login_without_the_token(guarded: TestClient) -> None:
    for path, target in (("/", "/"), (f"/s/{CODEX_SID}?view=raw", f"/s/{CODEX_SID}?view=raw")):
        response = guarded.get(path, follow_redirects=False)
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.path == "/login"
        assert parse_qs(location.query)["next"] == [target]
    form = html(guarded.get("/login?next=/s/abc"))
    assert '<input type="hidden" name="next" value="/s/abc">' in form
    assert 'type="password" name="token"' in form


def test_login_with_a_wrong_token_is_a_401_page(guarded: TestClient) -> None:
    page = html(guarded.post("/login", data={"token": "guess", "next": "/"}), 401)
    assert "That token is not right." in page
    assert COOKIE not in guarded.cookies
    assert guarded.get("/", follow_redirects=False).status_code == 303


def test_login_with_the_token_sets_a_cookie_and_pages_work(guarded: TestClient) -> None:
    response = guarded.post(
        "/login", data={"token": "s3cret", "next": f"/s/{PI_SID}"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/s/{PI_SID}"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE}=") and "httponly" in set_cookie.lower()
    assert "samesite=strict" in set_cookie.lower()
    assert "s3cret" not in set_cookie  # the cookie is derived from the token
    assert guarded.cookies.get(COOKIE)
    page = html(guarded.get("/"))
    assert escape(TITLES[PI_SID]) in page and "s3cret" not in page
    assert "s3cret" not in html(guarded.get(f"/s/{PI_SID}"))
    assert guarded.get("/api/sessions").status_code == 200  # the cookie works for the API too
    out = guarded.post("/logout", follow_redirects=False)
    assert out.status_code == 303
    guarded.cookies.clear()
    assert guarded.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "target",
    ["//evil.com", "//evil.com/x", "https://evil.com", "/\\evil.com", "javascript:alert(1)",
     "/\t/evil.com", "/\n/evil.com", "\\\\evil.com"],
)  # fmt: skip
def test_login_redirects_only_to_local_paths(guarded: TestClient, target: str) -> None:
    form = html(guarded.get("/login", params={"next": target}))
    hidden = re.search(r'name="next" value="([^"]*)"', form)
    assert hidden is not None and hidden.group(1) == "/"
    response = guarded.post(
        "/login", data={"token": "s3cret", "next": target}, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//"), location
    cleaned = re.sub(r"[\x00-\x20]|%0[9aAdD]|%20", "", location).replace("\\", "/")
    assert not cleaned.startswith("//") and "evil.com" not in urlsplit(cleaned).netloc


def test_no_secret_reaches_a_page(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    secrets = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY123456",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-secret-example-key",
        "SUPABASE_KEY": "supabase-secret-service-role-key",
        "AGENT_UI_TOKEN": "s3cret",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    app = create_app(Sessions(LocalStore(store_dir)), UIConfig(token="s3cret"))
    bearer = {"Authorization": "Bearer s3cret"}
    with TestClient(app, headers=bearer) as c:
        bodies = [
            c.get(path).text
            for path in (
                "/",
                f"/s/{CODEX_SID}",
                f"/s/{CODEX_SID}?view=raw",
                f"/s/{CODEX_SID}?view=segments",
                "/s/no-such-session",
                "/login",
                "/healthz",
                "/api/sessions",
                f"/api/sessions/{CODEX_SID}",
                "/metrics",
            )
        ]
    for body in bodies:
        for value in secrets.values():
            assert value not in body


# -- a custom bundle (--ui-dist) -------------------------------------------------------------


def test_ui_dist_serves_the_bundle_and_keeps_the_api(tmp_path: Path, store_dir: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>custom</title><p>my own dashboard")
    (dist / "app.js").write_text("console.log('custom')")
    config = UIConfig(dist=dist)
    with TestClient(create_app(Sessions(LocalStore(store_dir)), config)) as c:
        index = c.get("/")
        assert index.status_code == 200 and "my own dashboard" in index.text
        assert index.headers["x-content-type-options"] == "nosniff"
        assert "console.log" in c.get("/app.js").text
        body = c.get("/api/sessions").json()
        assert body["total"] == 6
        assert c.get(f"/api/sessions/{PI_SID}/lines").json()["total"] > 0
        assert c.get("/healthz").json()["status"] == "ok"
        assert c.get(f"/s/{PI_SID}").status_code == 404  # the built-in pages are off
