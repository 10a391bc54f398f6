"""What the pages and the JSON API both need: sessions, their lines, previews.

Blocking (store reads, gunzip): the routes call these from a worker thread. The
dashboard only ever reads the store.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from uploader.agents.transcript import Entry, parse_lines
from uploader.core.errors import UsageError
from uploader.index import Index
from uploader.index.base import Hit, ListQuery, SearchQuery, UsageTotal
from uploader.index.indexer import Indexer
from uploader.read.catalog import Catalog
from uploader.read.listing import Query, select
from uploader.read.summaries import SessionSummary, summarize
from uploader.storage import reading
from uploader.storage.manifest import Manifest
from uploader.storage.reading import Fetch, Plan, SegmentCache
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import Store
from uploader.write.live import LiveSessions

MAX_PAGE = 1000
MAX_PREVIEWS = 64


def check_sid(sid: str) -> str:
    if not is_safe_sid(sid):
        raise UsageError(
            f"{sid[:80]!r} is not a valid session id",
            "ids are 1-128 letters, digits, '.', '_' or '-'",
        )
    return sid


@dataclass
class Reading:
    """One session as a page reads it: its manifest, the chosen lines and how to fetch."""

    sid: str
    manifest: Manifest
    summary: SessionSummary
    plan: Plan
    fetch: Fetch

    @property
    def agent(self) -> str:
        return self.summary.agent


class Sessions:
    def __init__(
        self,
        store: Store,
        *,
        live: LiveSessions | None = None,
        stats: Callable[[], dict[str, float]] | None = None,
        catalog_ttl_s: float = 15.0,
        indexer: Indexer | None = None,
    ) -> None:
        self.store = store
        self.live = live
        # The engine's counters for /metrics (None for `host`, which tails nothing).
        self.stats = stats
        # The search index, which also serves the session list (None: --index off).
        self.indexer = indexer
        self.index = indexer.index if indexer is not None else None
        self.catalog = Catalog(store, ttl_s=catalog_ttl_s, overlay=live, indexed=self.indexer)
        self._ready = False
        self.cache = SegmentCache()

    def listing(
        self, query: Query, offset: int = 0, limit: int | None = None
    ) -> tuple[int, int, list[SessionSummary]]:
        """(sessions in the store, how many the query selects, those of them from
        `offset`, at most `limit`, in the query's order). From the index when there is
        one: a page of 100,000 sessions without holding them all."""
        live = self.live.sids() if self.live is not None else []
        # "Active in the last N minutes" counts a live session whatever the store says:
        # a short list, made from memory as without an index.
        by_index = not (live and query.active_minutes is not None)
        if self.indexer is not None and by_index and self._index_ready(self.indexer):
            self.catalog.poke()
            return self._indexed_listing(self.indexer.index, query, offset, limit, live)
        everything = self.catalog.sessions()
        chosen = select(everything, query)
        end = None if limit is None else offset + limit
        return len(everything), len(chosen), chosen[offset:end]

    def _index_ready(self, indexer: Indexer) -> bool:
        """Has the index been filled from this store once (by an earlier run too)?"""
        if not self._ready:
            self._ready = indexer.ready()
        return self._ready

    def _indexed_listing(
        self, index: Index, query: Query, offset: int, limit: int | None, live: list[str]
    ) -> tuple[int, int, list[SessionSummary]]:
        since = None
        if query.active_minutes is not None:
            since = time.time() - query.active_minutes * 60
        page = index.sessions(
            ListQuery(query.text, query.agent, since, query.sort, query.descending, offset,
                      limit if limit is not None else 1 << 31)
        )  # fmt: skip
        everything = index.sessions(ListQuery(limit=0)).total if _filtered(query) else page.total
        items = []
        for data in page.summaries:
            summary = SessionSummary.from_json(data)
            if summary.sid in live:
                summary = summarize(self.catalog.manifest(summary.sid), live=True)
            items.append(summary)
        # Sessions this watch writes that the index has no segment of yet (the first is
        # uploaded after 10 minutes or 8 MiB): the newest there are, so first.
        unindexed = [sid for sid in live if not index.indexed(sid)]
        new = select([summarize(self.catalog.manifest(sid), live=True) for sid in unindexed], query)
        if offset == 0:
            items = (new + items)[: limit if limit is not None else None]
        return everything + len(unindexed), page.total + len(new), items

    def search(self, query: SearchQuery) -> list[Hit]:
        if self.index is None:
            raise UsageError("search is off (--index off)", "start it without --index off")
        self.catalog.poke()
        return self.index.search(query)

    def usage(self, by: str, since: float | None) -> list[UsageTotal]:
        if self.index is None:
            raise UsageError("usage needs the index (--index off)", "start it without --index off")
        self.catalog.poke()
        return self.index.usage(by=by, since=since)

    def is_live(self, sid: str) -> bool:
        return self.live is not None and sid in self.live.sids()

    def open(
        self, sid: str, *, checkpoint: str | None = None, generation: int | None = None
    ) -> Reading:
        check_sid(sid)
        manifest = self.catalog.manifest(sid)
        plan = reading.plan(manifest, checkpoint=checkpoint or None, generation=generation)
        if self.live is not None and self.is_live(sid):
            fetch = self.live.fetch(self.store, sid)
        else:
            fetch = reading.store_fetch(self.store, sid)
        return Reading(sid, manifest, summarize(manifest, live=self.is_live(sid)), plan, fetch)

    def iter_lines(self, r: Reading, start: int, limit: int) -> Iterator[tuple[int, bytes]]:
        """Lines [start, start + limit) one at a time: a caller that keeps only a part of
        each never holds a page of whole lines."""
        limit = max(1, min(limit, MAX_PAGE))
        stop = min(r.plan.lines, start + limit)
        return reading.iter_lines(r.plan, r.fetch, max(0, start), stop, self.cache)

    def lines(self, r: Reading, start: int, limit: int) -> list[tuple[int, bytes]]:
        return list(self.iter_lines(r, start, limit))

    def line(self, r: Reading, n: int) -> bytes:
        """Line n, whole."""
        for _, data in self.iter_lines(r, n, 1):
            return data
        raise reading.NotFound(
            f"session {r.sid} has no line {n} (it has {r.plan.lines}, from 0)",
            "lines are counted from 0 in the API",
        )

    def iter_entries(self, r: Reading, start: int, limit: int) -> Iterator[Entry]:
        return parse_lines(self.iter_lines(r, start, limit), r.agent)

    def entries(self, r: Reading, start: int, limit: int) -> list[Entry]:
        return list(self.iter_entries(r, start, limit))

    def download(self, r: Reading) -> Iterator[bytes]:
        return reading.iter_bytes(r.plan, r.fetch)

    def previews(self, sids: list[str], messages: int, chars: int) -> dict[str, Any]:
        """The last few messages of each session, each cut to `chars` characters."""
        if len(sids) > MAX_PREVIEWS:
            raise UsageError(f"{len(sids)} sessions asked for; at most {MAX_PREVIEWS} at once")
        out: dict[str, Any] = {}
        for sid in sids:
            try:
                r = self.open(sid)
            except reading.NotFound:
                out[sid] = None
                continue
            found: list[dict[str, Any]] = []
            end = r.plan.lines
            # Walk back a page at a time until enough messages are found (bounded).
            while end > 0 and len(found) < messages and r.plan.lines - end < 5 * MAX_PAGE:
                start = max(0, end - 200)
                page = [
                    {"kind": e.kind, "text": _cut(e.text, chars), "line": e.line, "ts": e.ts}
                    for e in self.entries(r, start, end - start)
                    if e.kind in ("user", "assistant") and e.text.strip()
                ]
                found = page + found
                end = start
            out[sid] = found[-messages:] if messages else []
        return out


def cut_text(data: bytes, chars: int) -> tuple[str, bool]:
    """The first `chars` characters of a line (UTF-8, bad bytes replaced), and whether it
    had more. Only the bytes that can make those characters are decoded."""
    if len(data) <= chars:  # never more characters than bytes
        return data.decode("utf-8", "replace"), False
    head = data[: chars * 4]
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = decoder.decode(head, final=len(head) == len(data))
    return text[:chars], len(text) > chars or len(head) < len(data)


def _cut(text: str, chars: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[: max(0, chars - 1)] + "…"


def _filtered(query: Query) -> bool:
    return bool(query.text.strip() or query.agent or query.active_minutes is not None)
