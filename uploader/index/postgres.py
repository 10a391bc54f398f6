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
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from uploader.core.errors import IndexMismatch, IndexUnavailable, UsageError
from uploader.index.base import (
    SEARCH_TIMEOUT_S,
    USAGE_FIGURES,
    USAGE_GROUPS,
    Doc,
    Hit,
    ListQuery,
    SearchQuery,
    SegmentDocs,
    SessionFacts,
    SessionPage,
    UsageTotal,
)
from uploader.index.query import parse, too_slow, words
from uploader.index.snippets import snippet
from uploader.stores.base import redact_url, scrub

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.types.json import Json

    HAVE_PSYCOPG = True
except ImportError:  # the postgres extra is not installed
    HAVE_PSYCOPG = False

if TYPE_CHECKING:
    Connection = psycopg.Connection[tuple[Any, ...]]

T = TypeVar("T")

SCHEMA = "agent_uploader"
SCHEMA_VERSION = 1
#: pg_advisory_xact_lock's key while the schema is made (any number; "agup" in ASCII).
SCHEMA_LOCK = 0x61677570
#: The first key of pg_advisory_xact_lock(int, int) while a session's documents are
#: written (the second: the hash of its sid).
SESSION_LOCK = SCHEMA_LOCK
POOL_SIZE = 4  # connections at most, per PostgresIndex
POOL_WAIT = 120.0  # seconds a call waits for one of them
CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
#: PostgreSQL's limits on a tsvector (tsearch: MAXSTRLEN, MAXNUMPOS, MAXENTRYPOS, and
#: the 1 MB of a whole one, less a margin for what the estimate leaves out).
MAX_WORD_BYTES = 2047
MAX_PLACES = 256
MAX_PLACE = 16383
MAX_TSVECTOR_BYTES = 900_000
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Sort keys of the session list (uploader.read.catalog.SORT_KEYS) -> the column.
_SORT_COLUMNS = {
    "updated": "coalesce(updated, 0)",
    "created": "coalesce(created, 0)",
    "title": 'title_key COLLATE "C"',
    "lines": "lines",
    "bytes": "bytes",
    "segments": "segments",
    "agent": 'agent COLLATE "C"',
}
_FIGURE_COLUMNS = ", ".join(USAGE_FIGURES)
_FIGURE_SUMS = ", ".join(f"sum(u.{f})" for f in USAGE_FIGURES)
_USAGE_KEYS = {
    "day": "coalesce(to_char(to_timestamp(u.ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'unknown')",
    "model": "coalesce(u.model, 'unknown')",
    "agent": "coalesce(s.agent, 'unknown')",
    "project": "coalesce(s.project, 'unknown')",
    "session": "u.sid",
}

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.sessions (
    sid text PRIMARY KEY,
    agent text NOT NULL,
    title text NOT NULL,
    title_key text NOT NULL,  -- the title casefolded, to sort by
    find_key text NOT NULL,  -- title, sid and label casefolded, for the list's text filter
    label text,
    updated double precision,
    created double precision,
    closed boolean NOT NULL,
    host text NOT NULL,
    cwd text,
    project text,
    project_key text,  -- the project casefolded
    git_branch text,
    model text,
    parent text,
    lines bigint NOT NULL,
    bytes bigint NOT NULL,
    segments integer NOT NULL,
    summary json NOT NULL  -- json, not jsonb: given back as it was given
);
CREATE INDEX IF NOT EXISTS sessions_by_updated
    ON {SCHEMA}.sessions ((coalesce(updated, 0)) DESC, sid);
