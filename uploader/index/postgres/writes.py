"""The PostgreSQL index's writes, each the work of one transaction (PostgresIndex runs
it, once more on a new connection when the first was dropped): binding the index to its
store, the indexer's notes, a segment's documents and usage, live documents, a session's
row, and forgetting a session. The rows are made before, once.

May import: core, index.base, index.postgres's schema and words.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from uploader.index.base import USAGE_FIGURES, Doc, SegmentDocs, SessionFacts
from uploader.index.postgres.schema import SCHEMA, SESSION_LOCK, has_rows
from uploader.index.postgres.words import clean, clean_or_none, tsvector

if TYPE_CHECKING:
    import psycopg

    Connection = psycopg.Connection[tuple[Any, ...]]

_FIGURE_COLUMNS = ", ".join(USAGE_FIGURES)


def bind(store: str) -> Callable[[Connection], str]:
    """The store the index holds (an empty index becomes `store`'s)."""

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
        if holds != store and not has_rows(conn, "sessions") and not has_rows(conn, "segments"):
            conn.execute(f"UPDATE {SCHEMA}.meta SET value = %s WHERE key = 'store'", (store,))
            holds = store  # an empty index is anybody's
        return holds

    return work


def set_meta(key: str, value: str) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        conn.execute(
            f"INSERT INTO {SCHEMA}.meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, clean(value)),
        )

    return work


def add_segment(segment: SegmentDocs) -> Callable[[Connection], bool]:
    """Add a segment's documents and usage; False when it is there already, or being
    written by another writer."""
    sid, seq = segment.sid, segment.seq
    docs = _doc_rows(sid, seq, segment.generation, segment.docs)
    usage = [
        (sid, seq, n, segment.generation, u.line, u.ts, clean_or_none(u.model),
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
        conn.execute(f"DELETE FROM {SCHEMA}.docs WHERE sid = %s AND live AND seq <= %s", (sid, seq))
        _copy_docs(conn, docs, live=False)
        # The newest generation's usage only (see uploader.index.postgres).
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

    return work


def add_live(
    sid: str, generation: int, seq: int, docs: Sequence[Doc], *, replace: bool
) -> Callable[[Connection], None]:
    """Add the lines of a segment not uploaded yet (see uploader.index.postgres)."""
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

    return work


def put_session(facts: SessionFacts) -> Callable[[Connection], None]:
    """Write the session's row: its facts, and the columns the list filters and sorts by."""
    # The driver is imported where it is used: this module is imported without it too
    # (PostgresIndex then says it is missing).
    from psycopg.types.json import Json

    summary = facts.summary
    label = summary.get("label")
    label = clean(label) if isinstance(label, str) else None
    title, sid = clean(facts.title), clean(facts.sid)
    row = {
        "sid": sid,
        "agent": clean(facts.agent),
        "title": title,
        "title_key": title.casefold(),
        "find_key": "\n".join((title, sid, label or "")).casefold(),
        "label": label,
        "updated": facts.updated,
        "created": facts.created,
        "closed": facts.closed,
        "host": clean(facts.host),
        "cwd": clean_or_none(facts.cwd),
        "project": clean_or_none(facts.project),
        "project_key": facts.project.casefold() if facts.project else None,
        "git_branch": clean_or_none(facts.git_branch),
        "model": clean_or_none(facts.model),
        "parent": clean_or_none(facts.parent),
        "lines": _int(summary.get("lines")),
        "bytes": _int(summary.get("bytes")),
        "segments": _int(summary.get("segments")),
        "summary": Json(summary, dumps=_dumps),
    }
    names = ", ".join(row)
    values = ", ".join(f"%({k})s" for k in row)
    updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "sid")

    def work(conn: Connection) -> None:
        conn.execute(
            f"INSERT INTO {SCHEMA}.sessions ({names}) VALUES ({values}) "
            f"ON CONFLICT (sid) DO UPDATE SET {updates}",
            row,
        )

    return work


def remove_session(sid: str) -> Callable[[Connection], None]:
    def work(conn: Connection) -> None:
        _lock_session(conn, sid)
        for table in ("docs", "usage", "segments", "sessions"):
            conn.execute(f"DELETE FROM {SCHEMA}.{table} WHERE sid = %s", (sid,))

    return work


def _doc_rows(sid: str, seq: int, generation: int, docs: Sequence[Doc]) -> list[tuple[Any, ...]]:
    """The documents' rows for _copy_docs, n from 0."""
    return [
        (sid, seq, n, generation, d.line, d.role, d.ts, clean_or_none(d.tool), clean(d.paths),
         clean(d.text), tsvector(d.text, d.paths, d.tool or ""))
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


def _figure(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
