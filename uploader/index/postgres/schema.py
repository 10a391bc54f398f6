"""The PostgreSQL index's tables: the schema they live in, its version, the DDL that makes
them, and making them once when several processes open a new index at once.

May import: core, index.base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uploader.core.errors import IndexUnavailable
from uploader.index.base import USAGE_FIGURES

if TYPE_CHECKING:
    import psycopg

    Connection = psycopg.Connection[tuple[Any, ...]]

SCHEMA = "agent_uploader"
SCHEMA_VERSION = 1
#: pg_advisory_xact_lock's key while the schema is made (any number; "agup" in ASCII).
SCHEMA_LOCK = 0x61677570
#: The first key of pg_advisory_xact_lock(int, int) while a session's documents are
#: written (the second: the hash of its sid).
SESSION_LOCK = SCHEMA_LOCK

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


def create_schema(conn: Connection, description: str) -> None:
    """Make the tables unless they are there; IndexUnavailable when they are of a newer
    agent-uploader. `description`: the index as it may be shown."""
    if schema_version(conn) == SCHEMA_VERSION:
        return
    # Several processes opening a new index at once: one makes the tables.
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
    version = schema_version(conn)
    if version is None:
        conn.execute(_DDL)
        conn.execute(
            f"INSERT INTO {SCHEMA}.meta (key, value) VALUES ('schema_version', %s)"
            " ON CONFLICT (key) DO NOTHING",
            (str(SCHEMA_VERSION),),
        )
    elif version > SCHEMA_VERSION:
        raise IndexUnavailable(
            description,
            f"its tables are of a newer agent-uploader (schema {version}, "
            f"this one knows {SCHEMA_VERSION})",
            "upgrade agent-uploader, or give this one another index",
        )


def schema_version(conn: Connection) -> int | None:
    # pg_class read as a table (to_regclass may answer from a cache that has not yet
    # seen the tables another process just made).
    exists = conn.execute(
        "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
        " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'meta'",
        (SCHEMA,),
    ).fetchone()
    if exists is None:
        return None
    row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else None


def has_rows(conn: Connection, table: str) -> bool:
    row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.{table})").fetchone()
    return bool(row and row[0])
