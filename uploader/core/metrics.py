"""Counters the engine keeps for logs and the dashboard's /metrics, and how uploads are
going (for `status` and the dashboard's health strip)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Metrics:
    lines_read: int = 0
    bytes_read: int = 0
    segments_uploaded: int = 0
    bytes_uploaded: int = 0
    checkpoints: int = 0
    manifests_written: int = 0


#: The longest error message kept (a store's answer may be a page of XML).
ERROR_CHARS = 300


@dataclass
class Health:
    """How the store calls of a `watch` are going. Times are epoch seconds. The message of
    the last error is given scrubbed (no credentials, no query strings) by the caller."""

    last_upload: float | None = None  # the store last confirmed a write
    last_error_at: float | None = None
    last_error: str | None = None
    consecutive_failures: int = 0  # store calls failed since the last that succeeded
    failing_since: float | None = None  # the first of those failures
    redactions: dict[str, int] = field(default_factory=dict)  # in the segments uploaded
    _writes_failing: bool = False  # a write is among the failures since the last success

    def succeeded(self, *, wrote: bool) -> None:
        """A store call went through (`wrote`: it stored something). A read that works
        does not end a run of failed writes: only a write does."""
        if wrote:
            self.last_upload = time.time()
        elif self._writes_failing:
            return
        self.consecutive_failures = 0
        self.failing_since = None
        self._writes_failing = False

    def failed(self, message: str, *, wrote: bool) -> None:
        """A store call failed (`wrote`: it was to store something)."""
        now = time.time()
        self.last_error_at = now
        self.last_error = message[:ERROR_CHARS]
        self.consecutive_failures += 1
        self._writes_failing = self._writes_failing or wrote
        if self.failing_since is None:
            self.failing_since = now

    def redacted(self, counts: dict[str, int] | None) -> None:
        for rule, n in (counts or {}).items():
            self.redactions[rule] = self.redactions.get(rule, 0) + n
