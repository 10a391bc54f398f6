"""Hyperscan (the `hyperscan` package, whose wheels bundle the library) where it can be
imported, `hs` None where it cannot: its users (the redactor, uploader.core.literals)
then do the same work in Python. What both need besides the module is here once."""

from __future__ import annotations

import importlib
import threading
from typing import Any

hs: Any
try:  # pragma: no cover - which branch runs depends on the platform
    hs = importlib.import_module("hyperscan")
except ImportError:  # pragma: no cover
    hs = None


def scans_views(db: Any) -> bool:
    """Whether this version of the package scans a memoryview (0.7 wants bytes, so a
    slice of a buffer must be copied first)."""
    try:
        db.scan(memoryview(b"\n"), match_event_handler=_ignore, scratch=hs.Scratch(db))
    except TypeError:
        return False
    return True


class Scratches:
    """A database's scratch space, one per thread (a scan in progress owns its own)."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._local = threading.local()

    def get(self) -> Any:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hs.Scratch(self._db)
        return scratch


def _ignore(*_args: object) -> None:
    return None
