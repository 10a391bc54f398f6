"""Reading a growing source file: complete lines only, as bytes, in big chunks.

The reader keeps its file descriptor open, so after the path is renamed, replaced
or deleted it can still drain what was written to the old file before moving on.
"""

from __future__ import annotations

import enum
import hashlib
import os
from pathlib import Path

from uploader.write.state import SourceIdentity

HEAD_BYTES = 4096  # how much of the file's start identifies it
READ_CHUNK = 4 << 20


class SourceStatus(enum.Enum):
    OK = "ok"
    TRUNCATED = "truncated"  # shorter than what we read, or its first bytes changed
    REPLACED = "replaced"  # the path now names another file
    MISSING = "missing"  # the path is gone


def _head_hash(fd: int, length: int) -> str:
    return hashlib.sha256(os.pread(fd, length, 0)).hexdigest()


class SourceReader:
    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.offset = offset  # just past the last complete line handed out
        self._partial: list[bytes] = []  # bytes after that, waiting for their newline
        self._partial_len = 0
        st = os.fstat(self.fd)
        self._mtime_ns = st.st_mtime_ns  # as the last status() saw it
        head_len = min(HEAD_BYTES, offset)
        self.identity = SourceIdentity(
            st.st_dev, st.st_ino, head_len, _head_hash(self.fd, head_len)
        )

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def matches(self, saved: SourceIdentity | None) -> bool:
        """Is this the file a saved state described, and still at least as long?"""
        if saved is None:
            return False
        st = os.fstat(self.fd)
        return (
            (st.st_dev, st.st_ino) == (saved.dev, saved.ino)
            and st.st_size >= self.offset
            and _head_hash(self.fd, saved.head_len) == saved.head_sha256
        )

    def read_lines(self, limit: int) -> tuple[bytes, int]:
        """(buf, end): buf[:end] are the complete lines from the offset on, about `limit`
        bytes (more when one line is longer). Bytes after `end` begin a line that has no
        newline yet; they are kept here too. Handing over the buffer with its end, rather
        than a slice, saves copying every chunk once. end == 0: nothing complete waits."""
        if 0 < self._partial_len < limit:
            # A short unfinished line is read again with what follows it: joining it to
            # a fresh chunk would copy the whole chunk once more. (What was read stays
            # kept until the file is seen to hold it still: it may be truncated meanwhile.)
            held = b"".join(self._partial)
            chunk = os.pread(self.fd, limit, self.offset)
            nl = chunk.rfind(b"\n")
            if nl >= len(held) and chunk.startswith(held):
                return self._hand_over(chunk, nl + 1)
        pos = self.offset + self._partial_len
        while True:
            chunk = os.pread(self.fd, limit, pos)
            if not chunk:
                return b"", 0
            pos += len(chunk)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                break
            self._partial.append(chunk)
            self._partial_len += len(chunk)
        if self._partial:
            nl += self._partial_len
            buf = b"".join([*self._partial, chunk])
        else:
            buf = chunk
        return self._hand_over(buf, nl + 1)

    def _hand_over(self, buf: bytes, end: int) -> tuple[bytes, int]:
        """Give out buf's complete lines, buf[:end]; keep the rest as the partial line."""
        self._partial_len = len(buf) - end
        self._partial = [buf[end:]] if self._partial_len else []
        self.offset += end
        self._refresh_head()
        return buf, end

    def unread(self, data_len: int) -> None:
        """Give back the last `data_len` bytes handed out (the spool could not take them)."""
        self.offset -= data_len
        self._partial.clear()
        self._partial_len = 0

    def take_partial(self) -> bytes:
        """The unterminated tail, for when the file will never get its newline."""
        tail = b"".join(self._partial)
        self._partial.clear()
        self._partial_len = 0
        self.offset += len(tail)
        return tail

    def drain(self) -> bytes:
        """Everything left in the open file, the unterminated tail included."""
        parts = []
        while True:
            buf, end = self.read_lines(READ_CHUNK)
            if not end:
                break
            parts.append(buf[:end])
        parts.append(self.take_partial())
        return b"".join(parts)

    def has_news(self) -> bool:
        """Has the path changed since the last read (grown, shrunk, replaced, gone, or
        rewritten in place to the same size)?"""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        ident = self.identity
        return (
            (st.st_dev, st.st_ino) != (ident.dev, ident.ino)
            or st.st_size != self.offset + self._partial_len
            or st.st_mtime_ns != self._mtime_ns
        )

    def _refresh_head(self) -> None:
        ident = self.identity
        if ident.head_len < HEAD_BYTES and self.offset > ident.head_len:
            ident.head_len = min(HEAD_BYTES, self.offset)
            ident.head_sha256 = _head_hash(self.fd, ident.head_len)

    def status(self) -> SourceStatus:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return SourceStatus.MISSING
        ident = self.identity
        if (st.st_dev, st.st_ino) != (ident.dev, ident.ino):
            return SourceStatus.REPLACED
        self._mtime_ns = st.st_mtime_ns
        if st.st_size < self.offset + self._partial_len:
            return SourceStatus.TRUNCATED
        if ident.head_len and _head_hash(self.fd, ident.head_len) != ident.head_sha256:
            return SourceStatus.TRUNCATED
        return SourceStatus.OK