CREATE TABLE IF NOT EXISTS {SCHEMA}.segments (
    sid text NOT NULL,
    seq integer NOT NULL,
    generation integer NOT NULL,
    PRIMARY KEY (sid, seq)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.docs (
    sid text NOT NULL,
    seq integer NOT NULL,
    n integer NOT NULL,
    generation integer NOT NULL,
    line integer NOT NULL,
    role text NOT NULL,
    ts double precision,
    tool text,
    paths text NOT NULL,
    text text NOT NULL,
    tsv tsvector NOT NULL,
    live boolean NOT NULL DEFAULT false,  -- a line of a segment not added yet
    PRIMARY KEY (sid, seq, n)
);
CREATE INDEX IF NOT EXISTS docs_tsv ON {SCHEMA}.docs USING gin (tsv);
CREATE INDEX IF NOT EXISTS docs_live ON {SCHEMA}.docs (sid, seq) WHERE live;
CREATE TABLE IF NOT EXISTS {SCHEMA}.usage (
    sid text NOT NULL,
    seq integer NOT NULL,
    n integer NOT NULL,
    generation integer NOT NULL,
    line integer NOT NULL,
    ts double precision,
    model text,
    {", ".join(f"{f} double precision" for f in USAGE_FIGURES)},  -- null: not reported
    PRIMARY KEY (sid, seq, n)
);
"""


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
        if self._schema_version(conn) == SCHEMA_VERSION:
            return
        # Several processes opening a new index at once: one makes the tables.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        version = self._schema_version(conn)
        if version is None:
            conn.execute(_DDL)
            conn.execute(
                f"INSERT INTO {SCHEMA}.meta (key, value) VALUES ('schema_version', %s)"
                " ON CONFLICT (key) DO NOTHING",
                (str(SCHEMA_VERSION),),
            )
        elif version > SCHEMA_VERSION:
            raise IndexUnavailable(
                self.description,
                f"its tables are of a newer agent-uploader (schema {version}, "
                f"this one knows {SCHEMA_VERSION})",
                "upgrade agent-uploader, or give this one another index",
            )

    @staticmethod
    def _schema_version(conn: Connection) -> int | None:
        # pg_class read as a table (to_regclass may answer from a cache that has not yet
        # seen the tables another process just made).
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'meta'",
            (SCHEMA,),
        ).fetchone()
        if exists is None:
            return None
        row = conn.execute(
            f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'"
        ).fetchone()
        return int(row[0]) if row else None

    # -- the store, the indexer's notes ------------------------------------------------------

    def bind(self, store: str) -> None:
        def work(conn: Connection) -> str:
            conn.execute(
                f"INSERT INTO {SCHEMA}.meta (key, value) VALUES ('store', %s) "
                "ON CONFLICT (key) DO NOTHING",
                (store,),
            )
            row = conn.execute(
                f"SELECT value FROM {SCHEMA}.meta WHERE key = 'store' FOR UPDATE"
            ).fetchone()
            holds = str(row[0]) if row else store
            if (
                holds != store
                and not _has_rows(conn, "sessions")
                and not _has_rows(conn, "segments")
            ):
                conn.execute(f"UPDATE {SCHEMA}.meta SET value = %s WHERE key = 'store'", (store,))
                holds = store  # an empty index is anybody's
            return holds

        holds = self._run(work)
        if holds != store:
            raise IndexMismatch(self.description, holds, store)

    def get_meta(self, key: str) -> str | None:
        row = self._run(
            lambda conn: conn.execute(
                f"SELECT value FROM {SCHEMA}.meta WHERE key = %s", (key,)
            ).fetchone()
        )
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._run(
            lambda conn: conn.execute(
                f"INSERT INTO {SCHEMA}.meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, _clean(value)),
            )
        )

    # -- writing ---------------------------------------------------------------------------

    def indexed(self, sid: str) -> set[int]:
        rows = self._run(
            lambda conn: conn.execute(
                f"SELECT seq FROM {SCHEMA}.segments WHERE sid = %s", (sid,)
            ).fetchall()
        )
        return {int(r[0]) for r in rows}

    def add_segment(self, segment: SegmentDocs) -> bool:
        sid, seq = segment.sid, segment.seq
        docs = _doc_rows(sid, seq, segment.generation, segment.docs)
        usage = [
            (sid, seq, n, segment.generation, u.line, u.ts, _clean_or_none(u.model),
             *(_figure(u.figures.get(f)) for f in USAGE_FIGURES))
            for n, u in enumerate(segment.usage)
        ]  # fmt: skip

        def work(conn: Connection) -> bool:
            _lock_session(conn, sid)
            cur = conn.execute(
                f"INSERT INTO {SCHEMA}.segments (sid, seq, generation) VALUES (%s, %s, %s) "
                "ON CONFLICT (sid, seq) DO NOTHING",
                (sid, seq, segment.generation),
            )
            if cur.rowcount != 1:
                return False  # there already, or being written by another writer
            conn.execute(
                f"DELETE FROM {SCHEMA}.docs WHERE sid = %s AND live AND seq <= %s", (sid, seq)
            )
            _copy_docs(conn, docs, live=False)
            # The newest generation's usage only (see the module's doc).
            row = conn.execute(
                f"SELECT max(generation) FROM {SCHEMA}.usage WHERE sid = %s", (sid,)
            ).fetchone()
            newest = row[0] if row else None
            if newest is not None and segment.generation < newest:
                return True
            if newest is not None and segment.generation > newest:
                conn.execute(
                    f"DELETE FROM {SCHEMA}.usage WHERE sid = %s AND generation < %s",
                    (sid, segment.generation),
                )
            columns = f"sid, seq, n, generation, line, ts, model, {_FIGURE_COLUMNS}"
            with cur.copy(f"COPY {SCHEMA}.usage ({columns}) FROM STDIN") as copy:
                for record in usage:
                    copy.write_row(record)
            return True

        return self._run(work)

    def add_live(
        self, sid: str, generation: int, seq: int, docs: Sequence[Doc], *, replace: bool
    ) -> None:
        rows = _doc_rows(sid, seq, generation, docs)

        def work(conn: Connection) -> None:
            _lock_session(conn, sid)
            if replace:  # an earlier segment's stay until that segment is added
                conn.execute(
                    f"DELETE FROM {SCHEMA}.docs WHERE sid = %s AND live AND seq >= %s", (sid, seq)
                )
            if conn.execute(
                f"SELECT 1 FROM {SCHEMA}.segments WHERE sid = %s AND seq = %s", (sid, seq)
            ).fetchone():
                return  # uploaded and added meanwhile
            if not rows:
                return
            row = conn.execute(
                f"SELECT coalesce(max(n) + 1, 0) FROM {SCHEMA}.docs WHERE sid = %s AND seq = %s",
                (sid, seq),
            ).fetchone()
            first = int(row[0]) if row else 0
            _copy_docs(conn, [(s, q, first + n, *rest) for s, q, n, *rest in rows], live=True)

        self._run(work)

    def put_session(self, facts: SessionFacts) -> None:
        summary = facts.summary
        label = summary.get("label")
        label = _clean(label) if isinstance(label, str) else None
        title, sid = _clean(facts.title), _clean(facts.sid)
        row = {
            "sid": sid,
            "agent": _clean(facts.agent),
            "title": title,
            "title_key": title.casefold(),
            "find_key": "\n".join((title, sid, label or "")).casefold(),
            "label": label,
            "updated": facts.updated,
            "created": facts.created,
            "closed": facts.closed,
            "host": _clean(facts.host),
            "cwd": _clean_or_none(facts.cwd),
            "project": _clean_or_none(facts.project),
            "project_key": facts.project.casefold() if facts.project else None,
            "git_branch": _clean_or_none(facts.git_branch),
            "model": _clean_or_none(facts.model),
            "parent": _clean_or_none(facts.parent),
            "lines": _int(summary.get("lines")),
            "bytes": _int(summary.get("bytes")),
            "segments": _int(summary.get("segments")),
            "summary": Json(summary, dumps=_dumps),
        }
        names = ", ".join(row)
        values = ", ".join(f"%({k})s" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "sid")
        self._run(
            lambda conn: conn.execute(
                f"INSERT INTO {SCHEMA}.sessions ({names}) VALUES ({values}) "
                f"ON CONFLICT (sid) DO UPDATE SET {updates}",
                row,
            )
        )

    def remove_session(self, sid: str) -> None:
        def work(conn: Connection) -> None:
            _lock_session(conn, sid)
            for table in ("docs", "usage", "segments", "sessions"):
                conn.execute(f"DELETE FROM {SCHEMA}.{table} WHERE sid = %s", (sid,))

        self._run(work)

    # -- reading ---------------------------------------------------------------------------

    def sids(self) -> set[str]:
        rows = self._run(lambda conn: conn.execute(f"SELECT sid FROM {SCHEMA}.sessions").fetchall())
        return {str(r[0]) for r in rows}

    def search(self, query: SearchQuery) -> list[Hit]:
        parsed = parse(query.text)
        project = query.project or ""
        params = {
            "q": parsed.tsquery(),
            **_given(agent=query.agent, since=query.since, role=query.role, tool=query.tool,
                     sid=query.sid, project=project.casefold()),
            "in_cwd": project.lower(),
            **_page(query.limit, query.offset),
        }  # fmt: skip
        where = _where(
            params,
            agent="s.agent = %(agent)s",
            since="d.ts >= %(since)s",
            role="d.role = %(role)s",
            tool="lower(d.tool) = lower(%(tool)s)",
            sid="d.sid = %(sid)s",
            project="(s.project_key = %(project)s OR strpos(lower(s.cwd), %(in_cwd)s) > 0)",
        )
        sql = (
            "SELECT d.sid, d.generation, d.seq, d.line, d.ts, coalesce(s.agent, 'unknown'),"
            " d.role, d.tool, coalesce(s.title, d.sid), d.text"
            f" FROM (SELECT %(q)s::tsquery AS q) q, {SCHEMA}.docs d"
            f" LEFT JOIN {SCHEMA}.sessions s ON s.sid = d.sid"
            f" WHERE d.tsv @@ q.q AND {where}"
            " ORDER BY ts_rank(d.tsv, q.q) DESC, d.ts DESC NULLS LAST, d.sid, d.seq, d.n"
            " LIMIT %(limit)s OFFSET %(offset)s"
        )
        # Read at each call (the tests lower it); 0 would be no limit at all.
        timeout_ms = max(1, round(SEARCH_TIMEOUT_S * 1000))

        def work(conn: Connection) -> list[tuple[Any, ...]]:
            conn.execute(f"SET LOCAL statement_timeout = {timeout_ms:d}")
            try:
                return conn.execute(sql, params).fetchall()
            except pg_errors.QueryCanceled:
                raise too_slow() from None

        rows = self._run(work)
        return [
            Hit(sid=r[0], generation=r[1], seq=r[2], line=r[3], ts=r[4], agent=r[5], role=r[6],
                tool=r[7], title=r[8], snippet=snippet(r[9], parsed))
            for r in rows
        ]  # fmt: skip

    def usage(
        self, *, by: str, since: float | None = None, agent: str | None = None
    ) -> list[UsageTotal]:
        if by not in USAGE_GROUPS:
            raise UsageError(
                f"cannot group usage by {by!r}", f"choose one of: {', '.join(USAGE_GROUPS)}"
            )
        params = _given(since=since, agent=agent)
        where = _where(params, since="u.ts >= %(since)s", agent="s.agent = %(agent)s")
        key = _USAGE_KEYS[by]
        sql = (
            f"SELECT {key} AS key, count(*), max(s.title), {_FIGURE_SUMS}"
            f" FROM {SCHEMA}.usage u LEFT JOIN {SCHEMA}.sessions s ON s.sid = u.sid"
            f" WHERE {where} GROUP BY 1"
        )
        rows = self._run(lambda conn: conn.execute(sql, params).fetchall())
        totals = [
            UsageTotal(str(r[0]), int(r[1]), _figures(r[3:]), r[2] if by == "session" else None)
            for r in rows
        ]
        if by == "day":
            return sorted(totals, key=lambda t: t.key)
        return sorted(totals, key=lambda t: (-t.figures.get("cost_usd", 0), -t.tokens, t.key))

    def sessions(self, query: ListQuery) -> SessionPage:
        column = _SORT_COLUMNS.get(query.sort)
        if column is None:
            raise UsageError(
                f"cannot sort by {query.sort!r}", f"choose one of: {', '.join(_SORT_COLUMNS)}"
            )
        params = {
            **_given(text=query.text.casefold().strip(), agent=query.agent,
                     since=query.updated_since),
            **_page(query.limit, query.offset),
        }  # fmt: skip
        condition = _where(
            params,
            text="strpos(find_key, %(text)s) > 0",
            agent="agent = %(agent)s",
            since="updated >= %(since)s",
        )
        order = f'{column} {"DESC" if query.descending else "ASC"}, sid COLLATE "C"'
        page = (
            f"SELECT summary FROM {SCHEMA}.sessions WHERE {condition}"
            f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
        )

        def work(conn: Connection) -> SessionPage:
            count = conn.execute(
                f"SELECT count(*) FROM {SCHEMA}.sessions WHERE {condition}",
                params,
            ).fetchone()
            rows = conn.execute(page, params).fetchall()
            return SessionPage([r[0] for r in rows], int(count[0]) if count else 0)

        return self._run(work)

    def stats(self) -> dict[str, int]:
        tables = ("sessions", "segments", "docs", "usage")

        def work(conn: Connection) -> dict[str, int]:
            out = {}
            for table in tables:
                row = conn.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()
                out[table] = int(row[0]) if row else 0
            sizes = " + ".join(f"pg_total_relation_size('{SCHEMA}.{t}')" for t in (*tables, "meta"))
            row = conn.execute(f"SELECT {sizes}").fetchone()
            out["bytes"] = int(row[0]) if row else 0
            return out

        return self._run(work)

    def close(self) -> None:
        self._pool.close()


# -- the words PostgreSQL is given ---------------------------------------------------------


def tsvector(*fields: str) -> str:
    """The tsvector of `fields`, written out: each word with the places it is at (a gap
    between fields), within PostgreSQL's limits (see the module's doc)."""
    places: dict[str, list[int]] = {}
    place = 0
    for field in fields:
        found = words(field)
        for n, word in enumerate(found, place + 1):
            seen = places.get(word)
            if seen is None:
                places[word] = [n]
            elif len(seen) < MAX_PLACES:
                seen.append(n)
        place += len(found) + 1  # a gap: no phrase spans two fields
    out = []
    size = 0
    for word, at in places.items():  # in the order they first come
        length = len(word) if word.isascii() else len(word.encode())
        if length > MAX_WORD_BYTES:
            continue
        size += length + 6 + 2 * len(at)  # the word, its entry, its count of places, places
        if size > MAX_TSVECTOR_BYTES:
            break
        if at[-1] > MAX_PLACE:
            at = [a for a in at if a < MAX_PLACE] + [MAX_PLACE]
        # The words are letters and digits only: quoting them is all it takes.
        out.append(f"'{word}':{','.join(map(str, at)) if len(at) > 1 else at[0]}")
    return " ".join(out)


# -- helpers -------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Text PostgreSQL takes: no NUL (a text column cannot hold one), no lone surrogate
    (not UTF-8). Each becomes U+FFFD, so that the words stay the same."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            text = _SURROGATE.sub("\ufffd", text)
    return text


def _clean_or_none(text: str | None) -> str | None:
    return None if text is None else _clean(text)


def _doc_rows(sid: str, seq: int, generation: int, docs: Sequence[Doc]) -> list[tuple[Any, ...]]:
    """The documents' rows for _copy_docs, n from 0."""
    return [
        (sid, seq, n, generation, d.line, d.role, d.ts, _clean_or_none(d.tool), _clean(d.paths),
         _clean(d.text), tsvector(d.text, d.paths, d.tool or ""))
        for n, d in enumerate(docs)
    ]  # fmt: skip


