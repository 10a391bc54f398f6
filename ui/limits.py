"""How much the dashboard may hold at once, and what it holds now.

`watch` serves the dashboard from the process that tails the transcripts: every file
handle, thread or megabyte a client can make the dashboard hold is one the tailing may
not get. So each kind of lasting resource a request can take has a cap, and beyond it
the request is turned away (503 with Retry-After) instead of waiting in line.

Every count here is changed on the event loop's thread only (the accept loop, the
connections' protocols, the route handlers): no lock is needed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    #: Connections open at once, live streams and half-sent requests included.
    connections: int = 64
    #: Live-line streams (server-sent events) open at once; they last as long as the page.
    streams: int = 16
    #: Downloads being checked or sent at once, and the bytes they may stage on disk.
    downloads: int = 4
    download_bytes: int = 1 << 30
    #: A request's headers must arrive within this; an idle kept-alive connection and a
    #: client that reads nothing of a response are dropped after these.
    header_timeout_s: float = 10.0
    keepalive_s: float = 5.0
    stall_s: float = 60.0
    #: One line in a JSON response (longer ones are cut, with the URL of the whole line),
    #: and all lines of one response (past it, each line is cut to `small_line_chars`).
    line_chars: int = 64 << 10
    response_chars: int = 4 << 20
    small_line_chars: int = 1 << 10
    #: A request body (only the login form has one), the headers, and the request target.
    body_bytes: int = 16 << 10
    header_bytes: int = 16 << 10
    path_chars: int = 2048
    query_chars: int = 4096


class Gate:
    """At most `limit` holders at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> Slot | None:
        if self.used >= self.limit:
            return None
        self.used += 1
        return Slot(self)


class Slot:
    """One place taken from a Gate; `release` gives it back (any number of calls, once)."""

    def __init__(self, gate: Gate, size: int = 0, load: Load | None = None) -> None:
        self._gate: Gate | None = gate
        self.size = size
        self._load = load

    def release(self) -> None:
        if self._gate is None:
            return
        self._gate.used -= 1
        self._gate = None
        if self._load is not None:
            self._load.staged_bytes -= self.size


class Load:
    """What this dashboard holds now, within its Limits (shown by /metrics)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.connections = Gate(limits.connections)
        self.streams = Gate(limits.streams)
        self.downloads = Gate(limits.downloads)
        self.staged_bytes = 0
        self.refused = 0  # connections and requests turned away because a cap was reached

    def take_download(self, size: int) -> Slot | None:
        """A download of at most `size` bytes, if one more fits (count and bytes)."""
        gate = self.downloads
        if gate.used >= gate.limit or self.staged_bytes + size > self.limits.download_bytes:
            return None
        gate.used += 1
        self.staged_bytes += size
        return Slot(gate, size, self)
