"""Stores, chosen by URL: file:///dir (default), s3://bucket/prefix, supabase://bucket,
or an upload URL (write-only).

May import: core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from uploader.core.errors import ConflictingSettings, InvalidSetting, UnknownScheme
from uploader.core.settings import DEFAULT_BUCKET, DEFAULT_STORE_URL
from uploader.stores.base import (
    BucketNotFound,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
    Store,
    redact_url,
)

__all__ = [
    "DEFAULT_STORE_URL",
    "BucketNotFound",
    "ObjectNotFound",
    "StorageAuthError",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "StoreOptions",
    "open_store",
    "redact_url",
    "resolve_store_url",
]

_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")  # the whole name: fullmatch


@dataclass(frozen=True)
class StoreOptions:
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    supabase_url: str | None = None
    supabase_key: str | None = None
    bucket: str = DEFAULT_BUCKET
    upload_url: str | None = None


def resolve_store_url(explicit: str | None, options: StoreOptions) -> str:
    """Which store a command talks to: the one named, else an upload URL, else Supabase
    when its URL and key are set, else the default local folder."""
    if explicit and options.upload_url:
        raise ConflictingSettings(("store", "upload_url"), "name one store: drop one of them")
    if explicit:
        return explicit
    if options.upload_url:
        return options.upload_url
    if options.supabase_url and options.supabase_key:
        return f"supabase://{options.bucket}"
    return DEFAULT_STORE_URL


def open_store(url: str, options: StoreOptions | None = None) -> Store:
    """Build the store a URL names; a malformed URL is an InvalidSetting naming it."""
    options = options or StoreOptions()
    shown = redact_url(url)

    def bad(problem: str, hint: str | None = None, needs: tuple[str, ...] = ()) -> InvalidSetting:
        return InvalidSetting("store", shown, f"{shown!r}{problem}", hint, needs=needs)

    scheme, sep, rest = url.partition("://")
    if not sep:
        raise bad(
            " is not a store URL", "use file:///absolute/dir, file://~/dir or s3://bucket/prefix"
        )
    if scheme == "file":
        if not rest or not (rest.startswith("/") or rest.startswith("~")):
            raise bad(
                ": a file store needs an absolute path",
                "write file:///absolute/dir (three slashes) or file://~/dir",
            )
        from uploader.stores.local import LocalStore

        return LocalStore(Path(rest))
    if scheme == "s3":
        bucket, _, prefix = rest.partition("/")
        if not _S3_BUCKET.fullmatch(bucket) or ".." in bucket:
            raise bad(
                f": {bucket!r} is not a valid S3 bucket name",
                "bucket names are 3-63 lowercase letters, digits, dots and hyphens",
            )
        if ".." in prefix.split("/"):
            raise bad(": the key prefix may not contain '..'")
        from uploader.stores.s3 import S3Store

        return S3Store(
            bucket, prefix, endpoint_url=options.s3_endpoint_url, region=options.s3_region
        )
    if scheme == "supabase":
        bucket, _, prefix = rest.partition("/")
        bucket = bucket or options.bucket
        if not options.supabase_url or not options.supabase_key:
            raise bad(" needs the project's URL and key", needs=("supabase_url", "supabase_key"))
        if not options.supabase_url.startswith(("http://", "https://")):
            given = redact_url(options.supabase_url)
            raise InvalidSetting(
                "supabase_url",
                given,
                f"{given!r} is not an http(s) URL",
                "use the project URL, e.g. https://abcd.supabase.co",
            )
        from uploader.stores.supabase import SupabaseStore

        return SupabaseStore(options.supabase_url, options.supabase_key, bucket, prefix)
    if scheme in ("http", "https") and url == options.upload_url:
        from uploader.stores.httpput import HttpPutStore

        return HttpPutStore(url)
    raise UnknownScheme(shown, scheme)
