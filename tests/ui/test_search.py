"""The dashboard's search and usage pages, and the session list read from the index,
through Starlette's TestClient over a store of the fixture sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import wait_until
from tests.support.session_factory import FIXTURE_SESSIONS, populated_store
from tests.support.transcripts import CLAUDE_SID, CODEX_SID, HOSTILE_SID
from tests.support.uiclient import TestClient
from ui.app import UIConfig, create_app
from ui.service import Sessions
from uploader.index.base import SearchQuery
from uploader.index.indexer import Indexer
from uploader.index.sqlite import SqliteIndex
from uploader.read.listing import Query
from uploader.stores.local import LocalStore


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("search") / "store"
    populated_store(LocalStore(root))
    return root


@pytest.fixture(scope="module")
def sessions(store_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Sessions:
    index = SqliteIndex(tmp_path_factory.mktemp("ix") / "index.sqlite3")
    store = LocalStore(store_root)
    found = Sessions(store, indexer=Indexer(store, index))
    Indexer(store, index).refresh()  # filled by an earlier run
    found.catalog.refresh()  # what `host` does at its start
    return found


@pytest.fixture(scope="module")
def client(sessions: Sessions) -> Iterator[TestClient]:
    with TestClient(create_app(sessions, UIConfig())) as c:
        yield c


def hits_of(html: str) -> list[str]:
    return re.findall(r'class="hit-link" href="([^"]+)"', html)


def test_every_page_has_the_search_box(client: TestClient) -> None:
    for path in ("/", f"/s/{CODEX_SID}", "/usage", "/search"):
        html = client.get(path).text
        assert 'action="/search"' in html and 'id="site-search"' in html, path


def test_a_hit_links_to_its_line_with_the_match_marked(client: TestClient) -> None:
    html = client.get("/search", params={"q": "pagination"}).text
    links = hits_of(html)
    # The line and its generation (a session page opens the newest by default).
    assert links and all(
        re.fullmatch(r"/s/[\w.-]+\?line=\d+&amp;generation=\d+", link) for link in links
    )
    assert "<mark>pagination</mark>" in html.lower()
    # The link opens the page holding that line, at its anchor.
    first = links[0].replace("&amp;", "&")
    response = client.get(first, follow_redirects=False)
    assert response.status_code == 303
    line = first.split("line=", 1)[1].split("&", 1)[0]
    assert response.headers["location"].endswith(f"#L{line}")


def test_filters_are_kept_and_applied(client: TestClient) -> None:
    html = client.get("/search", params={"q": "pagination", "agent": "codex"}).text
    assert hits_of(html) and all(CODEX_SID in link for link in hits_of(html))
    assert '<option value="codex" selected>' in html


def test_a_malformed_search_is_said_beside_the_box(client: TestClient) -> None:
    response = client.get("/search", params={"q": '"unclosed'})
    assert response.status_code == 200
    assert "is not closed" in response.text and 'id="query-error"' in response.text
    assert 'value="&#34;unclosed"' in response.text  # what was typed stays in the box
    api = client.get("/api/search", params={"q": '"unclosed'})
    assert api.status_code == 400 and "is not closed" in api.json()["error"]


def test_a_hostile_transcript_is_shown_as_text(client: TestClient) -> None:
    html = client.get("/search", params={"q": "script", "sid": HOSTILE_SID}).text
    assert hits_of(html)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;<mark>script</mark>&gt;alert(1)" in html


def test_the_search_api(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "pagination", "limit": "2"}).json()
    assert len(body["hits"]) == 2
    assert set(body["hits"][0]) == {
        "sid", "generation", "line", "ts", "agent", "role", "tool", "title", "snippet",
    }  # fmt: skip
    assert "[" in body["hits"][0]["snippet"]


def test_usage_page_draws_a_chart_on_the_server(client: TestClient) -> None:
    response = client.get("/usage", params={"by": "agent", "since": ""})
    html = response.text
    assert response.status_code == 200
    assert "<svg" in html and "<rect" in html and "<script" not in html.split("</head>")[1]
    assert "script-src" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    rows = re.findall(r"<tr><td>(\w+)</td>", html)
    assert {"claude", "codex"} <= set(rows)
    assert 'id="top-sessions"' in html and f'href="/s/{CLAUDE_SID}"' in html
    bad = client.get("/usage", params={"by": "colour"})
    assert bad.status_code == 400 and "colour" in bad.text


def test_the_usage_api_adds_up(client: TestClient) -> None:
    by_agent = client.get("/api/usage", params={"by": "agent", "since": ""}).json()["rows"]
    by_day = client.get("/api/usage", params={"by": "day", "since": ""}).json()["rows"]

    def tokens(rows: list[dict[str, float]]) -> float:
        return sum(r["input"] + r["output"] + r["cache_read"] + r["cache_write"] for r in rows)

    assert by_agent and tokens(by_agent) == tokens(by_day) > 0


def test_the_list_from_the_index_is_the_list_from_the_store(
    sessions: Sessions, store_root: Path
) -> None:
    plain = Sessions(LocalStore(store_root))
    for query in (Query(), Query(sort="title", descending=False), Query(text="pagination"),
                  Query(agent="claude"), Query(sort="lines")):  # fmt: skip
        indexed = sessions.listing(query, 0, 3)
        listed = plain.listing(query, 0, 3)
        assert indexed[0] == listed[0] == len(FIXTURE_SESSIONS), query
        assert indexed[1] == listed[1] == len(plain.listing(query)[2]), query
        assert [s.sid for s in indexed[2]] == [s.sid for s in listed[2]], query
        assert [s.title for s in indexed[2]] == [s.title for s in listed[2]], query


def test_a_store_never_indexed_is_listed_at_once_and_indexed_meanwhile(
    store_root: Path, tmp_path: Path
) -> None:
    store = LocalStore(store_root)
    indexer = Indexer(store, SqliteIndex(tmp_path / "new.sqlite3"))
    fresh = Sessions(store, indexer=indexer)
    everything, total, items = fresh.listing(Query(), 0, 50)
    assert everything == total == len(items) == len(FIXTURE_SESSIONS)
    wait_until(indexer.ready, timeout=30, what="the index built in the background")
    assert fresh.search(SearchQuery("pagination"))


def test_a_label_shows_on_the_session_page_with_the_index(store_root: Path, tmp_path: Path) -> None:
    from uploader.read.labels import set_label

    store = LocalStore(store_root)
    set_label(store, CODEX_SID, "the label", {s: "" for s in FIXTURE_SESSIONS})
    indexer = Indexer(store, SqliteIndex(tmp_path / "labels.sqlite3"))
    indexer.refresh()
    sessions = Sessions(store, indexer=indexer)
    sessions.catalog.refresh()
    assert sessions.open(CODEX_SID).summary.title == "the label"
    assert sessions.catalog.resolve("the label") == CODEX_SID
    set_label(store, CODEX_SID, None, {s: "" for s in FIXTURE_SESSIONS})
