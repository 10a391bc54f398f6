"""Storage errors: a store (or a sweep's sink) call failed; the class says what to do."""

from __future__ import annotations

from pathlib import Path

from uploader.core.errors.base import UploaderError


class StorageError(UploaderError):
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


class SessionConflict(StorageConflict):
    """Another writer (`writer`, when known) changed `key` of this session: its uploads
    stop, its data stays in the spool."""

    def __init__(self, key: str, writer: str | None = None) -> None:
        if writer is None:  # a create-only object: who wrote it is not known
            super().__init__(
                f"{key} already exists with other content: another writer uses this session id"
            )
        else:
            super().__init__(
                f"{key} was changed by another writer ({writer}); this session's uploads are "
                "paused and its data stays in the spool",
                "give each machine its own session id, or stop the other watcher",
            )
        self.key, self.writer = key, writer


class WriteOnlyStore(StorageError):
    """The store (`store`: its description) can only be written (an upload URL)."""

    def __init__(self, store: str) -> None:
        super().__init__(
            f"{store} can only be written; this needs a store that can be read "
            "(file://..., s3://... or supabase://...)"
        )
        self.store = store


class StoreCheckFailed(StorageError):
    """A command's start-up probe of the store `store` failed with `cause`: one clear line
    for a missing bucket, refused credentials, a store that cannot be reached."""

    def __init__(self, store: str, cause: StorageError) -> None:
        if isinstance(cause, StorageAuthError):
            message, hint = f"store {store} refused our credentials: {cause}", None
        elif isinstance(cause, StorageUnreachable):
            message = f"cannot reach store {store}: {cause}"
            hint = "check the URL or endpoint and the network; nothing was read yet"
        elif isinstance(cause, BucketNotFound):
            message, hint = f"store {store}: {cause}", "create it"
        else:
            message, hint = f"store {store}: {cause}", None
        super().__init__(message, hint)
        self.store, self.cause = store, cause


class NotUploaded(StorageError):
    """A one-shot watch stopped with `left` segments still in its spool's queue (`queue`):
    the store failed, or did not take them in time. Nothing is lost: they wait there."""

    def __init__(self, left: int, queue: Path) -> None:
        super().__init__(
            f"{left} segment(s) were not uploaded and wait in {queue}",
            "the log above says why; the next watch on this spool uploads them first",
        )
        self.left, self.queue = left, queue


class SinkRefused(StorageError):
    """A sweep's destination (the store, or a Nexus collector) did not take the file, or
    the file changed while it was sent: it stays in place for the next sweep."""
