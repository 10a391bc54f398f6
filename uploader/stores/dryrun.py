"""A store for --dry-run: reports each write and keeps nothing but a record of them (each
key's size, and the manifests) for the dry run's report."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from uploader.stores.base import ObjectNotFound, Store

log = logging.getLogger(__name__)


class DryRunStore:
    def __init__(self, target: Store) -> None:
        self.description = f"{target.description} (dry run: nothing is written)"
        #: key -> size of its last write, in the order of the first writes.
        self.writes: dict[str, int] = {}
        #: key -> the last bytes written, for the manifests only (they are small).
        self.manifests: dict[str, bytes] = {}

    def check(self) -> None:
        pass

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        log.info("dry run: would write %s (%d bytes, %s)", key, len(data), content_type)
        self.writes[key] = len(data)
        if key.endswith("/manifest.json"):
            self.manifests[key] = data

    def put_if(self, key: str, data: bytes, content_type: str, *, version: str | None) -> str:
        self.put(key, data, content_type)
        return "dry-run"

    def get(self, key: str) -> bytes:
        raise ObjectNotFound(key)

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        raise ObjectNotFound(key)

    def list(self, prefix: str) -> Iterator[str]:
        return iter(())

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            log.info("dry run: would delete %s", key)

    def close(self) -> None:
        pass
