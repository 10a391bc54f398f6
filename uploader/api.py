"""The Python API for programs that run agents (re-exported by `uploader`).

Settings come as they do for the command line: an explicit argument, then the same
environment variables (those of the store settings in uploader.core.settings: STORE,
SUPABASE_URL, SUPABASE_KEY, BUCKET, S3_ENDPOINT_URL, S3_REGION), then the default local
store.
"""

from __future__ import annotations

import logging
from pathlib import Path

from uploader.core import settings
from uploader.core.errors import NotFound
from uploader.read.catalog import Catalog
from uploader.read.listing import Query, select
from uploader.read.restoring import plan_restore, write_restore
from uploader.read.summaries import SessionSummary
from uploader.storage.sessionid import validate_sid
from uploader.stores import (
    StorageError,
    Store,
    StoreOptions,
    open_store as _open_url,
    resolve_store_url,
)

log = logging.getLogger(__name__)


def open_store(url: str | None = None, options: StoreOptions | None = None) -> Store:
    """The store a URL names (`file:///dir`, `s3://bucket/prefix`, `supabase://bucket`);
    without one, the store the environment names, else ~/.agent-uploader/store."""
    options = options or StoreOptions(
        s3_endpoint_url=settings.S3_ENDPOINT_URL.from_env(),
        s3_region=settings.S3_REGION.from_env(),
        supabase_url=settings.SUPABASE_URL.from_env(),
        supabase_key=settings.SUPABASE_KEY.from_env(),
        bucket=settings.BUCKET.from_env() or settings.DEFAULT_BUCKET,
    )
    return _open_url(resolve_store_url(url or settings.STORE.from_env(), options), options)


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
