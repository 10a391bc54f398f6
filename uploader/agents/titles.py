"""A session's title when its agent gives none: its first user message.

The shipper records it in the manifest (`first_message`) from the first segments it
uploads; readers fall back to the same search for manifests written without it. Only
the head of a segment is searched, so a session that opens with megabytes of tool output
costs no more than one that does not.
"""

from __future__ import annotations

from uploader.agents.transcript import first_user_text

#: Segments searched for the first user message before giving up.
TITLE_SEGMENTS = 3
SCAN_BYTES = 4 << 20


def first_message(data: bytes, agent: str) -> str | None:
    """The first user message among the complete lines at the head of data."""
    head = data[:SCAN_BYTES]
    if len(data) > SCAN_BYTES:
        head = head[: head.rfind(b"\n") + 1]
    return first_user_text(head.split(b"\n"), agent)
