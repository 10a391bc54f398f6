"""`--upload-url BASE`: a plain HTTP PUT of each object to BASE/<key>, write-only.

For presigned or gateway uploads: a query string on BASE (a token) is kept on every
request. Nothing can be read back, so commands that read the store refuse it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx

from uploader.stores.base import (
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
    StorageUnreachable,
    WriteOnlyStore,
    check_key,
    redact_url,
    scrub,
)


class HttpPutStore:
    def __init__(self, base: str, *, timeout: float = 30.0) -> None:
        self._parts = urlsplit(base)
        # No user:password or token is ever shown, whatever the server echoes back.
        self.description = f"{redact_url(base)} (upload URL, write-only)"
        query = [value for _, value in parse_qsl(self._parts.query)]
        self._secrets = [*query, self._parts.password or ""]
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))

    def _url(self, key: str) -> str:
        path = self._parts.path.rstrip("/") + "/" + quote(check_key(key))
        return urlunsplit(self._parts._replace(path=path))

    def check(self) -> None:
        """Only reachability can be probed without writing: any HTTP answer will do."""
        try:
            self._http.head(urlunsplit(self._parts))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise StorageUnreachable(f"{self.description}: {self._said(exc)}") from exc
        except httpx.HTTPError as exc:
            raise StorageUnavailable(f"{self.description}: {self._said(exc)}") from exc

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        try:
            resp = self._http.put(self._url(key), content=data,
                                  headers={"Content-Type": content_type})  # fmt: skip
        except httpx.HTTPError as exc:
            raise StorageUnavailable(f"PUT {key}: {self._said(exc)}") from exc
        status = resp.status_code
        if status < 300:
            return
        msg = f"PUT {key}: HTTP {status} {scrub(resp.text[:4096], self._secrets)[:200]}".rstrip()
        if status in (401, 403):
            raise StorageAuthError(msg)
        if status == 404:
            raise ObjectNotFound(msg)
        if status in (408, 429) or status >= 500:
            raise StorageUnavailable(msg)
        raise StorageError(msg)

    def _said(self, exc: Exception) -> str:
        """An httpx error as it may be shown: its message names the URL, token and all."""
        return f"{type(exc).__name__}: {scrub(str(exc), self._secrets)}"

    def _refuse(self) -> WriteOnlyStore:
        return WriteOnlyStore(self.description)

    def get(self, key: str) -> bytes:
        raise self._refuse()

    def list(self, prefix: str) -> Iterator[str]:
        raise self._refuse()

    def delete(self, keys: Iterable[str]) -> None:
        raise self._refuse()

    def close(self) -> None:
        self._http.close()
