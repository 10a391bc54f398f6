"""Counting the lines in a buffer of JSONL, the way that is cheapest for its lines.

`bytes.count(b"\n")` looks at every byte in turn (about 0.6 ms of CPU per MB here), while
`bytes.find` skips to the next newline with memchr at many GB/s and costs a Python call
per line. Agents write long lines (a median near 800 bytes, often tens of KB), so hopping
from newline to newline is about four times cheaper. Where the lines turn out short, the
rest of the buffer goes to `bytes.count`, so the count never costs much more than it would.
"""

from __future__ import annotations

NEWLINE = b"\n"
#: Lines shorter than this on average are cheaper to count byte by byte.
SHORT_LINE = 256
#: How often (in lines) the average is checked.
CHECK_EVERY = 64


def count_newlines(data: bytes, start: int = 0, end: int | None = None) -> int:
    """How many newlines data[start:end] holds (as data.count(b"\\n", start, end))."""
    end = len(data) if end is None else end
    find = data.find
    count = 0
    at = find(NEWLINE, start, end)
    while at >= 0:
        count += 1
        if count % CHECK_EVERY == 0 and at - start < count * SHORT_LINE:
            return count + data.count(NEWLINE, at + 1, end)
        at = find(NEWLINE, at + 1, end)
    return count
