"""Every failure agent-uploader raises on purpose, in one tree.

An error says what failed, and with what value, in words that hold wherever it is shown:
the Python API, a log line, the dashboard, the command line. `message` is that sentence;
the fields of each class name its parts (a session id, a path, a setting). `hint`, when
there is one, is advice that holds everywhere too. Nothing here, and nothing that raises
these, names a flag or a command: the command line and the dashboard add their own advice
where they show an error (`uploader.messages.explain`, one table for both).

    UploaderError                      root: catch this to catch everything below
    ├── UserError                      what the user can act on: input, data, this machine
    │   ├── UsageError                 a malformed value or a contradiction (exit code 2)
    │   │   ├── InvalidSetting         a setting's value cannot be used
    │   │   │   └── UnknownScheme      a store URL of a kind no store has
    │   │   ├── ConflictingSettings    two settings that exclude each other
    │   │   ├── SessionNotNamed        no session named, or two ways at once
    │   │   ├── Ambiguous              an id prefix or label that matches several sessions
    │   │   ├── EmptyLabel
    │   │   ├── WrongGeneration        a checkpoint asked for in another generation
    │   │   ├── RulesError             a redaction rules file that cannot be used
    │   │   │   └── RulesFileUnreadable
    │   │   └── ConfigError            a config file's key or value that cannot be used
    │   │       └── ConfigUnreadable   a config file that cannot be read, or is not TOML
    │   ├── NotFound                   nothing by that name: nothing changed (exit code 3)
    │   │   ├── SessionNotFound
    │   │   ├── CheckpointNotFound
    │   │   ├── GenerationNotFound
    │   │   ├── EmptySession           a session that holds no lines yet
    │   │   └── WatchNotRunning        no watch runs on a spool
    │   ├── Damaged                    stored or local data that does not hold together
    │   │   ├── DamagedSession         a manifest or segment in the store
    │   │   ├── UnreadableState        a spool's resume state
    │   │   ├── BadJSON                JSON that is not, or is hostile (also a ValueError)
    │   │   ├── Corrupt                a legacy session file (also a ValueError)
    │   │   └── NotATranscript         a file no agent's format is recognised in
    │   ├── Conflict                   another process or session holds it
    │   │   ├── SpoolLocked            another watch holds the spool
    │   │   ├── SessionInUse           this machine's watch is writing the session
    │   │   ├── BeingWritten           a watch is writing the session: a snapshot leaves it
    │   │   ├── LabelTaken             another session has that label
    │   │   ├── TargetExists           a file is where a restore would write
    │   │   └── ServiceFileExists      another unit or agent file is where the service's goes
    │   └── LocalError                 this machine: a folder, a disk, a permission
    │       ├── SpoolUnwritable
    │       ├── SpoolFull              back-pressure: stop reading, try again later
    │       ├── TargetNotAFile
    │       ├── TargetUnwritable
    │       ├── SweepAborted           a sweep that cannot run at all
    │       ├── ConfigExposed          a config file holding a secret that others can read
    │       ├── ServiceUnsupported     no user service here, or a path it cannot run
    │       └── ServiceManagerFailed   systemd or launchd missing, unreachable or refusing
    └── StorageError                   a store (or a sink) failed; the class says what to do
        ├── ObjectNotFound
        ├── StorageUnavailable         passing: retry later
        │   └── StorageUnreachable     no connection at all
        ├── StorageAuthError           credentials refused: retrying will not help
        ├── BucketNotFound
        ├── StorageConflict            another writer's object
        │   └── SessionConflict
        ├── WriteOnlyStore
        ├── StoreCheckFailed           the start-up probe of a command
        ├── NotUploaded                a one-shot watch left segments in the spool
        └── SinkRefused                a sweep's destination did not take a file

`except UserError` catches everything but store failures, as it always has. The exit
code of each branch is what the command line exits with.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class UploaderError(Exception):
    """Root of the tree. `message` says what failed, with what value; `hint` what to do,
    in words that hold for every caller (or None)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UserError(UploaderError):
    """A problem with the user's input, data or machine, shown as `Error: ... / Hint: ...`."""


# -- usage: a malformed value, a contradiction (exit code 2) -------------------------------


class UsageError(UserError):
    """A malformed flag or value (exit code 2, like click's own usage errors)."""

    exit_code = 2


