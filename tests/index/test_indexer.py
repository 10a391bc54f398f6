"""The search index (uploader.index) over a store: what a search finds, what usage adds up
to, and what keeping it up to date costs in store requests.

The index is SQLite here (the default); tests/index/test_contract.py runs the backend
calls against SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import uploader
from tests.support.real_sessions import REAL, RealSession, expected_usage, real_sessions
from tests.support.session_factory import write_session
from tests.support.storeview import CountingStore
from tests.support.transcripts import claude_lines
from uploader.agents.usage import USAGE_KEYS
from uploader.index.base import MARK_END, MARK_START, ListQuery, SearchQuery
from uploader.index.extract import TEXT_CAP, segment_docs
from uploader.index.indexer import Indexer
from uploader.index.query import QueryError, parse
from uploader.index.sqlite import SqliteIndex
from uploader.messages import explain
from uploader.read.labels import set_label
from uploader.read.removal import remove_session
from uploader.storage import changes
from uploader.stores.base import Store
from uploader.stores.local import LocalStore
from uploader.write.segment import SegmentLimits

SESSIONS = real_sessions()
SMALL = SegmentLimits(max_bytes=64 << 10, max_lines=150)


# -- the query language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fts5", "tsquery"),
    [
        ("pagination bug", '("pagination") AND ("bug")', "(pagination) & (bug)"),
        ('"retry with backoff"', '("retry with backoff")', "((retry <-> with <-> backoff))"),
        ("migrat*", '("migrat"*)', "(migrat:*)"),
        ("redis OR memcached -flaky", '("redis" OR "memcached") NOT "flaky"',
         "(redis | memcached) & !(flaky)"),
        ("orders.py", '("orders py")', "((orders <-> py))"),
        ('Crème "NEAR(a b)" ^x', '("creme") AND ("near a b") AND ("x")',
         "(creme) & ((near <-> a <-> b)) & (x)"),
    ],
)  # fmt: skip
def test_queries_read_as_each_backend_writes_them(text: str, fts5: str, tsquery: str) -> None:
    parsed = parse(text)
    assert parsed.fts5() == fts5
    assert parsed.tsquery() == tsquery


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("", "the search is empty"),
        ('"unclosed', "is not closed"),
        ("OR x", "OR needs a term on each side"),
        ("x OR", "OR needs a term on each side"),
        ("-only", "only leaves words out"),
        ("!!! ***", "has no word to look for"),
        ("a OR -b", "cannot be part of an OR"),
    ],
)
def test_a_malformed_query_says_what_is_wrong(text: str, said: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert said in caught.value.message
    assert caught.value.hint is not None and '"a phrase"' in caught.value.hint


# -- what of a line is indexed -----------------------------------------------------------


def claude_line(role: str, content: str) -> str:
    return json.dumps({"type": role, "message": {"role": role, "content": content},
                       "timestamp": "2026-03-14T09:00:00Z"}, ensure_ascii=False)  # fmt: skip


def test_bulky_content_is_capped_and_blobs_left_out() -> None:
    blob = "QUJD" * 20_000  # 80 KB of base64
    output = "needle at the start " + "word " * 40_000  # 200 KB of words
    lines = [claude_line("user", f"look {blob} here"), claude_line("assistant", output)]
    data = "".join(line + "\n" for line in lines).encode()
    docs, _ = segment_docs(data, "claude", 0)
    texts = {d.role: d.text for d in docs}
    assert blob[:300] not in texts["user"]
    assert "look" in texts["user"] and "here" in texts["user"]
    assert texts["assistant"].startswith("needle at the start")
    assert all(len(d.text) <= TEXT_CAP for d in docs)


def test_lines_of_an_unknown_format_are_searchable_as_they_are() -> None:
    line = json.dumps({"event": "note", "body": "the zebra crossing"})
    docs, _ = segment_docs((line + "\n").encode(), "unknown", 0)
    assert [(d.role, "zebra" in d.text) for d in docs] == [("other", True)]


def test_snippet_marks_cannot_be_forged_by_a_transcript() -> None:
    line = claude_line("user", f"a {MARK_START}b{MARK_END}")
    docs, _ = segment_docs((line + "\n").encode(), "claude", 0)
    assert docs and all(MARK_START not in d.text and MARK_END not in d.text for d in docs)


# -- a store of real transcripts ---------------------------------------------------------


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real transcript, uploaded by `snapshot` in small segments (messages and Codex
    totals split across segments), as a user's store holds them."""
    base = tmp_path_factory.mktemp("real-index")
    store = LocalStore(base / "store")
    for s in SESSIONS:
        copy = base / "elsewhere" / s.path.relative_to(REAL)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(s.path, copy)
        assert uploader.snapshot(store, copy, s.sid, limits=SMALL, redact=False)
    return base / "store"


