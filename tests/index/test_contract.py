"""One contract for every search index (uploader.index.base): the same tests against the
SQLite file and a real PostgreSQL server (tests/support/postgres.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import (  # noqa: F401  (the fixtures postgres_server, postgres_url)
    PostgresServer,
    new_postgres_database,
    start_postgres_server,
)
from uploader.core.errors import IndexMismatch, IndexUnavailable
from uploader.index import postgres as pg
from uploader.index.base import (
    MARK_END,
    MARK_START,
    Doc,
    Hit,
    Index,
    ListQuery,
    SearchQuery,
    SegmentDocs,
    SessionFacts,
    UsageRecord,
)
from uploader.index.postgres import schema as pg_schema, words as pg_words
from uploader.index.query import QueryError
from uploader.messages import explain

DAY1 = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC
DAY2 = DAY1 + 86_400
THREADS = 8
JOIN_TIMEOUT = 60.0

Opener = Callable[[], Index]


@pytest.fixture(params=["sqlite", "postgres"])
def open_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the test's (new, empty) index; each call is another handle on the same one,
    as another process would have."""
    opened: list[Index] = []
    if request.param == "sqlite":
        try:
            from uploader.index.sqlite import SqliteIndex
        except ImportError:
            pytest.skip("uploader.index.sqlite is not there yet")
        path = tmp_path / "index.sqlite3"

        def make() -> Index:
            return SqliteIndex(path)
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()

        def make() -> Index:
            return pg.PostgresIndex(url)

    def opener() -> Index:
        index = make()
        opened.append(index)
        return index

    yield opener
    for index in opened:
        index.close()


@pytest.fixture
def index(open_index: Opener) -> Index:
    return open_index()


# -- what the tests index ---------------------------------------------------------------


def facts(sid: str, **kw: Any) -> SessionFacts:
    summary = {
        "sid": sid,
        "title": kw.get("title", sid),
        "agent": kw.get("agent", "claude"),
        "lines": kw.pop("lines", 0),
        "bytes": kw.pop("bytes", 0),
        "segments": kw.pop("segments", 0),
        "label": kw.pop("label", None),
        "updated": kw.get("updated"),
    }
    kw.setdefault("title", sid)
    kw.setdefault("agent", "claude")
    kw.setdefault("updated", None)
    kw.setdefault("created", None)
    kw.setdefault("closed", False)
    return SessionFacts(sid=sid, summary=summary, **kw)


S1, S2, S3 = "11111111-aaaa", "22222222-bbbb", "33333333-cccc"

SEGMENTS = [
    SegmentDocs(
        S1,
        1,
        0,
        [
            Doc(0, "user", "Which session fixed the pagination bug?", DAY1),
            Doc(1, "assistant", "I will retry with backoff when the server answers 503.", DAY1 + 1),
            Doc(2, "tool_call", "Bash run migration_0042 now", DAY1 + 2, "Bash", "src/orders.py"),
            Doc(3, "tool_output", "backoff, then retry later", DAY1 + 3, "Bash"),
        ],
        [
            UsageRecord(
                1,
                DAY1 + 1,
                "claude-x",
                {"input": 100, "output": 10, "cache_read": 5, "cache_write": 0, "cost_usd": 0.5},
            ),
        ],
    ),
    SegmentDocs(
        S1,
        2,
        0,
        [Doc(4, "assistant", "The redis cache is flaky; a Café au lait helps.", DAY2)],
        [UsageRecord(4, DAY2, "claude-x", {"input": 50, "output": 5, "cost_usd": 0.25})],
    ),
    SegmentDocs(
        S2,
        1,
        1,
        [
            Doc(0, "user", "memcached or what?", DAY1 + 200),
            Doc(1, "assistant", "Migrating the database first.", DAY1 + 201),
            Doc(2, "reasoning", "retry with care, and backoff", DAY1 + 202),
        ],
        [
            UsageRecord(1, DAY1 + 201, "gpt-y", {"input": 1000, "output": 100, "cost_usd": 0.5}),
            UsageRecord(2, None, None, {"input": 7, "output": 3, "reasoning": 2}),
        ],
    ),
]


SESSIONS = [
    facts(S1, title="Fix pagination", agent="claude", project="shop", cwd="/home/me/shop",
          updated=1000.0, created=100.0, lines=10, bytes=500, segments=2, label="pager"),
    facts(S2, title="Retry policy", agent="codex", project="Billing", cwd="/srv/Work/Billing",
          updated=2000.0, created=300.0, lines=30, bytes=100, segments=1),
    facts(S3, title="alpha", agent="claude", updated=None, created=200.0, lines=20, bytes=900,
          segments=3),
]  # fmt: skip


def fill(index: Index) -> None:
    for session in SESSIONS:
        index.put_session(session)
    for segment in SEGMENTS:
        assert index.add_segment(segment)