class InvalidSetting(UsageError):
    """A setting's value that cannot be used. `setting` is its name in
    `uploader.core.settings` (the command line names its flag instead), `value` the value as
    it may be shown, `problem` what is wrong, starting with that value; `needs`: other
    settings that would make it usable."""

    def __init__(
        self,
        setting: str,
        value: str,
        problem: str,
        hint: str | None = None,
        *,
        needs: Sequence[str] = (),
    ) -> None:
        super().__init__(f"{setting} {problem}", hint)
        self.setting, self.value, self.problem = setting, value, problem
        self.needs = tuple(needs)


class UnknownScheme(InvalidSetting):
    """A store URL of a kind no store has (`scheme`)."""

    def __init__(self, url: str, scheme: str) -> None:
        super().__init__(
            "store",
            url,
            f"{url!r}: unknown scheme {scheme!r}",
            "supported stores: file:///dir, s3://bucket/prefix, supabase://bucket "
            "(and an upload URL, for a plain HTTP PUT target)",
        )
        self.scheme = scheme


class ConflictingSettings(UsageError):
    """Settings that exclude each other were both given (names as in uploader.core.settings)."""

    def __init__(self, settings: Sequence[str], hint: str | None = None) -> None:
        super().__init__(f"both {' and '.join(settings)} were given", hint)
        self.settings = tuple(settings)


class SessionNotNamed(UsageError):
    """A command that acts on one session got none (`both` False), or an id and a label."""

    def __init__(self, *, both: bool) -> None:
        super().__init__(
            "both a session id and a label were given" if both else "name one session",
            "give a session id (or the first characters of it) or a label",
        )
        self.both = both


class Ambiguous(UsageError):
    """An id prefix or a label that matches several sessions (`matches`, sorted)."""

    def __init__(self, query: str, matches: list[str]) -> None:
        shown = ", ".join(matches[:10]) + (" …" if len(matches) > 10 else "")
        super().__init__(
            f"{query!r} matches {len(matches)} sessions: {shown}",
            "give more characters of the id, or the whole id",
        )
        self.query, self.matches = query, matches


class EmptyLabel(UsageError):
    """A label that is empty once its spaces are collapsed."""

    def __init__(self) -> None:
        super().__init__("the label is empty", "give some text")


class WrongGeneration(UsageError):
    """A checkpoint was asked for together with a generation it is not in."""

    def __init__(self, checkpoint: str, generation: int, asked: int) -> None:
        super().__init__(
            f"checkpoint {checkpoint} belongs to generation {generation}, not {asked}",
            "a checkpoint says which generation it is in",
        )
        self.checkpoint, self.generation, self.asked = checkpoint, generation, asked


#: The advice for a rules file whose content breaks the format (the command line points at
#: `scan --help`, which shows it).
RULES_FORMAT = (
    "a rules file is TOML: [[rules]] tables (id, regex, and optionally secret_group, "
    "keywords, ignore_case, prefilter, description) and one [allowlist] (regexes, values)"
)


class RulesError(UsageError):
    """A redaction rules file that cannot be used: `file` names it, the message says which
    rule or key and what is wrong. `about_format`: the fix is to follow the file format.

    Exit code 2, like a malformed flag: it is never mistaken for `scan`'s "secrets found"."""

    def __init__(self, file: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint or RULES_FORMAT)
        self.file = file
        self.about_format = hint is None


