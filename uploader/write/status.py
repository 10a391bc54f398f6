"""The status file of a running `watch`, and reading it back (`agent-uploader status`, the
dashboard's health strip).

A `watch` keeps `<spool>/status.json`: its pid, the store, the sessions it tails, the source
bytes it has not packed yet, its upload queue, its last upload and last error, the secrets
it redacted and the search index's lag. The file is replaced whole (temp file, rename),
0600 like the spool's other files, at most once a second and only when something in it
changed: an idle `watch` writes nothing. A clean exit marks it stopped; a killed `watch`
leaves it as it was, so a reader checks that the process it names still runs and is the
same process: its start time in /proc where there is one, else the spool's lock, which
only a running `watch` holds.

Times are epoch seconds. Whether the uploads are healthy is decided when the file is read
(`evaluate`), against thresholds the reader chooses: the file says when things happened,
not how old they are, so it need not be rewritten as time passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uploader.core import safejson
from uploader.core.fsutil import atomic_write
from uploader.core.metrics import Health
from uploader.core.units import format_duration

log = logging.getLogger(__name__)

STATUS_NAME = "status.json"
VERSION = 1
INTERVAL_S = 1.0  # the file is looked at, and rewritten if it changed, this often at most
MAX_QUEUE_AGE_S = 600.0  # `status --max-queue-age`: a queued segment older is a problem
MAX_FAILING_S = 60.0  # `status --max-failing`: uploads failing longer are a problem
MAX_BYTES = 1 << 20  # a status file is a few hundred bytes: anything larger is not one


@dataclass(frozen=True)
class Sample:
    """What the `watch` tells the board at each look, from memory (no file is read)."""

    sessions: int  # sessions tailed now
    bytes_behind: int  # source bytes not packed into a queued segment yet
    #: Counters that move whenever the upload queue may have changed (lines read, segments
    #: closed and uploaded): the queue on disk is only counted again when these moved.
    activity: tuple[int, ...] = ()


class StatusBoard:
    """The status of one running `watch`, kept in `path` (None: in memory only, for a dry
    run, whose spool is thrown away)."""

    def __init__(
        self,
        path: Path | None,
        *,
        store: str,
        spool: Path,
        health: Health,
        sample: Callable[[], Sample],
        queue: Callable[[], tuple[int, float | None]],
    ) -> None:
        self.path = path
        self.health = health
        self._sample = sample
        self._queue = queue  # (segments queued, when the oldest was queued): reads the disk
        self._index_lag: float | None = None
        self._fixed: dict[str, Any] = {
            "version": VERSION,
            "pid": os.getpid(),
            "pid_start": process_start(os.getpid()),
            "started_at": round(time.time(), 3),
            "store": store,
            "spool": str(spool),
        }
        self._looked: tuple[Any, ...] | None = None  # what the last look saw
        self._queued: tuple[int, float | None] = (0, None)
        self.document: dict[str, Any] = self._document("running")
        self._written: dict[str, Any] | None = None
        self._said = False  # a failed write was logged

    def set_index_lag(self, seconds: float | None) -> None:
        """The hook for the search index: how far (seconds) it is behind the store; None
        when unknown or when there is no index. Cheap: the file is rewritten at the next
        look if it changed."""
        self._index_lag = None if seconds is None else round(max(0.0, seconds), 1)

    def start(self) -> None:
        """Write the first status (the spool is locked: it is this process's)."""
        self._queued = self._queue()
        self.document = self._document("running")
        self._write()

    async def run(self) -> None:
        """Look every INTERVAL_S until cancelled."""
        while True:
            await asyncio.sleep(INTERVAL_S)
            await self.look()

    async def look(self) -> bool:
        """Rewrite the file if something in it changed; True if it was rewritten. What is in
        memory is compared first: an idle `watch` reads and writes nothing here."""
        sample = self._sample()
        seen = (sample, self._health_fields(), self._index_lag)
        if seen == self._looked:
            return False
        if self._looked is None or sample.activity != self._looked[0].activity:
            self._queued = await asyncio.to_thread(self._queue)
        self._looked = seen
        self.document = self._document("running", sample)
        return self._write()

    def stop(self) -> None:
        """A clean exit: the status says the `watch` stopped, with its last figures."""
        with contextlib.suppress(OSError):
            self._queued = self._queue()
        self.document = {**self._document("stopped"), "stopped_at": round(time.time(), 3)}
        self._write()

    def _health_fields(self) -> dict[str, Any]:
        h = self.health
        return {
            "last_upload_at": _rounded(h.last_upload),
            "last_error": (
                {"at": _rounded(h.last_error_at), "message": h.last_error}
                if h.last_error_at is not None
                else None
            ),
            "consecutive_failures": h.consecutive_failures,
            "failing_since": _rounded(h.failing_since),
            "redactions": dict(sorted(h.redactions.items())),
        }

    def _document(self, state: str, sample: Sample | None = None) -> dict[str, Any]:
        queued, oldest = self._queued
        return {
            **self._fixed,
            "state": state,
            "sessions": sample.sessions if sample else 0,
            "bytes_behind": sample.bytes_behind if sample else 0,
            "queue": {"segments": queued, "oldest_queued_at": _rounded(oldest)},
            **self._health_fields(),
            "index_lag_s": self._index_lag,
        }

    def _write(self) -> bool:
        if self.path is None or self.document == self._written:
            return False
        try:
            atomic_write(self.path, json.dumps(self.document, indent=1).encode() + b"\n")
        except OSError as exc:  # a full disk: the status waits, the uploads go on
            if not self._said:
                log.warning("cannot write %s (%s); trying again", self.path, exc.strerror)
                self._said = True
            return False
        self._written = self.document
        self._said = False
        return True


def _rounded(ts: float | None) -> float | None:
    return None if ts is None else round(ts, 3)


# -- is the watch that wrote it still running? ---------------------------------------------


def process_start(pid: int) -> int | None:
    """When the process started, in clock ticks after boot (/proc/<pid>/stat, field 22);
    None where there is no /proc, or no such process. A pid that was reused by another
    process has another start time."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and parentheses: count from its end
        return int(raw[raw.rindex(b")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


def lock_held(path: Path) -> bool:
    """Does a process hold the spool's lock (a `watch`)? Taken and let go at once if not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EAGAIN, errno.EACCES)
    finally:
        os.close(fd)  # lets go of the lock if it was taken
    return False


@dataclass
class WatchStatus:
    """A spool's status file as read back: the document (None if there is none), whether
    its `watch` runs, and if not, why not."""

    spool: Path
    document: dict[str, Any] | None
    running: bool
    why: str = ""


def read_status(spool: Path) -> WatchStatus:
    """The status of the `watch` using this spool."""
    path = spool / STATUS_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return WatchStatus(spool, None, False, "it has no status file")
    except OSError as exc:
        return WatchStatus(spool, None, False, f"its status file cannot be read ({exc.strerror})")
    try:
        doc = safejson.loads(raw, max_bytes=MAX_BYTES)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return WatchStatus(spool, None, False, "its status file is not one this version reads")
    if doc.get("state") == "stopped":
        return WatchStatus(spool, doc, False, "its watch stopped" + _at(doc.get("stopped_at")))
    if not _alive(doc, spool):
        pid = doc.get("pid")
        return WatchStatus(spool, doc, False, f"its watch (pid {pid}) is gone: it was killed")
    return WatchStatus(spool, doc, True)


def _alive(doc: dict[str, Any], spool: Path) -> bool:
    pid, start = doc.get("pid"), doc.get("pid_start")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if isinstance(start, int) and process_start(os.getpid()) is not None:
        return process_start(pid) == start
    return lock_held(spool / "lock")


def _at(ts: object) -> str:
    if not isinstance(ts, int | float):
        return ""
    return time.strftime(" at %Y-%m-%d %H:%M:%S", time.localtime(ts))


# -- healthy? ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    max_queue_age_s: float = MAX_QUEUE_AGE_S
    max_failing_s: float = MAX_FAILING_S


@dataclass
class Verdict:
    healthy: bool
    problems: list[str] = field(default_factory=list)


def evaluate(status: WatchStatus, now: float, limits: Thresholds = Thresholds()) -> Verdict:
    """Healthy: a `watch` runs, its uploads have not been failing for longer than
    max_failing_s (the last error newer than the last upload), and no segment has waited in
    its queue for longer than max_queue_age_s."""
    doc = status.document
    if not status.running or doc is None:
        return Verdict(False, [f"no watch is running ({status.why})"])
    problems = []
    since = _number(doc.get("failing_since"))
    error = _dict(doc.get("last_error"))
    last_upload = _number(doc.get("last_upload_at"))
    if since is not None and error and now - since > limits.max_failing_s:
        error_at = _number(error.get("at"))
        if error_at is not None and (last_upload is None or error_at > last_upload):
            failures = doc.get("consecutive_failures")
            problems.append(
                f"uploads have been failing for {format_duration(now - since)} "
                f"({failures} failed calls); last: {error.get('message')}"
            )
    oldest = _number(_dict(doc.get("queue")).get("oldest_queued_at"))
    if oldest is not None and now - oldest > limits.max_queue_age_s:
        problems.append(
            f"the oldest queued segment has waited {format_duration(now - oldest)} "
            f"(more than {format_duration(limits.max_queue_age_s)})"
        )
    return Verdict(not problems, problems)


def report(status: WatchStatus, now: float, limits: Thresholds = Thresholds()) -> dict[str, Any]:
    """What `status --json` prints and the dashboard's /api/status answers: the status
    file's fields, with `running`, `healthy`, `problems` and the queue's oldest age."""
    verdict = evaluate(status, now, limits)
    doc = dict(status.document or {})
    queue = doc.get("queue")
    if isinstance(queue, dict):
        oldest = _number(queue.get("oldest_queued_at"))
        doc["queue"] = {
            **queue,
            "oldest_age_s": None if oldest is None else round(max(0.0, now - oldest), 1),
        }
    return {
        **doc,
        "spool": doc.get("spool") or str(status.spool),
        "running": status.running,
        "healthy": verdict.healthy,
        "problems": verdict.problems,
    }


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
