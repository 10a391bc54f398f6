"""Replacing an object that another process may be replacing too, without losing either
write unnoticed: the one way the manifest (storage.ownership) and labels.json
(read.labels) are written.

Where the store can write conditionally (a VersionedStore: S3's If-Match on an update,
If-None-Match on a create), the write is made over the version the caller read, and a
refusal is settled by reading the object back: it may hold our own bytes already (a
retried request whose first attempt landed, or another writer who wrote the same).
Elsewhere (Supabase, a local folder) nothing refuses a write: the object is written, then
read back. That catches another write landing between ours and our read; one landing just
before ours is overwritten unseen, which the caller narrows by checking, before writing,
that the object is still the one it read (storage.ownership does).
"""

from __future__ import annotations

from dataclasses import dataclass

from uploader.stores.base import ObjectNotFound, StorageConflict, Store, VersionedStore


@dataclass(frozen=True)
class Put:
    """How a checked_put went."""

    landed: bool  # the store holds our bytes now
    version: str | None  # the object's version (a VersionedStore), else None
    current: bytes | None  # what the store holds (None: nothing)


def checked_put(
    store: Store, key: str, data: bytes, content_type: str, *, version: str | None
) -> Put:
    """Write `data` at `key` over the object at `version` (None: over no object), and say
    whether it landed. `version` counts only where the store has versions: elsewhere the
    caller checks beforehand that the object is the one it means to replace."""
    if isinstance(store, VersionedStore):
        try:
            return Put(True, store.put_if(key, data, content_type, version=version), data)
        except StorageConflict:
            try:
                current, now = store.get_versioned(key)
            except ObjectNotFound:  # deleted meanwhile
                return Put(False, None, None)
            return Put(current == data, now, current)
    store.put(key, data, content_type)
    try:
        after: bytes | None = store.get(key)
    except ObjectNotFound:
        after = None
    return Put(after == data, None, after)