class RulesFileUnreadable(RulesError):
    """The rules file cannot be read at all (`reason`: the system's words)."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(
            file,
            f"cannot read the rules file {file}: {reason}",
            "check the path and its permissions",
        )
        self.reason = reason


class ConfigError(UsageError):
    """A config file (`file`) that cannot be used, at `line` (1-based; 0: not known) and
    `key` (a setting's name; "" for the file as a whole). `problem` says what is wrong,
    starting with the value where it may be shown (never a secret's).

    Exit code 2, like a malformed flag."""

    def __init__(
        self, file: Path, line: int, key: str, problem: str, hint: str | None = None
    ) -> None:
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {key} {problem}" if key else f"{where}: {problem}", hint)
        self.file, self.line, self.key, self.problem = file, line, key, problem


class ConfigUnreadable(ConfigError):
    """The config file cannot be read at all, or is not TOML (`reason`)."""

    def __init__(self, file: Path, reason: str, hint: str | None = None) -> None:
        super().__init__(file, 0, "", reason, hint or "check the path and its permissions")
        self.reason = reason


# -- not found: nothing by that name, nothing changed (exit code 3) ------------------------


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


# -- damaged data --------------------------------------------------------------------------


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


# -- conflict: another process or session holds it -----------------------------------------


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


# -- local: this machine's folders, disks and permissions ----------------------------------


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


# -- storage: a store call failed ----------------------------------------------------------


class StorageError(UploaderError):
    """Any failure of a store. Subclasses say what the caller should do."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class StorageUnavailable(StorageError):
    """A passing failure (429, 5xx, timeout, reset, full disk): retry later."""


class StorageUnreachable(StorageUnavailable):
    """No connection could be made at all (refused, no route, name not found)."""


class StorageAuthError(StorageError):
    """The store refused our credentials (401/403): retrying will not help until fixed."""


class BucketNotFound(StorageError):
    """The bucket (or root folder) named in the store URL does not exist."""


class StorageConflict(StorageError):
    """The object already exists (a create-only write) or changed under us (a conditional
    write): another writer is at work on the same keys."""


class SessionConflict(StorageConflict):
    """Another writer (`writer`, when known) changed `key` of this session: its uploads
    stop, its data stays in the spool."""

    def __init__(self, key: str, writer: str | None = None) -> None:
        if writer is None:  # a create-only object: who wrote it is not known
            super().__init__(
                f"{key} already exists with other content: another writer uses this session id"
            )
        else:
            super().__init__(
                f"{key} was changed by another writer ({writer}); this session's uploads are "
                "paused and its data stays in the spool",
                "give each machine its own session id, or stop the other watcher",
            )
        self.key, self.writer = key, writer


class WriteOnlyStore(StorageError):
    """The store (`store`: its description) can only be written (an upload URL)."""

    def __init__(self, store: str) -> None:
        super().__init__(
            f"{store} can only be written; this needs a store that can be read "
            "(file://..., s3://... or supabase://...)"
        )
        self.store = store


class StoreCheckFailed(StorageError):
    """A command's start-up probe of the store `store` failed with `cause`: one clear line
    for a missing bucket, refused credentials, a store that cannot be reached."""

    def __init__(self, store: str, cause: StorageError) -> None:
        if isinstance(cause, StorageAuthError):
            message, hint = f"store {store} refused our credentials: {cause}", None
        elif isinstance(cause, StorageUnreachable):
            message = f"cannot reach store {store}: {cause}"
            hint = "check the URL or endpoint and the network; nothing was read yet"
        elif isinstance(cause, BucketNotFound):
            message, hint = f"store {store}: {cause}", "create it"
        else:
            message, hint = f"store {store}: {cause}", None
        super().__init__(message, hint)
        self.store, self.cause = store, cause


class NotUploaded(StorageError):
    """A one-shot watch stopped with `left` segments still in its spool's queue (`queue`):
    the store failed, or did not take them in time. Nothing is lost: they wait there."""

    def __init__(self, left: int, queue: Path) -> None:
        super().__init__(
            f"{left} segment(s) were not uploaded and wait in {queue}",
            "the log above says why; the next watch on this spool uploads them first",
        )
        self.left, self.queue = left, queue


class SinkRefused(StorageError):
    """A sweep's destination (the store, or a Nexus collector) did not take the file, or
    the file changed while it was sent: it stays in place for the next sweep."""


# -- the search index ----------------------------------------------------------------------


class IndexError_(UserError):
    """The search index (uploader.index) cannot be used."""


class IndexUnavailable(IndexError_):
    """The index cannot be opened: a database that does not answer, a file that cannot be
    made, a driver that is not installed."""

    def __init__(self, where: str, reason: str, hint: str | None = None) -> None:
        super().__init__(
            f"cannot open the search index {where}: {reason}",
            hint or "a SQLite index file may be deleted: it is rebuilt from the store",
        )
        self.where = where


class IndexMismatch(IndexError_):
    """An index that holds another store's sessions."""

    def __init__(self, where: str, holds: str, wanted: str) -> None:
        super().__init__(
            f"the search index {where} is of {holds}, not of {wanted}",
            "give each store its own index, or empty this one to fill it from this store",
        )
