"""Checks 2, 3 and 4: the store: a probe object written, read back and removed; the
credentials; this machine's clock against the store's, and how far off it may be.
"""

from __future__ import annotations

import re
import secrets
import socket
import time

from uploader.core import errors as e
from uploader.core.units import format_duration
from uploader.doctor.checks.outcome import FAIL, OK, WARN, Check, shown_error
from uploader.messages import explain
from uploader.storage.changes import SKEW_S
from uploader.stores import Store
from uploader.stores.local import LocalStore

#: How far this machine's clock may be from the store's (seconds) before doctor warns,
#: and before it fails.
SKEW_WARN_S = 30.0
SKEW_FAIL_S = 300.0
#: The first words of every probe object's key.
PROBE_PREFIX = "doctor/probe-"


def _no_store(name: str, problem: e.UploaderError | None) -> Check:
    """The store settings cannot be used: the store check says why, the others that
    they could not run."""
    if name == "store" and problem is not None:
        return shown_error(name, problem)
    return Check(
        name,
        WARN,
        "not checked: the store settings cannot be used (see store)",
        "fix the store settings first",
    )


def probe_key() -> str:
    """A key no one else writes: this host's name and a random part."""
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", socket.gethostname()).strip("-.")[:60] or "host"
    return f"{PROBE_PREFIX}{host}-{secrets.token_hex(6)}"


def store_probe(store: Store | None, problem: e.UploaderError | None = None) -> Check:
    """Reachable and writable: a probe object written, read back, compared and removed.
    A write-only store (an upload URL) can only be written."""
    if store is None:
        return _no_store("store", problem)
    key = probe_key()
    data = f"agent-uploader doctor: a probe, removed at once ({key})\n".encode()
    where = store.description
    try:
        store.put(key, data, "text/plain")
    except e.StorageError as exc:
        return Check("store", FAIL, f"{where}: cannot write {key}: {exc}", explain(exc).hint)
    try:
        back = store.get(key)
    except e.WriteOnlyStore:
        return Check(
            "store", OK, f"{where}: wrote {key} (write-only: it cannot be read back or removed)"
        )
    except e.StorageError as exc:
        _remove(store, key)
        return Check(
            "store",
            FAIL,
            f"{where}: wrote {key}, but cannot read it back: {exc}",
            explain(exc).hint,
        )
    left = _remove(store, key)
    if back != data:
        return Check(
            "store",
            FAIL,
            f"{where}: {key} read back is not what was written "
            f"({len(back)} bytes, not {len(data)})",
            "something between here and the store changes objects (a proxy, "
            "a gateway): uploads would be refused as damaged",
        )
    if left is not None:
        return Check(
            "store",
            WARN,
            f"{where}: wrote and read back {key}, but cannot remove it: {left}",
            f"remove {key} from the store by hand",
        )
    return Check("store", OK, f"{where}: wrote, read back and removed {key}")


def _remove(store: Store, key: str) -> e.StorageError | None:
    try:
        store.delete([key])
    except e.StorageError as exc:
        return exc
    return None


def credentials(store: Store | None, problem: e.UploaderError | None = None) -> Check:
    """The store's own start-up check (Store.check), as `watch` runs it: refused
    credentials and a missing bucket are named as such (never a secret)."""
    if store is None:
        return _no_store("credentials", problem)
    try:
        store.check()
    except e.StorageError as exc:
        return shown_error("credentials", e.StoreCheckFailed(store.description, exc))
    from uploader.stores.httpput import HttpPutStore  # httpx: imported when doctor runs

    if isinstance(store, LocalStore):
        said = "no credentials needed: the folder is there and this user may write it"
    elif isinstance(store, HttpPutStore):
        said = "it answers; an upload URL's credentials are tried by the probe's write"
    else:
        said = "the bucket is there and takes these credentials"
    return Check("credentials", OK, f"{store.description}: {said}")


def clock(store: Store | None, problem: e.UploaderError | None = None) -> Check:
    """This machine's clock against the store's (the Date of its answer)."""
    if store is None:
        return _no_store("clock", problem)
    if isinstance(store, LocalStore):
        return Check("clock", OK, "not applicable: a local store keeps this machine's time")
    server_time = getattr(store, "server_time", None)
    if server_time is None:
        return Check("clock", OK, f"not measured: {store.description} does not say its time")
    before = time.time()
    try:
        theirs = server_time()
    except e.StorageError as exc:
        return Check("clock", WARN, f"not measured: {exc}", explain(exc).hint)
    ours = (before + time.time()) / 2
    if theirs is None:
        return Check("clock", OK, f"not measured: {store.description} sent no Date")
    skew = ours - (theirs + 0.5)  # a Date counts whole seconds: the middle of its second
    said = (
        f"this machine's clock is {format_duration(abs(skew))} "
        f"{'ahead of' if skew > 0 else 'behind'} the store's"
    )
    if abs(skew) <= SKEW_WARN_S:
        return Check(
            "clock",
            OK,
            f"within {SKEW_WARN_S:.0f} s of the store's "
            f"({skew:+.1f} s, give or take half a second)",
        )
    hint = (
        "set this machine's clock right (enable NTP: `timedatectl set-ntp true`): the "
        "change feed that keeps search indexes up to date tolerates "
        f"{SKEW_S / 60:g} minutes between clocks, and S3 refuses requests 15 minutes off"
    )
    return Check("clock", FAIL if abs(skew) > SKEW_FAIL_S else WARN, said, hint)
