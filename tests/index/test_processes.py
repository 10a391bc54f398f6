"""The search index kept by real processes: a `watch` indexes what it uploads as it
uploads it, and an `index` killed with SIGKILL halfway goes on where it stopped, with no
hit missing and none twice."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import run_cli, start_cli, wait_until
from tests.support.real_sessions import real_sessions
from tests.support.session_factory import write_session
from uploader.index import default_index_path
from uploader.index.base import SearchQuery
from uploader.index.indexer import Indexer
from uploader.index.sqlite import SqliteIndex
from uploader.stores.local import LocalStore

pytestmark = pytest.mark.slow


def claude_line(text: str, n: int) -> str:
    return json.dumps({"type": "user", "message": {"role": "user", "content": text},
                       "uuid": f"u{n}", "timestamp": "2026-03-14T09:00:00Z"})  # fmt: skip


def test_watch_indexes_what_it_uploads(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    source.write_text(claude_line("the first words", 0) + "\n")
    store_url = f"file://{tmp_path / 'store'}"
    log = tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--file", str(source), "--sid", "live-one", "--store", store_url,
        "--spool-dir", str(tmp_path / "spool"), "--seg-ms", "200", "--ui-disable",
        log=log,
    )  # fmt: skip
    try:
        path = default_index_path(LocalStore(tmp_path / "store").description)
        wait_until(path.exists, timeout=30, what=f"the index at {path}")
        index = SqliteIndex(path)  # read as it is: nothing here refreshes it

        def found(word: str) -> bool:
            return bool(index.search(SearchQuery(word, sid="live-one")))

        wait_until(lambda: found("first"), timeout=30, what="the first line in the index")
        with source.open("a") as f:
            f.write(claude_line("a zebra crossing appears", 1) + "\n")
        wait_until(lambda: found("zebra"), timeout=30, what="the appended line in the index")
        [hit] = index.search(SearchQuery("zebra"))
        assert (hit.sid, hit.line, hit.role) == ("live-one", 1, "user")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()


def test_lines_are_searchable_before_their_segment_is_uploaded(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    source.write_text(claude_line("the opening words", 0) + "\n")
    store_url = f"file://{tmp_path / 'store'}"
    log = tmp_path / "watch.log"
    proc = start_cli(  # segments cut after 10 minutes: none is uploaded during the test
        "watch", "--file", str(source), "--sid", "slow-one", "--store", store_url,
        "--spool-dir", str(tmp_path / "spool"), "--ui-disable", log=log,
    )  # fmt: skip
    try:
        path = default_index_path(LocalStore(tmp_path / "store").description)
        wait_until(path.exists, timeout=30, what=f"the index at {path}")
        index = SqliteIndex(path)
        wait_until(lambda: bool(index.search(SearchQuery("opening"))), timeout=30,
                   what="the first line, live")  # fmt: skip
        with source.open("a") as f:
            f.write(claude_line("a giraffe walks in", 1) + "\n")
        wait_until(lambda: bool(index.search(SearchQuery("giraffe"))), timeout=30,
                   what="the appended line, live")  # fmt: skip
        assert not list((tmp_path / "store").rglob("*.jsonl.gz"))  # nothing uploaded yet
        hits = index.search(SearchQuery("opening OR giraffe"))
        assert sorted((h.sid, h.seq, h.line) for h in hits) == [("slow-one", 1, 0),
                                                                ("slow-one", 1, 1)]  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)  # closes and uploads the segment
        assert proc.wait(timeout=30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    index = SqliteIndex(path)
    Indexer(LocalStore(tmp_path / "store"), index).refresh()
    # Uploaded: the segment's own documents replaced the live ones, each line found once.
    hits = index.search(SearchQuery("opening OR giraffe"))
    assert sorted((h.sid, h.line) for h in hits) == [("slow-one", 0), ("slow-one", 1)]


def rows(path: Path) -> tuple[Counter[tuple[object, ...]], Counter[tuple[object, ...]]]:
    """Every document and usage record of an index file, as a multiset."""
    with sqlite3.connect(path) as db:
        docs = Counter(db.execute("SELECT sid, seq, line, role, text FROM docs").fetchall())
        usage = Counter(db.execute("SELECT sid, seq, line, input, output FROM usage").fetchall())
        fts = db.execute("SELECT count(*) FROM docs_fts WHERE docs_fts MATCH 'the'").fetchone()
        plain = db.execute("SELECT count(*) FROM docs WHERE text LIKE '%the%'").fetchone()
    assert fts[0] <= plain[0]  # the full-text table holds no row twice
    return docs, usage


def test_a_killed_indexer_goes_on_where_it_stopped(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    for copy in range(6):  # enough work that the kill comes halfway
        for s in real_sessions():
            write_session(store, f"{s.sid}-{copy}", s.lines(), agent=s.agent, seg_lines=40)
    killed = tmp_path / "killed.sqlite3"
    args = ("index", "--store", f"file://{store.root}", "--index", str(killed))
    proc = start_cli(*args, log=tmp_path / "index.log")

    def segments_in() -> int:
        if not killed.exists():
            return 0
        try:
            with sqlite3.connect(killed, timeout=1) as db:
                return int(db.execute("SELECT count(*) FROM segments").fetchone()[0])
        except sqlite3.OperationalError:
            return 0

    try:
        wait_until(lambda: segments_in() > 20, timeout=60, what="the indexer under way")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    halfway = segments_in()
    again = run_cli(*args, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    # It went on: what the killed run had committed was not indexed twice.
    assert report["segments_added"] + halfway == report["segments"]

    reference = SqliteIndex(tmp_path / "reference.sqlite3")
    Indexer(store, reference).refresh()
    reference.close()
    assert rows(killed) == rows(tmp_path / "reference.sqlite3")
    with sqlite3.connect(killed) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.execute("INSERT INTO docs_fts(docs_fts) VALUES ('integrity-check')")


def test_search_and_usage_from_the_command_line(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    for s in real_sessions():
        write_session(store, s.sid, s.lines(), agent=s.agent, path=str(s.path))
    env = {"AGENT_UPLOADER_STORE": f"file://{store.root}"}
    found = run_cli("search", "--json", '"keyset pagination"', env=env)
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert hits and {h["sid"][:8] for h in hits} == {"258c7280"}
    assert all("[keyset pagination]" in h["snippet"].lower() for h in hits)
    none = run_cli("search", "no-such-word-anywhere", env=env)
    assert none.returncode == 1 and "0 hit(s)" in none.stderr
    bad = run_cli("search", '"open', env=env)
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: a quote in '\"open' is not closed\nHint: ")
    table = run_cli("usage", "--by", "agent", "--since", "2000-01-01", env=env)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:2] == ["AGENT", "MESSAGES"]
    assert {line.split()[0] for line in table.stdout.splitlines()[1:]} >= {
        "claude", "codex", "pi", "openclaw", "total",
    }  # fmt: skip
    off = run_cli("search", "x", "--index", "off", env=env)
    assert off.returncode == 2 and "--index is off" in off.stderr
    started = time.monotonic()
    rebuilt = run_cli("index", "--rebuild", "--json", env=env)
    assert rebuilt.returncode == 0 and json.loads(rebuilt.stdout)["sessions"] == len(
        real_sessions()
    ), (rebuilt.stderr, time.monotonic() - started)