def found(index: Index, text: str, **filters: Any) -> list[tuple[str, int]]:
    """(sid, line) of each hit, best first."""
    return [(h.sid, h.line) for h in index.search(SearchQuery(text, **filters))]


# -- writing ----------------------------------------------------------------------------


def test_a_segment_is_added_once(index: Index) -> None:
    fill(index)
    before = index.stats()
    for segment in SEGMENTS:
        assert index.add_segment(segment) is False
    assert index.stats() == before
    assert before["docs"] == 8 and before["usage"] == 4 and before["segments"] == 3
    assert before["sessions"] == 3
    assert index.indexed(S1) == {1, 2} and index.indexed(S2) == {1} and index.indexed(S3) == set()
    assert sorted(found(index, "backoff")) == [(S1, 1), (S1, 3), (S2, 2)]


def test_the_same_segment_from_several_threads_is_written_once(open_index: Opener) -> None:
    handles = [open_index() for _ in range(2)]
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    lock = threading.Lock()

    def add(handle: Index) -> None:
        barrier.wait(timeout=JOIN_TIMEOUT)
        added = handle.add_segment(SEGMENTS[0])
        with lock:
            results.append(added)

    threads = [threading.Thread(target=add, args=(handles[i % 2],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert sorted(results) == [False] * (THREADS - 1) + [True]
    stats = handles[0].stats()
    assert (stats["segments"], stats["docs"], stats["usage"]) == (1, 4, 1)
    assert found(handles[1], "migration") == [(S1, 2)]


def test_put_session_replaces_the_facts(index: Index) -> None:
    index.put_session(facts(S1, title="first"))
    index.put_session(facts(S1, title="second", agent="codex"))
    assert index.sids() == {S1}
    page = index.sessions(ListQuery())
    assert page.total == 1 and page.summaries[0]["title"] == "second"


def test_remove_session_forgets_everything(index: Index) -> None:
    fill(index)
    index.remove_session(S1)
    assert index.sids() == {S2, S3}
    assert index.indexed(S1) == set()
    assert found(index, "backoff") == [(S2, 2)]
    assert found(index, "pagination") == []
    assert {t.key for t in index.usage(by="session")} == {S2}
    stats = index.stats()
    assert (stats["sessions"], stats["segments"], stats["docs"], stats["usage"]) == (2, 1, 3, 2)
    assert index.add_segment(SEGMENTS[0])  # and it can come back


def test_meta(index: Index) -> None:
    assert index.get_meta("cursor") is None
    index.set_meta("cursor", "12.5")
    index.set_meta("cursor", "13.5")
    assert index.get_meta("cursor") == "13.5"


def test_bind_refuses_another_store(open_index: Opener) -> None:
    index = open_index()
    index.bind("s3://bucket/team-a")
    index.bind("s3://bucket/team-a")
    fill(index)
    other = open_index()
    other.bind("s3://bucket/team-a")
    with pytest.raises(IndexMismatch) as caught:
        other.bind("file:///elsewhere")
    assert "s3://bucket/team-a" in caught.value.message
    assert "file:///elsewhere" in caught.value.message


def test_bind_takes_an_index_emptied_for_a_rebuild(index: Index) -> None:
    """IndexMismatch's advice, `index --rebuild`, removes every session, then binds."""
    index.bind("s3://bucket/team-a")
    fill(index)
    for sid in index.sids():
        index.remove_session(sid)
    index.bind("file:///elsewhere")
    index.put_session(facts(S1))
    index.bind("file:///elsewhere")
    with pytest.raises(IndexMismatch):
        index.bind("s3://bucket/team-a")


# -- live documents (a `watch`'s active segment) -------------------------------------------

LIVE_A = [
    Doc(5, "user", "zebra crossing ahead", DAY2),
    Doc(6, "assistant", "a quokka smiles", DAY2),
]
LIVE_B = [Doc(7, "user", "another zebra, and a yak", DAY2 + 1)]


def hits(index: Index, text: str) -> list[tuple[str, int, int, int]]:
    """(sid, generation, seq, line) of each hit, sorted."""
    return sorted(
        (h.sid, h.generation, h.seq, h.line) for h in index.search(SearchQuery(text, limit=100))
    )


def test_live_docs_are_found(index: Index) -> None:
    fill(index)
    index.add_live(S1, 0, 3, LIVE_A, replace=True)
    [hit] = index.search(SearchQuery("quokka"))
    assert hit == Hit(S1, 0, 3, 6, DAY2, "claude", "assistant", None, "Fix pagination",
                      hit.snippet)  # fmt: skip
    assert f"{MARK_START}quokka{MARK_END}" in hit.snippet
    assert found(index, "zebra", role="user", sid=S1) == [(S1, 5)]
    assert index.indexed(S1) == {1, 2}  # live documents are no segment


def test_add_live_replace_drops_the_earlier_ones(index: Index) -> None:
    index.add_live(S1, 0, 3, LIVE_A, replace=True)
    index.add_live(S2, 1, 1, [Doc(0, "user", "zebra of another session", DAY1)], replace=True)
    index.add_live(S1, 1, 1, LIVE_B, replace=True)  # a restart: a new generation
    assert hits(index, "zebra") == [(S1, 1, 1, 7), (S2, 1, 1, 0)]
    assert found(index, "quokka") == []


def test_live_appends_are_all_found_once(index: Index) -> None:
    index.add_live(S1, 0, 3, LIVE_A, replace=True)
    index.add_live(S1, 0, 3, LIVE_B, replace=False)
    index.add_live(S1, 0, 3, [], replace=False)
    index.add_live(S1, 0, 3, [Doc(8, "user", "zebra again", DAY2 + 2)], replace=False)
    assert hits(index, "zebra") == [(S1, 0, 3, 5), (S1, 0, 3, 7), (S1, 0, 3, 8)]
    assert found(index, "quokka") == [(S1, 6)]
    assert index.stats()["docs"] == 4


def test_the_segment_replaces_its_live_docs(index: Index) -> None:
    index.add_live(S1, 0, 3, LIVE_A, replace=True)
    index.add_live(S1, 0, 3, LIVE_B, replace=False)
    segment = SegmentDocs(S1, 3, 0, [*LIVE_A, *LIVE_B, Doc(9, "user", "zebra at last", DAY2 + 3)],
                          [])  # fmt: skip
    assert index.add_segment(segment)
    assert hits(index, "zebra") == [(S1, 0, 3, 5), (S1, 0, 3, 7), (S1, 0, 3, 9)]
    assert found(index, "quokka") == [(S1, 6)]
    assert index.indexed(S1) == {3}
    assert index.stats()["docs"] == 4
    index.add_live(S1, 0, 4, [Doc(10, "user", "a zebra later", DAY2 + 4)], replace=False)
    assert hits(index, "zebra")[-1] == (S1, 0, 4, 10)


def test_add_live_of_a_segment_already_added_writes_nothing(index: Index) -> None:
    segment = SegmentDocs(S1, 3, 0, LIVE_A, [])
    assert index.add_segment(segment)
    before = index.stats()
    index.add_live(S1, 0, 3, LIVE_A, replace=False)
    index.add_live(S1, 0, 3, LIVE_B, replace=True)
    assert index.stats() == before
    assert hits(index, "zebra") == [(S1, 0, 3, 5)]
    assert found(index, "yak") == []


def test_remove_session_removes_live_docs(index: Index) -> None:
    fill(index)
    index.add_live(S1, 0, 3, LIVE_A, replace=True)
    index.add_live(S2, 1, 2, LIVE_B, replace=True)
    index.remove_session(S1)
    assert hits(index, "zebra") == [(S2, 1, 2, 7)]
    assert found(index, "quokka") == []
    assert index.stats()["docs"] == 3 + 1


def test_live_docs_of_a_later_segment_survive_an_earlier_one(index: Index) -> None:
    index.add_live(S1, 0, 1, [Doc(0, "user", "zebra one", DAY1)], replace=True)
    index.add_live(S1, 0, 3, LIVE_A, replace=True)  # seq 1 was uploaded meanwhile
    index.add_live(S1, 0, 3, LIVE_B, replace=False)
    assert index.add_segment(SegmentDocs(S1, 2, 0, [Doc(4, "user", "a zebra two", DAY1)], []))
    assert hits(index, "zebra") == [(S1, 0, 2, 4), (S1, 0, 3, 5), (S1, 0, 3, 7)]
    assert found(index, "quokka") == [(S1, 6)]
    assert not index.add_segment(SegmentDocs(S1, 2, 0, [], []))  # added once: nothing dropped
    assert hits(index, "zebra") == [(S1, 0, 2, 4), (S1, 0, 3, 5), (S1, 0, 3, 7)]


def test_live_docs_of_earlier_seqs_go_with_a_later_segment(index: Index) -> None:
    index.add_live(S1, 0, 2, LIVE_A, replace=True)
    assert index.add_segment(SegmentDocs(S1, 3, 0, LIVE_B, []))
    assert found(index, "quokka") == []
    assert hits(index, "zebra") == [(S1, 0, 3, 7)]


def test_add_live_replace_keeps_the_live_docs_of_earlier_segments(index: Index) -> None:
    """Seq 1's upload is slow (an outage): its lines stay searchable while seq 2 is
    written, until the segment of seq 1 replaces them."""
    index.add_live(S1, 0, 1, [Doc(0, "user", "zebra one", DAY1)], replace=True)
    index.add_live(S1, 0, 2, LIVE_A, replace=True)  # a new active segment
    assert hits(index, "zebra") == [(S1, 0, 1, 0), (S1, 0, 2, 5)]
    assert found(index, "quokka") == [(S1, 6)]
    uploaded = [Doc(0, "user", "zebra one", DAY1), Doc(1, "user", "one more", DAY1)]
    assert index.add_segment(SegmentDocs(S1, 1, 0, uploaded, []))
    assert hits(index, "one") == [(S1, 0, 1, 0), (S1, 0, 1, 1)]  # the segment's, once
    assert hits(index, "zebra") == [(S1, 0, 1, 0), (S1, 0, 2, 5)]
    assert found(index, "quokka") == [(S1, 6)]
    assert index.stats()["docs"] == 2 + 2


def test_add_live_replace_of_the_same_seq_drops_its_earlier_docs(index: Index) -> None:
    index.add_live(S1, 0, 1, [Doc(0, "user", "zebra one", DAY1)], replace=True)
    index.add_live(S1, 0, 2, LIVE_A, replace=True)
    index.add_live(S1, 0, 2, LIVE_B, replace=True)  # a restart: seq 2 read again
    assert hits(index, "zebra") == [(S1, 0, 1, 0), (S1, 0, 2, 7)]
    assert found(index, "quokka") == []
    assert index.stats()["docs"] == 2


def test_live_docs_appended_from_several_threads(open_index: Opener) -> None:
    handles = [open_index() for _ in range(2)]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def append(i: int) -> None:
        barrier.wait(timeout=JOIN_TIMEOUT)
        try:
            docs = [Doc(10 * i + k, "user", f"zebra {i} {k}", DAY1) for k in range(3)]
            handles[i % 2].add_live(S1, 0, 3, docs, replace=False)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads) and not errors
    lines = [line for _, _, _, line in hits(handles[0], "zebra")]
    assert lines == sorted(10 * i + k for i in range(THREADS) for k in range(3))
    assert handles[1].add_segment(SegmentDocs(S1, 3, 0, [Doc(0, "user", "zebra", DAY1)], []))
    assert hits(handles[0], "zebra") == [(S1, 0, 3, 0)]


# -- searching ---------------------------------------------------------------------------


def test_hits_say_where_they_are(index: Index) -> None:
    fill(index)
    [hit] = index.search(SearchQuery("migration"))
    assert hit == Hit(
        S1, 0, 1, 2, DAY1 + 2, "claude", "tool_call", "Bash", "Fix pagination", hit.snippet
    )
    [hit] = index.search(SearchQuery("memcached"))
    assert (hit.sid, hit.generation, hit.seq, hit.line, hit.agent, hit.title) == (
        S2,
        1,
        1,
        0,
        "codex",
        "Retry policy",
    )


def test_a_session_without_facts_is_found_all_the_same(index: Index) -> None:
    assert index.add_segment(SEGMENTS[2])
    [hit] = index.search(SearchQuery("memcached"))
    assert (hit.sid, hit.agent, hit.title) == (S2, "unknown", S2)


def test_words_are_found_regardless_of_case_and_accents(index: Index) -> None:
    fill(index)
    assert found(index, "PAGINATION") == [(S1, 0)]
    assert found(index, "cafe") == [(S1, 4)]
    assert found(index, "CAFÉ") == [(S1, 4)]
    assert found(index, "503") == [(S1, 1)]


def test_all_words_anywhere_in_the_line(index: Index) -> None:
    fill(index)
    assert found(index, "server retry") == [(S1, 1)]
    assert found(index, "server memcached") == []


def test_a_phrase_finds_the_words_together_only(index: Index) -> None:
    fill(index)
    # S1 line 3 and S2 line 2 have the words, apart or in another order.
    assert found(index, '"retry with backoff"') == [(S1, 1)]
    assert found(index, '"backoff retry"') == []
    assert sorted(found(index, "retry with backoff")) == [(S1, 1), (S2, 2)]  # all three
    assert found(index, "orders.py") == [(S1, 2)]  # punctuation inside: the phrase of its words
    assert found(index, "migration_0042") == [(S1, 2)]


def test_a_phrase_does_not_span_the_text_and_the_paths(index: Index) -> None:
    fill(index)
    assert found(index, "now src") == [(S1, 2)]  # "now" ends the text, "src" starts the paths
    assert found(index, '"now src"') == []
    assert found(index, '"src orders py"') == [(S1, 2)]


def test_prefix(index: Index) -> None:
    fill(index)
    assert sorted(found(index, "migrat*")) == [(S1, 2), (S2, 1)]
    assert found(index, "redis.ca*") == [(S1, 4)]  # a phrase whose last word is a prefix
    assert found(index, "flaky.ca*") == []
    assert found(index, "zzz*") == []


def test_or(index: Index) -> None:
    fill(index)
    assert sorted(found(index, "redis OR memcached")) == [(S1, 4), (S2, 0)]
    assert found(index, "redis OR memcached flaky") == [(S1, 4)]
    assert sorted(found(index, "pagination OR nothing OR 503")) == [(S1, 0), (S1, 1)]


def test_exclusion(index: Index) -> None:
    fill(index)
    assert sorted(found(index, "backoff -care")) == [(S1, 1), (S1, 3)]
    assert found(index, "backoff -care -503") == [(S1, 3)]


def test_exclusion_of_a_phrase(index: Index) -> None:
    fill(index)
    # S1 line 1 has "retry with backoff", S2 line 2 "retry with care": both "retry with".
    assert found(index, 'backoff -"retry with"') == [(S1, 3)]


def test_a_malformed_query_is_refused(index: Index) -> None:
    for text in ('"open', "OR redis", "-only", "  ", "..."):
        with pytest.raises(QueryError):
            index.search(SearchQuery(text))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [(S1, 1), (S1, 3), (S2, 2)]),
        ({"agent": "codex"}, [(S2, 2)]),
        ({"agent": "claude"}, [(S1, 1), (S1, 3)]),
        ({"agent": "pi"}, []),
        ({"since": DAY1 + 2}, [(S1, 3), (S2, 2)]),
        ({"role": "tool_output"}, [(S1, 3)]),
        ({"role": "reasoning"}, [(S2, 2)]),
        ({"tool": "bash"}, [(S1, 3)]),
        ({"tool": "BASH", "role": "assistant"}, []),
        ({"project": "shop"}, [(S1, 1), (S1, 3)]),
        ({"project": "billing"}, [(S2, 2)]),  # the project's name, in any case
        ({"project": "srv/work"}, [(S2, 2)]),  # a part of its cwd
        ({"project": "nowhere"}, []),
        ({"sid": S2}, [(S2, 2)]),
        ({"sid": S1, "role": "assistant"}, [(S1, 1)]),
    ],
)
def test_filters(index: Index, filters: dict[str, Any], expected: list[tuple[str, int]]) -> None:
    fill(index)
    assert sorted(found(index, "backoff", **filters)) == expected


