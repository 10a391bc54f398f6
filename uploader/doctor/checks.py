"""The checks of `doctor`, one small function each: what it looks at, and a `Check` saying
what it found. A check never raises for what it is there to find (a store that refuses,
a full disk): that is its verdict. The runner (runner.py) turns anything else into a
failed check.

The figures that decide a verdict are here, once: free space on the spool's disk, the
clock skew against the store.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import socket
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from uploader import agents, service
from uploader.core import errors as e
from uploader.core.config_file import ConfigFile, Located
from uploader.core.settings import CONFIG
from uploader.core.units import format_duration, format_size
from uploader.index import OFF, default_index_path, open_index
from uploader.messages import explain
from uploader.storage.changes import SKEW_S
from uploader.stores import Store
from uploader.stores.local import LocalStore
from uploader.write.spool import Spool
from uploader.write.status import MAX_QUEUE_AGE_S, read_status

OK, WARN, FAIL = "ok", "warn", "fail"
_RANK = {OK: 0, WARN: 1, FAIL: 2}

#: Free space on the spool's disk below which doctor warns, and below which it fails.
FREE_WARN_BYTES = 1 << 30  # 1 GiB
FREE_FAIL_BYTES = 100 << 20  # 100 MiB
#: How far this machine's clock may be from the store's (seconds) before doctor warns,
#: and before it fails.
SKEW_WARN_S = 30.0
SKEW_FAIL_S = 300.0
#: The most files an agent's folder is counted to (a check must end in its time).
COUNT_LIMIT = 200_000
#: The first words of every probe object's key.
PROBE_PREFIX = "doctor/probe-"


@dataclass(frozen=True)
class Check:
    """One check's outcome: `verdict` (OK, WARN or FAIL), what was found, and on a problem
    what to do."""

    name: str
    verdict: str
    detail: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        """name, verdict, detail and hint (None when there is none)."""
        return asdict(self)


@dataclass(frozen=True)
class ConfigFound:
    """The config file a command read: where it was looked for, what it holds (None: no
    file at the default place), or why it cannot be used (then its settings were not)."""

    located: Located
    file: ConfigFile | None = None
    error: e.UploaderError | None = None


@dataclass(frozen=True)
class Subject:
    """What doctor looks at, as the settings name it. `store` is None when the store
    settings cannot be used (`store_problem` says why)."""

    config: ConfigFound
    store: Store | None
    store_problem: e.UploaderError | None
    index: str | None
    spool: Path
    ui_bind: str
    ui_port: int


def shown_error(name: str, exc: e.UploaderError) -> Check:
    """An error as the command line shows it, as a failed check."""
    shown = explain(exc)
    return Check(name, FAIL, shown.message, shown.hint)


def _worst(
    name: str, about: str, facts: Sequence[str], problems: Sequence[tuple[str, str, str]]
) -> Check:
    """One line on `about` from what was found and the problems (verdict, what, hint)
    among it: the worst verdict, and the hint of the first problem that has it."""
    detail = f"{about}: " + "; ".join([*facts, *(p[1] for p in problems)])
    if not problems:
        return Check(name, OK, detail)
    verdict = max((p[0] for p in problems), key=_RANK.__getitem__)
    return Check(name, verdict, detail, next(p[2] for p in problems if p[0] == verdict))


def _home(path: Path) -> str:
    """A path as a person reads it: ~ for the home folder."""
    home = Path.home()
    return (
        f"~/{path.relative_to(home)}" if path.is_relative_to(home) and path != home else str(path)
    )


# -- 1. the config file --------------------------------------------------------------------


def config(found: ConfigFound) -> Check:
    """Where the config file is (none at the default place is fine), whether it parses, and
    that one holding a secret is private: the config layer's own checks, as every
    command runs them."""
    path = found.located.path
    if found.error is not None:
        check = shown_error("config", found.error)
        return Check(
            "config", FAIL, f"{check.detail} (the other checks ran without it)", check.hint
        )
    if found.file is None:
        return Check(
            "config",
            OK,
            f"no config file at {_home(path)}: flags, the environment and the defaults apply",
        )
    named_by = {"given": "named by --config", "environment": f"named by {CONFIG.env}"}
    entries = found.file.entries
    written = [name for name, entry in entries.items() if entry.setting.secret and not entry.via]
    named = [name for name, entry in entries.items() if entry.setting.secret and entry.via]
    origin = named_by.get(found.located.named_by)
    facts = [_home(path) + (f" ({origin})" if origin else ""), f"{len(entries)} setting(s)"]
    if written:
        try:
            mode = f"mode {path.stat().st_mode & 0o777:04o}"
        except OSError:
            mode = "its mode unknown"
        facts.append(f"secrets written in it ({', '.join(written)}), private to its owner ({mode})")
    if named:
        facts.append(f"secrets named by env or file ({', '.join(named)})")
    if not written and not named:
        facts.append("no secrets in it")
    return Check("config", OK, ", ".join(facts))


# -- 2, 3, 4. the store --------------------------------------------------------------------


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


# -- 5. the spool --------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    """`path`, or its nearest parent that exists."""
    while True:
        with contextlib.suppress(OSError):
            if path.exists() or path.is_symlink():
                return path
        if path.parent == path:
            return path
        path = path.parent


def _write_test(folder: Path) -> str | None:
    """Can a file be made in `folder`? None if so, else the system's reason."""
    try:
        fd, name = tempfile.mkstemp(prefix=".doctor-", suffix=".tmp", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def spool(path: Path) -> Check:
    """The spool: there or can be made, writable, 0700, free space on its disk, what
    waits in its queue and since when."""
    root = path.expanduser().absolute()
    facts: list[str] = []
    problems: list[tuple[str, str, str]] = []
    place = "a place with --spool-dir (spool_dir in the config file)"
    fix = f"choose a writable {place}"
    base = _existing(root)
    if base == root:
        if not root.is_dir():
            return Check("spool", FAIL, f"{root} is not a folder", fix)
        reason = _write_test(root)
        if reason is not None:
            shown = explain(e.SpoolUnwritable(root, reason))
            return Check("spool", FAIL, f"{root} cannot be written: {reason}", shown.hint)
        mode = root.stat().st_mode & 0o777
        if mode & 0o077:
            problems.append(
                (
                    WARN,
                    f"mode {mode:04o}: other users can look into it (it holds transcripts)",
                    f"chmod 700 {root}",
                )
            )
        else:
            facts.append(f"writable, mode {mode:04o}")
    elif not base.is_dir():
        return Check("spool", FAIL, f"{root} cannot be made: {base} is not a folder", fix)
    elif not os.access(base, os.W_OK | os.X_OK):
        return Check("spool", FAIL, f"{root} cannot be made: {base} is not writable", fix)
    else:
        facts.append("not made yet (watch makes it, 0700)")
    free = shutil.disk_usage(base).free
    said = f"{format_size(free)} free on its disk"
    if free < FREE_FAIL_BYTES:
        problems.append((FAIL, f"only {said}", f"free some space, or choose {place}"))
    elif free < FREE_WARN_BYTES:
        problems.append(
            (WARN, f"only {said}", "free some space: the spool holds what cannot be uploaded yet")
        )
    else:
        facts.append(said)
    if base == root:
        problems += _queue(root, facts)
    return _worst("spool", _home(root), facts, problems)


def _queue(root: Path, facts: list[str]) -> list[tuple[str, str, str]]:
    """The upload queue's figures go to `facts`; a queue older than `status` allows is a
    problem."""
    status = read_status(root)
    pid = (status.document or {}).get("pid")
    if status.running:
        facts.append(f"a watch runs on it (pid {pid})")
    count, age = Spool(root).queue_stats()
    if not count:
        facts.append("nothing queued")
        return []
    said = f"{count} segment(s) queued, the oldest for {format_duration(age or 0)}"
    if age is None or age <= MAX_QUEUE_AGE_S:
        facts.append(said)
        return []
    hint = (
        "see why with `agent-uploader status` (uploads failing?)"
        if status.running
        else "start `agent-uploader watch` (or the service): it uploads them first"
    )
    return [(WARN, said, hint)]


# -- 6. the agents' folders ----------------------------------------------------------------


def agent_folders() -> Check:
    """The agents' own session folders on this machine, and how much they hold."""
    found = agents.session_folders()
    if not found:
        return Check(
            "agents",
            WARN,
            "no agent's session folder on this machine",
            f"each agent keeps its sessions in one: {agents.folders_hint()}; "
            "watch other folders with --dir (dir in the config file)",
        )
    said = []
    for agent, folder in found:
        files, size, whole = _count(folder)
        more = "" if whole else "more than "
        said.append(
            f"{agent.display} {_home(folder)}: {more}{files} session file(s), "
            f"{more}{format_size(size)}"
        )
    return Check("agents", OK, "; ".join(said))


def _count(folder: Path) -> tuple[int, int, bool]:
    """(.jsonl files, bytes of all files, counted to the end) under `folder`."""
    files = size = 0
    for seen, entry in enumerate(_walk(folder), 1):
        if seen > COUNT_LIMIT:
            return files, size, False
        with contextlib.suppress(OSError):
            size += entry.stat(follow_symlinks=False).st_size
        files += entry.name.endswith(".jsonl")
    return files, size, True


def _walk(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The files under `folder` (not following links; a folder that cannot be read is
    left out)."""
    stack = [folder]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    elif entry.is_file(follow_symlinks=False):
                        yield entry
        except OSError:
            continue


# -- 7. the service ------------------------------------------------------------------------


def service_state() -> Check:
    """The user service: installed, enabled and running."""
    try:
        manager = service.manager()
    except e.ServiceUnsupported as exc:
        return Check(
            "service",
            WARN,
            f"not available: {exc.message}",
            "start `agent-uploader watch` at login another way",
        )
    try:
        state = service.status(manager)
    except e.ServiceManagerFailed as exc:
        return Check(
            "service",
            WARN if exc.unreachable else FAIL,
            f"{_home(manager.path)} is installed, but {exc}",
            explain(exc).hint or "ask it with `agent-uploader service status`",
        )
    where = f"{manager.kind} {_home(state.path)}"
    if not state.installed:
        return Check(
            "service",
            WARN,
            f"not installed (no {_home(state.path)})",
            "agent-uploader service install",
        )
    if not state.running:
        return Check(
            "service",
            FAIL,
            f"{where}: installed, not running ({state.running_says})",
            "see why with `agent-uploader service logs`; "
            "`agent-uploader service install` starts it again",
        )
    if not state.enabled:
        return Check(
            "service",
            WARN,
            f"{where}: running ({state.running_says}), but it will "
            f"not start at login ({state.enabled_says})",
            "agent-uploader service install (enables it)",
        )
    return Check("service", OK, f"{where}: running ({state.running_says}), starts at login")


# -- 8. the search index -------------------------------------------------------------------


def index_state(spec: str | None, store: Store | None) -> Check:
    """The search index: off, not made yet, or opened and counted (and of this store)."""
    text = (spec or "").strip()
    if text.lower() == OFF:
        return Check("index", OK, "off: no search index (search and usage need one)")
    remote = text.startswith(("postgresql://", "postgres://"))
    if store is None and not text:
        return Check(
            "index",
            WARN,
            "not checked: the default index is the store's own, and "
            "the store settings cannot be used (see store)",
        )
    ours = store.description if store is not None else ""
    if not remote:
        path = Path(text).expanduser() if text else default_index_path(ours)
        if not path.exists():
            return Check(
                "index", OK, f"{_home(path)}: not made yet (watch, host and index make it)"
            )
    try:
        index = open_index(text or None, ours)
    except e.UploaderError as exc:
        return shown_error("index", exc)
    if index is None:  # "off" was handled above; never here
        return Check("index", OK, "off")
    try:
        stats = index.stats()
        holds = index.get_meta("store")
    except e.UploaderError as exc:
        return shown_error("index", exc)
    except sqlite3.Error as exc:
        return Check(
            "index",
            FAIL,
            f"{index.description} cannot be read: {exc}",
            "a SQLite index file may be deleted: it is rebuilt from the store",
        )
    finally:
        index.close()
    if holds and ours and holds != ours and (stats.get("sessions") or stats.get("segments")):
        return shown_error("index", e.IndexMismatch(index.description, holds, ours))
    return Check(
        "index",
        OK,
        f"{index.description}: {stats.get('sessions', 0)} session(s), "
        f"{stats.get('segments', 0)} segment(s), {stats.get('docs', 0)} "
        "document(s)",
    )


# -- 9. the dashboard's port ---------------------------------------------------------------


def dashboard_port(bind: str, port: int, spool_dir: Path) -> Check:
    """Can the dashboard listen where the settings say (bound as it binds, then let go)?"""
    where = f"{bind}:{port}"
    if port == 0:
        return Check("dashboard", OK, "port 0: the dashboard takes any free port")
    fix = "choose another with --ui-port or --ui-bind (ui_port, ui_bind in the config file)"
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bind, port))
        except socket.gaierror as exc:
            return Check("dashboard", FAIL, f"{bind!r} is not an address: {exc.strerror}", fix)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return _port_taken(where, port, spool_dir, fix)
            return Check("dashboard", FAIL, f"cannot listen on {where}: {exc.strerror}", fix)
    return Check("dashboard", OK, f"{where} is free")


def _port_taken(where: str, port: int, spool_dir: Path, fix: str) -> Check:
    """A port in use is fine when it is the dashboard of the watch running on the spool."""
    status = read_status(spool_dir.expanduser().absolute())
    pid = (status.document or {}).get("pid") if status.running else None
    if isinstance(pid, int):
        holds = holds_port(pid, port)
        if holds is not False:
            maybe = "" if holds else "probably "
            return Check(
                "dashboard",
                WARN,
                f"{where} is in use, {maybe}by the dashboard of the running watch (pid {pid})",
                "that is its own; another watch or host needs another port: --ui-port",
            )
    return Check("dashboard", FAIL, f"{where} is in use by another program", f"stop it, or {fix}")


def holds_port(pid: int, port: int) -> bool | None:
    """Does process `pid` listen on TCP `port`? None where /proc cannot say (not Linux)."""
    inodes: set[str] = set()
    tables = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text(encoding="ascii", errors="replace").splitlines()[1:]
        except OSError:
            continue
        tables += 1
        for line in lines:
            fields = line.split()
            # local address (hex ip:port), state (0A: listening), ..., inode (field 10)
            if len(fields) > 9 and fields[3] == "0A" and fields[1].endswith(f":{port:04X}"):
                inodes.add(fields[9])
    if not tables:
        return None
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[len("socket:[") : -1] in inodes:
            return True
    return False
