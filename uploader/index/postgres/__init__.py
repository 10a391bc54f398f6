"""The search index in PostgreSQL (any server, a Supabase project's own database too),
through psycopg 3: for a team whose `watch` and `host` processes, on many machines, share
one index.

Everything lives in its own schema, `agent_uploader` (made on first use; `DROP SCHEMA
agent_uploader CASCADE` forgets it all), so that it never meets an application's tables,
and so that Supabase's REST API, which serves the `public` schema, does not serve it:

    meta(key, value)                         the schema's version, the store it is of,
                                             and what the indexer keeps between runs
    sessions(sid, agent, title, ..., summary) one row per session: SessionFacts, and
                                             the columns the list filters and sorts by
    segments(sid, seq, generation)           the mark of each segment indexed
    docs(sid, seq, n, generation, line, role, ts, tool, paths, text, tsv, live)
                                             one row per Doc (n: its place in the
                                             segment); tsv has a GIN index; live: a
                                             line of a segment not added yet
    usage(sid, seq, n, generation, line, ts, model, input, output, ...)
                                             one row per UsageRecord, of the session's
                                             newest generation only

A segment is written in one transaction that starts by inserting its mark with ON
CONFLICT DO NOTHING: of two writers adding the same segment at once, the second waits
for the first to commit, finds the mark and writes nothing.

**Live documents** (`add_live`) are the lines of a segment not uploaded yet, keyed by
the seq they will have, numbered on from the highest n of that (sid, seq). Adding the
segment deletes them (those of that seq and before) before it writes its own, numbered
from 0, in its transaction; `replace` deletes those of that seq and after only (a restart,
a new active segment): an earlier segment's may still wait for their upload, and stay
searchable until it is added. The writers of a session's documents (add_segment, add_live,
remove_session) take a lock of the session (an advisory lock) first, so that live
documents are never numbered twice, nor written next to their segment's own.

**Usage** is of the session's newest generation only, as the session list counts it
(Manifest.usage()): a file truncated or replaced gives its lines again in a new
generation, and a message must not count twice. A segment of a newer generation than the
session's usage rows deletes those first; one of an older generation adds none.

**A search** runs with a `statement_timeout` of SEARCH_TIMEOUT_S (SET LOCAL: its
transaction only): a query that scans every document stops with QueryError (too_slow).

**Words.** PostgreSQL is not asked to find the words of a text: its parser splits text
its own way (on `½`, after the database's locale). The words are uploader.index.query's
`words`, the ones SQLite's unicode61 finds, and the tsvector is written out from them
(`'word':1,7 'other':2`), so that both backends find the same lines. The words of the
text, the paths and the tool name are numbered with a gap between the three, so that no
phrase spans two of them. PostgreSQL's own limits hold: a word of more than 2047 bytes is
not indexed, only a word's first 256 places count for phrases, places past 16383 count
as 16383, and a document's tsvector stops growing at about 1 MB of words.

This module is the Index: connections, transactions and their failures. Its parts:
schema.py (the tables and making them), words.py (the tsvector written out),
writes.py and reads.py (the work of each call, as one transaction).

May import: core, stores.base, index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from uploader.core.errors import IndexMismatch, IndexUnavailable
from uploader.index.base import (
    SEARCH_TIMEOUT_S,
    Doc,
    Hit,
    ListQuery,
    SearchQuery,
    SegmentDocs,
    SessionFacts,
    SessionPage,
    UsageTotal,
)
from uploader.index.postgres import reads, writes
from uploader.index.postgres.schema import create_schema
from uploader.stores.base import redact_url, scrub

try:
    import psycopg
    from psycopg import errors as pg_errors

    HAVE_PSYCOPG = True
except ImportError:  # the postgres extra is not installed
    HAVE_PSYCOPG = False

if TYPE_CHECKING:
    Connection = psycopg.Connection[tuple[Any, ...]]

T = TypeVar("T")

POOL_SIZE = 4  # connections at most, per PostgresIndex
POOL_WAIT = 120.0  # seconds a call waits for one of them
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise


class PostgresIndex:
    """The Index protocol (uploader.index.base) over a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.description = redact_url(url)
        if not HAVE_PSYCOPG:
            raise IndexUnavailable(
                self.description,
                "the PostgreSQL driver (psycopg 3) is not installed",
                "pip install 'agent-uploader[postgres]'",
            )
        self._url = url
        self._password = _password(url)
        self._pool = _Pool(self._connect, POOL_SIZE)
        try:
            self._run(self._create_schema)
        except BaseException:
            self._pool.close()
            raise

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> Connection:
        params: dict[str, Any] = {"application_name": "agent-uploader"}
        try:
            if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(self._url):
                params["connect_timeout"] = CONNECT_TIMEOUT
            # No prepared statements: a transaction pooler (Supabase's, pgbouncer's) hands
            # each transaction to any of its connections.
            return psycopg.connect(self._url, autocommit=True, prepare_threshold=None, **params)
        except psycopg.Error as e:
            raise self._unavailable(e) from None

    def _unavailable(self, error: BaseException) -> IndexUnavailable:
        reason = " ".join(str(error).split()) or type(error).__name__
        for secret in {self._password, unquote(self._password)} - {""}:
            reason = reason.replace(secret, "…")
        return IndexUnavailable(
            self.description,
            scrub(reason),
            "check the index's URL: the server's address, the database, the user and its password",
        )

    def _run(self, work: Callable[[Connection], T]) -> T:
        """`work` in one transaction; once more on a new connection when the one it had
        was dropped (a server restart, an idle timeout) or the server gave up on the
        transaction (a deadlock). A failure of the database is IndexUnavailable."""
        for attempt in range(2):
            try:
                with self._pool.connection() as conn:
                    try:
                        with conn.transaction():
                            return work(conn)
                    except psycopg.OperationalError as e:
                        rolled_back = isinstance(e, pg_errors.TransactionRollback)
                        if attempt == 0 and (conn.broken or rolled_back):
                            continue
                        raise
            except psycopg.Error as e:
                raise self._unavailable(e) from None
        raise AssertionError("unreachable")

    def _create_schema(self, conn: Connection) -> None:
        create_schema(conn, self.description)

    # -- the store, the indexer's notes ------------------------------------------------------

    def bind(self, store: str) -> None:
        holds = self._run(writes.bind(store))
        if holds != store:
            raise IndexMismatch(self.description, holds, store)

    def get_meta(self, key: str) -> str | None:
        return self._run(reads.get_meta(key))

    def set_meta(self, key: str, value: str) -> None:
        self._run(writes.set_meta(key, value))

    # -- writing ---------------------------------------------------------------------------

    def indexed(self, sid: str) -> set[int]:
        return self._run(reads.indexed(sid))

    def add_segment(self, segment: SegmentDocs) -> bool:
        return self._run(writes.add_segment(segment))

    def add_live(
        self, sid: str, generation: int, seq: int, docs: Sequence[Doc], *, replace: bool
    ) -> None:
        self._run(writes.add_live(sid, generation, seq, docs, replace=replace))

    def put_session(self, facts: SessionFacts) -> None:
        self._run(writes.put_session(facts))

    def remove_session(self, sid: str) -> None:
        self._run(writes.remove_session(sid))

    # -- reading ---------------------------------------------------------------------------

    def sids(self) -> set[str]:
        return self._run(reads.sids)

    def search(self, query: SearchQuery) -> list[Hit]:
        # Read at each call (the tests lower it); 0 would be no limit at all.
        timeout_ms = max(1, round(SEARCH_TIMEOUT_S * 1000))
        return self._run(reads.search(query, timeout_ms))

    def usage(
        self, *, by: str, since: float | None = None, agent: str | None = None
    ) -> list[UsageTotal]:
        return self._run(reads.usage(by=by, since=since, agent=agent))

    def sessions(self, query: ListQuery) -> SessionPage:
        return self._run(reads.sessions(query))

    def stats(self) -> dict[str, int]:
        return self._run(reads.stats)

    def close(self) -> None:
        self._pool.close()


