"""What a running `watch` knows that the store does not have yet.

The dashboard of a `watch` shows each watched session as it stands on this machine:
the segments already uploaded (from the manifest this spool last wrote, so showing them
costs no store request), the segments waiting in the upload queue, and the lines of the
active segment. Everything here only reads files the engine writes; the engine moves on
meanwhile, so a segment that left the queue is read from the store instead.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from uploader.agents import SessionMeta, source_info
from uploader.agents.titles import SCAN_BYTES, TITLE_SEGMENTS, first_message
from uploader.storage import manifest as mf
from uploader.storage.reading import Damaged, Fetch, cut_lines, store_fetch
from uploader.stores.base import Store
from uploader.write.spool import Spool
from uploader.write.state import ResumeState

HOST = socket.gethostname()


class LiveSessions:
    """The sessions one `watch` process tails, read from its spool."""

    def __init__(self, spool: Spool, states: Callable[[], dict[str, ResumeState]]) -> None:
        self.spool = spool
        # sid -> the pipeline's resume state, read (never written) from other threads.
        self._states = states
        self._titles: dict[str, str] = {}

    def sids(self) -> list[str]:
        return sorted(self._states())

    def manifest(self, sid: str) -> dict[str, Any]:
        """The session's manifest with its spooled segments added ("where" says which
        are in the store, in the upload queue, or the active segment)."""
        state = self._states().get(sid)
        try:
            manifest: dict[str, Any] = json.loads(self.spool.manifest_cache(sid).read_bytes())
        except (OSError, ValueError):
            manifest = mf.new_manifest(sid, "")
        segments = [{**s, "where": "store"} for s in manifest.get("segments", ())]
        uploaded = {s["seq"] for s in segments}
        checkpoints = list(manifest.get("checkpoints") or ())
        for item in self._queued(sid):
            if item["seq"] in uploaded:
                continue
            segments.append(item)
            if item.get("checkpoint"):
                checkpoints.append(item.pop("checkpoint"))
        if state is not None and state.lines and state.seq not in uploaded:
            segments.append(
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
        segments.sort(key=lambda s: int(s["seq"]))
        checkpoints.sort(key=lambda c: (c["seq"], c["line_idx"]))
        live = dict(manifest)
        live["segments"] = segments
        live["checkpoints"] = checkpoints
        if state is not None:
            if not live.get("first_message") and state.seq <= TITLE_SEGMENTS:
                live["first_message"] = self._first_message(sid, state)
            if not live.get("source"):
                meta = SessionMeta.from_json(state.meta)
                live["source"] = source_info(meta, state.path, HOST)
            last = max((s.get("last_ts") or 0 for s in segments), default=0)
            if last:
                live["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last))
        return live

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

    def _queued(self, sid: str) -> list[dict[str, Any]]:
        out = []
        with contextlib.suppress(OSError, ValueError):  # the queue moves while we look
            for item in self.spool.pending(sid):
                entry = {**item.meta, "where": "spool", "local": str(item.data_path)}
                entry.pop("source", None)
                out.append(entry)
        return out

    def fetch(self, store: Store, sid: str) -> Fetch:
        """Stored bytes of any segment the manifest above lists."""
        from_store = store_fetch(store, sid)

        def fetch(entry: dict[str, Any]) -> bytes:
            local = entry.get("local")
            if not local:
                return from_store(entry)
            try:
                data = Path(local).read_bytes()
            except FileNotFoundError:
                if entry.get("where") == "spool":  # uploaded meanwhile
                    return from_store(entry)
                raise Damaged(
                    f"session {sid}: segment {entry['seq']} has just been closed",
                    "reload the page",
                ) from None
            if entry.get("where") == "active":
                # Only the lines the state counted: the engine may be appending.
                return cut_lines(data, int(entry["lines"]))
            return data

        return fetch

    def total_lines(self, sid: str) -> int | None:
        """Lines of all generations so far, or None for a session not watched here."""
        if sid not in self._states():
            return None
        return sum(int(s.get("lines", 0)) for s in self.manifest(sid)["segments"])
