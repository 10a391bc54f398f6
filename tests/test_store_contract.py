"""One contract for every store: what the engine relies on, checked against each backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from httpstub import fixed_status_server

from uploader.stores import (
    BucketNotFound,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
    Store,
)
from uploader.stores.s3 import S3Store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "local":
        store: Store = request.getfixturevalue("local_store")
    else:
        store = request.getfixturevalue("s3_store")
    store.check()
    yield store


def test_put_get_roundtrip_replaces(store: Store) -> None:
    store.put("sessions/a/manifest.json", b'{"v":1}', "application/json")
    assert store.get("sessions/a/manifest.json") == b'{"v":1}'
    store.put("sessions/a/manifest.json", b'{"v":2}', "application/json")
    assert store.get("sessions/a/manifest.json") == b'{"v":2}'


def test_missing_key_is_object_not_found(store: Store) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("sessions/nope/manifest.json")


def test_list_is_sorted_and_filtered_by_prefix(store: Store) -> None:
    for key in ["sessions/b/x", "sessions/a/2", "sessions/a/10", "sessions/ab/1", "other/a"]:
        store.put(key, b"1", "application/octet-stream")
    assert list(store.list("sessions/a/")) == ["sessions/a/10", "sessions/a/2"]
    assert list(store.list("sessions/a")) == ["sessions/a/10", "sessions/a/2", "sessions/ab/1"]
    assert list(store.list("missing/")) == []


def test_list_pages_past_a_thousand_keys(store: Store) -> None:
    keys = [f"sessions/many/segments/session-{i:06d}.jsonl.gz" for i in range(1, 1102)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: store.put(k, b"x", "application/gzip"), keys))
    assert list(store.list("sessions/many/")) == keys


def test_delete_removes_and_ignores_missing(store: Store) -> None:
    store.put("sessions/d/a", b"1", "text/plain")
    store.put("sessions/d/b", b"2", "text/plain")
    store.delete(["sessions/d/a", "sessions/d/never"])
    assert list(store.list("sessions/d/")) == ["sessions/d/b"]


def test_large_object_is_exact(store: Store) -> None:
    blob = os.urandom(12 << 20)
    store.put("sessions/big/segments/session-000001.jsonl.gz", blob, "application/gzip")
    assert store.get("sessions/big/segments/session-000001.jsonl.gz") == blob


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/\x01"])
def test_unsafe_keys_are_refused(store: Store, key: str) -> None:
    with pytest.raises(ValueError, match="invalid store key"):
        store.put(key, b"x", "text/plain")


def test_s3_refusal_is_an_auth_error() -> None:
    with fixed_status_server(403) as endpoint:
        store = S3Store("bucket", endpoint_url=endpoint, region="us-east-1")
        try:
            with pytest.raises(StorageAuthError, match="AccessDenied"):
                store.put("sessions/a/x", b"1", "text/plain")
            with pytest.raises(StorageAuthError):
                store.check()
        finally:
            store.close()


def test_s3_overload_is_retryable() -> None:
    with fixed_status_server(503) as endpoint:
        store = S3Store("bucket", endpoint_url=endpoint, region="us-east-1")
        try:
            with pytest.raises(StorageUnavailable, match="SlowDown"):
                store.put("sessions/a/x", b"1", "text/plain")
        finally:
            store.close()


def test_s3_unreachable_is_retryable() -> None:
    with fixed_status_server(503) as endpoint:
        pass  # the port is closed again now
    store = S3Store("bucket", endpoint_url=endpoint, region="us-east-1", connect_timeout=1)
    try:
        with pytest.raises(StorageUnavailable):
            store.get("sessions/a/x")
    finally:
        store.close()


def test_s3_missing_bucket(moto_endpoint: str) -> None:
    store = S3Store("no-such-bucket-here", endpoint_url=moto_endpoint, region="us-east-1")
    try:
        with pytest.raises(BucketNotFound, match="no-such-bucket-here"):
            store.check()
    finally:
        store.close()


def test_local_store_refuses_a_file_as_root(tmp_path: Path) -> None:
    from uploader.stores.local import LocalStore

    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match=r"cannot create store folder .*Not a directory"):
        LocalStore(tmp_path / "file" / "store").check()
