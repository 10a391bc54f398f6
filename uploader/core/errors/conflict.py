"""Conflicts: another process or session holds what was asked for."""

from __future__ import annotations

from pathlib import Path

from uploader.core.errors.base import UserError


class Conflict(UserError):
    """Someone else is at work on it, or already has it."""


class SpoolLocked(Conflict):
    """Another process (`holder`, as its lock file says) holds the spool at `root`."""

    def __init__(self, root: Path, holder: str) -> None:
        super().__init__(
            f"spool {root} is already in use by {holder}",
            "stop the other watch, or give this one a spool of its own",
        )
        self.root, self.holder = root, holder


class SessionInUse(Conflict):
    """A watch on this machine (holding the spool at `spool`) is writing session `sid`."""

    def __init__(self, sid: str, spool: Path) -> None:
        super().__init__(
            f"session {sid} is being written by a running watch on this machine (spool {spool})",
            "stop that watch first (Ctrl+C), then delete the session",
        )
        self.sid, self.spool = sid, spool


class BeingWritten(Conflict):
    """A watch (`writer`) is at work on session `sid`: taking it over would pause its
    uploads (the manifest would be another writer's), and the watch uploads the file anyway."""

    def __init__(self, sid: str, writer: str) -> None:
        super().__init__(f"{writer or 'a watch'} is writing session {sid}; left to it")
        self.sid, self.writer = sid, writer


class LabelTaken(Conflict):
    """`label` is already on session `sid`: labels are unique in a store."""

    def __init__(self, label: str, sid: str) -> None:
        super().__init__(
            f"the label {label!r} is already on session {sid}",
            "labels are unique in a store: choose another, or clear it there",
        )
        self.label, self.sid = label, sid


class TargetExists(Conflict):
    """A restore would replace the file at `path` and was not asked to."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists", "choose another path")
        self.path = path


class ServiceFileExists(Conflict):
    """A unit or agent file other than the one that would be written is at `path`."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} already exists and differs from the service file that would be written",
            "compare the two, then replace it",
        )
        self.path = path
