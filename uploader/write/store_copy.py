"""Does a file still hold exactly what the store holds of it? When a watch finds a
session in the store but has no state of its own (a new spool, another machine), the
answer decides whether it continues the store's generation or writes a new one.

May import: redaction, storage.
"""

from __future__ import annotations

import hashlib
import os

from uploader.redaction import Redactor
from uploader.storage.records import Segment


def store_prefix(fd: int, segments: list[Segment], redactor: Redactor | None) -> int | None:
    """The source offset where the stored segments end, when the file begins with exactly
    what they store and goes on from there with a new line; else None."""
    held = _held_prefix(fd, segments, redactor)
    if held is None or not _continues_at_line_start(fd, held):
        return None
    return held


def _held_prefix(fd: int, segments: list[Segment], redactor: Redactor | None) -> int | None:
    """Does the file begin with exactly what these segments store (their sha256, after
    redaction when it is on)? Then the source offset where they end, else None (also when
    an entry does not say how many bytes it holds: nothing to compare with)."""
    pos = 0
    for s in segments:
        if s.bytes is None:
            return None
        if s.source_end is None:  # written before redaction existed: stored = source bytes
            source_end, segment_redactor = pos + s.bytes, None
        else:
            source_end, segment_redactor = s.source_end, redactor
        stored = _stored_digest(fd, pos, source_end, segment_redactor)
        if stored != (s.sha256, s.bytes):
            return None
        pos = source_end
    return pos


def _stored_digest(
    fd: int, start: int, end: int, redactor: Redactor | None
) -> tuple[str, int] | None:
    """sha256 and length of what file[start:end] becomes in a segment; None if the file
    is shorter. Read a MiB of whole lines at a time (redaction works on lines)."""
    digest, size, pos, carry = hashlib.sha256(), 0, start, b""
    while pos < end or carry:
        chunk = carry + os.pread(fd, min(1 << 20, end - pos), pos) if pos < end else carry
        pos += len(chunk) - len(carry)
        if len(chunk) == len(carry) and pos < end:
            return None  # the file ends early
        cut = len(chunk) if pos >= end else chunk.rfind(b"\n") + 1
        if cut == 0:  # no newline yet: one long line, read on
            carry = chunk
            continue
        piece, carry = chunk[:cut], chunk[cut:]
        out = redactor.redact(piece).data if redactor is not None else piece
        digest.update(out)
        size += len(out)
    return digest.hexdigest(), size


def _continues_at_line_start(fd: int, offset: int) -> bool:
    """Is what follows `offset` a new line? Not when the store's copy ended in the middle
    of a line that the file has since completed: continuing would split that line in two."""
    if offset == 0 or os.fstat(fd).st_size == offset:
        return True
    return os.pread(fd, 1, offset - 1) == b"\n"
