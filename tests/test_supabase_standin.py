"""The Supabase Storage stand-in, driven through the real supabase client (and raw httpx
where the client cannot go), against what the real server was seen to do (docs/stores.md).

The fixtures supabase_server and supabase_standin_session come from supabase_fixtures.py
through conftest.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from storage3.exceptions import StorageApiError
from storage3.types import FileOptions
from supabase import StorageException
from supabase_fixtures import supabase_client, supabase_standin
from supabase_standin import DEFAULT_CONTENT_TYPE, SupabaseStandin

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


def test_upload_download_info(supabase_server: SupabaseStandin, bucket: Any) -> None:
    result = bucket.upload("team-a/s1/seg-000001.gz", b"\x1f\x8bdata", GZIP)

    assert result.full_path == "sessions/team-a/s1/seg-000001.gz"
    assert bucket.download("team-a/s1/seg-000001.gz") == b"\x1f\x8bdata"
    info = bucket.info("team-a/s1/seg-000001.gz")
    assert info["content_type"] == "application/gzip"
    assert info["size"] == 6
    assert info["name"] == "team-a/s1/seg-000001.gz"
    assert bucket.exists("team-a/s1/seg-000001.gz")
    assert not bucket.exists("team-a/s1/seg-000002.gz")


def test_the_client_uploads_multipart_with_cache_control_then_file(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    bucket.upload("k/one.json", b"{}", {"content-type": "application/json", "upsert": "true"})
    bucket.upload("k/two.txt", b"plain")  # no options: upsert "false", the default type

    one, two = supabase_server.uploads
    assert one.multipart and one.method == "POST"
    assert one.fields == {"cacheControl": "3600"}
    assert (one.file_field, one.filename) == ("file", "one.json")
    assert one.content_type == "application/json"
    assert one.upsert
    assert not two.upsert
    assert two.content_type == DEFAULT_CONTENT_TYPE == "text/plain;charset=UTF-8"
    stored = supabase_server.get_object("k/one.json")
    assert stored is not None and stored.cache_control == "max-age=3600"


def test_upload_without_upsert_twice_is_409(bucket: Any) -> None:
    bucket.upload("m/manifest.json", b"first", {"content-type": "application/json"})

    with pytest.raises(StorageApiError) as exc:
        bucket.upload("m/manifest.json", b"second", {"content-type": "application/json"})

    assert isinstance(exc.value, StorageException)
    assert "409" in str(exc.value)
    assert error_of(exc) == ("409", "Duplicate", "The resource already exists")
    assert bucket.download("m/manifest.json") == b"first"


def test_upsert_overwrites_and_update_puts(supabase_server: SupabaseStandin, bucket: Any) -> None:
    bucket.upload("u/x.json", b"1", {"content-type": "application/json", "upsert": "true"})
    first = bucket.info("u/x.json")
    bucket.upload("u/x.json", b"22", {"content-type": "application/json", "upsert": "true"})
    bucket.update("u/x.json", b"333", {"content-type": "application/json"})
    bucket.update("u/new.json", b"4", {"content-type": "application/json"})  # PUT creates

    assert bucket.download("u/x.json") == b"333"
    assert bucket.info("u/x.json")["id"] == first["id"]  # an overwrite keeps the id
    assert bucket.download("u/new.json") == b"4"
    assert [u.method for u in supabase_server.uploads] == ["POST", "POST", "PUT", "PUT"]


def test_upsert_must_be_the_string_true(bucket: Any) -> None:
    with pytest.raises(AttributeError):  # httpx: 'bool' object has no attribute 'encode'
        bucket.upload("b/x", b"1", {"content-type": "text/plain", "upsert": True})


def test_raw_body_uploads(supabase_server: SupabaseStandin) -> None:
    url = api(supabase_server, "object/sessions/raw/one.json")
    headers = {**auth(supabase_server), "content-type": "application/json"}
    with httpx.Client(timeout=10) as http:
        first = http.post(url, content=b'{"a":1}', headers=headers)
        again = http.post(url, content=b'{"a":2}', headers=headers)
        upsert = http.post(url, content=b'{"a":3}', headers={**headers, "x-upsert": "true"})
        bare = http.post(api(supabase_server, "object/sessions/raw/two"), content=b"x",
                         headers=auth(supabase_server))  # fmt: skip

    assert first.status_code == 200
    assert first.json()["Key"] == "sessions/raw/one.json"
    assert again.status_code == 400
    assert again.json()["statusCode"] == "409"
    assert upsert.status_code == 200
    stored = supabase_server.get_object("raw/one.json")
    assert stored is not None
    assert (stored.data, stored.content_type) == (b'{"a":3}', "application/json")
    assert not supabase_server.uploads[0].multipart
    assert bare.status_code == 200
    two = supabase_server.get_object("raw/two")
    assert two is not None and two.content_type == DEFAULT_CONTENT_TYPE


def test_objects_over_the_size_limit_get_413(supabase_server: SupabaseStandin, bucket: Any) -> None:
    supabase_server.max_object_size = 1000

    with pytest.raises(StorageApiError) as exc:
        bucket.upload("big/x.gz", b"x" * 1001, GZIP)

    assert error_of(exc)[0] == "413"
    bucket.upload("big/y.gz", b"x" * 1000, GZIP)


# --- keys ------------------------------------------------------------------------------------


def test_keys_keep_slashes_and_odd_characters(bucket: Any) -> None:
    key = "team a/2025-06-01T12:00:00/seg (1)+x=y,z&w@v$u;t!s'r*q.gz"
    bucket.upload(key, b"odd", GZIP)

    assert bucket.download(key) == b"odd"
    with httpx.Client(timeout=10) as http:
        assert http.get(bucket.create_signed_url(key, 60)["signedURL"]).content == b"odd"
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
    with pytest.raises(StorageApiError) as exc:
        bucket.info("nope/x.gz")
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


def test_head_of_an_object(supabase_server: SupabaseStandin, bucket: Any) -> None:
    bucket.upload("h/x.gz", b"12345", GZIP)
    with httpx.Client(timeout=10) as http:
        head = http.head(
            api(supabase_server, "object/sessions/h/x.gz"), headers=auth(supabase_server)
        )
    assert head.status_code == 200
    assert head.headers["content-length"] == "5"
    assert head.headers["content-type"] == "application/gzip"
    assert head.content == b""


def test_wrong_key_is_403(supabase_server: SupabaseStandin) -> None:
    for key in ("not-a-jwt", SupabaseStandin().key, supabase_server.make_key(expires_in=-60)):
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


def test_anon_key_without_policies_sees_nothing(supabase_server: SupabaseStandin) -> None:
    supabase_server.put_object("s/x.gz", b"x")
    with supabase_client(supabase_server.url, supabase_server.anon_key) as client:
        anon = client.storage.from_("sessions")
        with pytest.raises(StorageApiError) as write:
            anon.upload("s/y.gz", b"y", GZIP)
        with pytest.raises(StorageApiError) as probe:
            client.storage.get_bucket("sessions")
        assert anon.list("s") == []
        assert not anon.exists("s/x.gz")
    assert error_of(write) == ("403", "Unauthorized", "new row violates row-level security policy")
    assert error_of(probe)[:2] == ("404", "Bucket not found")


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

        assert storage.create_bucket("archive") == {"name": "archive"}
        with pytest.raises(StorageApiError) as dup:
            storage.create_bucket("archive")
        assert [b.id for b in storage.list_buckets()] == ["archive", "sessions"]
        storage.from_("archive").upload("a", b"a", GZIP)
        with pytest.raises(StorageApiError) as full:
            storage.delete_bucket("archive")
        storage.empty_bucket("archive")
        storage.delete_bucket("archive")

    assert error_of(missing) == ("404", "Bucket not found", "Bucket not found")
    assert error_of(upload)[:2] == ("404", "Bucket not found")
    assert error_of(dup)[:2] == ("409", "Duplicate")
    assert error_of(full)[0] == "409"
    assert supabase_server.bucket_names() == ["sessions"]

    supabase_server.delete_bucket("sessions")
    with (
        supabase_client(supabase_server.url, supabase_server.key) as client,
        pytest.raises(StorageApiError) as gone,
    ):
        client.storage.get_bucket("sessions")
    assert error_of(gone)[0] == "404"


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
    desc = bucket.list("p", {"limit": 2, "sortBy": {"column": "name", "order": "desc"}})
    assert [row["name"] for row in desc] == ["sub", "seg-000249.gz"]


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


# --- signed URLs -----------------------------------------------------------------------------


def test_signed_url_works_without_auth_until_it_expires(
    supabase_server: SupabaseStandin, bucket: Any
) -> None:
    bucket.upload("sig/x.gz", b"signed bytes", GZIP)
    url = bucket.create_signed_url("sig/x.gz", 60)["signedURL"]
    assert url.startswith(f"{supabase_server.url}/storage/v1/object/sign/sessions/sig/x.gz?token=")

    with httpx.Client(timeout=10) as http:
        ok = http.get(url)
        tampered = http.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
        other = http.get(url.replace("sig/x.gz", "sig/y.gz"))
        supabase_server.advance_clock(61)
        expired = http.get(url)

    assert ok.status_code == 200
    assert ok.content == b"signed bytes"
    assert ok.headers["content-type"] == "application/gzip"
    assert (tampered.status_code, tampered.json()["error"]) == (400, "InvalidJWT")
    assert (other.status_code, other.json()["error"]) == (400, "InvalidSignature")
    assert expired.status_code == 400
    assert expired.json()["message"] == '"exp" claim timestamp check failed'


def test_signing_a_missing_object_is_404(bucket: Any) -> None:
    with pytest.raises(StorageApiError) as exc:
        bucket.create_signed_url("sig/none.gz", 60)
    assert error_of(exc)[:2] == ("404", "not_found")
    many = bucket.create_signed_urls(["sig/none.gz"], 60)
    assert many[0]["signedURL"] is None and many[0]["error"]


def test_signed_upload_url(supabase_server: SupabaseStandin, bucket: Any) -> None:
    signed = bucket.create_signed_upload_url("up/x.gz")
    bucket.upload_to_signed_url(
        "up/x.gz", signed["token"], b"via token", {"content-type": "application/gzip"}
    )
    assert supabase_server.objects() == {"up/x.gz": b"via token"}


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
    assert not bucket.exists("r/a.gz")
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


# --- faults and counters ------------------------------------------------------------------


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
    assert [c.status for c in supabase_server.calls] == [503, 503, 200]
    assert [c.fault for c in supabase_server.calls] == ["error", "error", None]


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


def test_a_slow_answer_times_the_client_out(supabase_server: SupabaseStandin) -> None:
    supabase_server.delay_next(seconds=2.0, method="POST")
    with (
        supabase_client(supabase_server.url, supabase_server.key, timeout=0.3) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.storage.from_("sessions").upload("slow/x.gz", b"x", GZIP)
    assert supabase_server.keys() == ["slow/x.gz"]  # committed before the answer was held

    supabase_server.delay_next(seconds=0.5, commit=False)
    with (
        supabase_client(supabase_server.url, supabase_server.key, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.storage.from_("sessions").upload("slow/y.gz", b"y", GZIP)
    assert supabase_server.keys() == ["slow/x.gz"]


def test_counters_per_method(supabase_server: SupabaseStandin, bucket: Any) -> None:
    bucket.upload("c/x.gz", b"x", GZIP)
    bucket.download("c/x.gz")
    bucket.list("c")
    bucket.remove(["c/x.gz"])

    assert supabase_server.counts == {"POST": 2, "GET": 1, "DELETE": 1}
    assert supabase_server.count("POST") == 2
    assert supabase_server.count(path="/object/list/") == 1
    assert supabase_server.count() == 4
    supabase_server.reset_counters()
    assert supabase_server.count() == 0


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
            assert idle.get(f"{url}/storage/v1/bucket", headers=auth(standin)).status_code == 200
            started = time.monotonic()
        assert time.monotonic() - started < 3
        with pytest.raises(httpx.TransportError):
            idle.get(f"{url}/storage/v1/bucket")


def test_unknown_routes_are_fastify_404s(supabase_server: SupabaseStandin) -> None:
    with httpx.Client(timeout=10) as http:
        answer = http.get(api(supabase_server, "nothing/here"), headers=auth(supabase_server))
    assert answer.status_code == 404
    assert answer.json()["statusCode"] == 404
