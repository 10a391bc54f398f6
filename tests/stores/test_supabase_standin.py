"""The Supabase Storage stand-in, driven through the real supabase client (and raw httpx
where the client cannot go), against what the real server was seen to do (docs/stores.md):
the calls uploader/stores/supabase.py makes (upload, download, list, remove, get_bucket),
their errors, and the gateway faults.

The fixtures supabase_server and supabase_standin_session come from
tests/support/supabase_fixtures.py through conftest.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from storage3.exceptions import StorageApiError
from storage3.types import FileOptions
from supabase import StorageException

from tests.support.supabase_fixtures import supabase_client, supabase_standin
from tests.support.supabase_standin import DEFAULT_CONTENT_TYPE, SupabaseStandin

GZIP: FileOptions = {"content-type": "application/gzip", "upsert": "true"}


@pytest.fixture
def bucket(supabase_server: SupabaseStandin) -> Iterator[Any]:
    """`create_client(url, key).storage.from_("sessions")`."""
    with supabase_client(supabase_server.url, supabase_server.key) as client:
        yield client.storage.from_(supabase_server.bucket)


def auth(server: SupabaseStandin, key: str | None = None) -> dict[str, str]:
    key = key or server.key
    return {"apiKey": key, "Authorization": f"Bearer {key}"}


def api(server: SupabaseStandin, path: str) -> str:
    return f"{server.storage_url}{path}"


def error_of(exc: pytest.ExceptionInfo[StorageApiError]) -> tuple[str, str, str]:
    err = exc.value
    return str(err.status), err.code, err.message


# --- uploads -------------------------------------------------------------------------------


def test_upload_and_download(supabase_server: SupabaseStandin, bucket: Any) -> None:
    result = bucket.upload("team-a/s1/seg-000001.gz", b"\x1f\x8bdata", GZIP)

    assert result.full_path == "sessions/team-a/s1/seg-000001.gz"
    assert bucket.download("team-a/s1/seg-000001.gz") == b"\x1f\x8bdata"
    stored = supabase_server.get_object("team-a/s1/seg-000001.gz")
    assert stored is not None and stored.content_type == "application/gzip"


def test_the_clients_multipart_upload_keeps_the_type(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    bucket.upload("k/one.json", b"{}", {"content-type": "application/json", "upsert": "true"})
    bucket.upload("k/two.txt", b"plain")  # no options: upsert "false", the default type

    one, two = supabase_server.get_object("k/one.json"), supabase_server.get_object("k/two.txt")
    assert one is not None and two is not None
    assert one.content_type == "application/json"
    assert two.content_type == DEFAULT_CONTENT_TYPE == "text/plain;charset=UTF-8"


def test_upload_without_upsert_twice_is_409(bucket: Any) -> None:
    bucket.upload("m/manifest.json", b"first", {"content-type": "application/json"})

    with pytest.raises(StorageApiError) as exc:
        bucket.upload("m/manifest.json", b"second", {"content-type": "application/json"})

    assert isinstance(exc.value, StorageException)
    assert "409" in str(exc.value)
    assert error_of(exc) == ("409", "Duplicate", "The resource already exists")
    assert bucket.download("m/manifest.json") == b"first"


def test_upsert_overwrites(supabase_server: SupabaseStandin, bucket: Any) -> None:
    options: FileOptions = {"content-type": "application/json", "upsert": "true"}
    bucket.upload("u/x.json", b"1", options)
    first = supabase_server.get_object("u/x.json")
    bucket.upload("u/x.json", b"22", options)

    assert bucket.download("u/x.json") == b"22"
    again = supabase_server.get_object("u/x.json")
    assert first is not None and again is not None
    assert again.id == first.id  # an overwrite keeps the id


def test_upsert_must_be_the_string_true(bucket: Any) -> None:
    with pytest.raises(AttributeError):  # httpx: 'bool' object has no attribute 'encode'
        bucket.upload("b/x", b"1", {"content-type": "text/plain", "upsert": True})


# --- keys ------------------------------------------------------------------------------------


def test_keys_keep_slashes_and_odd_characters(bucket: Any) -> None:
    key = "team a/2025-06-01T12:00:00/seg (1)+x=y,z&w@v$u;t!s'r*q.gz"
    bucket.upload(key, b"odd", GZIP)

    assert bucket.download(key) == b"odd"
    folder, rest = key.split("/", 1)
    assert [row["name"] for row in bucket.list(folder)] == [rest.split("/")[0]]


def test_dot_segments_and_unsafe_characters_are_invalid_keys(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    with pytest.raises(ValueError):  # the client refuses these before sending
        bucket.upload("a/../b", b"x", GZIP)
    with httpx.Client(timeout=10) as http:
        dots = http.post(api(supabase_server, "object/sessions/a/%2E%2E/b"), content=b"x",
                         headers=auth(supabase_server))  # fmt: skip
    assert dots.status_code == 400
    assert dots.json()["code"] == "InvalidKey"

    with pytest.raises(StorageApiError) as exc:
        bucket.upload("a/caf\u00e9.gz", b"x", GZIP)  # the real server takes ASCII only
    assert error_of(exc)[:2] == ("400", "InvalidKey")
    assert supabase_server.keys() == []


# --- reads and errors ----------------------------------------------------------------------


def test_missing_object_is_400_with_404_in_the_body(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    with pytest.raises(StorageApiError) as exc:
        bucket.download("nope/x.gz")
    assert error_of(exc) == ("404", "not_found", "Object not found")

    with httpx.Client(timeout=10) as http:
        raw = http.get(
            api(supabase_server, "object/sessions/nope/x.gz"), headers=auth(supabase_server)
        )
        head = http.head(
            api(supabase_server, "object/sessions/nope/x.gz"), headers=auth(supabase_server)
        )
    assert raw.status_code == 400
    assert raw.json() == {
        "statusCode": "404",
        "code": "NoSuchKey",
        "error": "not_found",
        "message": "Object not found",
    }
    assert head.status_code == 400


def test_head_of_the_bucket_has_the_servers_clock(supabase_server: SupabaseStandin) -> None:
    """What SupabaseStore.server_time asks: any answer's Date header."""
    with httpx.Client(timeout=10) as http:
        head = http.head(api(supabase_server, "bucket/sessions"), headers=auth(supabase_server))
    assert head.status_code == 200
    assert parsedate_to_datetime(head.headers["date"]).year >= 2025
    assert head.content == b""