# -- helpers -------------------------------------------------------------------------------


def _password(url: str) -> str:
    """The password in the URL (in its user part or its query), never to be shown."""
    try:
        found = psycopg.conninfo.conninfo_to_dict(url).get("password")
    except psycopg.Error:
        found = None
    try:
        return str(found or urlsplit(url).password or "")
    except ValueError:
        return str(found or "")


class _Pool:
    """At most `size` connections, shared by the threads that use the index; one that is
    broken, or left in a transaction, is closed instead of being handed out again."""

    def __init__(self, connect: Callable[[], Connection], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[Connection] = []
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        conn = self._take()
        try:
            yield conn
        finally:
            self._give(conn)

    def _take(self) -> Connection:
        deadline = time.monotonic() + POOL_WAIT
        with self._cond:
            while True:
                if self._closed:
                    raise psycopg.InterfaceError("the index is closed")
                if self._idle:
                    return self._idle.pop()
                if self._open < self._size:
                    self._open += 1
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise psycopg.OperationalError(
                        f"all {self._size} connections stayed busy for {POOL_WAIT:.0f} s"
                    )
                self._cond.wait(left)
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _give(self, conn: Connection) -> None:
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with self._cond:
            if self._closed or conn.closed or conn.broken or not idle:
                self._open -= 1
                keep = False
            else:
                self._idle.append(conn)
                keep = True
            self._cond.notify()
        if not keep:
            conn.close()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()
