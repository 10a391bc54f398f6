"""`watch --dir`: every session file in some folders, one pipeline each while it changes.

A scan every --scan-ms finds new files and files that grew (discovery.Scanner: long-idle
files are looked at about every 30 s). A file is tailed (with its own file events, as
with --file) until it has not changed for --idle-close; then its segment is closed and
uploaded and nothing of it stays open: thousands of old sessions cost no file handle,
thread, inotify watch or store request. The next scan that sees it grow opens it again,
from its saved state. Each scan looks only at the files that are new, changed or not
settled yet.

A file that disappears ends its session. OpenClaw renames a transcript when its session
ends (`<id>.jsonl.deleted.<time>`): the renamed file is read to its end first, as the
same session (same inode, same first bytes), never as a new one.

With --once, one scan finds the files, each is read to its end, and the watch stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from uploader.agents import FIRST_LINE_LIMIT
from uploader.core.errors import UserError
from uploader.storage.sessionid import auto_sid
from uploader.write.discovery import (
    OpenClawIndex,
    Scan,
    Scanner,
    Seen,
    ended_copy,
    read_sessions_json,
)
from uploader.write.pipeline import Pipeline
from uploader.write.shipper import Shipper
from uploader.write.state import StateStore, UnreadableState
from uploader.write.wake import FolderWatches

if TYPE_CHECKING:
    from uploader.write.watch import Watcher

log = logging.getLogger(__name__)

CATCH_UP = 8  # files read at once when many change together (a first run over old files)
MISSING_SCANS = 3  # scans a file must be missing from before its session ends
INACTIVE_IDLE_S = 10.0  # --idle-close for a file its agent no longer lists as active


class FolderWatch:
    def __init__(
        self,
        watcher: Watcher,
        shipper: Shipper,
        io_pool: ThreadPoolExecutor,
        watches: FolderWatches,
    ) -> None:
        self.watcher = watcher
        self.config = watcher.config
        self.shipper = shipper
        self.io_pool = io_pool
        self.watches = watches
        self.states = StateStore(watcher.spool.state_dir)
        self.tasks: dict[Path, asyncio.Task[None]] = {}
        self.sids: dict[Path, str] = {}
        self.settled: Seen = {}  # files read to their end and closed, as they stood then
        self.pending: set[Path] = set()  # seen files not settled: looked at every scan
        self.indexes: dict[Path, tuple[int, OpenClawIndex | None]] = {}
        self.gate = asyncio.Semaphore(CATCH_UP)
        self._said: set[tuple[Path, str]] = set()  # (file, problem) already logged
        self.missing: dict[Path, int] = {}  # consecutive scans a known file was not seen in

    async def run(self) -> None:
        roots = ", ".join(str(d) for d in self.config.dirs)
        log.info("watching %s -> %s", roots, self.watcher.store.description)
        loop = asyncio.get_running_loop()
        stop = self.watcher.stop_reading
        scanner = Scanner(self.config.dirs, self.config.filters)
        try:
            while not stop.is_set():
                try:
                    seen = await loop.run_in_executor(self.io_pool, scanner.scan)
                    await self._step(seen)
                except Exception:  # one bad scan must not stop the watch of every file
                    if self.config.once:
                        raise  # but a one-shot run that could not scan has failed
                    log.exception("folder scan failed; trying again at the next scan")
                if self.config.once:
                    await asyncio.gather(*self.tasks.values(), return_exceptions=True)
                    failed = self._reap()
                    if failed:
                        raise UserError(
                            f"{len(failed)} file(s) could not be read to their end: "
                            + ", ".join(str(p) for p in failed[:3]),
                            "the log above says why; what was read is uploaded",
                        )
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.scan_s)
        finally:
            if self.tasks:
                await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def _step(self, scanned: Scan) -> None:
        loop = asyncio.get_running_loop()
        seen = scanned.files
        indexes = await loop.run_in_executor(self.io_pool, self._indexes, scanned.indexed)
        self._reap()
        running = {p for p, t in self.tasks.items() if not t.done()}
        taken = {self.sids[p] for p in running}
        for path in [p for p in self.missing if p in seen]:
            del self.missing[path]
        # Only new and changed files, and those not settled yet: the thousands that are
        # as they were when they were closed cost nothing here.
        self.pending |= scanned.changed
        for path in list(self.pending):
            stamp = seen.get(path)
            if stamp is None or self.settled.get(path) == stamp:
                self.pending.discard(path)  # gone (see below), or unchanged since closed
                continue
            index = indexes.get(path.parent) if indexes else None
            if path in running:
                sid = self.sids[path]
                pipeline = self.watcher.pipelines.get(sid)
                if pipeline is not None and index is not None:
                    pipeline.set_title(index.title_of(sid))
                continue
            found = self.sids.get(path) or await loop.run_in_executor(self.io_pool, _sid_of, path)
            if found is None:
                continue  # no id in its name and no complete first line yet
            sid = found
            if sid in taken:
                if self._first_time(path, "sid taken"):
                    log.warning("%s: session id %s is already watched from another file; "
                                "skipping it", path, sid)  # fmt: skip
                continue
            self.sids[path] = sid
            try:
                needs_reading = await loop.run_in_executor(
                    self.io_pool, self._needs_reading, sid, stamp
                )
            except UnreadableState as exc:  # the other files go on; this one waits
                if self._first_time(path, "unreadable state"):
                    log.error("%s: %s (%s)", path, exc.message, exc.hint)
                continue
            if not needs_reading:
                self.settled[path] = stamp
                self.pending.discard(path)
                continue
            # A session its agent no longer lists as active is complete: close it soon.
            idle_s = self.config.idle_s
            if index is not None and not index.is_active(sid):
                idle_s = min(idle_s, INACTIVE_IDLE_S)
            title = index.title_of(sid) if index else None
            taken.add(sid)
            self.tasks[path] = asyncio.create_task(self._tail(path, sid, idle_s, title))
        for path in [p for p in self.sids if p not in seen and p not in self.tasks]:
            # Gone for several scans, not one: a folder that could not be listed for a
            # moment, or a rename-and-recreate, does not end a session.
            self.missing[path] = self.missing.get(path, 0) + 1
            if self.missing[path] < MISSING_SCANS:
                continue
            del self.missing[path]
            sid = self.sids.pop(path)
            self.settled.pop(path, None)
            if sid in self.sids.values():
                continue  # moved: the session goes on from its new path
            try:
                await self._ended(path, sid)
            except OSError as exc:  # the spool could not take the copy: the next scan retries
                self.sids[path] = sid
                self.missing[path] = MISSING_SCANS - 1
                if self._first_time(path, "ending"):
                    log.error("%s: could not end session %s: %s; trying again", path, sid, exc)

    def _reap(self) -> list[Path]:
        """Forget the finished tails, saying why any failed; the files whose tail failed."""
        failed = []
        for path in [p for p, t in self.tasks.items() if t.done()]:
            task = self.tasks.pop(path)
            error = None if task.cancelled() else task.exception()
            if error is not None:
                failed.append(path)
            if isinstance(error, UserError):  # e.g. a damaged manifest: said once, no trace
                if self._first_time(path, error.message):
                    log.error("%s: stopped: %s (%s)", path, error.message, error.hint)
            elif error is not None:  # tried again at the next scan; say why
                log.error("%s: stopped: %s", path, error, exc_info=error)
        return failed

    def _first_time(self, path: Path, problem: str) -> bool:
        """Is this the first scan to find this problem with this file? (Said once.)"""
        if (path, problem) in self._said:
            return False
        self._said.add((path, problem))
        return True

    def _needs_reading(self, sid: str, stamp: tuple[int, int]) -> bool:
        """Is there anything in the file the spool has not taken? Files a previous run
        read to their end are not opened at all."""
        state = self.states.load(sid)
        if state is None or state.ended:
            return True
        try:
            saved_at = self.states.path(sid).stat().st_mtime_ns
        except OSError:
            return True
        size, mtime = stamp
        # state.bytes: lines in the active segment (a kill before it closed) to upload.
        return size != state.offset or mtime > saved_at or state.bytes > 0

    async def _tail(self, path: Path, sid: str, idle_s: float, title: str | None) -> None:
        # The gate bounds the files being read to their end at once (a first run over
        # thousands), not the files being tailed: it is let go once the file is caught up.
        await self.gate.acquire()
        held = True

        def caught_up() -> None:
            nonlocal held
            if held:
                held = False
                self.gate.release()

        try:
            if self.watcher.stop_reading.is_set():
                return  # stopping: do not open what waited for the gate
            pipeline = await self.watcher.tail_one(
                path, sid, self.shipper, self.io_pool, self.watches,
                idle_s=idle_s, title=title, caught_up=caught_up,
            )  # fmt: skip
        finally:
            caught_up()
        if pipeline is None or pipeline.seg is None or pipeline.seg.state.ended:
            return
        with contextlib.suppress(OSError):
            st = path.stat()
            if _nothing_to_read(path, pipeline.seg.state.offset, st.st_size):
                self.settled[path] = (st.st_size, st.st_mtime_ns)
                log.debug("%s: idle, closed until it grows", path)

    async def _ended(self, path: Path, sid: str) -> None:
        """The file is gone while closed: read what its renamed copy has past the spooled
        offset, then end the session."""
        loop = asyncio.get_running_loop()
        copy = await loop.run_in_executor(self.io_pool, ended_copy, path)
        if copy is not None:
            log.info("%s: renamed to %s; the session ends", path, copy.name)
            pipeline = self.watcher.new_pipeline(copy, sid, self.states)
            await loop.run_in_executor(self.io_pool, self._read_copy, pipeline)
        else:
            pipeline = self.watcher.new_pipeline(path, sid, self.states)
            if await loop.run_in_executor(self.io_pool, pipeline.end_without_source):
                log.info("%s: deleted; the session ends", path)
        self.shipper.wake.set()

    @staticmethod
    def _read_copy(pipeline: Pipeline) -> None:
        state = pipeline.states.load(pipeline.sid)
        if state is not None and state.ended:
            return
        try:
            pipeline.open(None)
            pipeline.read_to_end()
        finally:
            pipeline.finish()

    def _indexes(self, folders: list[Path]) -> dict[Path, OpenClawIndex | None]:
        """OpenClaw's sessions.json of each folder, read again only when it changed."""
        out: dict[Path, OpenClawIndex | None] = {}
        for folder in folders:
            try:
                mtime = (folder / "sessions.json").stat().st_mtime_ns
            except OSError:
                continue
            cached = self.indexes.get(folder)
            if cached is None or cached[0] != mtime:
                cached = (mtime, read_sessions_json(folder))
                self.indexes[folder] = cached
            out[folder] = cached[1]
        return out


def _nothing_to_read(path: Path, offset: int, size: int) -> bool:
    """Is everything past `offset` an unfinished last line (or nothing)? Then the file
    needs no reading until it changes; otherwise a write came after the last read."""
    if size == offset:
        return True
    if size < offset or size - offset > FIRST_LINE_LIMIT:
        return False
    with open(path, "rb") as f:
        f.seek(offset)
        return b"\n" not in f.read(size - offset)


def _sid_of(path: Path) -> str | None:
    """The session id, as `watch --file` derives it; None until it can be (the file is not
    readable, or its first line is not complete): the next scan asks again."""
    try:
        return auto_sid(path)
    except OSError:
        return None
