"""What a running `watch` knows that the store does not have yet.

The dashboard of a `watch` shows each watched session as it stands on this machine:
the segments already uploaded (from the manifest this spool last wrote, so showing them
costs no store request), the segments waiting in the upload queue, and the lines of the
active segment. Everything here only reads files the engine writes; the engine moves on
meanwhile, so a segment that left the queue is read from the store instead.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from uploader.agents import SessionMeta, source_info
from uploader.agents.titles import SCAN_BYTES, TITLE_SEGMENTS, first_message
from uploader.core.errors import Damaged
from uploader.storage import manifest as mf
from uploader.storage.manifest import Manifest
from uploader.storage.reading import Fetch, cut_lines, store_fetch
from uploader.storage.records import Checkpoint, Segment, Source
from uploader.stores.base import Store
from uploader.write.spool import Spool
from uploader.write.state import ResumeState

HOST = socket.gethostname()


@dataclass(frozen=True)
class ActiveSegment:
    """A segment a `watch` is still writing (its spool's active file): where its complete
    lines are, and where they fall in their generation."""

    sid: str
    agent: str
    seq: int
    generation: int
    first_line: int  # the index of its first line in its generation
    lines: int  # complete lines in it so far
    path: Path


class LiveSessions:
    """The sessions one `watch` process tails, read from its spool."""

    def __init__(self, spool: Spool, states: Callable[[], dict[str, ResumeState]]) -> None:
        self.spool = spool
        # sid -> the pipeline's resume state, read (never written) from other threads.
        self._states = states
        self._titles: dict[str, str] = {}

    def sids(self) -> list[str]:
        return sorted(self._states())

    def manifest(self, sid: str) -> Manifest:
        """The session's manifest with its spooled segments added (each segment's extra
        "where" says which are in the store, in the upload queue, or the active segment;
        "local" is the file of one on this machine)."""
        state = self._states().get(sid)
        cache = self.spool.manifest_cache(sid)
        try:
            manifest = Manifest.parse(cache.read_bytes(), str(cache))
        except (OSError, ValueError, Damaged):
            manifest = mf.new_manifest(sid, "")
        segments = [replace(s, extra={**s.extra, "where": "store"}) for s in manifest.segments]
        uploaded = {s.seq for s in segments}
        checkpoints = list(manifest.checkpoints)
        for entry, checkpoint in self._queued(sid):
            if entry.seq in uploaded:
                continue
            segments.append(entry)
            if checkpoint is not None:
                checkpoints.append(checkpoint)
        if state is not None and state.lines and state.seq not in uploaded:
            active = Segment.from_json(
                {
                    "seq": state.seq,
                    "path": f"active/{sid}.jsonl",
                    "lines": state.lines,
                    "bytes": state.bytes,
                    "first_ts": state.first_ts,
                    "last_ts": state.last_ts,
                    "generation": state.generation,
                    "where": "active",
                    "local": str(self.spool.active_path(sid)),
                }
            )
            segments.append(active)
        segments.sort(key=lambda s: s.seq)
        checkpoints.sort(key=lambda c: (c.seq, c.line_idx))
        live = replace(manifest, segments=tuple(segments), checkpoints=tuple(checkpoints))
        if state is not None:
            if not live.first_message and state.seq <= TITLE_SEGMENTS:
                live = replace(live, first_message=self._first_message(sid, state))
            if live.source == Source():
                meta = SessionMeta.from_json(state.meta)
                live = replace(live, source=Source.from_json(source_info(meta, state.path, HOST)))
            last = max((s.last_ts or 0 for s in segments), default=0)
            if last:
                updated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))
                live = replace(live, updated_at=updated)
        return live

    def active_segments(self, seen: Mapping[str, tuple[int, int]]) -> list[ActiveSegment]:
        """The segments being written that have complete lines `seen` (sid -> (seq,
        lines)) does not count yet, for the search index's live lines. One look at the
        pipelines' states; a manifest is read only for a session that moved."""
        out = []
        for sid, state in self._states().items():
            if not state.lines or seen.get(sid) == (state.seq, state.lines):
                continue
            manifest = self.manifest(sid)
            before = sum(
                s.lines or 0
                for s in manifest.segments
                if s.generation == state.generation and s.seq < state.seq
            )
            agent = manifest.source.agent or str(state.meta.get("agent") or "unknown")
            out.append(ActiveSegment(sid, agent, state.seq, state.generation, before,
                                     state.lines, self.spool.active_path(sid)))  # fmt: skip
        return out

    def _first_message(self, sid: str, state: ResumeState) -> str | None:
        """Before the first upload: from the head of the active segment, found once."""
        if sid in self._titles:
            return self._titles[sid]
        try:
            with open(self.spool.active_path(sid), "rb") as f:
                head = f.read(SCAN_BYTES)
        except OSError:
            return None
        found = first_message([head], str(state.meta.get("agent") or "unknown"))
        if found:
            self._titles[sid] = found
        return found

    def _queued(self, sid: str) -> list[tuple[Segment, Checkpoint | None]]:
        """The queued segments' entries, each with its checkpoint if it ends at one."""
        out = []
        with contextlib.suppress(OSError, ValueError):  # the queue moves while we look
            for item in self.spool.pending(sid):
                entry = {**item.meta, "where": "spool", "local": str(item.data_path)}
                entry.pop("source", None)
                checkpoint = entry.pop("checkpoint", None)
                out.append(
                    (
                        Segment.from_json(entry),
                        Checkpoint.from_json(checkpoint) if checkpoint else None,
                    )
                )
        return out

    def fetch(self, store: Store, sid: str) -> Fetch:
        """Stored bytes of any segment the manifest above lists."""
        from_store = store_fetch(store, sid)

        def fetch(entry: Segment) -> bytes:
            local = entry.extra.get("local")
            if not local:
                return from_store(entry)
            try:
                data = Path(local).read_bytes()
            except FileNotFoundError:
                if entry.extra.get("where") == "spool":  # uploaded meanwhile
                    return from_store(entry)
                raise Damaged(
                    f"session {sid}: segment {entry.seq} has just been closed",
                    "reload the page",
                ) from None
            if entry.extra.get("where") == "active":
                # Only the lines the state counted: the engine may be appending.
                return cut_lines(data, entry.lines or 0)
            return data

        return fetch

    def total_lines(self, sid: str) -> int | None:
        """Lines of all generations so far, or None for a session not watched here."""
        if sid not in self._states():
            return None
        return sum(s.lines or 0 for s in self.manifest(sid).segments)
