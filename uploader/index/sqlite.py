"""The index in one SQLite file with FTS5: the default, on the machine that runs `watch`
or `host` (Python's own sqlite3; nothing to install).

WAL mode, so that the dashboard searches while the indexer writes, and several processes
(a `watch` and a `host`) can share the file. Each thread has its own connection. A
segment's rows go in one transaction (see uploader.index.base), and a killed process
leaves the file as the last commit left it. The file and its -wal/-shm companions are
0600 in a 0700 folder: the index holds the sessions' text.

The tables and how documents go in and out of them are sqlite_tables.py's; this module
is the Index: connections, transactions, and each call's SQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from uploader.core.errors import IndexMismatch, IndexUnavailable
from uploader.core.fsutil import make_private_dir
from uploader.index.base import (
    SEARCH_TIMEOUT_S,
    TOKEN_FIGURES,
    USAGE_FIGURES,
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
from uploader.index.sqlite_tables import (
    SCHEMA,
    SCHEMA_VERSION,
    TUNING,
    day_of,
    drop_docs,
    insert_docs,
    safe_text,
)

POOL_SIZE = 4
#: A search ranks the newest this many matching documents (see search()).
CANDIDATES = 2000

_SORT_COLUMNS = {
    "updated": "COALESCE(updated, 0)",
    "created": "COALESCE(created, 0)",
    "title": "title COLLATE NOCASE",
    "lines": "lines",
    "bytes": "bytes",
    "segments": "segments",
    "agent": "agent",
}
_GROUP_COLUMNS = {
    "day": "COALESCE(u.day, 'unknown')",
    "model": "COALESCE(u.model, 'unknown')",
    "agent": "COALESCE(s.agent, 'unknown')",
    "project": "COALESCE(s.project, 'unknown')",
    "session": "u.sid",
}


class SqliteIndex:
    """The Index protocol (uploader.index.base) over one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = str(path)
        self._idle: list[sqlite3.Connection] = []  # open, not in use
        self._slots = threading.BoundedSemaphore(POOL_SIZE)
        self._lock = threading.Lock()
        self._closed = False
        try:
            make_private_dir(path.parent)
            if not path.exists():  # made 0600 before SQLite opens it
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            with self._connection() as db:
                # One transaction, so that processes opening a new file at once make it once.
                db.executescript(
                    f"BEGIN IMMEDIATE; {SCHEMA} INSERT OR IGNORE INTO meta VALUES"
                    f" ('schema', '{SCHEMA_VERSION}'); {TUNING} COMMIT;"
                )
        except (OSError, sqlite3.Error) as exc:
            raise IndexUnavailable(str(path), _reason(exc)) from exc

    # -- connections -----------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call, from a pool of at most POOL_SIZE (the threads that
        use an index come and go: a connection each would pile up)."""
        with self._slots:
            with self._lock:
                db = self._idle.pop() if self._idle else None
            if db is None:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                     check_same_thread=False)  # fmt: skip
                db.row_factory = sqlite3.Row
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # a kill loses nothing committed
            try:
                yield db
            finally:
                if db.in_transaction:  # a failed COMMIT: nothing may leak into the next call
                    db.rollback()
                with self._lock:
                    if self._closed:
                        db.close()
                    else:
                        self._idle.append(db)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:  # a full disk, a locked or damaged file
                raise IndexUnavailable(self.description, _reason(exc)) from exc

    def _read(
        self, sql: str, args: tuple[Any, ...] | list[Any] = (), *, limit_s: float | None = None
    ) -> list[sqlite3.Row]:
        """Rows of a query; with `limit_s`, stopped (too_slow) when it takes longer."""
        with self._connection() as db:
            if limit_s is not None:
                deadline = time.monotonic() + limit_s
                db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            try:
                return db.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if limit_s is not None and "interrupted" in str(exc):
                    raise too_slow() from None
                raise IndexUnavailable(self.description, _reason(exc)) from exc
            finally:
                if limit_s is not None:
                    db.set_progress_handler(None, 0)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()

    # -- writing ---------------------------------------------------------------------

    def bind(self, store: str) -> None:
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
            empty = not db.execute(
                "SELECT 1 FROM sessions UNION ALL SELECT 1 FROM segments LIMIT 1"
            ).fetchone()
            if row is not None and row[0] != store and not empty:
                raise IndexMismatch(self.description, row[0], store)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('store', ?)", (store,))

    def indexed(self, sid: str) -> set[int]:
        return {r[0] for r in self._read("SELECT seq FROM segments WHERE sid = ?", (sid,))}

    def add_segment(self, segment: SegmentDocs) -> bool:
        sid, seq = segment.sid, segment.seq
        with self._write() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO segments VALUES (?, ?, ?)", (sid, seq, segment.generation)
            ).rowcount
            if not added:
                return False
            drop_docs(db, "sid = ? AND live = 1 AND seq <= ?", (sid, seq))
            insert_docs(db, sid, segment.generation, seq, segment.docs, live=False)
            # The newest generation's usage only, as the session list counts it: lines a
            # truncated or replaced file gives again must not count twice.
            newest = db.execute("SELECT MAX(generation) FROM usage WHERE sid = ?", (sid,))
            generation, newest = segment.generation, newest.fetchone()[0]
            if newest is not None and generation > newest:
                db.execute("DELETE FROM usage WHERE sid = ? AND generation < ?", (sid, generation))
            if newest is None or generation >= newest:
                db.executemany(
                    "INSERT OR REPLACE INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(sid, seq, u.line, generation, u.ts, day_of(u.ts), u.model,
                      *(u.figures.get(k) for k in USAGE_FIGURES)) for u in segment.usage],
                )  # fmt: skip
        return True

    def add_live(
        self, sid: str, generation: int, seq: int, docs: Sequence[Doc], *, replace: bool
    ) -> None:
        with self._write() as db:
            if replace:  # the earlier segments' lines stay until those are added
                drop_docs(db, "sid = ? AND live = 1 AND seq >= ?", (sid, seq))
            if db.execute(
                "SELECT 1 FROM segments WHERE sid = ? AND seq = ?", (sid, seq)
            ).fetchone():
                return  # uploaded and added meanwhile
            insert_docs(db, sid, generation, seq, docs, live=True)

    def put_session(self, facts: SessionFacts) -> None:
        summary = facts.summary
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO sessions VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (facts.sid, facts.agent, safe_text(facts.title), safe_text(summary.get("label")),
                 facts.updated, facts.created, int(facts.closed), safe_text(facts.host),
                 safe_text(facts.cwd), safe_text(facts.project), safe_text(facts.git_branch),
                 safe_text(facts.model), facts.parent, summary.get("lines", 0),
                 summary.get("bytes", 0), summary.get("segments", 0),
                 json.dumps(summary)),  # ASCII: a lone surrogate survives as \\ud83d
            )  # fmt: skip

    def remove_session(self, sid: str) -> None:
        with self._write() as db:
            drop_docs(db, "sid = ?", (sid,))
            for table in ("usage", "segments", "sessions"):
                db.execute(f"DELETE FROM {table} WHERE sid = ?", (sid,))

    def sids(self) -> set[str]:
        return {r[0] for r in self._read("SELECT sid FROM sessions")}

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- reading ---------------------------------------------------------------------

    def search(self, query: SearchQuery) -> list[Hit]:
        parsed = parse(query.text)
        expression = f"{{text paths tool}} : ({parsed.fts5()})"  # not the role's words
        if query.role:
            expression += f' AND role : "{" ".join(words(query.role))}"'
        where, args = ["docs_fts MATCH ?"], [expression]
        _filters(query, where, args)
        matches = (
            " FROM docs_fts JOIN docs d ON d.id = docs_fts.rowid"
            f" LEFT JOIN sessions s ON s.sid = d.sid WHERE {' AND '.join(where)}"
        )
        # Ranked among the newest CANDIDATES matches: a word in every other line would
        # otherwise be scored in all of them (0.1-0.2 s over 2 GB) for 20 hits. The
        # newest are found walking the matches backwards, which stops there.
        window = max(CANDIDATES, 2 * (query.offset + query.limit))
        oldest = self._read(
            f"SELECT docs_fts.rowid {matches} ORDER BY docs_fts.rowid DESC LIMIT 1 OFFSET ?",
            [*args, window - 1],
            limit_s=SEARCH_TIMEOUT_S,
        )
        rows = self._read(
            "SELECT d.sid, d.generation, d.seq, d.line, d.ts, d.role, d.tool, d.text,"
            " COALESCE(s.agent, 'unknown') AS agent, COALESCE(s.title, d.sid) AS title"
            f" {matches} AND docs_fts.rowid >= ?"
            " ORDER BY docs_fts.rank, d.ts DESC, d.id DESC LIMIT ? OFFSET ?",
            [*args, oldest[0][0] if oldest else 0, query.limit, query.offset],
            limit_s=SEARCH_TIMEOUT_S,
        )
        return [
            Hit(r["sid"], r["generation"], r["seq"], r["line"], r["ts"], r["agent"], r["role"],
                r["tool"], r["title"], snippet(r["text"], parsed))
            for r in rows
        ]  # fmt: skip

    def usage(
        self, *, by: str, since: float | None = None, agent: str | None = None
    ) -> list[UsageTotal]:
        key = _GROUP_COLUMNS[by]
        where, args = ["1"], list[Any]()
        if since is not None:
            where.append("u.ts >= ?")
            args.append(since)
        if agent:
            where.append("s.agent = ?")
            args.append(agent)
        sums = ", ".join(f"SUM(u.{k}) AS {k}" for k in USAGE_FIGURES)
        tokens = " + ".join(f"COALESCE(SUM(u.{k}), 0)" for k in TOKEN_FIGURES)
        order = "key" if by == "day" else f"COALESCE(SUM(u.cost_usd), 0) DESC, {tokens} DESC, key"
        rows = self._read(
            f"SELECT {key} AS key, COUNT(*) AS messages, {sums}, MAX(s.title) AS title"
            " FROM usage u"
            " LEFT JOIN sessions s ON s.sid = u.sid"
            f" WHERE {' AND '.join(where)} GROUP BY 1 ORDER BY {order}",
            args,
        )
        return [
            UsageTotal(
                r["key"], r["messages"], _figures(r), r["title"] if by == "session" else None
            )
            for r in rows
        ]

    def sessions(self, query: ListQuery) -> SessionPage:
        where, args = ["1"], list[Any]()
        if query.text.strip():
            like = "%" + query.text.strip().replace("\\", "\\\\").replace("%", "\\%")\
                .replace("_", "\\_") + "%"  # fmt: skip
            where.append(
                "(title LIKE ? ESCAPE '\\' OR sid LIKE ? ESCAPE '\\' OR label LIKE ? ESCAPE '\\')"
            )
            args += [like, like, like]
        if query.agent:
            where.append("agent = ?")
            args.append(query.agent)
        if query.updated_since is not None:
            where.append("updated >= ?")
            args.append(query.updated_since)
        clause = " AND ".join(where)
        total = self._read(f"SELECT COUNT(*) FROM sessions WHERE {clause}", args)[0][0]
        direction = "DESC" if query.descending else "ASC"
        rows = self._read(
            f"SELECT summary FROM sessions WHERE {clause}"
            f" ORDER BY {_SORT_COLUMNS[query.sort]} {direction}, sid LIMIT ? OFFSET ?",
            [*args, query.limit, query.offset],
        )
        return SessionPage([json.loads(r[0]) for r in rows], int(total))

    def stats(self) -> dict[str, int]:
        counts = {
            table: int(self._read(f"SELECT COUNT(*) FROM {table}")[0][0])
            for table in ("sessions", "segments", "docs", "usage")
        }
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        counts["bytes"] = sum(f.stat().st_size for f in files if f.exists())
        return counts


def _filters(query: SearchQuery, where: list[str], args: list[Any]) -> None:
    """The search's filters as SQL conditions on docs d and sessions s."""
    if query.agent:
        where.append("s.agent = ?")
        args.append(query.agent)
    if query.since is not None:
        where.append("d.ts >= ?")
        args.append(query.since)
    if query.role:
        where.append("d.role = ?")
        args.append(query.role)
    if query.tool:
        where.append("d.tool = ? COLLATE NOCASE")
        args.append(query.tool)
    if query.sid:
        where.append("d.sid = ?")
        args.append(query.sid)
    if query.project:
        where.append("(s.project = ? COLLATE NOCASE OR instr(lower(s.cwd), lower(?)) > 0)")
        args += [query.project, query.project]


def _figures(row: sqlite3.Row) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in USAGE_FIGURES:
        value = row[key]
        if value is not None:
            out[key] = value
        elif key in ("input", "output", "cache_read", "cache_write"):
            out[key] = 0
    return out


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
