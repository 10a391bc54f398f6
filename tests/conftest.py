"""Shared fixtures: a real moto S3 server on 127.0.0.1, the stores, the Supabase stand-in
and the browser; the helpers that are not fixtures are in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import browser, page  # noqa: F401
from tests.support.cli import AWS_ENV
from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.supabase_fixtures import supabase_server, supabase_standin_session  # noqa: F401
from uploader.stores import StoreOptions
from uploader.stores.local import LocalStore
from uploader.stores.s3 import S3Store


@pytest.fixture(autouse=True, scope="session")
def _data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user's data folder (where each store's search index is made by default) in a
    temp dir, for the processes the tests start too (each store has its own index file
    there), set before any fixture starts one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
        yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the whole run, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    for key, value in AWS_ENV.items():
        os.environ.setdefault(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


_bucket_counter = iter(range(1_000_000))


@pytest.fixture
def s3_bucket(moto_endpoint: str) -> str:
    """A fresh, empty bucket per test."""
    import boto3

    name = f"test-{os.getpid()}-{next(_bucket_counter)}"
    boto3.client("s3", endpoint_url=moto_endpoint, **_client_kwargs()).create_bucket(Bucket=name)
    return name


def _client_kwargs() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": AWS_ENV["AWS_DEFAULT_REGION"],
    }


@pytest.fixture
def s3_store(moto_endpoint: str, s3_bucket: str) -> Iterator[S3Store]:
    store = S3Store(s3_bucket, "team-a", endpoint_url=moto_endpoint, region="us-east-1")
    yield store
    store.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(params=["local", "s3", "supabase"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The stores of the end-to-end tests, as a user names them with --store. The CLI
    arguments that go with it are `store_args(request)`; `open_url(request, url)` opens
    the same store for the test to read."""
    if request.param == "local":
        request.node.store_args = []
        return f"file://{tmp_path / 'store'}"
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        request.node.s3_endpoint = endpoint
        request.node.store_args = ["--s3-endpoint-url", endpoint]
        request.node.store_options = StoreOptions(s3_endpoint_url=endpoint, s3_region="us-east-1")
        return f"s3://{bucket}/team-a"
    server = request.getfixturevalue("supabase_server")
    request.node.store_args = ["--supabase-url", server.url, "--supabase-key", server.key]
    request.node.store_options = StoreOptions(supabase_url=server.url, supabase_key=server.key)
    return f"supabase://{server.bucket}/team-a"


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's moto server, forwarding until told not to."""
    with fault_proxy(moto_endpoint) as p:
        yield p
