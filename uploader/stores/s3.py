"""Any S3-compatible bucket through boto3 (AWS, MinIO, R2, moto, ...).

Credentials, region and endpoint come the usual boto3 way (AWS_* variables,
profiles, AWS_ENDPOINT_URL); an explicit endpoint switches to path-style
addressing, which every S3-compatible server understands. botocore's own retries
are switched off: the uploader's retry policy (forever, capped backoff) owns that.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
import botocore.exceptions as bexc
from botocore.config import Config

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
    scrub,
)

_AUTH_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
    "Forbidden",
}
_RETRY_CODES = {"SlowDown", "RequestTimeout", "Throttling", "ThrottlingException", "InternalError"}
_TRANSIENT = (
    bexc.EndpointConnectionError,
    bexc.ConnectionClosedError,
    bexc.ReadTimeoutError,
    bexc.ConnectTimeoutError,
    bexc.ResponseStreamingError,
    bexc.IncompleteReadError,
    bexc.ProxyConnectionError,
    bexc.HTTPClientError,
)


def translate(exc: Exception, what: str) -> StorageError:
    """Map one botocore exception onto the store error tree (the only place that does).
    What the server or botocore says is scrubbed of URLs' credentials and tokens."""
    if isinstance(exc, bexc.ClientError):
        err = exc.response.get("Error", {})
        code = scrub(str(err.get("Code", "")))[:100]
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        msg = f"{what}: {code or status} {scrub(str(err.get('Message', '')))[:300]}".rstrip()
        if code == "NoSuchBucket":
            return BucketNotFound(msg)
        if code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412:
            return StorageConflict(msg)
        if code in ("NoSuchKey", "NotFound") or status == 404:
            return ObjectNotFound(msg)
        if code in _AUTH_CODES or status in (401, 403):
            return StorageAuthError(msg)
        if code in _RETRY_CODES or status == 429 or status >= 500:
            return StorageUnavailable(msg)
        return StorageError(msg)
    if isinstance(exc, bexc.NoCredentialsError | bexc.PartialCredentialsError):
        return StorageAuthError(f"{what}: no AWS credentials found (set AWS_ACCESS_KEY_ID/...)")
    if isinstance(exc, bexc.EndpointConnectionError | bexc.ConnectTimeoutError):
        return StorageUnreachable(f"{what}: {scrub(str(exc))}")
    if isinstance(exc, _TRANSIENT):
        return StorageUnavailable(f"{what}: {scrub(str(exc))}")
    return StorageError(f"{what}: {scrub(str(exc))}")


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"
        s3: dict[str, Any] = {"addressing_style": "path"} if endpoint_url else {}
        if endpoint_url is None or endpoint_url.startswith("https://"):
            # TLS already guards the body on its way, so it is not hashed a second time
            # to sign it (UNSIGNED-PAYLOAD, as botocore does for uploads over https when a
            # checksum header is sent; we send none, so it would hash every segment
            # again). Plain http keeps the signed payload: its only guard.
            s3["payload_signing_enabled"] = False
        config = Config(
            retries={"total_max_attempts": 1},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # Segments carry their own sha256 in the manifest; an extra CRC pass
            # per upload is CPU for nothing.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3=s3 or None,
            max_pool_connections=16,
        )
        session = boto3.session.Session()
        self.client: Any = session.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except (bexc.BotoCoreError, bexc.ClientError) as exc:
            raise translate(exc, what) from exc

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except bexc.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise BucketNotFound(f"bucket {self.bucket!r} does not exist") from exc
            raise translate(exc, f"checking bucket {self.bucket!r}") from exc
        except bexc.BotoCoreError as exc:
            raise translate(exc, f"checking bucket {self.bucket!r}") from exc

    def server_time(self) -> float | None:
        """The server's clock (epoch seconds), from the Date header of a HEAD of the
        bucket: any answer has one, a refusal's too. None when it has none."""
        try:
            resp = self.client.head_bucket(Bucket=self.bucket)
        except bexc.ClientError as exc:
            resp = exc.response
        except bexc.BotoCoreError as exc:
            raise translate(exc, f"checking bucket {self.bucket!r}") from exc
        return http_date(resp.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date"))

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        extra = {"IfNoneMatch": "*"} if create_only else {}
        self._call(
            f"PUT {key}",
            self.client.put_object,
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
            **extra,
        )

    def put_if(self, key: str, data: bytes, content_type: str, *, version: str | None) -> str:
        condition = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        resp = self._call(
            f"PUT {key}",
            self.client.put_object,
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
            **condition,
        )
        return str(resp["ETag"])

    def get(self, key: str) -> bytes:
        return self.get_versioned(key)[0]

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        resp = self._call(
            f"GET {key}", self.client.get_object, Bucket=self.bucket, Key=self._key(key)
        )
        try:
            return bytes(resp["Body"].read()), str(resp["ETag"])
        except (bexc.BotoCoreError, OSError) as exc:
            raise StorageUnavailable(f"GET {key}: body cut short: {scrub(str(exc))}") from exc

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        strip = len(self.prefix)
        try:
            for page in pages:
                for obj in page.get("Contents", ()):
                    yield obj["Key"][strip:]
        except (bexc.BotoCoreError, bexc.ClientError) as exc:
            raise translate(exc, f"LIST {prefix}") from exc

    def delete(self, keys: Iterable[str]) -> None:
        batch: builtins.list[dict[str, str]] = []
        for key in keys:
            batch.append({"Key": self._key(key)})
            if len(batch) == 1000:  # DeleteObjects takes at most 1000 keys
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def _delete_batch(self, batch: builtins.list[dict[str, str]]) -> None:
        resp = self._call(
            "DELETE",
            self.client.delete_objects,
            Bucket=self.bucket,
            Delete={"Objects": batch, "Quiet": True},
        )
        errors = [e for e in resp.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
        if errors:
            first = errors[0]
            raise StorageError(f"DELETE {first.get('Key')}: {scrub(str(first.get('Code')))}")

    def close(self) -> None:
        self.client.close()
