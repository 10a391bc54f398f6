"""`sweep`: ship an agent's finished sessions whole, then move them to an archive folder.

For agents whose sessions should be uploaded once they are finished rather than tailed.
`sessions.json` in the sessions folder lists the active sessions (OpenClaw);
every other transcript there is complete. Each is uploaded to the store (as a closed
session, through `watch`'s own segmenting: see snapshots.py) or posted to a Nexus
collector, then moved to the archive folder. A file that fails stays where it is for
the next sweep and never stops the others; running a sweep twice uploads nothing twice.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uploader.agents import sid_from_name
from uploader.core.errors import BeingWritten, SinkRefused, SweepAborted
from uploader.core.fsutil import copy_synced, fsync_dir, make_private_dir
from uploader.redaction import Redactor
from uploader.redaction.choice import resolve_redactor
from uploader.stores.base import StorageError, Store, scrub
from uploader.write.discovery import read_sessions_json
from uploader.write.snapshots import upload_whole

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
NEXUS_TIMEOUT_S = 30.0
RECENT_S = 60.0  # a transcript changed this recently is taken to be still written


@dataclass
class SweepResult:
    job_id: str
    success: bool = True  # false only on a critical failure
    message: str = ""
    items_processed: int = 0
    errors: list[str] = field(default_factory=list)
    failed: int = 0

    def to_json(self) -> dict[str, Any]:
        """The result as job runners read it."""
        return {
            "jobId": self.job_id,
            "success": self.success,
            "message": self.message,
            "itemsProcessed": self.items_processed,
            "errors": self.errors,
        }


#: Send one complete transcript somewhere; returns a warning to report, or None.
Sink = Callable[[Path, str], str | None]


def store_sink(store: Store, timeout_s: float = 120.0, redact: bool | Redactor = True) -> Sink:
    def send(path: Path, sid: str) -> str | None:
        upload_whole(store, path, sid, timeout_s=timeout_s, redact=redact)
        return None

    return send


def nexus_sink(
    url: str,
    key: str,
    agent_id: str,
    client: httpx.Client | None = None,
    redact: bool | Redactor = True,
) -> Sink:
    """POST {url}/sessions?code={key} with {"agentId", "sessionId", "transcript"}, the
    transcript redacted as it would be in a store."""
    import httpx  # 60 ms of imports that only a Nexus sweep needs, not every command

    http = client or httpx.Client(timeout=NEXUS_TIMEOUT_S)
    endpoint = url.rstrip("/") + "/sessions"
    redactor = resolve_redactor(redact)

    def send(path: Path, sid: str) -> str | None:
        data = path.read_bytes()
        if redactor is not None:
            data = redactor.redact(data).data
        try:
            transcript = data.decode("utf-8")
        except UnicodeDecodeError as exc:  # a lossy copy would be archived as if sent whole
            raise SinkRefused(f"not valid UTF-8 ({exc}); left in place") from exc
        body = {"agentId": agent_id, "sessionId": sid, "transcript": transcript}
        try:
            response = http.post(endpoint, params={"code": key}, json=body)
        except httpx.HTTPError as exc:
            said = scrub(str(exc), [key])  # httpx names the URL, and ?code= is the key
            raise SinkRefused(f"Nexus unreachable ({type(exc).__name__}: {said})") from exc
        if response.status_code == 200:
            return None
        if response.status_code == 409:
            return f"{path.name}: Nexus already has session {sid}; archived"
        if response.status_code == 413:
            raise SinkRefused("over Nexus's 1 MB limit (413); left in place")
        raise SinkRefused(f"Nexus answered {response.status_code}; left for the next sweep")

    return send


def sweep(sessions_dir: Path, archive_dir: Path, job_id: str, sink: Sink) -> SweepResult:
    """One sweep of the folder. Never raises: a critical failure is `success: false`."""
    result = SweepResult(job_id)
    try:
        if archive_dir.absolute() == sessions_dir.absolute():
            raise SweepAborted(f"the archive folder is the sessions folder ({sessions_dir})")
        complete, result.errors = _complete_files(sessions_dir)
    except SweepAborted as exc:
        result.success, result.message = False, str(exc)
        result.errors.append(str(exc))
        return result
    for path, sid in complete:
        try:
            before = _stamp(path)
            warning = sink(path, sid)
            if _stamp(path) != before:
                # Written to while it was sent: what was sent is not all of it. The next
                # sweep sends it again (the store continues the session).
                raise SinkRefused("changed while it was uploaded; left for the next sweep")
        except (SinkRefused, BeingWritten, StorageError, TimeoutError, OSError, ValueError) as exc:
            result.failed += 1
            result.errors.append(f"{path.name}: {exc}")
            log.error("%s: not uploaded: %s", path, exc)
            continue
        except Exception as exc:  # one file must never stop the others
            result.failed += 1
            result.errors.append(f"{path.name}: {type(exc).__name__}: {exc}")
            log.exception("%s: not uploaded", path)
            continue
        result.items_processed += 1
        if warning:
            log.warning("%s", warning)
        try:
            archived = move_atomically(path, archive_dir)
            log.info("%s: uploaded and archived to %s", path.name, archived)
        except OSError as exc:  # the upload counts; the next sweep finds it already there
            result.errors.append(f"{path.name}: uploaded, but not archived: {exc}")
            log.error("%s: uploaded, but could not be archived: %s", path, exc)
    result.message = f"Uploaded {result.items_processed} sessions, {result.failed} failed"
    return result


def _complete_files(sessions_dir: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """The transcripts whose sessions are not active, and the names that were skipped."""
    if not sessions_dir.is_dir():
        raise SweepAborted(f"sessions folder {sessions_dir} does not exist")
    index_path = sessions_dir / "sessions.json"
    index = read_sessions_json(sessions_dir)
    if index is None and index_path.exists():
        raise SweepAborted(f"{index_path} cannot be read as JSON; nothing was moved")
    active = index.active if index is not None else frozenset()
    complete, problems = [], []
    for path in sorted(sessions_dir.glob("*.jsonl*")):
        name = path.name
        if not path.is_file() or name.endswith(".lock") or ".trajectory." in name:
            continue
        sid = name[:36]
        if not _UUID.fullmatch(sid) or name[36:37] not in (".", "-"):
            problems.append(f"{name}: not named <session uuid>.jsonl…; skipped")
            log.warning("%s: malformed session file name; skipped", path)
            continue
        if name.endswith(".zst"):
            log.info("%s: compressed (.zst) copy; not uploaded", path)
            continue
        if sid in active or _in_use(path):
            continue
        complete.append((path, sid_from_name(name) or sid))
    # Oldest first: a session's `.reset.` copy is older than the file that replaced it,
    # and the session's latest generation must be the newer one.
    complete.sort(key=lambda item: (_mtime(item[0]), item[0].name))
    return complete, problems


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:  # gone meanwhile: the sink reports it
        return 0


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def _in_use(path: Path) -> bool:
    """Still being written, whatever sessions.json says: its agent holds a lock file for it,
    or it changed in the last minute."""
    transcript = path.name.split(".jsonl", 1)[0] + ".jsonl"
    if (path.parent / f"{transcript}.lock").exists():
        return True
    try:
        return time.time() - path.stat().st_mtime < RECENT_S
    except OSError:
        return True


def move_atomically(path: Path, archive_dir: Path) -> Path:
    """Move the file into archive_dir under its own name (a suffix if that is taken): a
    rename where possible; across file systems a private temp copy, fsynced, then renamed.
    A folder made for it is private (0700); an existing one keeps its mode."""
    make_private_dir(archive_dir)
    target = archive_dir / path.name
    if target.exists():
        target = archive_dir / f"{path.name}.{uuid.uuid4().hex[:8]}"
    try:
        os.rename(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = archive_dir / f".{target.name}.tmp"
        try:
            copy_synced(path, tmp)
            os.rename(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fsync_dir(archive_dir)
        path.unlink()
    fsync_dir(archive_dir)
    return target


@dataclass(frozen=True)
class Job:
    id: str
    interval_minutes: float
    sessions_dir: Path
    archive_dir: Path
    agent_id: str


def load_jobs(path: Path) -> list[Job]:
    """A jobs file: a JSON list of {"id", "type": "session_upload", "description",
    "intervalMinutes", "args": [sessionsDir, archiveDir, agentId]}. A ValueError names
    the job and the field that is wrong."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path} must hold a non-empty JSON list of jobs")
    jobs: list[Job] = []
    for n, item in enumerate(data, 1):
        where = f"{path}: job {n}"
        if not isinstance(item, dict):
            raise ValueError(f"{where} is not an object")
        if item.get("type") != "session_upload":
            raise ValueError(f"{where}: type {item.get('type')!r} is not 'session_upload'")
        args, interval = item.get("args"), item.get("intervalMinutes")
        if not (
            isinstance(args, list) and len(args) == 3 and all(isinstance(a, str) for a in args)
        ):
            raise ValueError(f"{where}: args must be [sessionsDir, archiveDir, agentId]")
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise ValueError(f"{where}: intervalMinutes must be a number above 0")
        job_id = str(item.get("id") or f"job-{n}")
        if any(job.id == job_id for job in jobs):
            raise ValueError(f"{where}: id {job_id!r} is used by another job")
        jobs.append(Job(job_id, float(interval), Path(args[0]).expanduser(),
                        Path(args[1]).expanduser(), args[2]))  # fmt: skip
    return jobs
