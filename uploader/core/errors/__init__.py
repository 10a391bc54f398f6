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

One module per branch: base (the root and UserError), usage, missing (NotFound), damaged,
conflict, local, storage, index. Import the names from here: where a class is defined
is not part of its name.

Imports nothing of agent-uploader.
"""

from __future__ import annotations

from uploader.core.errors.base import UploaderError, UserError
from uploader.core.errors.conflict import (
    BeingWritten,
    Conflict,
    LabelTaken,
    ServiceFileExists,
    SessionInUse,
    SpoolLocked,
    TargetExists,
)
from uploader.core.errors.damaged import (
    BadJSON,
    Corrupt,
    Damaged,
    DamagedSession,
    NotATranscript,
    UnreadableState,
)
from uploader.core.errors.index import IndexError_, IndexMismatch, IndexUnavailable
from uploader.core.errors.local import (
    ConfigExposed,
    LocalError,
    ServiceManagerFailed,
    ServiceUnsupported,
    SpoolFull,
    SpoolUnwritable,
    SweepAborted,
    TargetNotAFile,
    TargetUnwritable,
)
from uploader.core.errors.missing import (
    CheckpointNotFound,
    EmptySession,
    GenerationNotFound,
    NotFound,
    SessionNotFound,
    WatchNotRunning,
)
from uploader.core.errors.storage import (
    BucketNotFound,
    NotUploaded,
    ObjectNotFound,
    SessionConflict,
    SinkRefused,
    StorageAuthError,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    StorageUnreachable,
    StoreCheckFailed,
    WriteOnlyStore,
)
from uploader.core.errors.usage import (
    RULES_FORMAT,
    Ambiguous,
    ConfigError,
    ConfigUnreadable,
    ConflictingSettings,
    EmptyLabel,
    InvalidSetting,
    RulesError,
    RulesFileUnreadable,
    SessionNotNamed,
    UnknownScheme,
    UsageError,
    WrongGeneration,
)

__all__ = [
    "RULES_FORMAT",
    "Ambiguous",
    "BadJSON",
    "BeingWritten",
    "BucketNotFound",
    "CheckpointNotFound",
    "ConfigError",
    "ConfigExposed",
    "ConfigUnreadable",
    "Conflict",
    "ConflictingSettings",
    "Corrupt",
    "Damaged",
    "DamagedSession",
    "EmptyLabel",
    "EmptySession",
    "GenerationNotFound",
    "IndexError_",
    "IndexMismatch",
    "IndexUnavailable",
    "InvalidSetting",
    "LabelTaken",
    "LocalError",
    "NotATranscript",
    "NotFound",
    "NotUploaded",
    "ObjectNotFound",
    "RulesError",
    "RulesFileUnreadable",
    "ServiceFileExists",
    "ServiceManagerFailed",
    "ServiceUnsupported",
    "SessionConflict",
    "SessionInUse",
    "SessionNotFound",
    "SessionNotNamed",
    "SinkRefused",
    "SpoolFull",
    "SpoolLocked",
    "SpoolUnwritable",
    "StorageAuthError",
    "StorageConflict",
    "StorageError",
    "StorageUnavailable",
    "StorageUnreachable",
    "StoreCheckFailed",
    "SweepAborted",
    "TargetExists",
    "TargetNotAFile",
    "TargetUnwritable",
    "UnknownScheme",
    "UnreadableState",
    "UploaderError",
    "UsageError",
    "UserError",
    "WatchNotRunning",
    "WriteOnlyStore",
    "WrongGeneration",
]