def test_limit_and_offset(index: Index) -> None:
    fill(index)
    everything = found(index, "backoff")
    assert len(everything) == 3
    assert found(index, "backoff", limit=2) == everything[:2]
    assert found(index, "backoff", limit=2, offset=2) == everything[2:]
    assert found(index, "backoff", offset=5) == []


def test_best_first_then_newest(index: Index) -> None:
    index.add_segment(
        SegmentDocs(
            S1,
            1,
            0,
            [
                Doc(0, "user", "deploy", DAY1),
                Doc(1, "user", "deploy", DAY1 + 50),
                Doc(2, "user", "deploy", None),
                Doc(3, "user", "deploy", DAY1 + 10),
            ],
            [],
        )
    )
    assert found(index, "deploy") == [(S1, 1), (S1, 3), (S1, 0), (S1, 2)]
    index.add_segment(
        SegmentDocs(
            S2,
            1,
            0,
            [
                Doc(0, "user", "deploy deploy deploy", DAY1 - 100),
            ],
            [],
        )
    )
    assert found(index, "deploy")[0] == (S2, 0)


def test_the_snippet_marks_the_match(index: Index) -> None:
    fill(index)
    [hit] = index.search(SearchQuery("pagination"))
    assert f"{MARK_START}pagination{MARK_END}" in hit.snippet
    [hit] = index.search(SearchQuery('"retry with backoff"'))
    assert f"{MARK_START}retry with backoff{MARK_END}" in hit.snippet
    assert hit.to_json()["snippet"].count("[retry with backoff]") == 1
    [hit] = index.search(SearchQuery("cafe"))
    assert f"{MARK_START}Café{MARK_END}" in hit.snippet


