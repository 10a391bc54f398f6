"""Cutting one session's lines into segments in the spool.

Complete lines are appended to the active segment file; rotation (by bytes, lines,
age, a compaction line, a new generation or shutdown) packs it into the upload
queue. All work is per chunk: newlines are found with `bytes.find`/`count`, and
only lines containing `compact` are parsed. One scan per read finds those lines and the
ones token usage is counted from (the redactor's scan, when redaction is on), and usage is
counted as lines are appended: rotation then only gzips and hashes.

What is appended may be the redacted form of the source's lines (secrets replaced by
markers), so the segment's bytes and the source bytes they came from are counted apart:
`bytes` is what the store gets, `offset` and `source_bytes` are positions in the source.
"""

from __future__ import annotations

import errno
import logging
import os
import time
from bisect import bisect_left
from dataclasses import asdict, dataclass

from uploader.agents import COMPACT_MARK, CheckpointMark, SessionMeta, checkpoint_of
from uploader.agents.lines import first_own_ts, last_own_ts
from uploader.agents.titles import TITLE_SEGMENTS, HeadCollector, titles_in
from uploader.agents.usage import ALL_USAGE_MARKS, UsageCounter
from uploader.core.codec import pack
from uploader.core.errors import (
    Damaged,
    SpoolFull as SpoolFull,  # raised here, for the pipeline
)
from uploader.core.fsutil import fsync_dir, private_opener
from uploader.core.literals import Hit, literals_of
from uploader.core.newlines import count_newlines
from uploader.redaction import Redaction
from uploader.storage.manifest import Manifest
from uploader.storage.records import Segment
from uploader.write.segment_entry import queue_entry
from uploader.write.spool import Spool
from uploader.write.state import ResumeState, StateStore

log = logging.getLogger(__name__)


#: What the segmenter looks for in every line, in one scan per read (core/literals.py, or
#: the redactor's: Redactor.with_marks): compaction lines, then the usage marks.
LINE_MARKS = (COMPACT_MARK, *ALL_USAGE_MARKS)
_LINE_MARKS = literals_of(LINE_MARKS)


@dataclass(frozen=True)
class SegmentLimits:
    max_bytes: int = 8 << 20
    max_lines: int = 10_000
    max_age_s: float = 600.0
    gzip_level: int | None = 1  # None: store .jsonl uncompressed


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# Passing shortages: a full disk, or every file handle taken (say, by a flood of
# connections to the dashboard). Reading pauses and is tried again; nothing is lost.
PAUSE_ERRNOS = (*FULL_ERRNOS, errno.EMFILE, errno.ENFILE)
SYNC_INTERVAL_S = 0.25


