"""The store protocol: a few synchronous calls that move bytes by key.

Everything that knows about sessions, segments and manifests sits above this
protocol, written once. Each backend translates its SDK's exceptions into the
StorageError branch of the error tree (uploader.core.errors, re-exported here) at one
place, so callers decide on retries by type alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from uploader.core.errors import (
    BucketNotFound,
    ObjectNotFound,
    StorageAuthError,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    StorageUnreachable,
    WriteOnlyStore,
)

__all__ = [
    "BucketNotFound",
    "ObjectNotFound",
    "StorageAuthError",
    "StorageConflict",
    "StorageError",
    "StorageUnavailable",
    "StorageUnreachable",
    "Store",
    "VersionedStore",
    "WriteOnlyStore",
    "check_key",
    "http_date",
    "redact_url",
    "scrub",
]


@runtime_checkable
class Store(Protocol):
    """Where sessions live. Keys are relative, '/'-separated, never start with '/'."""

    #: A human-readable name for messages, never containing credentials.
    description: str

    def check(self) -> None:
        """Cheap start-up probe: raise BucketNotFound / StorageAuthError / StorageUnavailable."""

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        """Write the object whole, replacing any previous one; with create_only, raise
        StorageConflict instead if the key exists (atomically where the backend can)."""

    def get(self, key: str) -> bytes:
        """Read the object whole, or raise ObjectNotFound."""

    def list(self, prefix: str) -> Iterator[str]:
        """Keys starting with prefix, in sorted order."""

    def delete(self, keys: Iterable[str]) -> None:
        """Remove the keys; missing ones are not an error."""

    def close(self) -> None:
        """Release connections."""


@runtime_checkable
class VersionedStore(Store, Protocol):
    """A store that can write conditionally (S3's If-Match / If-None-Match)."""

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        """The object and its version tag (ETag), or ObjectNotFound."""

    def put_if(self, key: str, data: bytes, content_type: str, *, version: str | None) -> str:
        """Write only if the object's version is still `version` (None: only if absent);
        else StorageConflict. Returns the new version tag."""


def check_key(key: str) -> str:
    """Reject keys that could escape the store's root (absolute, '..', empty parts)."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid store key {key!r}")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in key):
        raise ValueError(f"invalid store key {key!r}: control character")
    return key


def http_date(value: str | None) -> float | None:
    """An HTTP `Date` header (a store's clock, for `doctor`) as epoch seconds; None when
    there is none or it does not parse."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


# -- what may be shown of a URL or a server's answer ---------------------------------------


def redact_url(url: str) -> str:
    """A URL as it may be shown: no user:password, no query string (tokens, signatures),
    no fragment."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL that parses (a bad port, a broken IPv6 host)
        parts, port = None, None
    if parts is None or not parts.scheme or not parts.netloc:
        url = re.sub(r"//[^/@\s]*@", "//…@", url)
        return url if "?" not in url else url.split("?", 1)[0] + "?…"
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{port}" if port else host
    if parts.username is not None or parts.password is not None:
        netloc = f"…@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))


_URL = re.compile(r"""\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s'"<>`]+""")
# name=value (a query string, a form body, a header written out) and "name": "value"
# (a JSON body) for names that hold secrets; Bearer/Basic credentials; JWTs (Supabase's
# keys) and Supabase's newer keys, wherever they are.
_FIELD_NAMES = (
    r"api[_\-]?key|apikey|token|access[_\-]?token|refresh[_\-]?token|id[_\-]?token"
    r"|secret|client[_\-]?secret|password|passwd|pwd|signature|credential"
    r"|x-amz-signature|x-amz-credential|x-amz-security-token|authorization"
)
_PARAM_NAMES = _FIELD_NAMES + "|key|code|sig|auth"  # `?code=KEY` is how Nexus takes its key
_SECRET_PARAM = re.compile(rf"(?i)\b({_PARAM_NAMES})=[^\s&#'\"<>]+")
_SECRET_FIELD = re.compile(rf"""(?i)(["'](?:{_FIELD_NAMES})["']\s*:\s*["'])[^"']+""")
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/\-]{8,}=*")
_TOKENS = re.compile(
    r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"  # a JWT
    r"|\bsb_(?:secret|publishable)_[A-Za-z0-9_\-]+"
)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """A server's answer or an HTTP library's message as it may go into an error or a
    log: URLs without credentials or query strings, secret parameters and fields, bearer
    tokens and keys replaced by "…", and each of `secrets` (the keys in use) too."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "…")
    text = _URL.sub(lambda m: redact_url(m.group()), text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=…", text)
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}…", text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} …", text)
    return _TOKENS.sub("…", text)