def test_routes_the_store_does_not_call_are_not_there(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    bucket.upload("h/x.gz", b"12345", GZIP)
    with httpx.Client(timeout=10) as http:
        authenticated = http.get(
            api(supabase_server, "object/authenticated/sessions/h/x.gz"),
            headers=auth(supabase_server),
        )
        buckets = http.get(api(supabase_server, "bucket"), headers=auth(supabase_server))
    # read as bucket "authenticated", which has no such object
    assert authenticated.status_code == 400
    assert authenticated.json()["statusCode"] == "404"
    assert buckets.status_code == 404


def test_wrong_key_is_403(supabase_server: SupabaseStandin) -> None:
    for key in ("not-a-jwt", SupabaseStandin().key):  # not a JWT; another server's
        with supabase_client(supabase_server.url, key) as client:
            with pytest.raises(StorageApiError) as exc:
                client.storage.from_("sessions").upload("x/y.gz", b"x", GZIP)
            with pytest.raises(StorageApiError) as probe:
                client.storage.get_bucket("sessions")
        assert error_of(exc)[:2] == ("403", "Unauthorized")
        assert "403" in str(exc.value)
        assert error_of(probe)[:2] == ("403", "Unauthorized")
    assert supabase_server.keys() == []


def test_missing_or_partial_auth_headers_are_403(supabase_server: SupabaseStandin) -> None:
    url = api(supabase_server, "object/list/sessions")
    body = {"prefix": ""}
    bearer = {"Authorization": f"Bearer {supabase_server.key}"}
    with httpx.Client(timeout=10) as http:
        none = http.post(url, json=body)
        no_apikey = http.post(url, json=body, headers=bearer)
        bad_apikey = http.post(url, json=body, headers={**bearer, "apiKey": "nope"})
        good = http.post(url, json=body, headers=auth(supabase_server))
    for answer in (none, no_apikey, bad_apikey):
        assert answer.status_code == 400
        assert answer.json()["statusCode"] == "403"
        assert answer.json()["error"] == "Unauthorized"
    assert none.json()["message"] == "Invalid Compact JWS"
    assert good.status_code == 200


# --- buckets ------------------------------------------------------------------------------


def test_buckets(supabase_server: SupabaseStandin) -> None:
    with supabase_client(supabase_server.url, supabase_server.key) as client:
        storage = client.storage
        assert storage.get_bucket("sessions").id == "sessions"
        with pytest.raises(StorageApiError) as missing:
            storage.get_bucket("nope")
        with pytest.raises(StorageApiError) as upload:
            storage.from_("nope").upload("x/y.gz", b"x", GZIP)
        assert storage.from_("nope").list() == []  # a missing bucket lists as empty

    assert error_of(missing) == ("404", "Bucket not found", "Bucket not found")
    assert error_of(upload)[:2] == ("404", "Bucket not found")


# --- listing -------------------------------------------------------------------------------


def test_list_is_one_level_with_folders(supabase_server: SupabaseStandin, bucket: Any) -> None:
    for key in ("team/s1/a.gz", "team/s1/b.gz", "team/s2/c.gz", "team/m.json", "other/x"):
        bucket.upload(key, b"12", GZIP)

    top = bucket.list()
    team = bucket.list("team")
    s1 = bucket.list("team/s1/")

    assert [(r["name"], r["id"]) for r in top] == [("other", None), ("team", None)]
    assert [r["name"] for r in team] == ["s1", "s2", "m.json"]  # folders come first
    assert [r["id"] is None for r in team] == [True, True, False]
    assert team[0]["metadata"] is None
    assert [r["name"] for r in s1] == ["a.gz", "b.gz"]
    assert s1[0]["metadata"]["size"] == 2
    assert s1[0]["metadata"]["mimetype"] == "application/gzip"
    assert {"id", "name", "created_at", "updated_at", "last_accessed_at"} <= set(s1[0])
    assert bucket.list("team/s3") == []


def test_list_pages_with_limit_and_offset(supabase_server: SupabaseStandin, bucket: Any) -> None:
    keys = [f"p/seg-{i:06d}.gz" for i in range(250)]
    for key in keys:
        supabase_server.put_object(key, b"x", content_type="application/gzip")
    supabase_server.put_object("p/sub/inner.gz", b"x")

    names: list[str] = []
    offset = 0
    while True:
        page = bucket.list("p", {"limit": 100, "offset": offset})
        names += [row["name"] for row in page]
        if len(page) < 100:
            break
        offset += 100

    assert names == ["sub"] + [key.removeprefix("p/") for key in keys]
    assert len(bucket.list("p")) == 100  # the client's default limit


def test_list_search_is_a_case_insensitive_like_prefix(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    for key in ("q/seg-01.gz", "q/seg-02.gz", "q/SEG-10.gz", "q/segX1.gz", "q/xseg.gz"):
        supabase_server.put_object(key, b"x")
    supabase_server.put_object("q/seg-folder/inner.gz", b"x")

    def search(term: str, **extra: Any) -> list[str]:
        return [row["name"] for row in bucket.list("q", {"search": term, **extra})]

    assert search("seg-0") == ["seg-01.gz", "seg-02.gz"]
    assert search("seg-") == ["seg-folder", "SEG-10.gz", "seg-01.gz", "seg-02.gz"]
    assert search("seg-", limit=2, offset=1) == ["SEG-10.gz", "seg-01.gz"]
    assert search("seg") == ["seg-folder", "SEG-10.gz", "seg-01.gz", "seg-02.gz", "segX1.gz"]
    assert search("seg_1") == ["SEG-10.gz", "segX1.gz"]  # SQL LIKE: "_" is any character
    assert search("eg") == []  # a prefix, not a substring


# --- removal -------------------------------------------------------------------------------


def test_remove_by_prefixes_returns_what_it_removed(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    for key in ("r/a.gz", "r/b.gz", "r/c.gz"):
        bucket.upload(key, b"x", GZIP)

    removed = bucket.remove(["r/a.gz", "r/b.gz", "r/none.gz", "r"])

    assert sorted(row["name"] for row in removed) == ["r/a.gz", "r/b.gz"]
    assert removed[0]["bucket_id"] == "sessions"
    assert supabase_server.keys() == ["r/c.gz"]  # "prefixes" are exact keys
    with pytest.raises(StorageApiError) as exc:
        bucket.download("r/a.gz")
    assert error_of(exc)[0] == "404"
    assert bucket.remove(["r/a.gz"]) == []
    with pytest.raises(StorageApiError) as empty:
        bucket.remove([])
    assert error_of(empty)[0] == "400"


# --- concurrency -----------------------------------------------------------------------------


def test_creates_without_upsert_are_not_atomic(supabase_server: SupabaseStandin) -> None:
    supabase_server.race_window = 0.2
    start = threading.Barrier(8)

    def create(i: int) -> bool:
        with supabase_client(supabase_server.url, supabase_server.key) as client:
            start.wait(timeout=10)
            try:
                client.storage.from_("sessions").upload("race/m.json", f"{i}".encode())
            except StorageApiError as exc:
                assert str(exc.status) == "409"
                return False
            return True

    with ThreadPoolExecutor(8) as pool:
        wins = sum(pool.map(create, range(8)))

    assert wins >= 2  # the real server let 13 to 16 of 16 "succeed"
    stored = supabase_server.get_object("race/m.json")
    assert stored is not None and stored.data in {f"{i}".encode() for i in range(8)}


# --- faults ------------------------------------------------------------------


def test_gateway_errors_come_as_html(supabase_server: SupabaseStandin, bucket: Any) -> None:
    supabase_server.fail_next(2, 503, method="POST")

    for _ in range(2):
        with pytest.raises(StorageApiError) as exc:
            bucket.upload("f/x.gz", b"x", GZIP)
        assert exc.value.status == 503  # an int here: the HTTP status, not the body's
        assert exc.value.code == "InternalError"
        assert "503 Service Temporarily Unavailable" in exc.value.message
    bucket.upload("f/x.gz", b"x", GZIP)

    assert supabase_server.keys() == ["f/x.gz"]
    assert supabase_server.pending_faults() == 0


def test_a_reset_surfaces_as_read_error_and_writes_nothing(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    supabase_server.reset_next(method="POST", path="/object/sessions/")

    with pytest.raises(httpx.ReadError):
        bucket.upload("f/x.gz", b"x", GZIP)

    assert supabase_server.keys() == []
    bucket.upload("f/x.gz", b"x", GZIP)
    assert supabase_server.keys() == ["f/x.gz"]


def test_a_dropped_answer_still_commits(supabase_server: SupabaseStandin, bucket: Any) -> None:
    supabase_server.drop_next(method="POST")

    with pytest.raises(httpx.ReadError):
        bucket.upload("f/m.json", b"mine", {"content-type": "application/json"})
    with pytest.raises(StorageApiError) as exc:  # the retry meets our own write
        bucket.upload("f/m.json", b"mine", {"content-type": "application/json"})

    assert error_of(exc)[0] == "409"
    assert bucket.download("f/m.json") == b"mine"


# --- lifecycle -----------------------------------------------------------------------------


def test_a_standin_of_its_own_starts_and_stops() -> None:
    with httpx.Client(timeout=5) as idle:
        with supabase_standin(bucket="other") as standin:
            url = standin.url
            assert url.startswith("http://127.0.0.1:")
            with supabase_client(standin.url, standin.key) as client:
                assert client.storage.get_bucket("other").name == "other"
                client.storage.from_("other").upload("x", b"x", GZIP)
            # a kept-alive connection still open does not hold the shutdown up
            answer = idle.get(f"{url}/storage/v1/bucket/other", headers=auth(standin))
            assert answer.status_code == 200
            started = time.monotonic()
        assert time.monotonic() - started < 3
        with pytest.raises(httpx.TransportError):
            idle.get(f"{url}/storage/v1/bucket/other")


def test_unknown_routes_are_fastify_404s(supabase_server: SupabaseStandin) -> None:
    with httpx.Client(timeout=10) as http:
        answer = http.get(api(supabase_server, "nothing/here"), headers=auth(supabase_server))
    assert answer.status_code == 404
    assert answer.json()["statusCode"] == 404
