"""What a watch is given and checks before it starts: its settings (WatchConfig), and
the store probe every command that writes runs first (check_store). Light to import:
the commands that only probe a store do not load the watch's loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from uploader.core.errors import StoreCheckFailed
from uploader.redaction import Redactor
from uploader.stores import Store
from uploader.stores.base import StorageError, StorageUnavailable, StorageUnreachable
from uploader.write.discovery import Filters
from uploader.write.retry import RetryPolicy
from uploader.write.segment import SegmentLimits

log = logging.getLogger(__name__)


@dataclass
class WatchConfig:
    file: Path | None  # one file (--file), or else the folders below
    sid: str | None
    spool_dir: Path
    state_dir: Path | None
    limits: SegmentLimits
    poll_s: float = 0.5
    concurrency: int = 2
    dry_run: bool = False
    shutdown_timeout_s: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    dirs: list[Path] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    idle_s: float = 300.0  # a folder's file unchanged this long is closed until it grows
    scan_s: float = 2.0  # how often the folders are scanned for new and grown files
    redactor: Redactor | None = None  # None: lines are uploaded exactly as written
    once: bool = False  # read to the end of the files, upload, and stop


def check_store(store: Store) -> None:
    """The start-up probe: one clear StoreCheckFailed for a missing bucket, bad credentials
    or a store that cannot be reached at all."""
    try:
        store.check()
    except StorageUnavailable as exc:
        if isinstance(exc, StorageUnreachable):
            raise StoreCheckFailed(store.description, exc) from exc
        # Reachable later is fine: the spool holds the data until then.
        log.warning(
            "store %s is not reachable now (%s); uploads will retry", store.description, exc
        )
    except StorageError as exc:
        raise StoreCheckFailed(store.description, exc) from exc
