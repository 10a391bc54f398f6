"""One source's pipeline: reader -> redactor -> segmenter -> spool, one step at a time.

Every method here is blocking and runs in a worker thread; `watch` decides when a
step runs (a file event, the poll timer, a segment's age deadline).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from uploader.agents import FIRST_LINE_LIMIT, read_early_meta
from uploader.core.metrics import Metrics
from uploader.redaction import Redactor
from uploader.storage.manifest import Manifest
from uploader.write.segment import LINE_MARKS, PAUSE_ERRNOS, Segmenter, SegmentLimits, SpoolFull
from uploader.write.source import SourceReader, SourceStatus
from uploader.write.spool import Spool
from uploader.write.state import ResumeState, StateStore
from uploader.write.store_copy import store_prefix

log = logging.getLogger(__name__)

STEP_BUDGET = 32 << 20  # bytes read per step before yielding to the loop
READ_LIMIT = 4 << 20
MISSING_GRACE_S = 1.0  # a path may vanish for a moment during rename-and-recreate


@dataclass
class StepResult:
    appended: int = 0
    more: bool = False  # the budget ran out with data still waiting
    ended: bool = False  # the source is gone and everything read is spooled
    spool_full: bool = False
    pause_cause: OSError | None = None  # why the spool could not take more


class Pipeline:
    def __init__(
        self,
        path: Path,
        sid: str,
        spool: Spool,
        states: StateStore,
        limits: SegmentLimits,
        metrics: Metrics,
        redactor: Redactor | None = None,
    ) -> None:
        self.path = path.absolute()
        self.sid = sid
        self.spool = spool
        self.states = states
        self.limits = limits
        self.metrics = metrics
        # None: lines are stored exactly as written. Its scan finds the segmenter's marks too.
        self.redactor = redactor.with_marks(LINE_MARKS) if redactor is not None else None
        self.reader: SourceReader | None = None
        self.seg: Segmenter | None = None
        self._missing_since: float | None = None
        self._spool_full = False
        self._broken = False
        self._meta_at: int | None = None  # the reader's offset when the head was last read

    # -- start -------------------------------------------------------------------------

    def open(self, store_manifest: Manifest | None = None) -> None:
        """Resume from the saved state (or the store's manifest), repairing the spool.
        A start that fails leaves no file open: it may be tried again (out of handles)."""
        try:
            self._open(store_manifest)
        except BaseException:
            if self.reader is not None:
                self.reader.close()
                self.reader = None
            if self.seg is not None:
                self.seg.close()
                self.seg = None
            raise

    def _open(self, store_manifest: Manifest | None) -> None:
        state = self.states.load(self.sid)
        fresh = state is None
        if state is None:
            state = ResumeState(sid=self.sid, path=str(self.path))
            queued = self.spool.pending(self.sid)
            if queued:
                # The resume state was lost but segments still wait for upload: never
                # reuse their seq numbers; read the file again as a new generation (its
                # lines doubled across generations, never lost or overwritten).
                state.seq = queued[-1].seq + 1
                state.generation = 1 + max(int(q.meta.get("generation", 1)) for q in queued)
                state.generation_reason = "resume state lost"
        self.seg = seg = Segmenter(self.spool, self.states, state, self.limits)
        seg.recover()
        self.reader = reader = SourceReader(self.path, offset=state.offset)
        if fresh and store_manifest and store_manifest.segments:
            reader = self._adopt(store_manifest, reader)
        elif state.ended:
            reader = self._restart(reader, "reappeared after the session ended")
            state.ended = False
        elif state.identity is not None and not reader.matches(state.identity):
            reader = self._restart(reader, "replaced while not watched")
        elif state.identity is None and state.offset:
            reader = self._restart(reader, "of unknown identity")
        state.identity = reader.identity
        state.path = str(self.path)
        self.reader = reader
        self._read_meta()
        seg.save()
        log.info(
            "%s: resuming %s at byte %d (generation %d, segment %d)",
            self.sid,
            self.path,
            state.offset,
            state.generation,
            state.seq,
        )

    def _restart(self, reader: SourceReader, reason: str) -> SourceReader:
        assert self.seg is not None
        self.seg.start_generation(reason)
        reader.close()
        self.reader = SourceReader(self.path, offset=0)
        return self.reader

    def _adopt(self, manifest: Manifest, reader: SourceReader) -> SourceReader:
        """No local state but the store has this session (a new spool, another machine):
        continue its seq numbers, and its generation too if the file still holds exactly
        the bytes the store has, so nothing is uploaded twice or overwritten."""
        assert self.seg is not None
        st = self.seg.state
        segments = sorted(manifest.segments, key=lambda s: s.seq)
        last = segments[-1]
        st.seq = max(st.seq, last.seq + 1)
        generation = last.generation
        same_gen = [s for s in segments if s.generation == generation]
        held = None if st.generation_reason else store_prefix(reader.fd, same_gen, self.redactor)
        if held is not None:
            st.generation = generation
            st.offset = held
            st.usage_carry = last.usage_carry  # the token count goes on from the store's
            log.info("%s: store already holds the first %d bytes; continuing", self.sid, st.offset)
            reader.close()
            self.reader = SourceReader(self.path, offset=st.offset)
            return self.reader
        st.generation = max(st.generation, generation + 1)
        st.generation_reason = st.generation_reason or "differs from the store's copy"
        st.offset = 0
        log.warning(
            "%s: the store has this session but the file differs; writing generation %d",
            self.sid,
            st.generation,
        )
        return reader

    def _read_meta(self) -> None:
        """Session metadata from the first lines that carry it (read_early_meta), until
        nothing more is to be learnt; a step with nothing left to learn reads nothing."""
        assert self.seg is not None and self.reader is not None
        if self.seg.meta.parsed or self._meta_at == self.reader.offset:
            return  # all learnt, or no new complete line since the head was last read
        self._meta_at = self.reader.offset
        meta = read_early_meta(self.path, os.pread(self.reader.fd, FIRST_LINE_LIMIT, 0))
        meta.title = self.seg.meta.title
        if self.redactor is not None:  # what the manifest tells beside the lines
            meta.cwd = meta.cwd and self.redactor.redact_text(meta.cwd)
            meta.git_branch = meta.git_branch and self.redactor.redact_text(meta.git_branch)
        self.seg.meta = meta

    # -- steady state ------------------------------------------------------------------

    def step(self) -> StepResult:
        """Take in whatever the source has now; handle truncation, replacement, deletion."""
        assert self.seg is not None and self.reader is not None
        seg, result = self.seg, StepResult()
        self._read_meta()
        try:
            status = self.reader.status()
            if status is SourceStatus.MISSING:
                return self._on_missing(result)
            self._missing_since = None
            if status is SourceStatus.REPLACED:
                self._feed(self.reader.drain(), result)
                self._switch_generation("replaced")
            elif status is SourceStatus.TRUNCATED:
                self._feed(self.reader.take_partial(), result)
                self._switch_generation("truncated")
            result.more = self._take_lines(result)
            now = time.time()
            deadline = seg.age_deadline()
            if deadline is not None and deadline <= now:
                seg.rotate()
            sync_due = seg.sync_due()
            if sync_due is not None and sync_due <= now:
                seg.sync()
        except (SpoolFull, OSError) as exc:
            if not isinstance(exc, SpoolFull) and exc.errno not in PAUSE_ERRNOS:
                # The reader may now be ahead of the state: stop here; the next start
                # repairs the spool from the saved state.
                self._broken = True
                raise
            # Back-pressure: what was not spooled stays in the source; the in-memory state
            # is ahead of the saved one, which start-up repair handles after a kill.
            result.spool_full = True
            cause = exc.cause if isinstance(exc, SpoolFull) else exc
            result.pause_cause = cause
            if not self._spool_full:
                if cause.errno in (errno.EMFILE, errno.ENFILE):
                    what = "out of file handles"
                else:
                    what = "spool disk full"
                log.error("%s: %s; reading paused until it clears", self.sid, what)
            self._spool_full = True
            return result
        if self._spool_full:
            log.info("%s: spool can be written again; reading resumed", self.sid)
            self._spool_full = False
        return result

    def _take_lines(self, result: StepResult) -> bool:
        """Spool the complete lines waiting in the source; True if the step's budget ran
        out before they did."""
        assert self.reader is not None
        while result.appended < STEP_BUDGET:
            buf, end = self.reader.read_lines(READ_LIMIT)
            if not end:
                return False
            self._feed(buf, result, end)
        return True

    def _feed(self, data: bytes, result: StepResult, end: int | None = None) -> None:
        """Spool data[:end], redacted; on a full disk, give back to the reader what did not
        fit. Redaction works line by line, so how the reads were split never changes what
        is stored."""
        assert self.seg is not None and self.reader is not None
        end = len(data) if end is None else end
        if not end:
            return
        lines_before = self.seg.lines_appended
        redaction = self.redactor.redact(data, end) if self.redactor is not None else None
        marks = redaction.marks if redaction is not None else None
        try:
            if redaction is None or not redaction.hits:
                self.seg.append(data, time.time(), end, marks=marks)
            else:
                self.seg.append(redaction.data, time.time(), redaction.end, redaction, marks)
        except SpoolFull as exc:
            consumed = exc.consumed
            if redaction is not None and redaction.hits:
                consumed = redaction.source_pos(consumed)
            self.reader.unread(end - consumed)
            end = consumed
            raise
        finally:
            result.appended += end
            self.metrics.bytes_read += end
            self.metrics.lines_read += self.seg.lines_appended - lines_before

    def _switch_generation(self, reason: str) -> None:
        assert self.seg is not None and self.reader is not None
        try:
            reader = SourceReader(self.path, offset=0)
        except FileNotFoundError:
            return  # gone again already: the next step handles a missing source
        try:
            self.seg.start_generation(reason)
        except BaseException:
            reader.close()  # tried again at the next step: no handle may leak meanwhile
            raise
        self.reader.close()
        self.reader = reader
        self.seg.state.identity = self.reader.identity
        self.seg.meta.parsed = False
        self._meta_at = None
        self._read_meta()

    def _on_missing(self, result: StepResult) -> StepResult:
        """The path is gone: keep draining the open file; after a grace period (a
        rename-and-recreate fills the gap quickly), end the session."""
        assert self.seg is not None and self.reader is not None
        result.more = self._take_lines(result)
        now = time.monotonic()
        if result.more:
            pass  # more of the old file to drain before the session may end
        elif self._missing_since is None:
            self._missing_since = now
        elif now - self._missing_since >= MISSING_GRACE_S:
            self._end(result)
            log.info("%s: source %s was deleted; session ends", self.sid, self.path)
        if result.appended:
            self.seg.sync()
        return result

    def _end(self, result: StepResult) -> None:
        """The source is complete: spool its unterminated last line too, close the segment
        and mark the session for closing in the store."""
        assert self.seg is not None and self.reader is not None
        self._feed(self.reader.take_partial(), result)
        self.seg.rotate()
        self.seg.state.ended = True
        self.seg.save()
        self.spool.mark_ended(self.sid)
        result.ended = True

    def read_to_end(self) -> StepResult:
        """Spool the whole of a finished file and end the session (`snapshot`, a renamed
        copy). A spool that cannot take it all now (disk full, out of file handles) is an
        error: ending the session there would close it on a part of the file."""
        result = StepResult()
        while True:
            step = self.step()
            if step.spool_full:
                cause = step.pause_cause
                code = cause.errno if cause is not None else errno.ENOSPC
                raise OSError(
                    code, f"the spool cannot take all of {self.path} now; the session stays open"
                ) from cause
            if not step.more:
                break
        self._end(result)
        return result

    def last_change(self) -> float | None:
        """When the file last changed (its mtime), as wall-clock seconds."""
        if self.reader is None:
            return None
        try:
            return os.fstat(self.reader.fd).st_mtime
        except OSError:
            return None

    def end_without_source(self) -> bool:
        """The file is gone while nothing read it (closed while idle): end the session with
        what the spool has. False if there was nothing to end."""
        state = self.states.load(self.sid)
        if state is None or state.ended:
            return False
        self.seg = seg = Segmenter(self.spool, self.states, state, self.limits)
        seg.recover()
        seg.rotate()
        state.ended = True
        seg.save()
        seg.close()
        self.spool.mark_ended(self.sid)
        return True

    def set_title(self, title: str | None) -> None:
        """The session's title from the agent's own index: in the next segment's source."""
        if title and self.redactor is not None:
            title = self.redactor.redact_text(title)
        if self.seg is not None and title and self.seg.meta.title != title:
            self.seg.meta.title = title

    def has_news(self) -> bool:
        return self.reader is not None and self.reader.has_news()

    def bytes_behind(self) -> int:
        """Source bytes not packed into a queued segment yet: those the spool has not taken
        (an unfinished last line too) and those of the active segment. Asked from the loop
        while a step may run: a figure a moment old is fine."""
        reader, seg = self.reader, self.seg
        if reader is None or seg is None:
            return 0
        try:
            size = os.fstat(reader.fd).st_size
        except OSError:
            return 0
        return max(0, size - seg.state.offset) + seg.state.source_bytes

    def sync_due(self) -> float | None:
        return self.seg.sync_due() if self.seg is not None else None

    def finish(self) -> None:
        """Shutdown: close the active segment so it can be uploaded now. The unterminated
        tail stays in the source; the next start reads it from the saved offset."""
        if self.seg is None:
            return
        if self._broken:
            self.seg.close()
            if self.reader is not None:
                self.reader.close()
            return
        try:
            if self.reader is not None and not self.seg.state.ended:
                self.step()
            self.seg.rotate()
        except OSError as exc:
            if exc.errno not in PAUSE_ERRNOS:
                raise
            log.error(
                "%s: spool cannot be written (%s); the active segment stays for the next start",
                self.sid,
                exc.strerror,
            )
            with contextlib.suppress(OSError):
                self.seg.sync()
        finally:
            self.seg.close()
            if self.reader is not None:
                self.reader.close()

    def deadline(self) -> float | None:
        return self.seg.age_deadline() if self.seg is not None else None
