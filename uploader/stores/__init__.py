"""Stores, chosen by URL: file:///dir (default), s3://bucket/prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .base import (
    BucketNotFound,
    ObjectNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
    Store,
)

__all__ = [
    "BucketNotFound",
    "ObjectNotFound",
    "StorageAuthError",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "StoreOptions",
    "open_store",
]

DEFAULT_STORE_URL = "file://~/.agent-uploader/store"
_S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class StoreOptions:
    s3_endpoint_url: str | None = None
    s3_region: str | None = None


def open_store(url: str, options: StoreOptions | None = None) -> Store:
    """Build the store a URL names; a malformed URL is a UsageError naming it."""
    options = options or StoreOptions()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UsageError(
            f"--store {url!r} is not a store URL",
            "use file:///absolute/dir, file://~/dir or s3://bucket/prefix",
        )
    if scheme == "file":
        if not rest or not (rest.startswith("/") or rest.startswith("~")):
            raise UsageError(
                f"--store {url!r}: a file store needs an absolute path",
                "write file:///absolute/dir (three slashes) or file://~/dir",
            )
        from .local import LocalStore

        return LocalStore(Path(rest))
    if scheme == "s3":
        bucket, _, prefix = rest.partition("/")
        if not _S3_BUCKET.match(bucket) or ".." in bucket:
            raise UsageError(
                f"--store {url!r}: {bucket!r} is not a valid S3 bucket name",
                "bucket names are 3-63 lowercase letters, digits, dots and hyphens",
            )
        if ".." in prefix.split("/"):
            raise UsageError(f"--store {url!r}: the key prefix may not contain '..'")
        from .s3 import S3Store

        return S3Store(
            bucket, prefix, endpoint_url=options.s3_endpoint_url, region=options.s3_region
        )
    raise UsageError(
        f"--store {url!r}: unknown scheme {scheme!r}",
        "supported stores: file:///dir and s3://bucket/prefix",
    )