def test_long_and_foreign_text(index: Index) -> None:
    text = "nul\x00byte, 日本語のテキスト x" + " word" * 5000
    assert index.add_segment(SegmentDocs(S1, 1, 0, [Doc(0, "tool_output", text, DAY1)], []))
    assert found(index, "nul") == [(S1, 0)]
    assert found(index, "byte") == [(S1, 0)]
    assert found(index, "日本語のテキスト") == [(S1, 0)]
    assert found(index, '"word x"') == []
    assert found(index, '"x word"') == [(S1, 0)]


def test_a_lone_surrogate(index: Index) -> None:
    """JSON may escape half of an emoji ("\\ud83d": a string cut by a JavaScript agent)."""
    text = "a lone \ud83d surrogate"
    assert index.add_segment(SegmentDocs(S1, 1, 0, [Doc(0, "tool_output", text, DAY1)], []))
    assert found(index, "lone surrogate") == [(S1, 0)]
    index.put_session(facts(S1, title=text))
    assert index.sessions(ListQuery()).summaries[0]["title"] == text


# -- usage ----------------------------------------------------------------------------------

NO_CACHE = {"cache_read": 0.0, "cache_write": 0.0}
# What the usage records of fill() add up to: S1's (claude-x), S2's, and those of a day.
IN_S1 = 2, {"input": 150.0, "output": 15.0, "cache_read": 5.0, "cache_write": 0.0,
            "cost_usd": 0.75}  # fmt: skip
