"""The Python API for programs that run agents (re-exported by `uploader`).

Settings come as they do for the command line: an explicit argument, then the same
environment variables (AGENT_UPLOADER_STORE, SUPABASE_URL, SUPABASE_KEY,
SUPABASE_BUCKET, AWS_ENDPOINT_URL, AWS_REGION), then the default local store.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from uploader.read.catalog import Catalog, Query, SessionSummary, select
from uploader.read.restoring import plan_restore, write_restore
from uploader.storage.reading import NotFound
from uploader.storage.sessionid import validate_sid
from uploader.stores import StorageError, Store, StoreOptions, resolve_store_url
from uploader.stores import open_store as _open_url

log = logging.getLogger(__name__)


def open_store(url: str | None = None, options: StoreOptions | None = None) -> Store:
    """The store a URL names (`file:///dir`, `s3://bucket/prefix`, `supabase://bucket`);
    without one, the store the environment names, else ~/.agent-uploader/store."""
    env = os.environ.get
    options = options or StoreOptions(
        s3_endpoint_url=env("AWS_ENDPOINT_URL"),
        s3_region=env("AWS_REGION"),
        supabase_url=env("SUPABASE_URL"),
        supabase_key=env("SUPABASE_KEY"),
        bucket=env("SUPABASE_BUCKET") or "sessions",
    )
    return _open_url(resolve_store_url(url or env("AGENT_UPLOADER_STORE"), options), options)


def list_sessions(store: Store, query: Query | None = None) -> list[SessionSummary]:
    """The sessions in the store, newest first (or as `query` filters and sorts them).
    A store that cannot be listed raises StorageError (never an empty list)."""
    catalog = Catalog(store)
    items = catalog.sessions(wait=True)
    if catalog.last_error:
        raise StorageError(catalog.last_error)
    return select(items, query or Query())


def restore(store: Store, sid: str, path: str | Path, checkpoint: str | None = None) -> bool:
    """Write session `sid` (as it stood at `checkpoint`, default: now) to `path`, replacing
    the file there, durably (temp file, fsync, rename). False when the store has no such
    session or checkpoint, and then the path is left untouched. A damaged session raises
    `uploader.Damaged`; a store that cannot be reached raises `uploader.StorageError`."""
    sid = validate_sid(sid)
    try:
        _, reading = plan_restore(store, sid, checkpoint=checkpoint)
    except NotFound as exc:
        log.info("nothing to restore: %s", exc.message)
        return False
    write_restore(store, reading, Path(path), force=True)
    return True