class Segmenter:
    def __init__(
        self, spool: Spool, states: StateStore, state: ResumeState, limits: SegmentLimits
    ) -> None:
        self.spool = spool
        self.states = states
        self.state = state
        self.limits = limits
        self.meta = SessionMeta.from_json(state.meta)
        self.active_path = spool.active_path(state.sid)
        self._fd: int | None = None  # the active segment, opened for appending
        # Usage of the active segment, counted as it is appended: None when some of it was
        # appended before this process started (rotation then counts it from the file).
        self._usage: UsageCounter | None = None
        self._usage_marks: frozenset[int] = frozenset()  # its agent's, in LINE_MARKS
        self.rotated = 0  # segments closed by this process, for the shipper's wake-up
        self.lines_appended = 0
        self._dirty_since: float | None = None  # wall time of the first unsaved append
        self._saved_at = 0.0  # wall time of the last state save

    # -- start-up repair -------------------------------------------------------------

    def recover(self) -> None:
        """Make the spool agree with the saved state after any kind of stop."""
        st = self.state
        if self.spool.queued(st.sid, st.seq):
            # Killed after the segment was queued but before the state moved on. Lines
            # appended and closed in the same step are in the segment but not yet in the
            # saved state: the queued segment's own record says where it ends.
            log.info("%s: segment %d was already queued; moving on", st.sid, st.seq)
            queued = next(q for q in self.spool.pending(st.sid) if q.seq == st.seq)
            closed = Segment.from_meta(queued.meta)
            st.offset = self._source_end(closed)
            st.usage_carry = closed.usage_carry
            self._advance()
        elif (shipped := self._shipped_entry()) is not None:
            # The same kill, but the shipper had already uploaded the segment and taken it
            # off the queue: building this seq again would rewrite a closed segment.
            log.info("%s: segment %d was already uploaded; moving on", st.sid, st.seq)
            st.offset = self._source_end(shipped)
            st.usage_carry = shipped.usage_carry
            self._advance()
        size = self.active_path.stat().st_size if self.active_path.exists() else 0
        if size > st.bytes:
            # Lines appended after the last state save: they are read from the source again.
            with open(self.active_path, "r+b") as f:
                f.truncate(st.bytes)
                os.fsync(f.fileno())
        elif size < st.bytes:
            # Should not happen (bytes are fsynced before the state counts them); if the
            # disk lost them anyway, start the segment again from its first source line.
            # (Its stored bytes may be redacted, so they say nothing exact about the source.)
            log.warning("%s: active segment shorter than recorded; re-reading it", st.sid)
            st.offset -= st.source_bytes
            self._empty_active()
            if size:
                with open(self.active_path, "r+b") as f:
                    f.truncate(0)
                    os.fsync(f.fileno())
        self.save()

    def _source_end(self, entry: Segment) -> int:
        """Where the source stands after a closed segment. Segments queued before redaction
        existed do not say: their stored bytes were the source's."""
        st = self.state
        if entry.source_end is not None:
            return entry.source_end
        return st.offset + (entry.bytes or 0) - st.bytes

    def _shipped_entry(self) -> Segment | None:
        """The active seq's entry in the manifest this spool last wrote, if it is there."""
        st = self.state
        cache = self.spool.manifest_cache(st.sid)
        try:
            cached = Manifest.parse(cache.read_bytes(), str(cache))
        except (OSError, ValueError, Damaged):
            return None
        for entry in cached.segments:
            if entry.seq == st.seq and entry.generation == st.generation:
                return entry
        return None

    # -- appending ---------------------------------------------------------------------

    def append(
        self,
        data: bytes,
        read_at: float,
        stop: int | None = None,
        redaction: Redaction | None = None,
        marks: tuple[Hit, ...] | list[Hit] | None = None,
    ) -> None:
        """Append the complete lines data[:stop], rotating wherever a limit or a checkpoint
        says so. `stop` lets a reader hand over its buffer without slicing off the tail.
        With a `redaction`, data is its redacted text: it maps positions in data back to
        the source and says which secrets were replaced where. `marks`: LINE_MARKS in
        data[:stop], if the caller's scan found them already."""
        start, n = 0, len(data) if stop is None else stop
        if marks is None:
            marks = _LINE_MARKS.hits(data, 0, n)
        compactions = [at for at, index in marks if index == 0]
        view = memoryview(data)
        while start < n:
            if self._rotation_due():
                self._rotate_or_full(start)
                continue
            end, mark, newlines = self._plan(data, start, n, read_at, compactions)
            if end == start:  # the next line does not fit: close this segment first
                self._rotate_or_full(start)
                continue
            try:
                self._write(view[start:end], data, start, end, newlines, read_at, redaction)
                self._count_usage(data, start, end, marks)
            except OSError as exc:
                if exc.errno in PAUSE_ERRNOS:
                    raise SpoolFull(start, exc) from exc
                raise
            start = end
            if mark is not None:
                # Kept in the state until the segment is closed, so a full disk or a
                # kill in between cannot lose the checkpoint.
                self.state.pending_checkpoint = asdict(mark)
        if self._rotation_due():  # close a full segment now, not when the next line comes
            self._rotate_or_full(n)

    def _rotation_due(self) -> bool:
        st, lim = self.state, self.limits
        return bool(st.bytes) and (
            st.pending_checkpoint is not None
            or st.lines >= lim.max_lines
            or st.bytes >= lim.max_bytes
        )

    def _rotate_or_full(self, consumed: int) -> None:
        try:
            self.rotate()
        except OSError as exc:
            if exc.errno in PAUSE_ERRNOS:
                raise SpoolFull(consumed, exc) from exc
            raise

    def _plan(
        self, data: bytes, start: int, stop: int, read_at: float, compactions: list[int]
    ) -> tuple[int, CheckpointMark | None, int]:
        """How far data[start:stop] may go into the active segment, the checkpoint that
        closes it there (if any), and how many newlines that piece holds. `compactions`:
        where COMPACT_MARK is in data, in order."""
        st, lim = self.state, self.limits
        room = lim.max_bytes - st.bytes
        if stop - start <= room:
            end = stop
        else:
            end = data.rfind(b"\n", start, start + max(room, 0)) + 1
            if end == 0:
                if st.bytes:
                    return start, None, 0
                end = data.find(b"\n", start, stop) + 1 or stop  # one oversized line, alone
        newlines = count_newlines(data, start, end)
        room_lines = lim.max_lines - st.lines
        if newlines > room_lines:
            pos = start
            for _ in range(room_lines):
                pos = data.find(b"\n", pos) + 1
            end, newlines = pos, room_lines
        line_end = start
        for hit in compactions[bisect_left(compactions, start) : bisect_left(compactions, end)]:
            if hit < line_end:  # on a line already looked at
                continue
            line_start = data.rfind(b"\n", start, hit) + 1 or start
            line_end = data.find(b"\n", hit, end) + 1 or end
            mark = checkpoint_of(data[line_start:line_end], self.meta, read_at)
            if mark is not None:
                return line_end, mark, count_newlines(data, start, line_end)
        return end, None, newlines

    def _write(
        self,
        piece: memoryview,
        data: bytes,
        start: int,
        end: int,
        newlines: int,
        read_at: float,
        redaction: Redaction | None,
    ) -> None:
        st = self.state
        if self._fd is None:
            self._fd = os.open(self.active_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            written = 0
            while written < len(piece):
                written += os.write(self._fd, piece[written:])
        except OSError:
            # Never leave half a piece behind: the next append would follow garbage.
            os.ftruncate(self._fd, st.bytes)
            raise
        if st.bytes == 0:
            st.opened_at = time.time()
            self._usage = UsageCounter(self.meta.agent or "unknown", st.usage_carry)
            wanted = self._usage.marks
            self._usage_marks = frozenset(i for i, m in enumerate(LINE_MARKS) if m in wanted)
        if st.first_ts is None:  # the first line with a time of its own
            st.first_ts = first_own_ts(data, start, end)
        last = last_own_ts(data, start, end)
        if last is not None:
            st.last_ts = last
        elif st.last_ts is None:
            st.last_ts = read_at  # no line of the segment has said when it was written
        st.bytes += end - start
        lines = newlines + (0 if data[end - 1] == 10 else 1)  # an unterminated final line
        st.lines += lines
        if redaction is None or not redaction.hits:
            source_len = end - start
        else:
            source_len = redaction.source_pos(end) - redaction.source_pos(start)
            for rule, count in redaction.counts(start, end).items():
                st.redactions[rule] = st.redactions.get(rule, 0) + count
        st.offset += source_len
        st.source_bytes += source_len
        self.lines_appended += lines
        if self._dirty_since is None:
            self._dirty_since = time.time()

    def _count_usage(
        self, data: bytes, start: int, end: int, marks: tuple[Hit, ...] | list[Hit]
    ) -> None:
        """Count the usage in the lines just appended, data[start:end], from the marks."""
        if self._usage is None:
            return
        wanted = self._usage_marks
        lo, hi = bisect_left(marks, (start, -1)), bisect_left(marks, (end, -1))
        found = [at for at, index in marks[lo:hi] if index in wanted]
        self._usage.feed_lines(data, start, end, found)

    def sync(self) -> None:
        """Make what was appended durable, then record it: the order the protocol needs."""
        if self._fd is not None:
            os.fsync(self._fd)
        self.save()

    def sync_due(self) -> float | None:
        """When appended bytes must be made durable (None: nothing waits): at once after a
        quiet spell, so a line written now and then is saved in the step that read it, but
        at most four times a second, which keeps a busy source cheap. A kill in between only
        means the unsaved lines are cut from the active segment and read from the source
        again."""
        if self._dirty_since is None:
            return None
        return max(self._dirty_since, self._saved_at + SYNC_INTERVAL_S)

    def save(self) -> None:
        self.state.meta = self.meta.to_json()
        self.states.save(self.state)
        self._dirty_since = None
        self._saved_at = time.time()

    # -- rotation ----------------------------------------------------------------------

    def age_deadline(self) -> float | None:
        opened = self.state.opened_at
        return None if opened is None else opened + self.limits.max_age_s

    def rotate(self) -> bool:
        """Close the active segment into the upload queue. False if it was empty."""
        st = self.state
        if st.bytes == 0:
            return False
        t0 = time.monotonic()
        # The active file is not fsynced first: the packed copy is, before the queue
        # names it, and until then a kill leaves the state that counts only synced bytes.
        # (Unsynced pages removed with the file within seconds are never written at all.)
        gzip = self.limits.gzip_level is not None
        data_path, meta_path = self.spool.enqueue_paths(st.sid, st.seq, gzip)
        tmp = data_path.with_name(data_path.name + ".tmp")
        agent = self.meta.agent or "unknown"
        # The title is looked for, and token usage counted if it was not as the lines were
        # appended, in the same single read that gzips and hashes.
        usage = self._usage
        if usage is None or usage.agent != agent:
            usage = UsageCounter(agent, st.usage_carry)
            feeds = [usage.feed]
        else:
            feeds = []
        head = HeadCollector() if st.seq <= TITLE_SEGMENTS and not st.titled else None
        if head is not None:
            feeds.append(head.feed)

        def observe(chunk: bytes) -> None:
            for feed in feeds:
                feed(chunk)

        try:
            with open(self.active_path, "rb") as src, open(tmp, "wb", opener=private_opener) as dst:
                packed = pack(
                    src, dst, gzip_level=self.limits.gzip_level, observe=observe if feeds else None
                )
                dst.flush()
                os.fsync(dst.fileno())
        except OSError:
            tmp.unlink(missing_ok=True)  # give the space back; the rotation is retried
            raise
        if packed.raw_bytes != st.bytes:
            raise RuntimeError(
                f"{st.sid}: active segment holds {packed.raw_bytes} bytes, state says {st.bytes}"
            )
        os.replace(tmp, data_path)
        found, carry = usage.result()
        meta = queue_entry(st, self.meta, data_path.name, packed, found, carry)
        if head is not None:
            titles = titles_in(head.head(), agent)
            meta["titles"] = titles.to_json()
            st.titled = titles.found is not None
        try:
            self.spool.commit(meta_path, meta)
        except OSError:
            data_path.unlink(missing_ok=True)
            raise
        self._advance()
        st.usage_carry = carry
        self.save()
        self.rotated += 1
        log.debug(
            "%s: closed segment %d (%d lines, %d bytes -> %d) in %.0f ms",
            st.sid,
            meta["seq"],
            meta["lines"],
            meta["bytes"],
            meta["gzip_bytes"],
            (time.monotonic() - t0) * 1000,
        )
        return True

    def _advance(self) -> None:
        st = self.state
        st.seq += 1
        self._empty_active()
        st.generation_reason = None
        self.close()
        self.active_path.unlink(missing_ok=True)
        fsync_dir(self.active_path.parent)

    def _empty_active(self) -> None:
        """The state of an active segment with nothing in it yet."""
        st = self.state
        st.lines = st.bytes = st.source_bytes = 0
        self._usage = None
        st.redactions = {}
        st.first_ts = st.last_ts = st.opened_at = None
        st.pending_checkpoint = None

    def start_generation(self, reason: str) -> None:
        """The source was truncated or replaced: close what we have, count from zero."""
        self.rotate()
        st = self.state
        st.generation += 1
        st.generation_reason = reason
        st.offset = 0
        st.identity = None
        st.usage_carry = None  # a new file: no message of the old one goes on in it
        log.warning("%s: source %s; starting generation %d", st.sid, reason, st.generation)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