IN_S2 = 2, {"input": 1007.0, "output": 103.0, **NO_CACHE, "reasoning": 2.0, "cost_usd": 0.5}
NO_TIME = 1, {"input": 7.0, "output": 3.0, **NO_CACHE, "reasoning": 2.0}
ON_DAY1 = 2, {"input": 1100.0, "output": 110.0, "cache_read": 5.0, "cache_write": 0.0,
              "cost_usd": 1.0}  # fmt: skip
ON_DAY2 = 1, {"input": 50.0, "output": 5.0, **NO_CACHE, "cost_usd": 0.25}
OF_GPT = 1, {"input": 1000.0, "output": 100.0, **NO_CACHE, "cost_usd": 0.5}


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("day", [("2026-05-28", *ON_DAY1), ("2026-05-29", *ON_DAY2), ("unknown", *NO_TIME)]),
        ("model", [("claude-x", *IN_S1), ("gpt-y", *OF_GPT), ("unknown", *NO_TIME)]),
        ("agent", [("claude", *IN_S1), ("codex", *IN_S2)]),
        ("project", [("shop", *IN_S1), ("Billing", *IN_S2)]),
        ("session", [(S1, *IN_S1), (S2, *IN_S2)]),
    ],
)
def test_usage_by_each_group(
    index: Index, by: str, expected: list[tuple[str, int, dict[str, float]]]
) -> None:
    fill(index)
    totals = index.usage(by=by)
    assert [(t.key, t.messages, t.figures) for t in totals] == expected
    titles = {S1: "Fix pagination", S2: "Retry policy"}
    assert [t.title for t in totals] == [titles.get(t.key) if by == "session" else None
                                         for t in totals]  # fmt: skip


