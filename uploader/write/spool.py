"""The spool: local disk between the source and the store.

<spool>/lock                          held by the one `watch` using this spool
<spool>/spool-id                      stable id of this spool, part of the manifest's writer
<spool>/status.json                   what the running `watch` says about itself (status.py)
<spool>/active/<sid>.jsonl            the segment being written
<spool>/queue/<sid>/session-000001.jsonl.gz    closed, waiting for upload
<spool>/queue/<sid>/session-000001.meta.json   its counts and hash: written last, so
                                               a segment without meta is not queued yet
<spool>/queue/<sid>/ended             the source is gone: close the session in the store
<state>/<sid>.json                    resume state, JSON lines (default <spool>/state)
<state>/manifests/<sid>.json          the last manifest this spool wrote for the session
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from uploader.core.errors import SpoolLocked, SpoolUnwritable
from uploader.core.fsutil import atomic_write, fsync_dir, make_private_dir, private_opener

META_SUFFIX = ".meta.json"
ENDED_MARK = "ended"


_SPOOL_NAMES = {"lock", "spool-id", "status.json", "active", "queue", "state"}


def _only_spool(root: Path) -> bool:
    """Is `root` missing, or a folder holding nothing but a spool's own names?"""
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return all(n in _SPOOL_NAMES or (n.startswith(".") and n.endswith(".tmp")) for n in names)


def segment_name(seq: int, gzip: bool) -> str:
    return f"session-{seq:06d}.jsonl" + (".gz" if gzip else "")


@dataclass(frozen=True)
class QueuedSegment:
    sid: str
    seq: int
    data_path: Path
    meta_path: Path
    meta: dict[str, Any]

    @property
    def queued_at(self) -> float:
        return float(self.meta.get("queued_at", 0.0))


