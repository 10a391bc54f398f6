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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import manifest as mf
from .metrics import Metrics
from .pipeline import Pipeline
from .reading import parse_manifest
from .retry import RetryPolicy
from .segment import SegmentLimits
from .sessionid import validate_sid
from .shipper import Shipper
from .spool import Spool
from .state import StateStore
from .stores.base import ObjectNotFound, Store

log = logging.getLogger(__name__)

COMPLETED = "completed"


def snapshot(
    store: Store,
    path: str | Path,
    sid: str,
    status: str = COMPLETED,
    *,
    timeout_s: float = 60.0,
    limits: SegmentLimits | None = None,
) -> bool:
    """Upload the transcript at `path` as session `sid`, closed. True when the store holds
    it afterwards (uploaded now or before); False when it was skipped or failed, which is
    logged, never raised. Only a `completed` run is uploaded: a failed one must not
    become what the next restore brings back."""
    if status != COMPLETED:
        log.info("snapshot of %s skipped: status is %r, not %r", sid, status, COMPLETED)
        return False
    source = Path(path)
    try:
        if not source.is_file() or source.stat().st_size == 0:
            log.info("snapshot of %s skipped: %s is missing or empty", sid, source)
            return False
        return _snapshot(store, source, validate_sid(sid), timeout_s, limits or SegmentLimits())
    except Exception as exc:  # its caller is an agent's cleanup: report, never raise
        log.error("snapshot of %s from %s failed: %s", sid, source, exc)
        return False


def _snapshot(
    store: Store, source: Path, sid: str, timeout_s: float, limits: SegmentLimits
) -> bool:
    try:
        raw = store.get(mf.manifest_key(sid))
        existing = parse_manifest(raw, f"{store.description}/{mf.manifest_key(sid)}")
    except ObjectNotFound:
        existing = None
    with tempfile.TemporaryDirectory(prefix="agent-uploader-snapshot-") as tmp:
        spool = Spool(Path(tmp))
        spool.prepare()
        pipeline = Pipeline(source, sid, spool, StateStore(spool.state_dir), limits, Metrics())
        pipeline.open(existing)
        try:
            pipeline.read_to_end()
        finally:
            pipeline.finish()
        if existing is not None and existing.get("closed") and not spool.pending(sid):
            log.info("snapshot of %s: the store already holds %s", sid, source)
            return True
        asyncio.run(_ship(spool, store, sid, timeout_s))
    log.info("snapshot of %s: %s uploaded to %s", sid, source, store.description)
    return True


async def _ship(spool: Spool, store: Store, sid: str, timeout_s: float) -> None:
    pool = ThreadPoolExecutor(4, thread_name_prefix="snapshot")
    shipper = Shipper(
        spool,
        store,
        executor=pool,
        concurrency=4,
        retry=RetryPolicy(cap=min(5.0, timeout_s)),
        writer=f"{socket.gethostname()}/snapshot",
        metrics=Metrics(),
    )
    try:
        await asyncio.wait_for(shipper.drain_session(sid), timeout_s)
    except TimeoutError:
        shipper.stop.set()
        raise TimeoutError(f"the store did not take it within {timeout_s:.0f}s") from None
    finally:
        # A store call stuck in its SDK must not hold up the agent's cleanup.
        pool.shutdown(wait=False, cancel_futures=True)
