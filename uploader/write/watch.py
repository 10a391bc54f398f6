"""`watch`: one asyncio loop runs the pipelines, the shipper and the dashboard.

Blocking work runs in thread pools: one for the pipelines' reads, appends and gzip,
one sized by --concurrency for store calls. watchdog wakes a pipeline within
milliseconds of a write; polling every --poll-ms is the safety net. SIGINT/SIGTERM
stop reading, close the active segments, drain the queue for a bounded time and
leave whatever remains in the spool for the next start. With --once, reading stops by
itself at the end of the files, and the queue is drained for as long as the store takes
it. The spool's status file (status.py) says meanwhile how it goes.

Its settings and the store probe it starts with are watch_setup.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from uploader.core.errors import NotUploaded
from uploader.core.metrics import Health, Metrics
from uploader.storage.manifest import Manifest
from uploader.stores import Store
from uploader.stores.dryrun import DryRunStore
from uploader.write.live import LiveSessions
from uploader.write.pipeline import Pipeline, StepResult
from uploader.write.shipper import Shipper
from uploader.write.spool import Spool
from uploader.write.state import ResumeState, StateStore
from uploader.write.status import STATUS_NAME, Sample, StatusBoard, WatchStatus, report
from uploader.write.wake import FileWaker, FolderWatches
from uploader.write.watch_setup import WatchConfig

log = logging.getLogger(__name__)

# Bursts of writes are taken in one read: at most ten steps a second under load, while
# the first write after a quiet spell is still read within milliseconds.
MIN_STEP_INTERVAL_S = 0.1
SECOND_SIGNAL_S = 1.0
DRAIN_LOOK_S = 0.2  # while draining at the end: how often to see whether to give up


class Companion(Protocol):
    """Something served beside the tailing in the same loop (the dashboard): started
    first, stopped last, so it can show the shutdown too."""

    async def serve(self) -> None: ...

    def stop(self) -> None: ...


class ManifestFollower(Protocol):
    """Something that hears of every manifest the shipper writes, on a thread of its own
    (the search index's BackgroundIndexer, which the CLI sets: the write path does not
    import the index)."""

    def start(self) -> None: ...

    def notify(self, sid: str, manifest: Manifest, stored: Mapping[int, bytes]) -> None: ...

    def stop(self) -> None: ...


class Watcher:
    def __init__(self, config: WatchConfig, store: Store) -> None:
        self.config = config
        self.metrics = Metrics()
        self._temp_spool: Path | None = None
        spool_dir = config.spool_dir
        if config.dry_run:
            # A dry run must not move the real spool's offsets: it reads from the start
            # into a throwaway spool and reports what it would write.
            self._temp_spool = Path(tempfile.mkdtemp(prefix="agent-uploader-dry-run-"))
            spool_dir = self._temp_spool
            store = DryRunStore(store)
        self.store = store
        self.spool = Spool(spool_dir, None if config.dry_run else config.state_dir)
        self.health = Health()
        self.status = StatusBoard(
            None if config.dry_run else self.spool.root / STATUS_NAME,
            store=store.description,
            spool=self.spool.root,
            health=self.health,
            sample=self._status_sample,
            queue=self.spool.queue_summary,
        )
        self.left: int | None = 0  # segments the last drain left in the queue (None: unknown)
        self.stop_reading = asyncio.Event()
        self._wakers: set[FileWaker] = set()
        self._stop_signal_at: float | None = None
        self.pipelines: dict[str, Pipeline] = {}
        self.live = LiveSessions(self.spool, self._states)
        self.companion: Companion | None = None
        # Keeps the search index up to date with what this watch writes (set by the CLI).
        self.indexer: ManifestFollower | None = None

    def new_pipeline(self, path: Path, sid: str, states: StateStore | None = None) -> Pipeline:
        return Pipeline(
            path, sid, self.spool, states or StateStore(self.spool.state_dir),
            self.config.limits, self.metrics, self.config.redactor,
        )  # fmt: skip

    def set_index_lag(self, seconds: float | None) -> None:
        """How far the search index is behind the store (None: unknown, or no index), for
        the status file and `agent-uploader status`."""
        self.status.set_index_lag(seconds)

    def health_report(self) -> dict[str, Any]:
        """This watch's status as `agent-uploader status --json` shows it (the dashboard's
        health strip and /api/status), from memory."""
        return report(WatchStatus(self.spool.root, self.status.document, True), time.time())

    def _status_sample(self) -> Sample:
        behind = rotated = 0
        for pipeline in list(self.pipelines.values()):
            behind += pipeline.bytes_behind()
            rotated += pipeline.seg.rotated if pipeline.seg is not None else 0
        m = self.metrics
        activity = (m.lines_read, m.segments_uploaded, m.manifests_written, rotated)
        return Sample(len(self.pipelines), behind, activity)

    def _states(self) -> dict[str, ResumeState]:
        return {sid: p.seg.state for sid, p in list(self.pipelines.items()) if p.seg is not None}

    def stats(self) -> dict[str, float]:
        """The counters /metrics shows."""
        queued, oldest = self.spool.queue_stats()
        stats = self.config.retry.stats
        return {
            **{k: float(v) for k, v in vars(self.metrics).items()},
            "queue_segments": float(queued),
            "queue_oldest_age_seconds": oldest or 0.0,
            "retries": float(stats.retries),
            "errors": float(stats.errors),
            "sessions_watched": float(len(self.pipelines)),
        }

    async def run(self) -> int:
        cfg = self.config
        spool = self.spool
        spool.prepare()
        spool.lock()
        spool.clean_orphans()
        self.status.start()
        status = asyncio.create_task(self.status.run(), name="status")
        loop = asyncio.get_running_loop()
        companion = (
            asyncio.create_task(self.companion.serve(), name="dashboard")
            if self.companion is not None
            else None
        )
        io_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="io")
        store_pool = ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix="store")
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)
        shipper = Shipper(
            spool,
            self.store,
            executor=store_pool,
            concurrency=cfg.concurrency,
            retry=cfg.retry,
            writer=spool.writer,
            metrics=self.metrics,
            health=self.health,
        )
        # Segments left by an earlier run go first: the shipper starts before any
        # new segment can be closed.
        if self.indexer is not None:
            shipper.on_manifest = self.indexer.notify
            self.indexer.start()
        shipper_task = asyncio.create_task(shipper.run(), name="shipper")
        observer = Observer()
        try:
            await self._tail(shipper, io_pool, observer)
        finally:
            with contextlib.suppress(Exception):
                observer.stop()
                observer.join(timeout=2)
            await self._drain(shipper, shipper_task)
            if self.indexer is not None:
                self.indexer.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            io_pool.shutdown(wait=True)
            store_pool.shutdown(wait=False, cancel_futures=True)
            status.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await status
            self.status.stop()  # before the lock goes: the next watch's status is its own
            spool.unlock()
            if companion is not None and self.companion is not None:
                self.companion.stop()
                with contextlib.suppress(Exception):
                    await companion
            self.store.close()
            if self._temp_spool is not None:
                shutil.rmtree(self._temp_spool, ignore_errors=True)
        if cfg.once and self.left:
            raise NotUploaded(self.left, self.spool.queue_dir)
        return 0

    def _on_signal(self) -> None:
        now = time.monotonic()
        if self._stop_signal_at is not None:
            # A second Ctrl+C stops waiting for uploads; one that comes at once is the
            # same request delivered twice (`timeout`, some supervisors signal both the
            # process and its group).
            if now - self._stop_signal_at > SECOND_SIGNAL_S:
                raise KeyboardInterrupt
            return
        self._stop_signal_at = now
        log.info("stopping: closing the active segment and uploading what is queued")
        self.stop_reading.set()
        for waker in self._wakers:
            waker.set()

    async def _tail(
        self, shipper: Shipper, io_pool: ThreadPoolExecutor, observer: BaseObserver
    ) -> None:
        cfg = self.config
        observer.daemon = True
        observer.start()
        watches = FolderWatches(observer)
        if cfg.file is not None and cfg.sid is not None:
            await self.tail_one(cfg.file, cfg.sid, shipper, io_pool, watches)
        else:
            from uploader.write.folders import FolderWatch

            await FolderWatch(self, shipper, io_pool, watches).run()

    async def tail_one(
        self,
        path: Path,
        sid: str,
        shipper: Shipper,
        io_pool: ThreadPoolExecutor,
        watches: FolderWatches,
        *,
        idle_s: float | None = None,
        title: str | None = None,
        caught_up: Callable[[], None] | None = None,
    ) -> Pipeline | None:
        """Tail one file until the session ends, reading stops, or (with idle_s) the file
        has not changed for idle_s seconds: then its segment is closed and uploaded, and
        nothing of it stays open. Returns the pipeline, None if it never opened."""
        loop = asyncio.get_running_loop()
        pipeline = self.new_pipeline(path, sid)
        manifest = None
        if not pipeline.states.path(sid).exists():
            # A session new to this spool may exist in the store: continue it. The store
            # may be down; Ctrl+C must still work while this is retried.
            fetch = asyncio.ensure_future(shipper.manifest(sid))
            stop = asyncio.ensure_future(self.stop_reading.wait())
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not fetch.done():
                fetch.cancel()
                return None
            manifest = fetch.result()
        if not await self._open(pipeline, manifest, io_pool):
            return None
        pipeline.set_title(title)
        self.pipelines[sid] = pipeline
        waker = FileWaker(watches, pipeline.path, loop)
        self._wakers.add(waker)
        if idle_s is None:
            log.info("watching %s as session %s -> %s", path, sid, self.store.description)
        rotated = 0
        try:
            while not self.stop_reading.is_set():
                waker.event.clear()
                started = time.monotonic()
                result = await loop.run_in_executor(io_pool, pipeline.step)
                waker.stepped()
                assert pipeline.seg is not None
                if pipeline.seg.rotated != rotated:
                    rotated = pipeline.seg.rotated
                    shipper.wake.set()
                if result.ended:
                    shipper.wake.set()
                    return pipeline
                if caught_up is not None and not result.more:
                    caught_up()  # read to its end once: the rest is tailing
                    caught_up = None
                if self.config.once and not result.more and not result.spool_full:
                    return pipeline  # read to its end: `finish` closes the segment
                # At most ten steps a second: a burst of appends (or of pieces of one long
                # line) becomes one read, not one per write; a busy file is read at this
                # pace without file events (wake.py); a source that is gone is looked at
                # this often until its grace period ends. The pause comes before the news
                # check, so a busy file never takes its watch again between two reads.
                pause = MIN_STEP_INTERVAL_S - (time.monotonic() - started)
                if pause > 0 and not self.stop_reading.is_set():
                    await asyncio.sleep(pause)
                if not result.more and not self._news(pipeline, result):
                    idle_left = _idle_left(pipeline, idle_s)
                    if idle_left is not None and idle_left <= 0:
                        return pipeline  # closed until it grows (the caller watches for that)
                    await self._wait(pipeline, result, waker, idle_s)
                    waker.disarm()
            return pipeline
        finally:
            try:
                waker.release()
                self._wakers.discard(waker)
            finally:  # whatever happened, the segment is closed and the file released
                await loop.run_in_executor(io_pool, pipeline.finish)
            self.pipelines.pop(sid, None)
            shipper.wake.set()

    async def _open(
        self, pipeline: Pipeline, manifest: Manifest | None, io_pool: ThreadPoolExecutor
    ) -> bool:
        """Open the pipeline; while every file handle is taken (a flood of connections to
        the dashboard, too many files), try again at every poll. False: stopping first."""
        loop = asyncio.get_running_loop()
        said = False
        while True:
            try:
                await loop.run_in_executor(io_pool, pipeline.open, manifest)
                return True
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE):
                    raise
                if not said:
                    log.error("%s: cannot open %s (%s); trying again", pipeline.sid,
                              pipeline.path, exc.strerror)  # fmt: skip
                    said = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_reading.wait(), self.config.poll_s)
            if self.stop_reading.is_set():
                return False

    async def _wait(
        self, pipeline: Pipeline, result: StepResult, waker: FileWaker, idle_s: float | None
    ) -> None:
        """Until the file changes or a step is due. A poll that finds the file as it was
        costs one stat here, not a step."""
        while not self.stop_reading.is_set():
            waker.arm()
            if self._news(pipeline, result):  # a write before the arming fired no event
                return
            timeout = self._timeout(pipeline, result)
            idle_left = _idle_left(pipeline, idle_s)
            if idle_left is not None:
                timeout = min(timeout, idle_left)
            if await waker.wait(timeout):
                return  # the file changed, or we are stopping
            if timeout < self.config.poll_s or result.spool_full:
                return  # a rotation, state save or idle close is due; or retry the spool
            waker.event.clear()

    @staticmethod
    def _news(pipeline: Pipeline, result: StepResult) -> bool:
        """More to read right now? (Not while the spool is full: then wait for a poll.)"""
        return not result.spool_full and pipeline.has_news()

    def _timeout(self, pipeline: Pipeline, result: StepResult) -> float:
        """Until the next poll, a segment's age limit or a due state save (while the spool
        is full those are overdue: only the poll paces the retries)."""
        timeout = self.config.poll_s
        if result.spool_full:
            return timeout
        for due in (pipeline.deadline(), pipeline.sync_due()):
            if due is not None:
                timeout = min(timeout, due - time.time())
        return max(0.0, timeout)

    async def _drain(self, shipper: Shipper, shipper_task: asyncio.Task[None]) -> None:
        """Upload what is queued within the shutdown timeout (with --once, for as long as
        the store takes it); the rest waits on disk. Sets `left`."""
        drain = asyncio.ensure_future(shipper.drain())
        started = time.monotonic()
        while not drain.done() and not self._give_up(started):
            await asyncio.wait({drain}, timeout=DRAIN_LOOK_S)
        drain.cancel()
        try:
            await drain
        except (asyncio.CancelledError, Exception) as exc:  # anything left is still on disk
            log.debug("drain stopped: %r", exc)
        shipper.stop.set()
        shipper_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await shipper_task
        try:
            left, _ = self.spool.queue_stats()
        except OSError as exc:  # out of file handles, say: the data is on disk regardless
            log.warning("cannot count what stays in %s (%s)", self.spool.queue_dir, exc.strerror)
            self.left = None
            return
        self.left = left
        if left:
            log.warning(
                "%d segment(s) not uploaded yet stay in %s; the next start uploads them",
                left,
                self.spool.queue_dir,
            )

    def _give_up(self, started: float) -> bool:
        """Stop waiting for the final uploads? After the shutdown timeout (from the stop
        request, with --once); with --once and no stop request, only once the store has
        been failing for that long."""
        timeout = self.config.shutdown_timeout_s
        if not self.config.once or self._stop_signal_at is not None:
            return time.monotonic() - max(started, self._stop_signal_at or 0.0) > timeout
        failing = self.health.failing_since
        return failing is not None and time.time() - failing > timeout


def _idle_left(pipeline: Pipeline, idle_s: float | None) -> float | None:
    """Seconds until the file counts as idle (its last change idle_s ago), or None."""
    if idle_s is None:
        return None
    changed = pipeline.last_change()
    return None if changed is None else changed + idle_s - time.time()
