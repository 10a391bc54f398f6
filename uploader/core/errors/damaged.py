"""Damaged data: stored or local data that does not hold together."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from uploader.core.errors.base import UserError


class Damaged(UserError):
    """Data that does not hold together: the store holds something that does not match its
    manifest, or a file is not what it should be."""


class DamagedSession(Damaged):
    """A session's manifest or segment in the store is damaged (`sid` when known, `seq` of
    the segment when it is one). `hint`: what may still be read."""

    def __init__(
        self, message: str, hint: str | None = None, *, sid: str | None = None, seq: object = None
    ) -> None:
        super().__init__(message, hint)
        self.sid, self.seq = sid, seq


class UnreadableState(Damaged, ValueError):
    """A state file that is damaged: the session is left alone until it is moved away."""

    def __init__(self, sid: str, path: Path, reason: str) -> None:
        super().__init__(
            f"the spool's state of session {sid} ({path}) cannot be read: {reason}",
            "nothing of that session was read or uploaded; move the file away and start "
            "again: the session then continues from its manifest in the store",
        )
        self.sid, self.path = sid, path


class BadJSON(Damaged, ValueError):
    """Not JSON this program will read (too large, too deep, NaN, a number out of range);
    the message says why. `syntax`: it is not JSON at all (perhaps a file caught half
    written), rather than JSON refused here."""

    def __init__(self, message: str, *, syntax: bool = False) -> None:
        super().__init__(message)
        self.syntax = syntax


class Corrupt(Damaged, ValueError):
    """A legacy session file that cannot be read as a session."""


class NotATranscript(Damaged):
    """Files (`paths`) in which no known agent's format is recognised."""

    def __init__(self, paths: Sequence[str]) -> None:
        shown = ", ".join(paths[:3]) + (" …" if len(paths) > 3 else "")
        super().__init__(
            f"not a transcript of a known agent: {shown}",
            "point it at a session file of Codex, Claude Code, OpenClaw or pi",
        )
        self.paths = tuple(paths)
