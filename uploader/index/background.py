"""The index kept up to date beside a running `watch`: one daemon thread that refreshes
from the store once at the start, then indexes each session the watch just wrote a
manifest for (told by `notify`, which never blocks the upload loop). Idle, it waits.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable

from uploader.core.errors import UploaderError
from uploader.index.indexer import Indexer
from uploader.storage.manifest import Manifest
from uploader.stores.base import StorageError

log = logging.getLogger(__name__)


class BackgroundIndexer:
    def __init__(
        self, indexer: Indexer, on_lag: Callable[[float | None], None] | None = None
    ) -> None:
        self.indexer = indexer
        self.on_lag = on_lag  # told how long the oldest waiting session has waited
        self._pending: dict[str, tuple[Manifest, float]] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def notify(self, sid: str, manifest: Manifest) -> None:
        """The session's manifest was written: index its new segments soon."""
        with self._wake:
            since = self._pending.get(sid, (manifest, time.monotonic()))[1]
            self._pending[sid] = (manifest, since)
            self._wake.notify()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        self._guarded("refresh", self.indexer.refresh)
        while True:
            with self._wake:
                while not self._pending and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                batch, self._pending = self._pending, {}
            for sid, (manifest, _since) in sorted(batch.items()):
                self._guarded(sid, functools.partial(self.indexer.index_session, sid, manifest))
            if self.on_lag is not None:
                with self._wake:
                    waiting = [since for _, since in self._pending.values()]
                self.on_lag(time.monotonic() - min(waiting) if waiting else 0.0)

    def _guarded(self, what: str, work: Callable[[], object]) -> None:
        """Run one piece of work; a failure is logged and the next one goes on (the
        store's next change, or the next start, tries again)."""
        try:
            work()
        except (UploaderError, StorageError) as exc:
            log.warning("index: %s not indexed: %s", what, exc)
        except Exception:  # the index must never stop the uploads
            log.exception("index: %s not indexed", what)
