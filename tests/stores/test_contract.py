"""One contract for every store: what the engine relies on, checked against each backend."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.httpstub import fixed_status_server
from tests.support.supabase_standin import SupabaseStandin
from uploader.stores import (
    BucketNotFound,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
    Store,
)
from uploader.stores.base import StorageConflict, StorageUnreachable, WriteOnlyStore
from uploader.stores.httpput import HttpPutStore
from uploader.stores.s3 import S3Store
from uploader.stores.supabase import SupabaseStore

REAL_SUPABASE = os.environ.get("SUPABASE_TEST_URL"), os.environ.get("SUPABASE_TEST_KEY")


@pytest.fixture(params=["local", "s3", "supabase", "supabase-real"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Every store the engine can write to and read from, behind the same protocol."""
    if request.param == "local":
        store: Store = request.getfixturevalue("local_store")
    elif request.param == "s3":
        store = request.getfixturevalue("s3_store")
    elif request.param == "supabase":
        server = request.getfixturevalue("supabase_server")
        store = SupabaseStore(server.url, server.key, server.bucket, "team-a")
    else:
        url, key = REAL_SUPABASE
        if not (url and key):
            pytest.skip("set SUPABASE_TEST_URL and SUPABASE_TEST_KEY to run against Supabase")
        bucket = os.environ.get("SUPABASE_TEST_BUCKET", "sessions")
        store = SupabaseStore(url, key, bucket, f"agent-uploader-test-{uuid.uuid4().hex[:8]}")
    store.check()
    yield store
    if request.param == "supabase-real":
        store.delete(list(store.list("")))
    store.close()


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


def test_create_only_refuses_an_existing_key(store: Store) -> None:
    store.put("sessions/c/segments/session-000001.jsonl.gz", b"first", "application/gzip",
              create_only=True)  # fmt: skip
    with pytest.raises(StorageConflict):
        store.put("sessions/c/segments/session-000001.jsonl.gz", b"second", "application/gzip",
                  create_only=True)  # fmt: skip
    assert store.get("sessions/c/segments/session-000001.jsonl.gz") == b"first"


# -- Supabase: what its server and gateways really answer (docs/stores.md) ----------------------


def test_supabase_objects_carry_their_content_type(supabase_server: SupabaseStandin) -> None:
    store = SupabaseStore(supabase_server.url, supabase_server.key, supabase_server.bucket)
    try:
        store.put("sessions/a/segments/session-000001.jsonl.gz", b"\x1f\x8b", "application/gzip")
        store.put("sessions/a/manifest.json", b"{}", "application/json")
    finally:
        store.close()
    seg = supabase_server.get_object("sessions/a/segments/session-000001.jsonl.gz")
    man = supabase_server.get_object("sessions/a/manifest.json")
    assert seg is not None and seg.content_type == "application/gzip"
    assert man is not None and man.content_type == "application/json"


def test_supabase_wrong_key_is_an_auth_error(supabase_server: SupabaseStandin) -> None:
    store = SupabaseStore(supabase_server.url, "not-the-key", supabase_server.bucket)
    try:
        with pytest.raises(StorageAuthError, match="403"):
            store.check()
        with pytest.raises(StorageAuthError):
            store.put("sessions/a/x", b"1", "text/plain")
    finally:
        store.close()


def test_supabase_missing_bucket(supabase_server: SupabaseStandin) -> None:
    store = SupabaseStore(supabase_server.url, supabase_server.key, "no-such-bucket")
    try:
        with pytest.raises(BucketNotFound):
            store.check()
    finally:
        store.close()


@pytest.mark.parametrize("fault", ["gateway-503", "reset", "drop"])
def test_supabase_passing_failures_are_retryable(
    supabase_server: SupabaseStandin, fault: str
) -> None:
    store = SupabaseStore(supabase_server.url, supabase_server.key, supabase_server.bucket)
    injects: dict[str, Callable[[], None]] = {
        "gateway-503": lambda: supabase_server.fail_next(1, status=503),
        "reset": lambda: supabase_server.reset_next(1),
        "drop": lambda: supabase_server.drop_next(1),
    }
    inject = injects[fault]
    try:
        inject()
        with pytest.raises(StorageUnavailable):
            store.put("sessions/a/x", b"1", "text/plain")
        store.put("sessions/a/x", b"1", "text/plain")  # the retry goes through
        assert store.get("sessions/a/x") == b"1"
    finally:
        store.close()


def test_supabase_unreachable_is_said_so() -> None:
    with fixed_status_server(503) as endpoint:
        pass  # the port is closed again now
    store = SupabaseStore(endpoint, "key", "sessions")
    try:
        with pytest.raises(StorageUnreachable):
            store.check()
    finally:
        store.close()


# -- --upload-url: the write half only ---------------------------------------------------


def test_upload_url_puts_objects_where_a_reader_finds_them(
    moto_endpoint: str, s3_bucket: str, s3_store: S3Store
) -> None:
    # moto takes an unsigned PUT, as a presigned or gateway URL would.
    store = HttpPutStore(f"{moto_endpoint}/{s3_bucket}/team-a")
    try:
        store.check()
        store.put("sessions/a/segments/session-000001.jsonl.gz", b"seg", "application/gzip")
        store.put("sessions/a/manifest.json", b"{}", "application/json")
        with pytest.raises(WriteOnlyStore, match="can only be written"):
            store.get("sessions/a/manifest.json")
        with pytest.raises(WriteOnlyStore):
            list(store.list("sessions/"))
    finally:
        store.close()
    assert s3_store.get("sessions/a/segments/session-000001.jsonl.gz") == b"seg"
    assert list(s3_store.list("sessions/a/")) == [
        "sessions/a/manifest.json", "sessions/a/segments/session-000001.jsonl.gz"
    ]  # fmt: skip


@pytest.mark.parametrize(("status", "error"), [(403, StorageAuthError), (503, StorageUnavailable)])
def test_upload_url_failures(status: int, error: type[Exception]) -> None:
    with fixed_status_server(status) as endpoint:
        store = HttpPutStore(f"{endpoint}/up?token=secret")
        try:
            with pytest.raises(error) as raised:
                store.put("sessions/a/x", b"1", "text/plain")
            assert "secret" not in str(raised.value) and "secret" not in store.description
        finally:
            store.close()


def test_upload_url_unreachable() -> None:
    with fixed_status_server(503) as endpoint:
        pass
    store = HttpPutStore(endpoint)
    try:
        with pytest.raises(StorageUnreachable):
            store.check()
    finally:
        store.close()


def test_list_prefix_is_literal(store: Store) -> None:
    """Supabase matches list prefixes with SQL ILIKE ('_' and '%' wildcards): not ours.
    (Its case-insensitivity stays: see docs/stores.md.)"""
    for key in ["sessions/a_b/x", "sessions/aXb/x", "sessions/a_bc/y"]:
        store.put(key, b"1", "text/plain")
    assert list(store.list("sessions/a_b/")) == ["sessions/a_b/x"]
    assert list(store.list("sessions/a_b")) == ["sessions/a_b/x", "sessions/a_bc/y"]