@pytest.fixture(scope="module")
def real_index(real_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteIndex]:
    index = SqliteIndex(tmp_path_factory.mktemp("ix") / "index.sqlite3")
    done = Indexer(LocalStore(real_store), index).refresh()
    assert not done.failed
    yield index
    index.close()


def line_of(s: RealSession, n: int) -> str:
    return s.lines()[n].decode("utf-8", "replace")


def by_sid(sid: str) -> RealSession:
    return next(s for s in SESSIONS if s.sid == sid)


@pytest.mark.parametrize(
    ("query", "agent", "sid_prefix", "words"),
    [
        ('"keyset pagination"', "claude", "258c7280", ["keyset", "pagination"]),
        ('"demo preparation"', "codex", "019e1695", ["demo", "preparation"]),
        ("hello.py prints", "pi", "019e19b4", ["hello.py", "prints"]),
        ("hello", "openclaw", "f967d602", ["hello"]),
    ],
)
def test_a_known_phrase_finds_its_session_and_line(
    real_index: SqliteIndex, query: str, agent: str, sid_prefix: str, words: list[str]
) -> None:
    hits = real_index.search(SearchQuery(query, agent=agent, limit=50))
    found = [h for h in hits if h.sid.startswith(sid_prefix)]
    assert found, [(h.sid, h.line) for h in hits]
    for hit in found:
        # The line the hit points at (counted from 0, as the dashboard does) says it.
        text = line_of(by_sid(hit.sid), hit.line).lower()
        assert all(w in text for w in words), (hit.line, text[:200])
        assert MARK_START in hit.snippet and MARK_END in hit.snippet
        assert hit.agent == agent


def test_filters_narrow_the_hits(real_index: SqliteIndex) -> None:
    everything = real_index.search(SearchQuery("git", limit=200))
    bash = real_index.search(SearchQuery("git", tool="bash", limit=200))
    users = real_index.search(SearchQuery("git", role="user", limit=200))
    assert bash and users and len(everything) > len(bash)
    assert {(h.tool or "").lower() for h in bash} == {"bash"}
    assert {h.role for h in users} == {"user"}
    since = max(h.ts for h in everything if h.ts) - 1
    assert all(h.ts and h.ts >= since for h in real_index.search(SearchQuery("git", since=since)))
    assert real_index.search(SearchQuery("git", project="spotter", limit=200))
    assert not real_index.search(SearchQuery("git", project="no-such-project"))


def test_phrases_prefixes_and_exclusions(real_index: SqliteIndex) -> None:
    phrase = real_index.search(SearchQuery('"keyset pagination"', limit=100))
    both = real_index.search(SearchQuery("keyset pagination", limit=100))
    prefix = real_index.search(SearchQuery("keyse*", limit=100))
    assert phrase and len(both) >= len(phrase) and len(prefix) >= len(phrase)
    excluded = real_index.search(SearchQuery("keyset -pagination", limit=100))
    for hit in excluded:
        assert "pagination" not in line_of(by_sid(hit.sid), hit.line).lower()


