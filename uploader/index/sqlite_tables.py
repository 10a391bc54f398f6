"""The SQLite index's tables: their DDL and version, the full-text index's tuning, and
the documents written and dropped together with their words (FTS5's external-content
table forgets a row only when told its words); text made storable.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from uploader.index.base import Doc

SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, agent TEXT NOT NULL, title TEXT NOT NULL, label TEXT,
    updated REAL, created REAL, closed INTEGER NOT NULL, host TEXT, cwd TEXT, project TEXT,
    git_branch TEXT, model TEXT, parent TEXT, lines INTEGER, bytes INTEGER,
    segments INTEGER, summary TEXT NOT NULL
);
-- The list's default orders, newest first (ties by id), read from an index: the first
-- page of 100,000 sessions without sorting them.
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (COALESCE(updated, 0) DESC, sid);
CREATE INDEX IF NOT EXISTS sessions_created ON sessions (COALESCE(created, 0) DESC, sid);
CREATE TABLE IF NOT EXISTS segments (
    sid TEXT NOT NULL, seq INTEGER NOT NULL, generation INTEGER NOT NULL,
    PRIMARY KEY (sid, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY, sid TEXT NOT NULL, seq INTEGER NOT NULL,
    generation INTEGER NOT NULL, line INTEGER NOT NULL, role TEXT NOT NULL, ts REAL,
    tool TEXT, paths TEXT NOT NULL, text TEXT NOT NULL,
    live INTEGER NOT NULL DEFAULT 0  -- 1: a line of a segment not uploaded yet
);
CREATE INDEX IF NOT EXISTS docs_segment ON docs (sid, seq);
-- role: so that a search for one role walks that role's documents only.
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5 (
    text, paths, tool, role, content='docs', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS usage (
    sid TEXT NOT NULL, seq INTEGER NOT NULL, line INTEGER NOT NULL, generation INTEGER NOT NULL,
    ts REAL, day TEXT,
    model TEXT, input REAL, output REAL, cache_read REAL, cache_write REAL,
    reasoning REAL, cost_usd REAL, PRIMARY KEY (sid, seq, line)
) WITHOUT ROWID;
"""

# The full-text index merges its b-trees less often (16 at a level, not 4): indexing is a
# tenth faster over gigabytes, and a search reads a few more b-trees (still milliseconds).
TUNING = "INSERT INTO docs_fts (docs_fts, rank) VALUES ('automerge', 16);"


def insert_docs(
    db: sqlite3.Connection, sid: str, generation: int, seq: int, docs: Sequence[Doc], *,
    live: bool,
) -> None:  # fmt: skip
    """The documents, and their words in the full-text table."""
    before = db.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()[0]
    db.executemany(
        "INSERT INTO docs (sid, seq, generation, line, role, ts, tool, paths, text, live)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(sid, seq, generation, d.line, d.role, d.ts, safe_text(d.tool), safe_text(d.paths),
          safe_text(d.text), int(live)) for d in docs],
    )  # fmt: skip
    db.execute(
        "INSERT INTO docs_fts (rowid, text, paths, tool, role)"
        " SELECT id, text, paths, COALESCE(tool, ''), role FROM docs WHERE id > ?",
        (before,),
    )


def drop_docs(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> None:
    """Documents that match `where`, and their words (an external-content table forgets
    a row only when told its words)."""
    db.execute(
        "INSERT INTO docs_fts (docs_fts, rowid, text, paths, tool, role)"
        f" SELECT 'delete', id, text, paths, COALESCE(tool, ''), role FROM docs WHERE {where}",
        args,
    )
    db.execute(f"DELETE FROM docs WHERE {where}", args)


def day_of(ts: float | None) -> str | None:
    return time.strftime("%Y-%m-%d", time.gmtime(ts)) if ts is not None else None


_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: Any) -> Any:
    """Text as SQLite can store it: half of an emoji (a string a JavaScript agent cut)
    becomes U+FFFD, as PostgreSQL's backend stores it."""
    if isinstance(text, str) and not text.isascii():
        return _SURROGATE.sub("\ufffd", text)
    return text