def test_usage_since_and_agent(index: Index) -> None:
    fill(index)
    assert [(t.key, t.messages) for t in index.usage(by="model", since=DAY1 + 100)] == [
        ("gpt-y", 1),
        ("claude-x", 1),
    ]
    assert [(t.key, t.messages) for t in index.usage(by="day", agent="codex")] == [
        ("2026-05-28", 1),
        ("unknown", 1),
    ]
    [total] = index.usage(by="session", since=DAY2)
    assert (total.key, total.tokens) == (S1, 55)


def test_usage_of_a_session_without_facts(index: Index) -> None:
    index.add_segment(SEGMENTS[2])
    assert [(t.key, t.messages) for t in index.usage(by="agent")] == [("unknown", 2)]
    assert [(t.key, t.messages) for t in index.usage(by="project")] == [("unknown", 2)]
    assert [(t.key, t.title) for t in index.usage(by="session")] == [(S2, None)]


def test_usage_ties_on_cost_go_by_tokens(index: Index) -> None:
    """`tokens` as UsageTotal counts them: cache reads and writes too."""
    index.add_segment(
        SegmentDocs(
            S1,
            1,
            0,
            [],
            [
                UsageRecord(
                    0, DAY1, "small-but-cached", {"input": 10, "cache_read": 1000, "cost_usd": 1.0}
                ),
                UsageRecord(1, DAY1, "big", {"input": 100, "cost_usd": 1.0}),
                UsageRecord(2, DAY1, "dear", {"input": 1, "cost_usd": 2.0}),
            ],
        )
    )
    assert [t.key for t in index.usage(by="model")] == ["dear", "small-but-cached", "big"]