class Spool:
    def __init__(self, root: Path, state_dir: Path | None = None) -> None:
        self.root = root.expanduser().absolute()
        self.state_dir = (state_dir or self.root / "state").expanduser().absolute()
        self.active_dir = self.root / "active"
        self.queue_dir = self.root / "queue"
        self.manifests_dir = self.state_dir / "manifests"
        self._lock_file: IO[str] | None = None

    def prepare(self) -> None:
        """Create the folders (0700: they hold transcripts), or say clearly which one cannot
        be written. Folders that are the spool's by name are made private if an earlier
        version left them open; the root too when it holds nothing but a spool (never a
        folder of the user's, such as --spool-dir /tmp); a --state-dir of the user's keeps
        its mode."""
        own_state = self.state_dir == self.root / "state"
        for folder, tighten in (
            (self.root, _only_spool(self.root)),
            (self.active_dir, True),
            (self.queue_dir, True),
            (self.state_dir, own_state),
            (self.manifests_dir, True),
        ):
            try:
                make_private_dir(folder, tighten=tighten)
            except OSError as exc:
                raise SpoolUnwritable(folder, str(exc.strerror)) from exc
            if not os.access(folder, os.W_OK | os.X_OK):
                raise SpoolUnwritable(folder)

    def lock(self) -> None:
        """Take the spool for this process; a second watcher gets a clear refusal."""
        path = self.root / "lock"
        f = open(path, "a+", encoding="utf-8", opener=private_opener)  # noqa: SIM115 - held
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise SpoolLocked(self.root, holder) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}\n")
        f.flush()
        self._lock_file = f

    def clean_orphans(self) -> int:
        """Remove what a kill can leave behind and nothing needs: temp files, and segment
        files whose meta is gone (uploaded, or a rotation that will be redone from the
        active segment). Only safe under the lock, with no rotation in progress."""
        removed = 0
        for folder in (self.state_dir, self.manifests_dir):
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
        for sid_dir in self.queue_dir.iterdir() if self.queue_dir.exists() else ():
            if not sid_dir.is_dir():
                continue
            metas = {p.name[: -len(META_SUFFIX)] for p in sid_dir.glob(f"*{META_SUFFIX}")}
            for path in sid_dir.iterdir():
                stem = path.name.split(".", 1)[0]
                orphan = (
                    path.name.startswith(".")
                    or path.name.endswith(".tmp")
                    or (
                        not path.name.endswith(META_SUFFIX)
                        and path.name != ENDED_MARK
                        and stem not in metas
                    )
                )
                if orphan:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    @property
    def writer(self) -> str:
        """The manifest's `writer` for sessions this spool uploads: host and spool id."""
        return f"{socket.gethostname()}/{self.spool_id}"

    def existing_writer(self) -> str | None:
        """`writer`, without creating the spool id if there is none yet."""
        return self.writer if (self.root / "spool-id").exists() else None

    @property
    def spool_id(self) -> str:
        path = self.root / "spool-id"
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            atomic_write(path, uuid.uuid4().hex[:12].encode())
            return path.read_text(encoding="utf-8").strip()

    def manifest_cache(self, sid: str) -> Path:
        return self.manifests_dir / f"{sid}.json"

    # -- active segments -------------------------------------------------------------

    def active_path(self, sid: str) -> Path:
        return self.active_dir / f"{sid}.jsonl"

    # -- the upload queue ------------------------------------------------------------

    def session_queue(self, sid: str) -> Path:
        return self.queue_dir / sid

    def enqueue_paths(self, sid: str, seq: int, gzip: bool) -> tuple[Path, Path]:
        folder = self.session_queue(sid)
        make_private_dir(folder)
        data = folder / segment_name(seq, gzip)
        return data, folder / f"session-{seq:06d}{META_SUFFIX}"

    def commit(self, meta_path: Path, meta: dict[str, Any]) -> None:
        """Writing the meta is what puts a segment in the queue."""
        meta = {**meta, "queued_at": time.time()}
        atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode())

    def pending(self, sid: str) -> list[QueuedSegment]:
        folder = self.session_queue(sid)
        items = []
        try:
            names = sorted(os.listdir(folder))
        except FileNotFoundError:
            return []
        for name in names:
            if not name.endswith(META_SUFFIX):
                continue
            meta_path = folder / name
            try:
                meta = json.loads(meta_path.read_bytes())
            except FileNotFoundError:  # uploaded meanwhile (a reader beside the shipper)
                continue
            data_path = folder / Path(meta["path"]).name
            items.append(QueuedSegment(sid, int(meta["seq"]), data_path, meta_path, meta))
        items.sort(key=lambda item: item.seq)
        return items

    def queued(self, sid: str, seq: int) -> bool:
        return (self.session_queue(sid) / f"session-{seq:06d}{META_SUFFIX}").exists()

    def remove(self, item: QueuedSegment) -> None:
        """Called only once the store confirmed the segment and the manifest naming it."""
        item.meta_path.unlink(missing_ok=True)
        item.data_path.unlink(missing_ok=True)

    def mark_ended(self, sid: str) -> None:
        folder = self.session_queue(sid)
        make_private_dir(folder)
        atomic_write(folder / ENDED_MARK, b"")

    def is_ended(self, sid: str) -> bool:
        return (self.session_queue(sid) / ENDED_MARK).exists()

    def clear_ended(self, sid: str) -> None:
        folder = self.session_queue(sid)
        (folder / ENDED_MARK).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only succeeds when nothing else waits
            fsync_dir(self.queue_dir)

    # -- a session deleted from the store ------------------------------------------------

    def holds(self, sid: str) -> bool:
        """Does this spool keep anything of the session (state, data, manifest copy)?"""
        return any(p.exists() for p in self._session_paths(sid))

    def forget(self, sid: str) -> None:
        """Drop everything of the session, so that a later watch of its file starts afresh
        instead of naming segments that are gone. Only under the lock."""
        for path in self._session_paths(sid):
            if path.is_dir():
                for child in path.iterdir():
                    child.unlink(missing_ok=True)
                path.rmdir()
            else:
                path.unlink(missing_ok=True)

    def _session_paths(self, sid: str) -> list[Path]:
        return [
            self.state_dir / f"{sid}.json",
            self.active_path(sid),
            self.session_queue(sid),
            self.manifest_cache(sid),
        ]

    def sids_with_work(self) -> list[str]:
        try:
            return sorted(
                name
                for name in os.listdir(self.queue_dir)
                if (self.queue_dir / name).is_dir() and any((self.queue_dir / name).iterdir())
            )
        except FileNotFoundError:
            return []

    def queue_stats(self) -> tuple[int, float | None]:
        """(segments waiting, age in seconds of the oldest) for logs and /metrics."""
        count, oldest = self.queue_summary()
        return count, (time.time() - oldest) if oldest is not None else None

    def queue_summary(self) -> tuple[int, float | None]:
        """(segments waiting, when the oldest of them was queued, in epoch seconds)."""
        count, oldest = 0, None
        for sid in self.sids_with_work():
            for item in self.pending(sid):
                count += 1
                oldest = item.queued_at if oldest is None else min(oldest, item.queued_at)
        return count, oldest
