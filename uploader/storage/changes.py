"""The change feed: which sessions changed lately, told by one listing per hour.

A store's key listing cannot say what changed (S3 lists keys, not versions), and listing
every session's objects costs one request per thousand keys. So a writer, when it writes
a session's manifest, also writes an empty object `changes/{hour}/{slot}/{sid}` (the hour
in UTC, `2026-12-04T19`, and which five minutes of it, `00` to `11`) the first time it does
so in those five minutes. A reader that last looked at time T lists the folders of the
hours from T to now (one request each while nothing changed) and reads again the
manifests of the sessions marked in the slots since T, less SKEW_S for writers' clocks:
what changed, and no other.

Writers of older versions write no marks: a reader lists everything once at the start,
and again every FULL_EVERY_S, to find what they wrote. Marks are tiny and not read after
their hour; a store's lifecycle rule may expire `changes/` after a week.
"""

from __future__ import annotations

import logging
import threading
import time

from uploader.storage.keys import JSON_TYPE, change_folder, change_key
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import StorageError, Store

log = logging.getLogger(__name__)

SLOT_S = 300
#: How far a writer's clock may be behind the reader's.
SKEW_S = 120.0
#: How often a reader lists everything, for sessions written without marks.
FULL_EVERY_S = 6 * 3600.0
_HOUR = 3600


def now() -> float:
    """The time marks are made and read by (tests move it)."""
    return time.time()


def _hour(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H", time.gmtime(ts))


def mark_key(sid: str, at: float) -> str:
    return change_key(_hour(at), int(at % _HOUR) // SLOT_S, sid)


class ChangeMarks:
    """A writer's side: `mark(store, sid)` writes the session's mark for these five
    minutes, once."""

    def __init__(self) -> None:
        self._written: dict[str, str] = {}  # sid -> the key of its latest mark
        self._lock = threading.Lock()
        self._warned = False

    def due(self, sid: str) -> str | None:
        """The key to write for the session, or None when it is written already."""
        key = mark_key(sid, now())
        with self._lock:
            return None if self._written.get(sid) == key else key

    def mark(self, store: Store, sid: str) -> None:
        """Write the mark if due; a store that refuses it is said once, never raised: the
        mark only spares readers a listing."""
        key = self.due(sid)
        if key is None:
            return
        try:
            store.put(key, b"", JSON_TYPE)
        except StorageError as exc:
            if not self._warned:
                self._warned = True
                log.warning("change feed: %s not written (%s); readers will find the "
                            "change at their next full listing", key, exc)  # fmt: skip
            return
        with self._lock:
            self._written[sid] = key


def changed_since(store: Store, since: float, until: float) -> set[str]:
    """The sessions marked from `since` (less SKEW_S) to `until`."""
    start = since - SKEW_S
    found: set[str] = set()
    for hour_start in range(int(start // _HOUR) * _HOUR, int(until) + 1, _HOUR):
        folder = change_folder(_hour(hour_start))
        for key in store.list(folder):
            slot, _, sid = key[len(folder) :].partition("/")
            if not slot.isdigit() or "/" in sid or not is_safe_sid(sid):
                continue
            if hour_start + (int(slot) + 1) * SLOT_S >= start:
                found.add(sid)
    return found
