"""Uploading a finished transcript whole, as a session (`snapshot()` of the Python API).

It runs in an agent's cleanup path, so it never raises: it logs and returns False.
It is `watch`'s own machinery run once, in a throwaway spool: the same segments,
checkpoints, manifest and ownership checks. A session the store already has is
continued (only the lines after what it holds are uploaded) when the file starts with
exactly its bytes, and gets a new generation when it does not; a file the store holds
whole uploads nothing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any, TypeVar

from uploader.core.errors import BeingWritten
from uploader.core.metrics import Metrics
from uploader.redaction import Redactor
from uploader.redaction.choice import resolve_redactor
from uploader.storage import manifest as mf
from uploader.storage.manifest import Manifest
from uploader.storage.sessionid import validate_sid
from uploader.stores.base import ObjectNotFound, Store
from uploader.write.pipeline import Pipeline
from uploader.write.retry import RetryPolicy
from uploader.write.segment import SegmentLimits
from uploader.write.shipper import Shipper
from uploader.write.spool import Spool
from uploader.write.state import StateStore

log = logging.getLogger(__name__)

COMPLETED = "completed"
SNAPSHOT_WRITER = "/snapshot"  # the manifest's writer is "<host>/snapshot"
T = TypeVar("T")


def snapshot(
    store: Store,
    path: str | Path,
    sid: str,
    status: str = COMPLETED,
    *,
    timeout_s: float = 60.0,
    limits: SegmentLimits | None = None,
    redact: bool | Redactor | None = None,
) -> bool:
    """Upload the transcript at `path` as session `sid`, closed. True when the store holds
    it afterwards (uploaded now or before); False when it was skipped or failed, which is
    logged, never raised. Only a `completed` run is uploaded: a failed one must not
    become what the next restore brings back. Secrets are redacted with the built-in
    rules (`redact=True`), a Redactor's own rules, or not at all (`redact=False`);
    by default as AGENT_UPLOADER_REDACT says, which is on unless it says off."""
    if status != COMPLETED:
        log.info("snapshot of %s skipped: status is %r, not %r", sid, status, COMPLETED)
        return False
    source = Path(str(path))
    try:
        if not source.is_file() or source.stat().st_size == 0:
            log.info("snapshot of %s skipped: %s is missing or empty", sid, source)
            return False
        upload_whole(store, source, sid, timeout_s=timeout_s, limits=limits, redact=redact)
    except Exception as exc:  # its caller is an agent's cleanup: report, never raise
        log.error("snapshot of %s from %s failed: %s", sid, source, exc)
        return False
    return True


#: What upload_whole did.
UPLOADED, ALREADY_THERE = "uploaded", "already in the store"


def upload_whole(
    store: Store,
    source: Path,
    sid: str,
    *,
    timeout_s: float = 60.0,
    limits: SegmentLimits | None = None,
    extra: dict[str, Any] | None = None,
    redact: bool | Redactor | None = None,
) -> str:
    """Upload the file at `source` as session `sid`, closed; UPLOADED or ALREADY_THERE.
    `extra` fields go into the manifest (an importer's label and title); `redact` as
    for `snapshot`. Raises what went wrong (BeingWritten, TimeoutError after timeout_s,
    store errors)."""
    sid = validate_sid(sid)
    redactor = resolve_redactor(redact)
    deadline = time.monotonic() + timeout_s
    outcome: list[str | BaseException] = []

    def work() -> None:
        try:
            segments = limits or SegmentLimits()
            fields = _redacted_fields(extra or {}, redactor)
            outcome.append(_upload(store, source, sid, deadline, segments, fields, redactor))
        except BaseException as exc:
            outcome.append(exc)

    # A daemon thread, and daemon threads for the store calls: a call stuck in its SDK
    # (a store that accepts connections and never answers) cannot hold up the caller, not
    # even its exit.
    worker = threading.Thread(target=work, name=f"snapshot-{sid}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"gave up after {timeout_s:.0f}s (timeout_s): the store did not answer")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _redacted_fields(extra: dict[str, Any], redactor: Redactor | None) -> dict[str, Any]:
    """Manifest fields from outside the file (an importer's label and title) are redacted
    like its lines: they leave the machine too."""
    if redactor is None:
        return extra
    return {k: redactor.redact_text(v) if isinstance(v, str) else v for k, v in extra.items()}


def _upload(
    store: Store,
    source: Path,
    sid: str,
    deadline: float,
    limits: SegmentLimits,
    extra: dict[str, Any],
    redactor: Redactor | None,
) -> str:
    try:
        raw = store.get(mf.manifest_key(sid))
        existing: Manifest | None = Manifest.parse(
            raw, f"{store.description}/{mf.manifest_key(sid)}"
        )
    except ObjectNotFound:
        existing = None
    if existing is not None and existing.being_written():
        writer = existing.writer or ""
        if not writer.endswith(SNAPSHOT_WRITER):
            raise BeingWritten(sid, writer)
    with tempfile.TemporaryDirectory(prefix="agent-uploader-snapshot-") as tmp:
        spool = Spool(Path(tmp))
        spool.prepare()
        states = StateStore(spool.state_dir)
        pipeline = Pipeline(source, sid, spool, states, limits, Metrics(), redactor)
        pipeline.open(existing)
        try:
            pipeline.read_to_end()
        finally:
            pipeline.finish()
        if existing is not None and existing.closed and not spool.pending(sid):
            log.info("snapshot of %s: the store already holds %s", sid, source)
            return ALREADY_THERE
        asyncio.run(_ship(spool, store, sid, max(0.1, deadline - time.monotonic()), extra))
    log.info("snapshot of %s: %s uploaded to %s", sid, source, store.description)
    return UPLOADED


async def _ship(
    spool: Spool, store: Store, sid: str, timeout_s: float, extra: dict[str, Any]
) -> None:
    shipper = Shipper(
        spool,
        store,
        executor=DaemonExecutor(),
        concurrency=4,
        retry=RetryPolicy(cap=min(5.0, timeout_s)),
        writer=f"{socket.gethostname()}{SNAPSHOT_WRITER}",
        metrics=Metrics(),
    )
    shipper.manifest_extra[sid] = extra
    try:
        await asyncio.wait_for(shipper.drain_session(sid), timeout_s)
    except TimeoutError:
        shipper.stop.set()  # no more retries
        raise TimeoutError(f"the store did not take it within {timeout_s:.0f}s") from None


class DaemonExecutor(Executor):
    """Runs each call in a daemon thread. concurrent.futures' own pools join their threads
    at interpreter exit, so one store call stuck in an SDK would hold the exit up."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="snapshot-store", daemon=True).start()
        return future
