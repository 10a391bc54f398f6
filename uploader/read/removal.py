"""Removing a session from the store (`delete`, and `clear()` of the Python API).

A copy goes to `archive/<time>/` first, unless asked not to: that folder has the store's
own layout, so `--store <store>/archive/<time>` reads the session back with every
command. The manifest is copied last and deleted first, as uploads write it last: at no
moment does a listed session name a segment that is not there. A deletion cut short
is finished by running it again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from uploader.core.errors import Damaged, SessionInUse, SessionNotFound, SpoolLocked
from uploader.read.labels import load_labels, update_labels
from uploader.storage import manifest as mf
from uploader.storage.changes import ChangeMarks
from uploader.storage.sessionid import validate_sid
from uploader.stores.base import Store
from uploader.write.spool import Spool

log = logging.getLogger(__name__)

ARCHIVE_PREFIX = mf.ARCHIVE_PREFIX  # `delete` names it


@dataclass(frozen=True)
class Removed:
    sid: str
    objects: int
    archive: str | None  # the key prefix of the copy, if one was kept


def session_keys(store: Store, sid: str) -> list[str]:
    return sorted(store.list(mf.session_prefix(sid)))


def remove_session(store: Store, sid: str, *, archive: bool = True) -> Removed:
    """Delete every object of the session (SessionNotFound if there are none)."""
    sid = validate_sid(sid)  # "sid/segments" would otherwise delete part of a session
    keys = session_keys(store, sid)
    if not keys:
        raise SessionNotFound(sid, store.description)
    manifest = mf.manifest_key(sid)
    labels = _labels(store)
    prefix = None
    if archive:
        now = time.time()
        stamp = (
            time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        )
        prefix = mf.archive_prefix(stamp)
        for key in sorted(keys, key=lambda k: k == manifest):  # the manifest last
            store.put(prefix + key, store.get(key), _content_type(key))
        if sid in labels:
            label = json.dumps({sid: labels[sid]}, ensure_ascii=False).encode()
            store.put(prefix + mf.LABELS_KEY, label, mf.JSON_TYPE)
    if manifest in keys:
        store.delete([manifest])
    store.delete([k for k in keys if k != manifest])
    if sid in labels:
        update_labels(store, lambda current: {k: v for k, v in current.items() if k != sid})
    ChangeMarks().mark(store, sid)  # readers of the change feed drop it from their lists
    log.info("%s: %d objects deleted from %s", sid, len(keys), store.description)
    return Removed(sid, len(keys), prefix)


def _labels(store: Store) -> dict[str, str]:
    try:
        return load_labels(store)
    except Damaged as exc:  # a damaged label index must not stop a deletion
        log.warning("%s", exc.message)
        return {}


def _content_type(key: str) -> str:
    return mf.JSON_TYPE if key.endswith(".json") else mf.content_type(key)


def own_writer(spool_dir: Path) -> str | None:
    """The `writer` that this machine's watch (on that spool) puts in manifests."""
    return Spool(spool_dir).existing_writer()


@contextlib.contextmanager
def released_by_spool(spool_dir: Path, state_dir: Path | None, sid: str) -> Iterator[bool]:
    """Around a deletion: refuse if a `watch` running on this machine holds the session;
    otherwise hold its spool meanwhile and forget the session there afterwards, so that a
    later `watch` of the same file uploads it afresh instead of writing a manifest that
    names deleted segments. Yields whether the spool held anything of it."""
    spool = Spool(spool_dir, state_dir)
    if not spool.root.is_dir() or not spool.holds(sid):
        yield False
        return
    try:
        spool.lock()
    except SpoolLocked:
        raise SessionInUse(sid, spool.root) from None
    try:
        yield True
        spool.forget(sid)
    finally:
        spool.unlock()


def clear(store: Store, sid: str) -> bool:
    """Remove a session without keeping a copy; False if there was none."""
    try:
        remove_session(store, sid, archive=False)
    except SessionNotFound:
        return False
    return True
