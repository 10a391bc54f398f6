"""Reading a session back: which segments, how many of their lines, checked as they come.

Shared by the dashboard and the restore commands. A
reading is planned from the manifest alone: the segments of one generation, the last
one cut at a checkpoint's `line_idx`. Segments are fetched one at a time, gunzipped and
checked against the manifest's sha256 and line count, so memory follows the largest
segment, never the session.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from uploader.core.codec import GZIP_ERRORS, decompressor

# What readers raise, importable where they were raised before the tree had one home.
from uploader.core.errors import (
    CheckpointNotFound,
    Damaged as Damaged,
    DamagedSession,
    GenerationNotFound,
    NotFound as NotFound,
    SessionNotFound as SessionNotFound,
    WrongGeneration,
)
from uploader.core.newlines import count_newlines
from uploader.storage import manifest as mf
from uploader.storage.manifest import Manifest
from uploader.storage.records import Checkpoint, Segment
from uploader.stores.base import ObjectNotFound, Store

CHUNK = 256 << 10  # compressed bytes per gunzip call: bounds each chunk's size


#: Fetch one segment's stored bytes (gzipped or not, as its path says).
Fetch = Callable[[Segment], bytes]


def load_manifest(store: Store, sid: str) -> Manifest:
    key = mf.manifest_key(sid)
    try:
        raw = store.get(key)
    except ObjectNotFound:
        raise SessionNotFound(sid, store.description) from None
    return Manifest.parse(raw, f"{store.description}/{key}")


def find_checkpoint(manifest: Manifest, ref: str) -> Checkpoint:
    """`latest` or a checkpoint id (a unique prefix of one will do)."""
    checkpoints = manifest.checkpoints
    if ref == "latest" and checkpoints:
        return checkpoints[-1]
    matches = [c for c in checkpoints if c.id == ref]
    matches = matches or [c for c in checkpoints if c.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    known = [c.id for c in checkpoints]
    raise CheckpointNotFound(manifest.sid, ref, known, ambiguous=bool(matches))


@dataclass(frozen=True)
class Piece:
    """One segment's share of a reading: all its lines, or the first `take`."""

    entry: Segment
    take: int | None = None

    @property
    def seq(self) -> int:
        return self.entry.seq

    @property
    def lines(self) -> int:
        total = self.entry.lines or 0
        return total if self.take is None else min(self.take, total)


@dataclass(frozen=True)
class Plan:
    sid: str
    pieces: list[Piece]
    generation: int | None
    checkpoint: Checkpoint | None

    @property
    def lines(self) -> int:
        return sum(p.lines for p in self.pieces)

    def starts(self) -> list[int]:
        """The session line index at which each piece begins."""
        out, total = [], 0
        for piece in self.pieces:
            out.append(total)
            total += piece.lines
        return out


def plan(
    manifest: Manifest,
    *,
    checkpoint: str | None = None,
    generation: int | None = None,
    all_generations: bool = False,
) -> Plan:
    """The segments that make up the session as it stood at `checkpoint` (or now).

    The latest generation by default: a truncated or replaced source starts afresh, and
    splicing generations would rebuild a file that never existed. A checkpoint belongs
    to its segment's generation.
    """
    segments = sorted(manifest.segments, key=lambda s: s.seq)
    sid = manifest.sid
    cp = find_checkpoint(manifest, checkpoint) if checkpoint else None
    if cp is not None:
        owner = next((s for s in segments if s.seq == cp.seq), None)
        if owner is None:
            raise DamagedSession(
                f"session {sid}: checkpoint {cp.id} names segment {cp.seq}, "
                "which the manifest does not list",
                sid=sid,
                seq=cp.seq,
            )
        owner_generation = owner.generation
        if generation is not None and generation != owner_generation:
            raise WrongGeneration(cp.id, owner_generation, generation)
        generation = owner_generation
    if all_generations and cp is None:
        chosen = segments
        generation = None
    else:
        known = manifest.generations()
        if generation is None:
            generation = known[-1] if known else 1
        elif segments and generation not in known:
            raise GenerationNotFound(sid, generation, known)
        chosen = [s for s in segments if s.generation == generation]
    pieces = []
    for entry in chosen:
        if cp is not None and entry.seq > cp.seq:
            break
        take = cp.line_idx if cp is not None and entry.seq == cp.seq else None
        pieces.append(Piece(entry, take))
    return Plan(sid, pieces, generation, cp)


def store_fetch(store: Store, sid: str) -> Fetch:
    def fetch(entry: Segment) -> bytes:
        key = mf.object_key(sid, entry.path)
        try:
            return store.get(key)
        except ObjectNotFound:
            raise DamagedSession(
                f"session {sid}: segment {entry.seq} ({key}) is missing from the store",
                "other checkpoints may still restore",
                sid=sid,
                seq=entry.seq,
            ) from None

    return fetch


def iter_segment(sid: str, entry: Segment, stored: bytes) -> Iterator[bytes]:
    """The segment's raw bytes in chunks, checked against its manifest entry at the end
    (sha256, byte and line counts): a damaged segment raises Damaged after its last chunk,
    so a caller writing a file must not keep it until the iterator is exhausted."""
    return _checked(sid, entry, _gunzip(sid, entry, stored))


