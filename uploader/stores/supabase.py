"""Supabase Storage through the supabase client library.

The client retries nothing; the uploader's retry policy wraps every call. Errors come
as HTTP 400 with the real code in the body (`statusCode` "404", "409", "403"), or as
real 502/503 from a gateway: both are translated here, at one place, into the store
error tree. Supabase has no conditional write, so segments are created with upsert
off (a 409 tells us the key exists) and manifests are verified after writing (see
shipper.py); 409 is not atomic on Supabase, which docs/stores.md says.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from uploader.stores.base import (
    BucketNotFound,
    ObjectNotFound,
    StorageAuthError,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    StorageUnreachable,
    check_key,
    http_date,
    redact_url,
    scrub,
)

PAGE = 1000  # Supabase lists at most this many entries per request


def translate(exc: Exception, what: str, secrets: Iterable[str] = ()) -> StorageError:
    """Map one supabase/httpx exception onto the store error tree. What the server or
    httpx says is scrubbed of URLs' credentials and query strings, tokens and `secrets`."""
    from storage3.exceptions import StorageApiError

    def shown(value: object, limit: int = 300) -> str:
        return scrub(str(value), secrets)[:limit]

    if isinstance(exc, StorageApiError):
        status = str(exc.status)
        msg = f"{what}: {shown(status, 20)} {shown(exc.code, 100)}: {shown(exc.message)}"
        if status == "404":
            if "bucket" in str(exc.code).lower() or "bucket" in str(exc.message).lower():
                return BucketNotFound(msg)
            return ObjectNotFound(msg)
        if status in ("401", "403"):
            return StorageAuthError(msg)
        if status == "409":
            return StorageConflict(msg)
        if status == "429" or status.startswith("5"):
            return StorageUnavailable(msg)
        return StorageError(msg)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return StorageUnreachable(f"{what}: {type(exc).__name__}: {shown(exc)}")
    if isinstance(exc, httpx.TransportError):
        return StorageUnavailable(f"{what}: {type(exc).__name__}: {shown(exc)}")
    return StorageError(f"{what}: {shown(exc)}")


def _like_literal(text: str) -> str:
    """Supabase matches list prefixes and searches with SQL ILIKE: escape its wildcards
    so that `a_b` does not also list `aXb`. (Case stays insensitive: session ids that
    differ only in case share their listings on Supabase.)"""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SupabaseStore:
    def __init__(
        self, url: str, key: str, bucket: str, prefix: str = "", *, timeout: float = 30.0
    ) -> None:
        from supabase import ClientOptions, create_client

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"supabase://{bucket}/{self.prefix} at {redact_url(url.rstrip('/'))}"
        self._secrets = (key,)  # never in a message, whatever the server echoes
        self._url = url.rstrip("/")
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))
        options: Any = ClientOptions(httpx_client=self._http)
        self._client = create_client(url, key, options=options)
        self._files = self._client.storage.from_(bucket)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        from storage3.exceptions import StorageApiError

        try:
            return fn(*args)
        except (StorageApiError, httpx.HTTPError) as exc:
            raise translate(exc, what, self._secrets) from exc

    def _path(self, key: str) -> str:
        return self.prefix + check_key(key)

    def check(self) -> None:
        self._call(f"checking bucket {self.bucket!r}", self._client.storage.get_bucket, self.bucket)

    def server_time(self) -> float | None:
        """The server's clock (epoch seconds), from the Date header of an answer of its
        Storage API (any answer has one); None when it has none."""
        try:
            resp = self._http.head(f"{self._url}/storage/v1/bucket/{quote(self.bucket, safe='')}")
        except httpx.HTTPError as exc:
            raise translate(exc, "asking the time", self._secrets) from exc
        return http_date(resp.headers.get("date"))

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        options = {"content-type": content_type, "upsert": "false" if create_only else "true"}
        self._call(f"PUT {key}", self._files.upload, self._path(key), data, options)

    def get(self, key: str) -> bytes:
        return bytes(self._call(f"GET {key}", self._files.download, self._path(key)))

    def list(self, prefix: str) -> Iterator[str]:
        full = self.prefix + prefix
        folder, _, name_prefix = full.rpartition("/")
        keys = sorted(self._walk(folder, name_prefix))
        strip = len(self.prefix)
        return iter([k[strip:] for k in keys])

    def _walk(self, folder: str, name_prefix: str) -> Iterator[str]:
        """Supabase lists one folder level at a time; folders come back with id null."""
        offset = 0
        while True:
            options = {
                "limit": PAGE,
                "offset": offset,
                "search": _like_literal(name_prefix),
                "sortBy": {"column": "name", "order": "asc"},
            }
            entries: builtins.list[dict[str, Any]] = self._call(
                f"LIST {folder}/", self._files.list, _like_literal(folder), options
            )
            for entry in entries:
                if not entry["name"].startswith(name_prefix):
                    continue  # search is SQL LIKE: case-insensitive, '_' and '%' wildcards
                path = f"{folder}/{entry['name']}" if folder else entry["name"]
                if entry.get("id") is None:
                    yield from self._walk(path, "")
                else:
                    yield path
            if len(entries) < PAGE:
                return
            offset += PAGE

    def delete(self, keys: Iterable[str]) -> None:
        batch: builtins.list[str] = []
        for key in keys:
            batch.append(self._path(key))
            if len(batch) == PAGE:
                self._call("DELETE", self._files.remove, batch)
                batch = []
        if batch:
            self._call("DELETE", self._files.remove, batch)

    def close(self) -> None:
        self._http.close()
