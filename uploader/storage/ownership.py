"""Two writers must not destroy each other's data (docs/design.md: two writers).

Two machines can watch sessions with the same id. Every write here either cannot
overwrite another writer's object, or notices that it did:

- segments and checkpoint objects are created, never replaced: a key that exists
  already is read back, and only our own earlier (retried) write of the same bytes is
  accepted;
- the manifest is written conditionally where the store can (S3: If-None-Match on
  create, If-Match on update, a 412 settled by reading the object back, since it may
  be our own retried write); elsewhere (Supabase, a local folder) it is compared with
  what this spool last wrote before writing and read back after writing (both in
  storage.conditional, which labels.json uses too).

A mismatch raises SessionConflict: the shipper stops that session's uploads, says so
and keeps its data in the spool. Every method is blocking and safe to retry whole.
"""

from __future__ import annotations

import contextlib
import json

from uploader.core.errors import SessionConflict as SessionConflict  # raised here
from uploader.storage.conditional import checked_put
from uploader.stores.base import (
    ObjectNotFound,
    StorageConflict,
    Store,
    VersionedStore,
    WriteOnlyStore,
)


class Ownership:
    def __init__(self, store: Store, writer: str) -> None:
        self.store = store
        self.writer = writer
        self._versions: dict[str, str | None] = {}  # manifest key -> version we wrote
        self._last: dict[str, bytes | None] = {}  # manifest key -> bytes we wrote or read

    def create(self, key: str, data: bytes, content_type: str) -> None:
        """Write an object that must never change once written."""
        try:
            self.store.put(key, data, content_type, create_only=True)
        except StorageConflict as exc:
            if self._read(key) != data:
                raise SessionConflict(key) from exc

    def known(self, key: str, data: bytes | None) -> None:
        """Record the manifest as this spool last wrote it (or adopted it from the store)."""
        self._last[key] = data

    def write_manifest(self, key: str, data: bytes, content_type: str) -> None:
        if isinstance(self.store, VersionedStore):
            self._write_versioned(self.store, key, data, content_type)
        else:
            self._write_verified(key, data, content_type)
        self._last[key] = data

    def _write_versioned(
        self, store: VersionedStore, key: str, data: bytes, content_type: str
    ) -> None:
        if key not in self._versions:
            self._versions[key] = self._current_version(store, key, data)
        put = checked_put(store, key, data, content_type, version=self._versions[key])
        if not put.landed:  # refused, and not our own retried write: someone else's
            raise self._conflict(key, put.current)
        self._versions[key] = put.version

    def _current_version(self, store: VersionedStore, key: str, data: bytes) -> str | None:
        """The version to write over: the store's, if it holds what we last wrote."""
        try:
            current, version = store.get_versioned(key)
        except ObjectNotFound:
            return None
        if not self._ours(key, current, data):
            raise self._conflict(key, current)
        return version

    def _write_verified(self, key: str, data: bytes, content_type: str) -> None:
        try:
            current: bytes | None = self._read(key)
        except WriteOnlyStore:
            self.store.put(key, data, content_type)  # nothing can be checked
            return
        if current is not None and not self._ours(key, current, data):
            raise self._conflict(key, current)
        put = checked_put(self.store, key, data, content_type, version=None)
        if not put.landed:
            raise self._conflict(key, put.current)

    def _ours(self, key: str, current: bytes, data: bytes) -> bool:
        """Did this spool write `current`? What we last wrote or are writing, or any
        manifest naming our writer: only one process holds a spool, so a newer one of ours
        was written just before a kill, before our cache of it."""
        return current in (self._last.get(key), data) or _writer(current) == self.writer

    def _read(self, key: str) -> bytes | None:
        try:
            return self.store.get(key)
        except ObjectNotFound:
            return None

    @staticmethod
    def _conflict(key: str, current: bytes | None) -> SessionConflict:
        return SessionConflict(key, _writer(current))


def _writer(manifest: bytes | None) -> str:
    with contextlib.suppress(ValueError, AttributeError, TypeError, RecursionError):
        return str(json.loads(manifest or b"null").get("writer", "unknown"))
    return "unknown"
