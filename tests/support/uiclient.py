"""Starlette's TestClient, imported once for every dashboard test.

Its requests name 127.0.0.1 in Host, as a browser on this machine does: the dashboard
answers no other name unless told to (--ui-allowed-host)."""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    # Starlette asks for httpx2 where only httpx is installed; the client works the same.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from starlette.testclient import TestClient as _TestClient


class TestClient(_TestClient):
    __test__ = False  # not a test class, whatever pytest makes of the name

    def __init__(self, app: Any, base_url: str = "http://127.0.0.1", **kwargs: Any) -> None:
        super().__init__(app, base_url=base_url, **kwargs)


__all__ = ["TestClient"]