@pytest.mark.parametrize("s", SESSIONS, ids=lambda s: s.path.name[:44])
def test_usage_totals_equal_a_deduplicated_sum(real_index: SqliteIndex, s: RealSession) -> None:
    rows = {r.key: r for r in real_index.usage(by="session")}
    want = expected_usage(s)
    if not any(want.values()):
        assert s.sid not in rows or not any(rows[s.sid].figures.get(k) for k in USAGE_KEYS)
        return
    got = rows[s.sid].figures
    assert {k: got.get(k, 0) for k in USAGE_KEYS} == want


def test_usage_groups_add_up_to_the_same_total(real_index: SqliteIndex) -> None:
    def total(by: str) -> float:
        return sum(r.tokens for r in real_index.usage(by=by))

    expected = sum(sum(expected_usage(s).values()) for s in SESSIONS)
    assert {
        by: total(by) for by in ("day", "model", "agent", "project", "session")
    } == dict.fromkeys(("day", "model", "agent", "project", "session"), expected)
    days = [r.key for r in real_index.usage(by="day")]
    assert days == sorted(days)


def test_the_session_list_comes_from_the_index(real_index: SqliteIndex) -> None:
    page = real_index.sessions(ListQuery(sort="lines", limit=5))
    assert page.total == len(SESSIONS)
    lines = [s["lines"] for s in page.summaries]
    assert lines == sorted(lines, reverse=True) and len(lines) == 5
    pi = real_index.sessions(ListQuery(agent="pi"))
    assert {s["sid"] for s in pi.summaries} == {s.sid for s in SESSIONS if s.agent == "pi"}


# -- keeping up with the store -----------------------------------------------------------


def upload(store: Store, tmp: Path, sid: str, text: str) -> None:
    path = tmp / f"{sid}.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write(claude_line("user", text) + "\n")
    assert uploader.snapshot(store, path, sid, redact=False)


def test_a_refresh_reads_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [time.time() - 3600]  # the 40 sessions were written an hour ago
    monkeypatch.setattr(changes, "now", lambda: clock[0])
    store = LocalStore(tmp_path / "store")
    for n in range(40):
        upload(store, tmp_path, f"s{n:03d}", f"first words of session {n}")
    clock[0] += 600  # indexed ten minutes later
    index = SqliteIndex(tmp_path / "index.sqlite3")
    counting = CountingStore(store)
    first = Indexer(counting, index).refresh()
    assert len(first.sessions) == 40 and first.full

    clock[0] = time.time()
    for n in range(3):  # three sessions change, one is new
        upload(store, tmp_path, f"s{n:03d}", f"zebra crossing {n}")
    upload(store, tmp_path, "new", "zebra new")
    counting.calls.clear()
    later = Indexer(counting, index).refresh()
    assert not later.full and set(later.sessions) == {"s000", "s001", "s002", "new"}
    # The hour folders of the change feed, labels.json, and the changed sessions'
    # manifests and new segments: not the other 37 sessions' manifests.
    assert counting.calls["LIST"] <= 3
    assert counting.calls["GET manifest.json"] == 4
    assert counting.calls["GET labels.json"] == 1
    hits = index.search(SearchQuery("zebra", limit=10))
    assert {h.sid for h in hits} == {"s000", "s001", "s002", "new"}

    # Nothing changed since: the sessions marked in the five minutes a refresh last
    # looked at are read once more (a mark is per five minutes), then none.
    for _ in range(2):
        clock[0] += 600
        counting.calls.clear()
        Indexer(counting, index).refresh()
    assert counting.calls["GET manifest.json"] == 0
    assert counting.calls["LIST"] <= 2  # this hour's folder (and the last one's)


