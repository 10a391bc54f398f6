"""What S3Store sends: an upload over https is not hashed again to be signed; over plain
http its body is signed, the only thing that guards it there."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from uploader.stores.s3 import S3Store


class _Body:
    """An empty answer body, as urllib3's response offers it."""

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield b""


def sent_headers(store: S3Store) -> dict[str, str]:
    """The headers of a PUT as signed, answered here without any network."""
    seen: dict[str, str] = {}

    def answer(request: Any, **_: Any) -> AWSResponse:
        seen.update(
            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )
        return AWSResponse(request.url, 200, {"ETag": '"e"'}, _Body())

    store.client.meta.events.register("before-send.s3.PutObject", answer)
    store.put("sessions/s/segments/x.jsonl.gz", b"segment bytes", "application/gzip")
    return seen


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:9", None])
def test_an_upload_over_tls_is_not_hashed_again_to_sign_it(endpoint: str | None) -> None:
    headers = sent_headers(S3Store("bucket", endpoint_url=endpoint, region="us-east-1"))
    assert headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
    assert "Authorization" in headers


def test_an_upload_over_plain_http_signs_its_body() -> None:
    headers = sent_headers(S3Store("bucket", endpoint_url="http://127.0.0.1:9", region="us-east-1"))
    assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(b"segment bytes").hexdigest()