def test_usage_counts_the_newest_generation_only(index: Index) -> None:
    """A file truncated or replaced gives its lines again in a new generation: their
    messages count once, as the session list's Manifest.usage() counts them."""
    index.put_session(facts(S1, project="shop"))
    index.put_session(facts(S2, agent="codex", project="Billing"))

    def used(line: int, ts: float, model: str, tokens: float) -> UsageRecord:
        return UsageRecord(line, ts, model, {"input": tokens, "output": 1, "cost_usd": 0.5})

    first = [used(0, DAY1, "old-model", 100), used(1, DAY1, "old-model", 200)]
    assert index.add_segment(SegmentDocs(S1, 1, 1, [], first))
    assert index.add_segment(SegmentDocs(S2, 1, 0, [], [used(0, DAY1, "gpt-y", 7)]))
    again = [used(0, DAY2, "new-model", 10), used(1, DAY2, "new-model", 20)]
    assert index.add_segment(SegmentDocs(S1, 2, 2, [], again))  # truncated: read again

    def totals(by: str) -> list[tuple[str, int, float]]:
        return [(t.key, t.messages, t.tokens) for t in index.usage(by=by)]

    newest = {
        "session": [(S1, 2, 32.0), (S2, 1, 8.0)],
        "day": [("2026-05-28", 1, 8.0), ("2026-05-29", 2, 32.0)],
        "model": [("new-model", 2, 32.0), ("gpt-y", 1, 8.0)],
        "agent": [("claude", 2, 32.0), ("codex", 1, 8.0)],
        "project": [("shop", 2, 32.0), ("Billing", 1, 8.0)],
    }
    assert {by: totals(by) for by in newest} == newest
    assert index.stats()["usage"] == 3
    # A segment of an older generation after a newer one (out of order): no usage.
    late = SegmentDocs(S1, 3, 1, [Doc(0, "user", "late", DAY1)], [used(2, DAY1, "old-model", 5)])
    assert index.add_segment(late)
    assert found(index, "late") == [(S1, 0)]  # its documents all the same
    assert index.indexed(S1) == {1, 2, 3}
    assert {by: totals(by) for by in newest} == newest
    assert not index.add_segment(SegmentDocs(S1, 1, 1, [], first))  # there already
    assert {by: totals(by) for by in newest} == newest
    assert index.stats()["usage"] == 3


# -- the session list -------------------------------------------------------------------------


def listed(index: Index, **kw: Any) -> tuple[list[str], int]:
    page = index.sessions(ListQuery(**kw))
    return [s["sid"] for s in page.summaries], page.total


def test_sessions_sorted(index: Index) -> None:
    fill(index)
    s4 = "04444444-dddd"  # updated when S1 was: the tie goes by sid
    index.put_session(
        facts(s4, title="Beta", agent="pi", updated=1000.0, lines=10, bytes=500, segments=2)
    )
    assert listed(index) == ([S2, s4, S1, S3], 4)
    assert listed(index, descending=False) == ([S3, s4, S1, S2], 4)
    assert listed(index, sort="title", descending=False)[0] == [S3, s4, S1, S2]
    assert listed(index, sort="title")[0] == [S2, S1, s4, S3]
    assert listed(index, sort="created", descending=False)[0] == [s4, S1, S3, S2]
    assert listed(index, sort="lines")[0] == [S2, S3, s4, S1]
    assert listed(index, sort="bytes")[0] == [S3, s4, S1, S2]
    assert listed(index, sort="segments", descending=False)[0] == [S2, s4, S1, S3]
    assert listed(index, sort="agent", descending=False)[0] == [S1, S3, S2, s4]


def test_sessions_filtered_and_paged(index: Index) -> None:
    fill(index)
    assert listed(index, text="PAGINATION") == ([S1], 1)
    assert listed(index, text="pager") == ([S1], 1)  # the label
    assert listed(index, text="2222") == ([S2], 1)  # the id
    assert listed(index, text="%") == ([], 0)
    assert listed(index, agent="claude") == ([S1, S3], 2)
    assert listed(index, updated_since=1500.0) == ([S2], 1)
    assert listed(index, limit=2) == ([S2, S1], 3)
    assert listed(index, limit=2, offset=2) == ([S3], 3)
    assert listed(index, limit=2, offset=4) == ([], 3)
    assert listed(index, agent="claude", limit=1, offset=1) == ([S3], 2)


def test_sessions_give_the_summary_back(index: Index) -> None:
    summary = {"sid": S1, "title": "Fix", "agent": "claude", "lines": 3, "bytes": 10,
               "segments": 1, "usage": {"input": 5.0}, "redactions": {"b": 1, "a": 2},
               "created": 1.5, "label": None, "live": False, "title\u00e9": "é"}  # fmt: skip
    index.put_session(SessionFacts(S1, "claude", "Fix", None, 1.5, False, summary))
    [back] = index.sessions(ListQuery()).summaries
    assert back == summary
    assert list(back["redactions"]) == ["b", "a"]


def test_stats(index: Index) -> None:
    fill(index)
    stats = index.stats()
    assert {k: stats[k] for k in ("sessions", "segments", "docs", "usage")} == {
        "sessions": 3, "segments": 3, "docs": 8, "usage": 4}  # fmt: skip
    assert stats["bytes"] > 0


# -- PostgreSQL only ----------------------------------------------------------------------------