def _copy_docs(conn: Connection, rows: Sequence[tuple[Any, ...]], *, live: bool) -> None:
    columns = "sid, seq, n, generation, line, role, ts, tool, paths, text, tsv, live"
    with conn.cursor() as cur, cur.copy(f"COPY {SCHEMA}.docs ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, live))


def _lock_session(conn: Connection, sid: str) -> None:
    """Wait for the other writers of the session's documents, until the transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s::integer, hashtext(%s))", (SESSION_LOCK, sid))


def _given(**values: Any) -> dict[str, Any]:
    """The filters that are given: not None, not empty."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _page(limit: int, offset: int) -> dict[str, int]:
    return {"limit": max(0, limit), "offset": max(0, offset)}


def _where(params: Mapping[str, Any], **conditions: str) -> str:
    """The SQL conditions of the filters in params, joined by AND."""
    return " AND ".join(sql for name, sql in conditions.items() if name in params) or "TRUE"


def _figure(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _figures(sums: Sequence[Any]) -> dict[str, float]:
    """A group's figures: those some record reported, and the tokens (0 when none)."""
    out = {f: float(v) for f, v in zip(USAGE_FIGURES, sums, strict=True) if v is not None}
    for f in ("input", "output", "cache_read", "cache_write"):
        out.setdefault(f, 0.0)
    return out


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


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


def _has_rows(conn: Connection, table: str) -> bool:
    row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.{table})").fetchone()
    return bool(row and row[0])


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
