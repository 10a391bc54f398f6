"""Checks 7, 8 and 9: what runs beside the uploads: the user service, the search index,
and the dashboard's port (free, or held by this machine's own watch).
"""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
from pathlib import Path

from uploader import service
from uploader.core import errors as e
from uploader.doctor.checks.outcome import FAIL, OK, WARN, Check, home_path, shown_error
from uploader.index import OFF, default_index_path, open_index
from uploader.messages import explain
from uploader.stores import Store
from uploader.write.status import read_status


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
            f"{home_path(manager.path)} is installed, but {exc}",
            explain(exc).hint or "ask it with `agent-uploader service status`",
        )
    where = f"{manager.kind} {home_path(state.path)}"
    if not state.installed:
        return Check(
            "service",
            WARN,
            f"not installed (no {home_path(state.path)})",
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
                "index", OK, f"{home_path(path)}: not made yet (watch, host and index make it)"
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
