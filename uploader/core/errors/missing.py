"""Not found: nothing by that name, nothing changed (exit code 3)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from uploader.core.errors.base import UserError


class NotFound(UserError):
    """A session or checkpoint that does not exist (exit code 3: nothing changed)."""

    exit_code = 3


class SessionNotFound(NotFound):
    """No session `query` (an id, an id prefix or a label) in the store `store`."""

    def __init__(self, query: str, store: str, message: str | None = None) -> None:
        super().__init__(message or f"no session {query!r} in {store}")
        self.query, self.store = query, store


class CheckpointNotFound(NotFound):
    """Session `sid` has no checkpoint `ref` (or several start with it); `known`: its ids."""

    def __init__(self, sid: str, ref: str, known: Sequence[str], *, ambiguous: bool) -> None:
        super().__init__(
            f"session {sid} has no checkpoint {ref!r}" + (" (ambiguous)" if ambiguous else ""),
            f"its checkpoints: {', '.join(known) or 'none'}",
        )
        self.sid, self.ref, self.known = sid, ref, tuple(known)


class GenerationNotFound(NotFound):
    def __init__(self, sid: str, generation: int, known: Sequence[int]) -> None:
        super().__init__(
            f"session {sid} has no generation {generation}",
            f"its generations: {', '.join(map(str, known))}",
        )
        self.sid, self.generation, self.known = sid, generation, tuple(known)


class EmptySession(NotFound):
    """A session whose source was deleted before its first line: nothing to rebuild."""

    def __init__(self, sid: str) -> None:
        super().__init__(f"session {sid} holds no lines yet", "nothing to restore")
        self.sid = sid


class WatchNotRunning(NotFound):
    """No watch runs on the spool at `spool`; `why` says how that is known."""

    def __init__(self, spool: Path, why: str) -> None:
        super().__init__(
            f"no watch is running on spool {spool}: {why}",
            "start one, or name the spool the running one uses",
        )
        self.spool, self.why = spool, why
