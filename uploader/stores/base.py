"""The store protocol: a few synchronous calls that move bytes by key.

Everything that knows about sessions, segments and manifests sits above this
protocol, written once. Each backend translates its SDK's exceptions into the
tree below at one place, so callers decide on retries by type alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable


class StorageError(Exception):
    """Any failure of a store. Subclasses say what the caller should do."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class StorageUnavailable(StorageError):
    """A passing failure (429, 5xx, timeout, reset, full disk): retry later."""


class StorageUnreachable(StorageUnavailable):
    """No connection could be made at all (refused, no route, name not found)."""


class StorageAuthError(StorageError):
    """The store refused our credentials (401/403): retrying will not help until fixed."""


class BucketNotFound(StorageError):
    """The bucket (or root folder) named in the store URL does not exist."""


class StorageConflict(StorageError):
    """The object already exists (a create-only write) or changed under us (a conditional
    write): another writer is at work on the same keys."""


class WriteOnlyStore(StorageError):
    """The store can only be written (an upload URL); reading it is not possible."""


@runtime_checkable
class Store(Protocol):
    """Where sessions live. Keys are relative, '/'-separated, never start with '/'."""

    #: A human-readable name for messages, never containing credentials.
    description: str

    def check(self) -> None:
        """Cheap start-up probe: raise BucketNotFound / StorageAuthError / StorageUnavailable."""

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        """Write the object whole, replacing any previous one; with create_only, raise
        StorageConflict instead if the key exists (atomically where the backend can)."""

    def get(self, key: str) -> bytes:
        """Read the object whole, or raise ObjectNotFound."""

    def list(self, prefix: str) -> Iterator[str]:
        """Keys starting with prefix, in sorted order."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove the keys; missing ones are not an error."""

    def close(self) -> None:
        """Release connections."""


@runtime_checkable
class VersionedStore(Store, Protocol):
    """A store that can write conditionally (S3's If-Match / If-None-Match)."""

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        """The object and its version tag (ETag), or ObjectNotFound."""

    def put_if(self, key: str, data: bytes, content_type: str, *, version: str | None) -> str:
        """Write only if the object's version is still `version` (None: only if absent);
        else StorageConflict. Returns the new version tag."""


def check_key(key: str) -> str:
    """Reject keys that could escape the store's root (absolute, '..', empty parts)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid store key {key!r}")
    if any(ord(c) < 32 for c in key):
        raise ValueError(f"invalid store key {key!r}: control character")
    return key