def test_sessions_written_without_marks_are_found_by_a_full_listing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")  # an older writer: no change feed
    write_session(store, "legacy", claude_lines())
    index = SqliteIndex(tmp_path / "index.sqlite3")
    Indexer(store, index).refresh()
    assert index.sessions(ListQuery()).total == 1
    write_session(store, "legacy-2", claude_lines())
    assert Indexer(store, index).refresh().sessions == {}  # not named by the feed...
    assert "legacy-2" in Indexer(store, index).refresh(full=True).sessions  # ...until listed


def test_deleted_and_relabelled_sessions_follow(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    upload(store, tmp_path, "keep", "alpha words")
    upload(store, tmp_path, "drop", "alpha words too")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    Indexer(store, index).refresh()
    assert len(index.search(SearchQuery("alpha"))) == 2
    remove_session(store, "drop", archive=False)
    set_label(store, "keep", "the keeper", {"keep": ""})
    done = Indexer(store, index).refresh()
    assert done.removed == {"drop"}
    assert [h.sid for h in index.search(SearchQuery("alpha"))] == ["keep"]
    listed = index.sessions(ListQuery(text="keeper")).summaries
    assert [(s["sid"], s["label"], s["title"]) for s in listed] == [
        ("keep", "the keeper", "the keeper")
    ]


def test_the_index_is_private_and_rebuilds_from_the_store(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    upload(store, tmp_path, "one", "private words")
    path = tmp_path / "data" / "index.sqlite3"
    index = SqliteIndex(path)
    Indexer(store, index).refresh()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    before = [h.to_json() for h in index.search(SearchQuery("private"))]
    index.close()
    for file in path.parent.iterdir():
        file.unlink()
    again = SqliteIndex(path)
    Indexer(store, again).refresh()
    assert [h.to_json() for h in again.search(SearchQuery("private"))] == before


def test_an_index_of_another_store_is_refused(tmp_path: Path) -> None:
    from uploader.core.errors import IndexMismatch

    store = LocalStore(tmp_path / "a")
    upload(store, tmp_path, "one", "words")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    Indexer(store, index).refresh()
    with pytest.raises(IndexMismatch) as caught:
        Indexer(LocalStore(tmp_path / "b"), index)
    assert "--rebuild" in str(explain(caught.value).hint)
    for sid in index.sids():  # what `index --rebuild` does first
        index.remove_session(sid)
    Indexer(LocalStore(tmp_path / "b"), index)


def test_redacted_secrets_stay_redacted(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    path = tmp_path / "s.jsonl"
    path.write_text(claude_line("user", f"token {secret}") + "\n")
    assert uploader.snapshot(store, path, "secret-session", redact=True)
    index = SqliteIndex(tmp_path / "index.sqlite3")
    Indexer(store, index).refresh()
    assert index.search(SearchQuery("token"))
    assert not index.search(SearchQuery(secret))
    assert secret.encode() not in (tmp_path / "index.sqlite3").read_bytes()


def summaries(index: SqliteIndex) -> list[dict[str, Any]]:
    return index.sessions(ListQuery(limit=1000)).summaries  # type: ignore[return-value]


def test_a_session_the_store_failed_to_give_is_read_at_the_next_refresh(tmp_path: Path) -> None:
    from uploader.stores.base import StorageUnavailable

    store = LocalStore(tmp_path / "store")
    upload(store, tmp_path, "steady", "steady words")
    upload(store, tmp_path, "flaky", "flaky words")
    counting = CountingStore(store)
    real_get = counting.get
    failures = [1]

    def get(key: str) -> bytes:
        if "flaky/segments/" in key and failures[0]:
            failures[0] -= 1
            raise StorageUnavailable("503 Slow Down")
        return real_get(key)

    counting.get = get  # type: ignore[method-assign]
    index = SqliteIndex(tmp_path / "index.sqlite3")
    first = Indexer(counting, index).refresh()
    assert set(first.failed) == {"flaky"} and first.retry
    assert not index.search(SearchQuery("flaky"))
    again = Indexer(counting, index).refresh()
    assert not again.failed and "flaky" in again.sessions
    assert [h.sid for h in index.search(SearchQuery("flaky"))] == ["flaky"]


# -- what a review found ---------------------------------------------------------------


def test_threads_that_come_and_go_share_a_few_connections(tmp_path: Path) -> None:
    import os
    import threading

    store = LocalStore(tmp_path / "store")
    upload(store, tmp_path, "one", "words")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    Indexer(store, index).refresh()
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(30):  # a refresh's pool, a catalog thread, a page's worker: each new
        thread = threading.Thread(target=lambda: Indexer(store, index).refresh())
        thread.start()
        thread.join()
    assert len(os.listdir("/proc/self/fd")) - fds <= 2 * 4  # at most the pool's four


def test_a_session_that_keeps_failing_does_not_make_every_refresh_full(tmp_path: Path) -> None:
    from uploader.stores.base import StorageUnavailable

    store = LocalStore(tmp_path / "store")
    for sid in ("fine", "broken"):
        upload(store, tmp_path, sid, f"{sid} words")
    counting = CountingStore(store)
    real_get = counting.get

    def get(key: str) -> bytes:
        if key.startswith("sessions/broken/"):
            raise StorageUnavailable("403 Forbidden")
        return real_get(key)

    counting.get = get  # type: ignore[method-assign]
    indexer = Indexer(counting, SqliteIndex(tmp_path / "index.sqlite3"))
    first, second = indexer.refresh(), indexer.refresh()
    assert first.full and not second.full and indexer.ready()
    assert set(second.failed) == {"broken"}  # asked again, not forgotten


def test_a_bad_labels_file_stops_no_indexing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    upload(store, tmp_path, "one", "zebra words")
    store.put("labels.json", json.dumps({"": "x", "../up": "y", "one": "mine"}).encode(), "a/b")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    done = Indexer(store, index).refresh()
    assert not done.failed and [h.title for h in index.search(SearchQuery("zebra"))] == ["mine"]
    store.put("labels.json", b"{not json", "application/json")
    assert not Indexer(store, index).refresh().failed  # the labels read last are kept


def test_words_of_any_script_are_found(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    upload(store, tmp_path, "intl", "한국어 검색 ﬁnance café Ωmega")
    index = SqliteIndex(tmp_path / "index.sqlite3")
    Indexer(store, index).refresh()
    for word in ("한국어", "검색", "cafe", "café", "ωmega"):
        assert [h.sid for h in index.search(SearchQuery(word))] == ["intl"], word


def test_a_search_that_runs_too_long_is_stopped(
    real_index: SqliteIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uploader.index.sqlite as backend

    monkeypatch.setattr(backend, "SEARCH_TIMEOUT_S", 0.0)
    with pytest.raises(QueryError) as caught:
        real_index.search(SearchQuery("the OR git OR file", limit=100))
    assert "took longer than" in caught.value.message


def test_a_store_that_refuses_the_change_feed_still_gets_the_sessions(tmp_path: Path) -> None:
    from uploader.stores.base import StorageAuthError

    class NoFeed(LocalStore):
        def put(
            self, key: str, data: bytes, content_type: str, *, create_only: bool = False
        ) -> None:
            if key.startswith("changes/"):
                raise StorageAuthError("403: not under changes/")
            super().put(key, data, content_type, create_only=create_only)

    store = NoFeed(tmp_path / "store")
    upload(store, tmp_path, "kept", "words")
    assert store.get("sessions/kept/manifest.json")
    assert not list((tmp_path / "store").glob("changes"))


def test_watch_and_host_run_without_search_when_the_index_cannot_be_opened(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from uploader.cli.watching import _indexer

    store = LocalStore(tmp_path / "store")
    assert _indexer({"index": "postgresql://127.0.0.1:1/none?connect_timeout=2"}, store) is None
    assert "running without search" in caplog.text and "--index" in caplog.text