def test_postgres_description_has_no_password(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database().replace("postgres@", "postgres:s3cr3t-pw@")
    index = pg.PostgresIndex(url)  # trust authentication: the password is not asked for
    try:
        assert "s3cr3t" not in index.description
        assert index.description.startswith("postgresql://…@127.0.0.1:")
    finally:
        index.close()


def test_postgres_that_does_not_answer(postgres_server: PostgresServer) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        url = f"postgresql://me:s3cr3t-pw@127.0.0.1:{port}/db?connect_timeout=5"
        with pytest.raises(IndexUnavailable) as caught:
            pg.PostgresIndex(url)
    error = caught.value
    assert "s3cr3t" not in error.message and "s3cr3t" not in str(error.hint)
    assert error.hint is not None and "the index's URL" in error.hint
    assert "--index" in str(explain(error).hint)  # as the command line says it
    assert f"127.0.0.1:{port}" in error.message
    assert "refused" in error.message.lower() or "failed" in error.message.lower()


def test_postgres_refused_password(postgres_server: PostgresServer) -> None:
    import psycopg

    admin = postgres_server.admin_url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS nologin_user")
        conn.execute("CREATE ROLE nologin_user NOLOGIN")
    url = postgres_server.url("postgres").replace("postgres@", "nologin_user:s3cr3t-pw@")
    with pytest.raises(IndexUnavailable) as caught:
        pg.PostgresIndex(url)
    assert "s3cr3t" not in caught.value.message
    assert "nologin_user" in caught.value.message


def test_postgres_without_its_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "HAVE_PSYCOPG", False)
    with pytest.raises(IndexUnavailable) as caught:
        pg.PostgresIndex("postgresql://u:s3cr3t@db.example.invalid/postgres")
    assert caught.value.hint == "pip install 'agent-uploader[postgres]'"
    assert "s3cr3t" not in caught.value.message


def test_postgres_schema_made_once_by_processes_opening_at_once(postgres_url: str) -> None:
    barrier = threading.Barrier(THREADS)
    opened: list[pg.PostgresIndex] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def open_one() -> None:
        barrier.wait(timeout=JOIN_TIMEOUT)
        try:
            index = pg.PostgresIndex(postgres_url)
        except BaseException as e:
            with lock:
                errors.append(e)
            return
        with lock:
            opened.append(index)

    threads = [threading.Thread(target=open_one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    try:
        assert not errors and len(opened) == THREADS
        assert opened[0].get_meta("schema_version") == str(pg_schema.SCHEMA_VERSION)
    finally:
        for index in opened:
            index.close()


def test_postgres_newer_schema_is_refused(postgres_url: str) -> None:
    index = pg.PostgresIndex(postgres_url)
    index.set_meta("schema_version", str(pg_schema.SCHEMA_VERSION + 1))
    index.close()
    with pytest.raises(IndexUnavailable, match="newer"):
        pg.PostgresIndex(postgres_url)


def test_postgres_survives_a_dropped_connection(postgres_server: PostgresServer) -> None:
    import psycopg

    url = postgres_server.create_database()
    index = pg.PostgresIndex(url)
    try:
        index.set_meta("k", "v")
        with psycopg.connect(postgres_server.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'agent-uploader' AND datname = %s",
                (url.rsplit("/", 1)[1],),
            )
        assert index.get_meta("k") == "v"
    finally:
        index.close()


def test_postgres_closed_index(postgres_url: str) -> None:
    index = pg.PostgresIndex(postgres_url)
    index.close()
    with pytest.raises(IndexUnavailable, match="closed"):
        index.get_meta("k")


def test_postgres_search_is_stopped_when_too_slow(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search waits on a table another transaction holds locked (as long as a slow scan
    would run): statement_timeout stops it, in the search's transaction only."""
    import psycopg

    url = postgres_server.create_database()
    with psycopg.connect(postgres_server.admin_url, autocommit=True) as admin:
        # Should the search have no limit, it fails (lock_timeout) instead of hanging.
        admin.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET lock_timeout = '10s'")
    index = pg.PostgresIndex(url)
    try:
        fill(index)
        monkeypatch.setattr(pg, "SEARCH_TIMEOUT_S", 0.2)
        with psycopg.connect(url) as locker:  # a transaction: the lock is kept until the end
            locker.execute(f"LOCK TABLE {pg_schema.SCHEMA}.docs IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(QueryError, match="took longer than"):
                index.search(SearchQuery("backoff"))
            locker.rollback()
        assert len(found(index, "backoff")) == 3
        # SET LOCAL: the pooled connections keep the server's own (none).
        shown = index._run(lambda conn: conn.execute("SHOW statement_timeout").fetchone())
        assert shown == ("0",)
        assert index.stats()["docs"] == 8  # and other calls have no limit
    finally:
        index.close()


def test_postgres_tsvector_limits() -> None:
    assert pg_words.tsvector("a b a", "x", "") == "'a':1,3 'b':2 'x':5"
    long_word = "w" * (pg_words.MAX_WORD_BYTES + 1)
    assert pg_words.tsvector(f"{long_word} b") == "'b':2"
    many = pg_words.tsvector("z " * 1000)
    assert many.count(",") == pg_words.MAX_PLACES - 1
    far = pg_words.tsvector("q " * 20_000 + "end")
    assert far.endswith(f"'end':{pg_words.MAX_PLACE}")