def _gunzip(sid: str, entry: Segment, stored: bytes) -> Iterator[bytes]:
    """The stored segment's raw bytes, in chunks of a bounded size whatever the ratio."""
    if not entry.gzipped:
        yield stored
        return
    unzip, view = decompressor(), memoryview(stored)
    for start in range(0, len(stored), CHUNK):
        try:
            chunk = unzip.decompress(view[start : start + CHUNK])
        except GZIP_ERRORS as exc:
            raise _damaged(sid, entry.seq, f"is not valid gzip ({exc})") from exc
        if chunk:
            yield chunk
    if not unzip.eof:
        raise _damaged(sid, entry.seq, "is a truncated gzip")


def _checked(sid: str, entry: Segment, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass the chunks through, then compare what passed with the manifest's entry."""
    seq = entry.seq
    digest = hashlib.sha256()
    size = lines = 0
    tail = b"\n"  # the last byte seen: an unterminated final line counts as a line too
    for chunk in chunks:
        if chunk:
            digest.update(chunk)
            size += len(chunk)
            lines += count_newlines(chunk)
            tail = chunk[-1:]
            yield chunk
    lines += tail != b"\n"
    if entry.sha256 and digest.hexdigest() != entry.sha256:
        raise _damaged(sid, seq, "does not match its sha256 (changed or corrupted)")
    if entry.bytes is not None and size != entry.bytes:
        raise _damaged(sid, seq, f"holds {size} bytes, the manifest says {entry.bytes}")
    if entry.lines is not None and lines != entry.lines:
        raise _damaged(sid, seq, f"holds {lines} lines, the manifest says {entry.lines}")


def _damaged(sid: str, seq: Any, what: str) -> DamagedSession:
    return DamagedSession(
        f"session {sid}: segment {seq} {what}",
        "an earlier checkpoint may still restore",
        sid=sid,
        seq=seq,
    )


def segment_bytes(sid: str, entry: Segment, stored: bytes) -> bytes:
    return b"".join(iter_segment(sid, entry, stored))


def cut_lines(data: bytes, take: int) -> bytes:
    """The first `take` lines of data."""
    end = 0
    for _ in range(take):
        found = data.find(b"\n", end)
        if found < 0:
            return data
        end = found + 1
    return data[:end]


def iter_bytes(plan: Plan, fetch: Fetch) -> Iterator[bytes]:
    """The session's bytes, segment after segment, each checked as it passes (a damaged
    one raises after its last chunk). Fetching and gunzipping run one step ahead in a
    thread, beside the checking and whatever the caller does with the bytes: on two
    cores that is the difference between keeping up with zcat and beating it."""
    for piece, chunks in _gunzipped_ahead(plan, fetch):
        checked = _checked(plan.sid, piece.entry, chunks)
        if piece.take is None:
            yield from checked
        else:
            yield cut_lines(b"".join(checked), piece.take)


_END = object()  # the end of one segment's chunks in the queue
AHEAD_CHUNKS = 8  # chunks of up to CHUNK compressed bytes each, gunzipped, in flight


def _gunzipped_ahead(plan: Plan, fetch: Fetch) -> Iterator[tuple[Piece, Iterator[bytes]]]:
    """Each piece with an iterator over its raw chunks, produced by a thread through a
    small bounded queue. Each iterator must be exhausted before the next is taken."""
    q: queue.Queue[object] = queue.Queue(AHEAD_CHUNKS)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for piece in plan.pieces:
                for chunk in _gunzip(plan.sid, piece.entry, fetch(piece.entry)):
                    if not put(chunk):
                        return
                if not put(_END):
                    return
        except BaseException as exc:  # handed to the reader, raised there
            put(exc)

    def chunks() -> Iterator[bytes]:
        while (item := q.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield cast(bytes, item)

    worker = threading.Thread(target=produce, name=f"read-{plan.sid}", daemon=True)
    worker.start()
    try:
        for piece in plan.pieces:
            yield piece, chunks()
    finally:
        stop.set()  # the reader stopped early: let the thread end


class SegmentCache:
    """Recently read segments, uncompressed, up to a byte budget: paging through a
    session reads each segment once, and memory stays bounded whatever its size."""

    def __init__(self, budget: int = 64 << 20) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, sid: str, entry: Segment, fetch: Fetch) -> bytes:
        key = (sid, entry.seq, str(entry.sha256 or entry.bytes))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = segment_bytes(sid, entry, fetch(entry))
        if entry.sha256 and len(data) <= self.budget // 4:
            with self._lock:
                if key not in self._items:
                    self._items[key] = data
                    self._size += len(data)
                while self._size > self.budget:
                    _, old = self._items.popitem(last=False)
                    self._size -= len(old)
        return data


def iter_lines(
    plan: Plan, fetch: Fetch, start: int, stop: int, cache: SegmentCache | None = None
) -> Iterator[tuple[int, bytes]]:
    """Lines [start, stop) of the reading, with their index, fetching only the segments
    that hold them."""
    for piece, first in zip(plan.pieces, plan.starts(), strict=True):
        last = first + piece.lines
        if last <= start:
            continue
        if first >= stop:
            break
        if cache is not None:
            data = cache.get(plan.sid, piece.entry, fetch)
        else:
            data = segment_bytes(plan.sid, piece.entry, fetch(piece.entry))
        index, pos = first, 0
        while index < min(last, stop):
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end + 1
            if index >= start:
                yield index, data[pos:end]
            index, pos = index + 1, end
