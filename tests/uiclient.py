"""Starlette's TestClient, imported once for every dashboard test."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Starlette asks for httpx2 where only httpx is installed; the client works the same.
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from starlette.testclient import TestClient

__all__ = ["TestClient"]
