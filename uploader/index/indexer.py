"""Keeping an index up to date with its store.

`refresh()` finds the sessions that changed (the change feed of uploader.storage.changes,
or one listing of everything the first time and every few hours), reads their manifests,
and adds the segments the index does not have yet: idle, it makes one listing request per
hour folder and reads nothing. `index_session()` does one session, given its manifest when
the caller has it (a `watch`, right after writing it): no request but the new segments.

A segment is added whole or not at all (uploader.index.base), so a killed indexer goes on
where it stopped; deleting the index file and refreshing rebuilds it from the store.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from uploader.agents.titles import TITLE_SEGMENTS, first_message
from uploader.core.errors import Damaged, UploaderError
from uploader.index.base import Index, ListQuery, SegmentDocs, SessionFacts
from uploader.index.extract import segment_docs
from uploader.read.catalog import Summaries
from uploader.read.labels import Labels, load_labels
from uploader.read.summaries import SessionSummary, list_sids, summarize, title_of
from uploader.storage import changes
from uploader.storage.manifest import Manifest
from uploader.storage.reading import SessionNotFound, load_manifest, segment_bytes, store_fetch
from uploader.storage.records import Segment
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import StorageError, Store

log = logging.getLogger(__name__)

CURSOR = "changes_read_at"  # meta: when the last refresh began (epoch seconds)
FULL_AT = "listed_all_at"  # meta: when the last refresh that listed everything began
LABELS = "labels"  # meta: labels.json as last read
RETRY = "retry"  # meta: sessions the store failed to give at the last refresh


@dataclass
class Refreshed:
    """What one refresh did."""

    full: bool = False
    sessions: dict[str, SessionSummary] = field(default_factory=dict)  # read again
    removed: set[str] = field(default_factory=set)
    segments: int = 0  # added to the index
    bytes: int = 0  # of transcript indexed
    failed: dict[str, str] = field(default_factory=dict)  # sid -> why it was skipped
    retry: set[str] = field(default_factory=set)  # skipped because the store failed
    labels: Labels = field(default_factory=dict)  # labels.json as this refresh read it


class Indexer:
    def __init__(self, store: Store, index: Index, *, workers: int = 4) -> None:
        self.store = store
        self.index = index
        self.workers = workers
        self._lock = threading.Lock()  # one refresh at a time
        self._titles: dict[tuple[str, str, int], str | None] = {}  # see index_session
        index.bind(store.description)

    def ready(self) -> bool:
        """Has the index been filled from the store once (by this process or another)?"""
        return bool(self.index.get_meta(CURSOR))

    def build(self) -> None:
        """Fill the index in a background thread, unless a refresh is under way."""
        if not self._lock.locked():
            threading.Thread(target=self._build, name="index-build", daemon=True).start()

    def _build(self) -> None:
        try:
            self.refresh()
        except (UploaderError, StorageError) as exc:  # said; the next look tries again
            log.warning("index: not built: %s", exc)

    def refresh(self, *, full: bool = False) -> Refreshed:
        """Bring the index up to date with the store (see the module's docstring)."""
        with self._lock:
            return self._refresh(full)

    def refresh_summaries(self, *, reload: bool) -> Summaries:
        """For the session list (uploader.read.catalog.Catalog): refresh, and say what
        changed; every summary, from the index, the first time and after a full listing."""
        done = self.refresh()
        everything = None
        if reload or done.full:
            page = self.index.sessions(ListQuery(limit=1 << 31))
            everything = {s["sid"]: SessionSummary.from_json(s) for s in page.summaries}
        return Summaries(done.sessions, done.removed, everything, done.labels)

    def _refresh(self, full: bool) -> Refreshed:
        started = changes.now()
        cursor = _number(self.index.get_meta(CURSOR))
        listed_at = _number(self.index.get_meta(FULL_AT))
        full = full or cursor is None or listed_at is None
        full = full or started - (listed_at or 0) > changes.FULL_EVERY_S
        done = Refreshed(full=full)
        before: Labels = json.loads(self.index.get_meta(LABELS) or "{}")
        done.labels = self._labels(before)
        retry = set(json.loads(self.index.get_meta(RETRY) or "[]"))
        if full:
            listed = set(list_sids(self.store))
            # Closed sessions do not change: those indexed already are not read again.
            closed = {
                s["sid"] for s in self.index.sessions(ListQuery(limit=1 << 31)).summaries
                if s.get("closed")
            }  # fmt: skip
            sids = listed - closed
            gone = self.index.sids() - listed
        else:
            sids = changes.changed_since(self.store, cursor or started, started)
            gone = set()
        labels = done.labels
        sids |= retry | {s for s in labels.keys() | before.keys() if labels.get(s) != before.get(s)}
        todo = sorted(sids | gone)  # a session listed as gone is removed once its read says so
        with ThreadPoolExecutor(self.workers, thread_name_prefix="indexer") as pool:
            results = pool.map(lambda s: self._one(s, labels, done), todo)
            for sid, error in zip(todo, results, strict=True):
                if error:
                    done.failed[sid] = error
        # What the store failed to give is asked again at the next refresh, not only at its
        # next change; everything else moves on.
        self.index.set_meta(RETRY, json.dumps(sorted(done.retry)))
        self.index.set_meta(LABELS, json.dumps(labels, ensure_ascii=False, sort_keys=True))
        self.index.set_meta(CURSOR, repr(started))
        if full:
            self.index.set_meta(FULL_AT, repr(started))
        log.info(
            "index: %d sessions read, %d segments (%.1f MB) added in %.1fs%s",
            len(done.sessions), done.segments, done.bytes / 1e6, time.time() - started,
            f", {len(done.failed)} skipped" if done.failed else "",
        )  # fmt: skip
        return done

    def _labels(self, before: Labels) -> Labels:
        """labels.json of the store (its session ids checked); the last one read when it
        is damaged."""
        try:
            labels = load_labels(self.store)
        except Damaged as exc:
            log.warning("index: labels not read: %s", exc)
            return before
        return {sid: text for sid, text in labels.items() if is_safe_sid(sid)}

    def _one(self, sid: str, labels: Labels, done: Refreshed) -> str | None:
        try:
            manifest = load_manifest(self.store, sid)
            if sid in labels:
                manifest = replace(manifest, label=labels[sid])
            summary, added, size = self.index_session(sid, manifest)
        except SessionNotFound:
            self.index.remove_session(sid)
            done.removed.add(sid)
            return None
        except (Damaged, StorageError) as exc:
            log.warning("index: %s skipped: %s", sid, exc)
            if isinstance(exc, StorageError):  # the store may answer next time: look again
                done.retry.add(sid)
            return str(exc)
        except Exception as exc:  # one session must not stop the others (logged with why)
            log.exception("index: %s skipped", sid)
            return f"{type(exc).__name__}: {exc}"
        done.sessions[sid] = summary
        done.segments += added
        done.bytes += size
        return None

    def index_session(
        self, sid: str, manifest: Manifest, stored: Mapping[int, bytes] | None = None
    ) -> tuple[SessionSummary, int, int]:
        """Add the session's new segments and its facts: (its summary, segments added,
        bytes of transcript indexed). `stored`: segments' stored bytes the caller has
        (by seq); the others are read from the store."""
        agent = manifest.source.agent or "unknown"
        have = self.index.indexed(sid)
        from_store = store_fetch(self.store, sid)

        def fetch(segment: Segment) -> bytes:
            held = (stored or {}).get(segment.seq)
            return held if held is not None else from_store(segment)

        model = _text(manifest.source.extra.get("model"))
        added = size = 0
        segments = list(_positions(manifest))
        # Written without first_message (an older writer): the title is found in the
        # first segments once, and remembered by the first segment's hash.
        title_key = None
        if title_of(manifest) == sid and segments:
            title_key = (sid, str(segments[0][0].sha256), min(len(segments), TITLE_SEGMENTS))
        need_title = title_key is not None and title_key not in self._titles
        early: dict[int, bytes] = {}
        for n, (segment, first_line, carry) in enumerate(segments):
            for_title = need_title and n < TITLE_SEGMENTS
            if segment.seq in have and not for_title:
                continue
            try:
                data = segment_bytes(sid, segment, fetch(segment))
            except Damaged as exc:  # the others are indexed all the same
                log.warning("index: %s: segment %d skipped: %s", sid, segment.seq, exc)
                continue
            if for_title:
                early[n] = data
            if segment.seq in have:
                continue
            docs, usage = segment_docs(data, agent, first_line, carry, model)
            model = next((u.model for u in reversed(usage) if u.model), model)
            if self.index.add_segment(SegmentDocs(sid, segment.seq, segment.generation,
                                                  docs, usage)):  # fmt: skip
                added += 1
                size += len(data)
        if title_key is not None:
            if need_title:
                self._titles[title_key] = first_message((early[n] for n in sorted(early)), agent)
            found = self._titles.get(title_key)
            if found:
                manifest = replace(manifest, first_message=found)
        summary = summarize(manifest)
        self.index.put_session(facts_of(manifest, summary, model))
        return summary, added, size


def _positions(manifest: Manifest) -> Iterator[tuple[Segment, int, dict[str, Any] | None]]:
    """Each segment in seq order with the index of its first line in its generation and
    the usage carry its count starts from."""
    lines: dict[int, int] = {}
    previous: Segment | None = None
    for segment in sorted(manifest.segments, key=lambda s: s.seq):
        first = lines.get(segment.generation, 0)
        lines[segment.generation] = first + (segment.lines or 0)
        same = previous is not None and previous.generation == segment.generation
        yield segment, first, (previous.usage_carry if previous is not None and same else None)
        previous = segment


def facts_of(manifest: Manifest, summary: SessionSummary, model: str | None) -> SessionFacts:
    source = manifest.source
    cwd = source.cwd
    return SessionFacts(
        sid=manifest.sid,
        agent=summary.agent,
        title=summary.title,
        updated=summary.updated,
        created=summary.created,
        closed=summary.closed,
        summary=summary.to_json(),
        host=summary.host,
        cwd=cwd,
        project=PurePosixPath(cwd.rstrip("/\\").replace("\\", "/")).name or None if cwd else None,
        git_branch=source.git_branch,
        model=model,
        parent=summary.parent,
    )


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
