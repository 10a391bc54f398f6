"""The index kept up to date beside a running `watch`: one daemon thread that refreshes
from the store once at the start, then indexes each session the watch just wrote a
manifest for (told by `notify`, which never blocks the upload loop), and, every LIVE_S
while lines are being read, the lines of the segments not uploaded yet (live documents,
which the segment replaces once it is uploaded). Idle, it waits.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from uploader.core.errors import UploaderError
from uploader.index.extract import segment_docs
from uploader.index.indexer import Indexer
from uploader.storage.manifest import Manifest
from uploader.storage.reading import cut_lines
from uploader.stores.base import StorageError
from uploader.write.live import ActiveSegment

log = logging.getLogger(__name__)

#: How often lines read but not uploaded yet are indexed, while there are new ones.
LIVE_S = 2.0


class ActiveSegments(Protocol):
    """The segments a watch is writing (uploader.write.live.LiveSessions)."""

    def active_segments(self, seen: Mapping[str, tuple[int, int]]) -> list[ActiveSegment]: ...


class BackgroundIndexer:
    def __init__(
        self,
        indexer: Indexer,
        on_lag: Callable[[float | None], None] | None = None,
        *,
        live: ActiveSegments | None = None,
        activity: Callable[[], object] | None = None,
    ) -> None:
        self.indexer = indexer
        self.on_lag = on_lag  # told how long the oldest waiting session has waited
        self.live = live
        self.activity = activity  # changes when lines were read (the watch's line count)
        # sid -> (its manifest, segments' stored bytes by seq, when it was first told)
        self._pending: dict[str, tuple[Manifest, dict[int, bytes], float]] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="index", daemon=True)
        self._seen_activity: object = None
        self._live_done: dict[str, tuple[int, int, int]] = {}  # sid -> (seq, lines, bytes)

    def start(self) -> None:
        self._thread.start()

    def notify(self, sid: str, manifest: Manifest, stored: Mapping[int, bytes]) -> None:
        """The session's manifest was written: index its new segments soon (`stored`:
        the bytes of those just uploaded, by seq, so that none is read back)."""
        with self._wake:
            _, before, since = self._pending.get(sid, (manifest, {}, time.monotonic()))
            self._pending[sid] = (manifest, {**before, **stored}, since)
            self._wake.notify()

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        self._guarded("refresh", self.indexer.refresh)
        if self.on_lag is not None:
            self.on_lag(0.0)  # caught up with the store as it was at the start
        wait = LIVE_S if self.live is not None and self.activity is not None else None
        while True:
            with self._wake:
                if not self._pending and not self._stopped:
                    self._wake.wait(wait)
                batch, self._pending = self._pending, {}
                stopping = self._stopped
            for sid, (manifest, stored, _since) in sorted(batch.items()):
                index = functools.partial(self.indexer.index_session, sid, manifest, stored)
                self._guarded(sid, index)
            if stopping:  # the last manifests written are indexed first (stop() waits 5 s)
                return
            if self.on_lag is not None:
                with self._wake:
                    waiting = [since for _, _, since in self._pending.values()]
                self.on_lag(time.monotonic() - min(waiting) if waiting else 0.0)
            if self.activity is not None and self.activity() != self._seen_activity:
                self._seen_activity = self.activity()
                self._guarded("live lines", self._index_live)

    def _index_live(self) -> None:
        """The complete lines of each active segment not indexed yet."""
        if self.live is None:
            return
        seen = {sid: (seq, lines) for sid, (seq, lines, _) in self._live_done.items()}
        for segment in self.live.active_segments(seen):
            sid = segment.sid
            seq, lines, offset = self._live_done.get(sid, (0, 0, 0))
            fresh = seq != segment.seq
            if fresh:
                lines, offset = 0, 0
            elif segment.lines <= lines:
                continue
            with open(segment.path, "rb") as f:
                f.seek(offset)
                data = f.read()
            data = cut_lines(data, segment.lines - lines)
            data = data[: data.rfind(b"\n") + 1]  # complete lines only
            docs, _ = segment_docs(data, segment.agent, segment.first_line + lines)
            self.indexer.index.add_live(sid, segment.generation, segment.seq, docs,
                                        replace=fresh)  # fmt: skip
            self._live_done[sid] = (segment.seq, lines + data.count(b"\n"), offset + len(data))

    def _guarded(self, what: str, work: Callable[[], object]) -> None:
        """Run one piece of work; a failure is logged and the next one goes on (the
        store's next change, or the next start, tries again)."""
        try:
            work()
        except (UploaderError, StorageError, OSError) as exc:
            log.warning("index: %s not indexed: %s", what, exc)
        except Exception:  # the index must never stop the uploads
            log.exception("index: %s not indexed", what)
