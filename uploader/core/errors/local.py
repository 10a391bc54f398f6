"""Local errors: this machine's folders, disks, permissions and service manager."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from uploader.core.errors.base import UserError


class LocalError(UserError):
    """This machine: a folder that cannot be made or written, a full disk, a file in the way."""


class SpoolUnwritable(LocalError):
    """A spool folder that cannot be created (`reason`), or is not writable (reason None)."""

    def __init__(self, folder: Path, reason: str | None = None) -> None:
        super().__init__(
            f"cannot create spool folder {folder}: {reason}"
            if reason is not None
            else f"spool folder {folder} is not writable",
            "choose a writable place for the spool",
        )
        self.folder, self.reason = folder, reason


class SpoolFull(LocalError):
    """The spool cannot take more now (its disk is full, or the process is out of file
    handles): stop reading (back-pressure) and try again later. `consumed`: the source
    offset up to which lines were taken; `cause`: the OSError."""

    def __init__(self, consumed: int, cause: OSError) -> None:
        super().__init__(f"spool cannot be written ({cause.strerror})")
        self.consumed = consumed
        self.cause = cause


class TargetNotAFile(LocalError):
    """Only a regular file is replaced by a restore: `path` is `kind` ("a link", ...)."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(
            f"{path} is {kind}: only a regular file is replaced",
            "give the path of the file to write",
        )
        self.path, self.kind = path, kind


class TargetUnwritable(LocalError):
    """A restore could not write `path` (`reason`; `full`: no space left)."""

    def __init__(self, path: Path, reason: str, *, full: bool) -> None:
        super().__init__(
            f"cannot write {path}: {reason}; nothing was changed there",
            "free some space there" if full else "check the folder's permissions",
        )
        self.path, self.reason, self.full = path, reason, full


class SweepAborted(LocalError):
    """The sweep cannot run at all (no sessions folder, unreadable sessions.json, the
    archive is the sessions folder)."""


class ConfigExposed(LocalError):
    """The config file `file` holds secrets as text (`keys`) and group or others may read
    or write it (`mode`): it is refused until only its owner can."""

    def __init__(self, file: Path, keys: Sequence[str], mode: int) -> None:
        super().__init__(
            f"{file} holds secrets ({', '.join(keys)}) and other users can open it "
            f"(mode {mode & 0o777:04o}); refused",
            f"make it readable by its owner only (chmod 600 {file}), or name each secret "
            'instead of writing it there: { env = "NAME" } or { file = "PATH" }',
        )
        self.file, self.keys, self.mode = file, tuple(keys), mode


class ServiceUnsupported(LocalError):
    """The user service cannot be set up here: a platform with no service manager this
    program knows, or a value (a path) that cannot be put in the service's file."""


class ServiceManagerFailed(LocalError):
    """The service manager did not do what was asked: `command` (its words) could not
    run or failed, for `reason`. `done`: what was done before it (the service's file
    written or removed), or None; `todo`: the commands still to run, where the manager
    works. `unreachable`: the manager is not there at all (not installed, no user bus: a
    container, CI), rather than refusing."""

    def __init__(
        self,
        command: Sequence[str],
        reason: str,
        *,
        done: str | None = None,
        todo: Sequence[str] = (),
        unreachable: bool = False,
    ) -> None:
        failed = f"`{' '.join(command)}` failed"
        if done:
            failed = f"{done}, but {failed}"
        where = (
            "where the user's service manager runs (a login session, not a container or CI)"
            if unreachable
            else "once the cause is fixed"
        )
        super().__init__(
            f"{failed}: {reason}",
            f"run `{' && '.join(todo)}` {where}" if todo else None,
        )
        self.command, self.reason, self.done = tuple(command), reason, done
        self.todo, self.unreachable = tuple(todo), unreachable
