"""Reading a session out segment by segment, and following it as it grows (`replay`).

Each segment is checked whole against its sha256 before any of it is handed on, so a
damaged segment never reaches the reader. What becomes of the bytes (raw NDJSON, a readable
conversation) is the caller's: it passes a `write(data, first_index)`, and a `note(text)` for
what a reader should be told along the way (a new generation, the end of the session).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from uploader.storage.reading import (
    Plan,
    cut_lines,
    load_manifest,
    plan,
    segment_bytes,
    store_fetch,
)
from uploader.stores import Store
from uploader.stores.base import StorageError

log = logging.getLogger(__name__)

#: Takes a segment's checked bytes (cut at a checkpoint) and the index of its first line.
Write = Callable[[bytes, int], None]


def emit_pieces(store: Store, reading: Plan, write: Write, *, after_seq: int) -> int:
    """Hand the reading's segments after `after_seq` to `write`, each checked whole
    first; the last seq handed on (`after_seq` if none)."""
    fetch = store_fetch(store, reading.sid)
    last = after_seq
    for piece, first in zip(reading.pieces, reading.starts(), strict=True):
        if piece.seq <= after_seq:
            continue
        data = segment_bytes(reading.sid, piece.entry, fetch(piece.entry))
        if piece.take is not None:
            data = cut_lines(data, piece.take)
        write(data, first)
        last = piece.seq
    return last


def follow(
    store: Store,
    sid: str,
    generation: int | None,
    last: int,
    write: Write,
    *,
    interval_s: float,
    note: Callable[[str], None],
) -> None:
    """Hand on segments as they are uploaded, until the session is closed (or Ctrl+C). A
    new generation starts after the rest of the current one; a store that fails for a
    moment is asked again at the next interval."""
    while True:
        time.sleep(interval_s)
        try:
            manifest = load_manifest(store, sid)
        except StorageError as exc:
            log.warning("%s: %s; trying again", sid, exc)
            continue
        last = emit_pieces(store, plan(manifest, generation=generation), write, after_seq=last)
        newest = plan(manifest)
        if newest.generation != generation:
            note(f"-- the source was truncated or replaced: generation {newest.generation} --")
            generation = newest.generation
            last = emit_pieces(store, newest, write, after_seq=last)
        if manifest.closed:
            note("-- the session is closed --")
            return
