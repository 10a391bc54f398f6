"""Fixtures for the Supabase Storage stand-in (tests/support/supabase_standin.py).

    supabase_standin()          a context manager: its own server, started and stopped
    supabase_standin_session    one server for the whole run (session scope)
    supabase_server             that server, reset for each test: only the bucket
                                "sessions", empty; no faults; counters at zero
    supabase_client(url, key)   the real supabase client, its httpx client closed after

Register them in tests/conftest.py with
    from tests.support.supabase_fixtures import supabase_server, supabase_standin_session
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.support.supabase_standin import DEFAULT_BUCKET, SupabaseStandin

if TYPE_CHECKING:
    from supabase import Client


@contextmanager
def supabase_standin(*, bucket: str = DEFAULT_BUCKET) -> Iterator[SupabaseStandin]:
    """A stand-in of its own on a free 127.0.0.1 port, with `bucket` created; stopped after."""
    standin = SupabaseStandin(bucket=bucket)
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture(scope="session")
def supabase_standin_session() -> Iterator[SupabaseStandin]:
    with supabase_standin() as standin:
        yield standin


@pytest.fixture
def supabase_server(supabase_standin_session: SupabaseStandin) -> Iterator[SupabaseStandin]:
    """The stand-in, fresh for this test: `.url` (SUPABASE_URL), `.key`, `.bucket`."""
    supabase_standin_session.reset()
    yield supabase_standin_session
    supabase_standin_session.heal()


@contextmanager
def supabase_client(
    url: str,
    key: str,
    *,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[Client]:
    """`supabase.create_client(url, key)` with an httpx client of ours, closed afterwards.

    Passing our own httpx client also avoids the storage client's DeprecationWarning for
    its `timeout` argument, which create_client() triggers by default (an error under
    `-W error`)."""
    from supabase import ClientOptions, create_client

    http = httpx.Client(timeout=timeout, transport=transport)
    try:
        yield create_client(url, key, ClientOptions(httpx_client=http))
    finally:
        http.close()
