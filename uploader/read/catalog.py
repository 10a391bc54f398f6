"""The sessions of a store, kept in memory: one summary per manifest, and a session found by
id, id prefix or label among them.

Listing is the expensive part (a store with 10,000 sessions is 10,000 manifests), so a
Catalog keeps the summaries in memory and refreshes them when asked and stale: served
at once from memory, refreshed in the background, and idle means no store requests.
Closed sessions do not change, so a refresh reads only new and open manifests.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

from uploader.agents.titles import first_message
from uploader.core.errors import Ambiguous, UploaderError, UsageError
from uploader.read.labels import Labels, load_labels, same_label
from uploader.read.summaries import SessionSummary, list_sids, summarize, title_of
from uploader.storage.manifest import Manifest
from uploader.storage.reading import (
    Damaged,
    NotFound,
    SessionNotFound,
    load_manifest,
    segment_bytes,
    store_fetch,
)
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import StorageError, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Summaries:
    """What a refresh of the index tells the session list."""

    changed: dict[str, SessionSummary]  # read again
    removed: set[str]
    everything: dict[str, SessionSummary] | None  # all of them, when reloaded
    labels: Labels  # labels.json as it read it


class Indexed(Protocol):
    """A search index kept up to date with the store (uploader.index.indexer.Indexer)."""

    def ready(self) -> bool:
        """Has it been filled from the store once (by any process)?"""

    def build(self) -> None:
        """Start filling it in the background (once), if it is not under way."""

    def refresh_summaries(self, *, reload: bool) -> Summaries:
        """Refresh from the store, and say what changed (every summary when `reload`)."""


class Overlay(Protocol):
    def sids(self) -> list[str]: ...

    def manifest(self, sid: str) -> Manifest: ...


class Catalog:
    """Session summaries of one store, kept in memory (see the module's docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        ttl_s: float = 15.0,
        overlay: Overlay | None = None,
        workers: int = 8,
        indexed: Indexed | None = None,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        # A search index that keeps the summaries: a refresh reads only what the store's
        # change feed names (uploader.index.indexer), not every manifest.
        self.indexed = indexed
        # Sessions a running `watch` holds locally (newer than the store's, or not in it
        # yet): shown as live, from its copy.
        self.overlay = overlay
        self.workers = workers
        self._summaries: dict[str, SessionSummary] = {}
        self._refreshed_at: float | None = None
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self.last_error: str | None = None
        self._titles: dict[tuple[str, str], str | None] = {}
        self._labels: Labels = {}  # labels.json: users' labels, over the manifests' own
        self._warned: set[tuple[str, str]] = set()  # (sid, problem) said in a warning
        self._complete = False  # every session's summary is in memory (indexed mode)
        self._wanted = False  # a caller asked for all of them

    def sessions(self, *, wait: bool = False) -> list[SessionSummary]:
        """All sessions: from memory, refreshed first when never loaded (or `wait`), and
        in the background when stale."""
        stale = self.stale()
        if self.indexed is not None and not self._complete:
            self._wanted = True  # every summary, from the index: read them all this once
            if self._refreshed_at is not None and self.indexed.ready():
                self._refreshed_at = None
        if self._refreshed_at is None or wait:
            self.refresh()
        elif stale:
            threading.Thread(target=self.refresh, name="catalog", daemon=True).start()
        with self._lock:
            merged = dict(self._summaries)
        if self.overlay is not None:
            for sid in self.overlay.sids():
                merged[sid] = summarize(self._labelled(self.overlay.manifest(sid)), live=True)
        return list(merged.values())

    def ready(self) -> bool:
        """Has the list been loaded once (else the first look waits for it)?"""
        return self._refreshed_at is not None

    def stale(self) -> bool:
        return self._refreshed_at is None or time.monotonic() - self._refreshed_at > self.ttl_s

    def poke(self) -> None:
        """Refresh in the background if stale; never waits (the list reads the index)."""
        if self.stale() and not self._refreshing.locked():
            threading.Thread(target=self.refresh, name="catalog", daemon=True).start()

    def refresh(self) -> None:
        if not self._refreshing.acquire(blocking=False):
            with self._refreshing:  # one refresh at a time; wait for the one under way
                return
        try:
            if self.indexed is not None and self.indexed.ready():
                self._refresh_indexed(self.indexed)
            else:
                # An index never filled: list the store as without one (a first build of
                # a large store takes minutes), and fill it meanwhile.
                self._refresh()
                if self.indexed is not None:
                    self.indexed.build()
        finally:
            self._refreshing.release()

    def _refresh_indexed(self, indexed: Indexed) -> None:
        # Every summary is read from the index once, when a caller needs them all (a
        # lookup by label or prefix, a session's family): the list's pages do not, and a
        # host over 100,000 sessions starts without parsing them.
        try:
            found = indexed.refresh_summaries(reload=not self._complete and self._wanted)
        except (StorageError, UploaderError) as exc:
            self.last_error = f"cannot read {self.store.description}: {exc}"
            log.warning("%s", self.last_error)
            found = Summaries({}, set(), None, self._labels)
        else:
            self.last_error = None
        self._labels = found.labels  # what a session's page shows (manifest())
        with self._lock:
            if found.everything is not None:
                self._summaries = found.everything
                self._complete = True
            self._summaries.update(found.changed)
            for sid in found.removed:
                self._summaries.pop(sid, None)
            self._refreshed_at = time.monotonic()

    def _refresh(self) -> None:
        started = time.monotonic()
        try:
            sids = set(list_sids(self.store))
        except StorageError as exc:
            self.last_error = f"cannot list {self.store.description}: {exc}"
            log.warning("%s", self.last_error)
            self._refreshed_at = time.monotonic()
            return
        labels = self._load_labels()
        relabelled = {
            s for s in labels.keys() | self._labels.keys() if labels.get(s) != self._labels.get(s)
        }
        self._labels = labels
        with self._lock:
            known = dict(self._summaries)
        todo = [
            sid for sid in sids if sid not in known or not known[sid].closed or sid in relabelled
        ]
        fresh: dict[str, SessionSummary] = {}
        with ThreadPoolExecutor(self.workers, thread_name_prefix="catalog") as pool:
            for sid, summary in zip(todo, pool.map(self._load, todo), strict=True):
                if summary is not None:
                    fresh[sid] = summary
        with self._lock:
            self._summaries = {
                sid: fresh.get(sid) or known[sid] for sid in sids if sid in fresh or sid in known
            }
            self._complete = True
            self._refreshed_at = time.monotonic()
        self.last_error = None
        log.debug("catalog: %d sessions, %d read in %.2fs", len(sids), len(todo),
                  time.monotonic() - started)  # fmt: skip

    def _load_labels(self) -> Labels:
        try:
            return load_labels(self.store)
        except (Damaged, StorageError) as exc:
            log.warning("catalog: labels not read: %s", exc)
            return self._labels

    def _load(self, sid: str) -> SessionSummary | None:
        try:
            return summarize(self.manifest(sid))
        except Damaged as exc:  # said once: the others are listed all the same
            if (sid, exc.message) not in self._warned:
                self._warned.add((sid, exc.message))
                log.warning("session %s is left out: %s", sid, exc.message)
            return None
        except (NotFound, StorageError) as exc:
            log.debug("catalog: skipping %s: %s", sid, exc)
            return None

    def _first_message(self, sid: str, manifest: Manifest) -> str | None:
        """For manifests written without `first_message`: search the first segments once
        (remembered by the first segment's hash)."""
        segments = sorted(manifest.segments, key=lambda s: s.seq)
        if not segments:
            return None
        key = (sid, str(segments[0].sha256))
        if key in self._titles:
            return self._titles[key]
        agent = manifest.source.agent or "unknown"
        fetch = store_fetch(self.store, sid)
        found = first_message((segment_bytes(sid, e, fetch(e)) for e in segments), agent)
        self._titles[key] = found
        return found

    def manifest(self, sid: str) -> Manifest:
        """The freshest manifest (the watcher's own copy, else the store's), with the label
        a user gave the session."""
        if self.overlay is not None and sid in self.overlay.sids():
            return self._labelled(self.overlay.manifest(sid))
        try:
            manifest = self._labelled(load_manifest(self.store, sid))
        except SessionNotFound:
            self.forget(sid)  # deleted since the list was read
            raise
        if title_of(manifest) == sid:
            # Written without first_message: find it here, so that a session's page and the
            # list (updated below) show the same title, not the id.
            try:
                found = self._first_message(sid, manifest)
            except (Damaged, StorageError) as exc:
                log.debug("catalog: no title for %s: %s", sid, exc)
                found = None
            if found:
                manifest = replace(manifest, first_message=found)
        with self._lock:
            if sid in self._summaries or self._refreshed_at is not None:
                self._summaries[sid] = summarize(manifest)
        return manifest

    def _labelled(self, manifest: Manifest) -> Manifest:
        label = self._labels.get(manifest.sid)
        return replace(manifest, label=label) if label else manifest

    def forget(self, sid: str) -> None:
        with self._lock:
            self._summaries.pop(sid, None)

    def resolve(self, query: str) -> str:
        """A session id from an id, a unique id prefix or a label."""
        query = query.strip()
        if not query:
            raise UsageError("no session given", "pass a session id, an id prefix or a label")
        items = self.sessions()
        sids = {i.sid for i in items}
        if query in sids:
            return query
        labelled = [i.sid for i in items if i.label and same_label(i.label, query)]
        if len(labelled) == 1:
            return labelled[0]
        matches = sorted(s for s in sids if s.startswith(query))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Ambiguous(query, matches)
        if is_safe_sid(query):
            try:  # a session made since the last refresh
                self.manifest(query)
                return query
            except (NotFound, Damaged, StorageError):
                pass
        raise SessionNotFound(
            query,
            self.store.description,
            f"no session {query!r} in {self.store.description} (by id, id prefix or label)",
        )
