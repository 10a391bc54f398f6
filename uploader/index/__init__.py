"""Full-text search and token usage over every session of a store (see base.py for what an
index holds, extract.py for what of a line is indexed, indexer.py for how it keeps up).

`open_index` chooses the backend from the --index setting: nothing given, a SQLite file of
this store's own in the user's data folder; a path, that SQLite file; a postgresql:// URL,
that database (uploader.index.postgres, with the `postgres` extra); `off`, none.

May import: core, stores, agents, storage, read, and write (the segments a running watch is
still writing, to index their lines live). The write path does not import the index: the
CLI hands a watch its BackgroundIndexer.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import platformdirs

from uploader.index.base import Index

__all__ = ["Index", "default_index_path", "open_index"]

OFF = "off"


def default_index_path(store: str) -> Path:
    """This store's SQLite index in the user's data folder: a readable name and a hash of
    the store's description (which never holds a credential)."""
    digest = hashlib.sha256(store.encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", store.split("://", 1)[-1]).strip("-")[-40:] or "store"
    return platformdirs.user_data_path("agent-uploader") / "index" / f"{name}-{digest}.sqlite3"


def open_index(spec: str | None, store: str) -> Index | None:
    """The index `spec` (the --index setting) names for the store described `store`, or
    None for `off`."""
    spec = (spec or "").strip()
    if spec.lower() == OFF:
        return None
    if spec.startswith(("postgresql://", "postgres://")):
        from uploader.index.postgres import PostgresIndex

        return PostgresIndex(spec)
    from uploader.index.sqlite import SqliteIndex

    path = Path(spec).expanduser() if spec else default_index_path(store)
    return SqliteIndex(path)
