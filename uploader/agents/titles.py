"""A session's title when its agent gives none: its first user message.

One search, used by everyone who needs it: the shipper records it in the manifest
(`first_message`) from the first segments it uploads; the catalog searches the same way
for manifests written without it; a running watch's dashboard searches its active segment
before the first upload. Only the first TITLE_SEGMENTS segments, and only the head of
each, are searched: a session that opens with megabytes of tool output, or has no user
message at all, costs no more than one that does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from uploader.agents.transcript import first_user_text

#: Segments searched for the first user message before giving up.
TITLE_SEGMENTS = 3
#: Bytes of a segment searched (whole lines only).
SCAN_BYTES = 4 << 20


def first_message(segments: Iterable[bytes], agent: str) -> str | None:
    """The first user message in the first TITLE_SEGMENTS of a session's segments (their
    uncompressed bytes, in order). Pass a generator to read a segment only when the ones
    before it had none."""
    for data in islice(segments, TITLE_SEGMENTS):
        head = data[:SCAN_BYTES]
        if len(data) > SCAN_BYTES:
            head = head[: head.rfind(b"\n") + 1]
        found = first_user_text(head.split(b"\n"), agent)
        if found:
            return found
    return None
