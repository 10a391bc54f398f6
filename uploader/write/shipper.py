"""Draining the spool's upload queue into the store.

Per session, in seq order: upload a batch of segments (several at once), then their
checkpoint objects, then the manifest that names them, and only then remove them
from the queue. Keys are deterministic, so a retry after any failure rewrites the
same objects, and the manifest entry for a seq is replaced, never duplicated.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any, TypeVar

from uploader.agents.titles import TITLE_SEGMENTS, HeadTitles, pick_title
from uploader.core.errors import SessionConflict
from uploader.core.fsutil import atomic_write
from uploader.core.metrics import Health, Metrics
from uploader.storage import manifest as mf
from uploader.storage.changes import ChangeMarks
from uploader.storage.manifest import Manifest
from uploader.storage.ownership import Ownership
from uploader.storage.records import Checkpoint
from uploader.stores.base import ObjectNotFound, Store, WriteOnlyStore, scrub
from uploader.stores.dryrun import DryRunStore
from uploader.write.retry import RetryPolicy, Stopped
from uploader.write.spool import QueuedSegment, Spool

log = logging.getLogger(__name__)
T = TypeVar("T")


class Shipper:
    def __init__(
        self,
        spool: Spool,
        store: Store,
        *,
        executor: Executor,
        concurrency: int,
        retry: RetryPolicy,
        writer: str,
        metrics: Metrics,
        health: Health | None = None,
    ) -> None:
        self.spool = spool
        self.store = store
        self.executor = executor
        self.retry = retry
        self.writer = writer
        self.metrics = metrics
        self.health = health or Health()
        # A dry run's log says what would be uploaded, never that it was.
        self.uploaded = "would upload" if isinstance(store, DryRunStore) else "uploaded"
        self.batch_size = max(concurrency, 8)
        self.wake = asyncio.Event()
        self.stop = asyncio.Event()  # set to abandon retries (the drain deadline passed)
        self._slots = asyncio.Semaphore(concurrency)
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._manifests: dict[str, Manifest] = {}
        self.own = Ownership(store, writer)
        # Top-level fields a one-shot writer adds to a session's manifest, as JSON values
        # (an importer's label and title).
        self.manifest_extra: dict[str, dict[str, Any]] = {}
        self.changes = ChangeMarks()  # the change feed's marks readers list
        # Told each session whose manifest was written, with the stored bytes of the
        # segments it adds (watch's search index: it need not read them back).
        self.on_manifest: Callable[[str, Manifest, dict[int, bytes]], None] | None = None
        self._fresh: dict[str, dict[int, bytes]] = {}  # sid -> seq -> bytes, for on_manifest

    # -- plumbing ----------------------------------------------------------------------

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _store_call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        writes = what.startswith("PUT ")

        async def attempt() -> T:
            async with self._slots:
                try:
                    result = await self._blocking(fn, *args)
                except Exception as exc:
                    self.health.failed(scrub(f"{what} failed: {exc}"), wrote=writes)
                    raise
            self.health.succeeded(wrote=writes)
            return result

        return await self.retry.run(attempt, what=what, stop=self.stop)

    # -- manifests ---------------------------------------------------------------------

    async def manifest(self, sid: str) -> Manifest | None:
        """The session's manifest as last written here, else as the store has it."""
        if sid in self._manifests:
            return self._manifests[sid]
        key = mf.manifest_key(sid)
        cache = self.spool.manifest_cache(sid)
        if cache.exists():
            raw = cache.read_bytes()
            self.own.known(key, raw)
            loaded = Manifest.parse(raw, str(cache))
            self._manifests[sid] = loaded
            return loaded

        def fetch() -> bytes | None:
            try:
                return self.store.get(key)
            except (ObjectNotFound, WriteOnlyStore):
                return None

        raw_found = await self._store_call(f"GET {key}", fetch)
        if raw_found is None:
            return None
        self.own.known(key, raw_found)
        found = Manifest.parse(raw_found, f"{self.store.description}/{key}")
        self._manifests[sid] = found
        return found

    async def _write_manifest(self, sid: str, manifest: Manifest) -> None:
        manifest = manifest.with_fields(self.manifest_extra.get(sid, {})).touched()
        data, key = manifest.dumps(), mf.manifest_key(sid)
        await self._store_call(f"PUT {key}", self.own.write_manifest, key, data, mf.JSON_TYPE)
        self._manifests[sid] = manifest
        if self.changes.due(sid) is not None:
            # Best effort, once: readers that miss a mark find the change at their next
            # full listing, and a store that refuses `changes/` must not hold uploads up.
            await self._blocking(self.changes.mark, self.store, sid)
        if self.on_manifest is not None:
            self.on_manifest(sid, manifest, self._fresh.pop(sid, {}))
        cache = self.spool.manifest_cache(sid)
        try:
            await self._blocking(atomic_write, cache, data)
        except OSError as exc:
            # A stale cache would later overwrite the store's newer manifest: drop it, and
            # the next start reads the manifest back from the store.
            cache.unlink(missing_ok=True)
            log.warning("%s: could not cache the manifest (%s)", sid, exc.strerror)
        self.metrics.manifests_written += 1

    # -- draining ----------------------------------------------------------------------

    async def run(self) -> None:
        """Drain whenever woken (a segment closed) until stopped. Idle means no work:
        no timer runs and no store request is made while nothing is queued."""
        while not self.stop.is_set():
            self.wake.clear()
            try:
                clean = await self.drain()
            except Exception as exc:  # the spool itself failed (e.g. unreadable): retry
                log.error("uploads paused: %s; retrying in %.0fs", exc, self.retry.cap)
                clean = False
            waiter = asyncio.ensure_future(self.wake.wait())
            stopper = asyncio.ensure_future(self.stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=None if clean else self.retry.cap,
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            stopper.cancel()

    async def drain(self) -> bool:
        """Ship everything queued; False if some session must be tried again later."""
        sids = await self._blocking(self.spool.sids_with_work)
        results = await asyncio.gather(
            *(self.drain_session(sid) for sid in sids), return_exceptions=True
        )
        clean = True
        for sid, outcome in zip(sids, results, strict=True):
            if isinstance(outcome, Stopped | asyncio.CancelledError):
                clean = False
            elif isinstance(outcome, SessionConflict):
                clean = False
                advice = f". {outcome.hint[0].upper()}{outcome.hint[1:]}" if outcome.hint else ""
                log.error("%s: conflict: %s%s", sid, outcome, advice)
            elif isinstance(outcome, BaseException):
                clean = False
                log.error("%s: upload paused: %s; the spool keeps the data", sid, outcome)
        return clean

    async def drain_session(self, sid: str) -> None:
        lock = self._session_locks.setdefault(sid, asyncio.Lock())
        async with lock:
            while items := await self._blocking(self.spool.pending, sid):
                await self._ship_batch(sid, items[: self.batch_size])
            if await self._blocking(self.spool.is_ended, sid):
                manifest = await self.manifest(sid) or mf.new_manifest(sid, self.writer)
                await self._write_manifest(sid, replace(manifest, closed=True, writer=self.writer))
                await self._blocking(self.spool.clear_ended, sid)
                log.info("%s: session closed in %s", sid, self.store.description)

    async def _ship_batch(self, sid: str, batch: list[QueuedSegment]) -> None:
        manifest = await self.manifest(sid) or mf.new_manifest(sid, self.writer)
        await asyncio.gather(*(self._upload_segment(item) for item in batch))
        checkpoints = [
            Checkpoint.from_json(item.meta["checkpoint"])
            for item in batch
            if item.meta.get("checkpoint")
        ]
        if checkpoints:
            await self._upload_checkpoints(sid, checkpoints)
        for item in batch:
            manifest = manifest.with_segment(item.meta)
        if not manifest.first_message:
            manifest = self._find_title(manifest, batch)
        await self._write_manifest(sid, replace(manifest, writer=self.writer, closed=False))
        for item in batch:
            await self._blocking(self.spool.remove, item)

    @staticmethod
    def _find_title(manifest: Manifest, batch: list[QueuedSegment]) -> Manifest:
        """Record the session's fallback title from what the first few segments' heads
        offered when they were packed (a session without one costs nothing after those)."""
        early = sorted((item for item in batch if item.seq <= TITLE_SEGMENTS), key=lambda i: i.seq)
        found = pick_title(HeadTitles.from_json(item.meta.get("titles")) for item in early)
        return replace(manifest, first_message=found) if found else manifest

    async def _upload_segment(self, item: QueuedSegment) -> None:
        meta = item.meta
        key = mf.object_key(item.sid, meta["path"])
        data = await self._blocking(item.data_path.read_bytes)
        t0 = time.monotonic()
        await self._store_call(f"PUT {key}", self.own.create, key, data, mf.content_type(key))
        self.metrics.segments_uploaded += 1
        self.metrics.bytes_uploaded += len(data)
        if self.on_manifest is not None:
            self._fresh.setdefault(item.sid, {})[item.seq] = data
        self.health.redacted(meta.get("redactions"))
        raw, stored = meta["bytes"], meta["gzip_bytes"]
        log.info(
            "%s: %s segment %d: %d lines, %d bytes -> %d (%.1fx) in %.0f ms%s",
            item.sid,
            self.uploaded,
            item.seq,
            meta["lines"],
            raw,
            stored,
            raw / stored if stored else 0.0,
            (time.monotonic() - t0) * 1000,
            redacted_note(meta.get("redactions")),
        )

    async def _upload_checkpoints(self, sid: str, checkpoints: list[Checkpoint]) -> None:
        """Each checkpoint's own object, then latest.json once for the batch's newest."""

        def body(checkpoint: Checkpoint) -> bytes:
            return json.dumps(checkpoint.to_json(), ensure_ascii=False).encode()

        await asyncio.gather(
            *(
                self._store_call(f"PUT {key}", self.own.create, key, body(c), mf.JSON_TYPE)
                for c in checkpoints
                for key in [mf.checkpoint_key(sid, c.id)]
            )
        )
        latest = mf.latest_checkpoint_key(sid)
        await self._store_call(
            f"PUT {latest}", self.store.put, latest, body(checkpoints[-1]), mf.JSON_TYPE
        )
        for c in checkpoints:
            self.metrics.checkpoints += 1
            log.info(
                "%s: checkpoint %s (%s) at segment %d line %d",
                sid, c.id, c.label, c.seq, c.line_idx,
            )  # fmt: skip


def redacted_note(redactions: dict[str, int] | None) -> str:
    """`; 3 secrets redacted (github-token 2, aws-access-key-id 1)`, or nothing."""
    if not redactions:
        return ""
    total = sum(redactions.values())
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(redactions.items()))
    return f"; {total} secret{'s' if total != 1 else ''} redacted ({rules})"
