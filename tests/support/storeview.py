"""What a user would check in a store: the manifest, and the session rebuilt from it."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from uploader.storage.manifest import manifest_key, object_key
from uploader.stores import ObjectNotFound, Store, StoreOptions, open_store


def store_from_url(url: str, endpoint: str | None = None) -> Store:
    return open_store(url, StoreOptions(s3_endpoint_url=endpoint, s3_region="us-east-1"))


def manifest(store: Store, sid: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(store.get(manifest_key(sid)))
    except ObjectNotFound:
        return None
    return data


def segment_bytes(store: Store, sid: str, entry: dict[str, Any]) -> bytes:
    raw = store.get(object_key(sid, entry["path"]))
    data = gzip.decompress(raw) if entry["path"].endswith(".gz") else raw
    assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"sha256 of seq {entry['seq']}"
    assert len(data) == entry["bytes"], f"bytes of seq {entry['seq']}"
    assert data.count(b"\n") + (0 if data.endswith(b"\n") else 1) == entry["lines"]
    return data


def rebuild(store: Store, sid: str, generation: int | None = None) -> bytes:
    """The session as the manifest names it: its segments in seq order, checked.
    With a generation, only that generation's segments (the default: the last one)."""
    m = manifest(store, sid)
    if m is None:
        return b""
    segments = m["segments"]
    seqs = [s["seq"] for s in segments]
    assert seqs == list(range(1, len(seqs) + 1)), f"gaps or disorder in seq: {seqs}"
    if generation is None and segments:
        generation = segments[-1].get("generation", 1)
    return b"".join(
        segment_bytes(store, sid, s) for s in segments if s.get("generation", 1) == generation
    )


def generations(store: Store, sid: str) -> dict[int, bytes]:
    m = manifest(store, sid) or {"segments": []}
    out: dict[int, bytes] = {}
    for s in m["segments"]:
        gen = s.get("generation", 1)
        out[gen] = out.get(gen, b"") + segment_bytes(store, sid, s)
    return out


class CountingStore:
    """A store that counts the requests made through it, by kind: `LIST`, `PUT`, `GET
    segment` and `GET <name>` for the other objects (`GET manifest.json`)."""

    def __init__(self, store: Store) -> None:
        self.store, self.description = store, store.description
        self.calls: Counter[str] = Counter()

    def check(self) -> None:
        self.store.check()

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        self.calls["PUT"] += 1
        self.store.put(key, data, content_type, create_only=create_only)

    def get(self, key: str) -> bytes:
        kind = "segment" if "/segments/" in key else key.rsplit("/", 1)[-1]
        self.calls[f"GET {kind}"] += 1
        return self.store.get(key)

    def list(self, prefix: str) -> Iterator[str]:
        self.calls["LIST"] += 1
        return self.store.list(prefix)

    def delete(self, keys: Iterable[str]) -> None:
        self.store.delete(keys)

    def close(self) -> None:
        self.store.close()
