"""What a person is shown of an error: its message and hint in the words of the command
line (the flags and commands the engine does not know about), and its exit code.

The engine's errors (uploader.core.errors) speak to every caller; the two boundaries a
person meets, the command line (uploader.cli.app) and the dashboard (ui.api), show them
through `explain`, so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uploader.core import errors as e
from uploader.core.settings import BY_NAME, CONFIG, SUPABASE_KEY


@dataclass(frozen=True)
class Shown:
    """An error as a person at the command line (or the dashboard) is shown it."""

    message: str
    hint: str | None
    exit_code: int


def _flag(name: str) -> str:
    return BY_NAME[name].flag


def _then(first: str, then: str | None, sep: str = "; ") -> str:
    return f"{first}{sep}{then}" if then else first


def _setting_hint(exc: e.InvalidSetting) -> str | None:
    if exc.needs:
        needed = [BY_NAME[name] for name in exc.needs]
        flags = " and ".join(s.flag for s in needed)
        envs = " and ".join(str(s.env) for s in needed if s.env)
        return f"pass {flags} (or set {envs})" if envs else f"pass {flags}"
    if exc.setting == "sid" and exc.hint:
        return f"{exc.hint}, or --sid auto"
    return exc.hint


def _store_hint(exc: e.StorageError) -> str:
    """A store call that failed in a command that does not retry: what to check."""
    if isinstance(exc, e.StorageAuthError):
        return (
            f"check the store's credentials ({SUPABASE_KEY.env}, the AWS settings) and permissions"
        )
    if isinstance(exc, e.BucketNotFound):
        return "check --store: the bucket or folder does not exist"
    if isinstance(exc, e.StorageUnavailable):
        return "the store did not answer; check the network and try again"
    return "check --store and try again"


def _store_message(exc: e.StorageError) -> str:
    if isinstance(exc, e.WriteOnlyStore):
        return (
            f"the store failed: {exc.store} can only be written; this needs a store that "
            "can be read (--store file://..., s3://... or supabase://...)"
        )
    return f"the store failed: {exc}"


def _check_hint(exc: e.StoreCheckFailed) -> str | None:
    if isinstance(exc.cause, e.StorageAuthError):
        return (
            f"check the key: {SUPABASE_KEY.env} for Supabase, AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY / AWS_PROFILE for S3, the folder's permissions for a "
            "file store"
        )
    if isinstance(exc.cause, e.BucketNotFound):
        return _then(exc.hint or "", "fix --store", ", or ")
    return exc.hint


def _rules_hint(exc: e.RulesError) -> str | None:
    return (
        "see `agent-uploader scan --help` for the rules file format"
        if exc.about_format
        else exc.hint
    )


_LS = "list the sessions with `agent-uploader ls`"
_CONFIG_FIX = (
    "fix or remove that line: every command checks the whole file "
    "(`agent-uploader config init --config FILE` writes an example)"
)
_VERIFY = "run `agent-uploader verify`"

#: What the command line says instead of an error's own message, by class (the most
#: specific class of an error that is listed here wins).
MESSAGES: dict[type[e.UploaderError], Callable[[Any], str]] = {
    e.InvalidSetting: lambda exc: f"{_flag(exc.setting)} {exc.problem}",
    e.ConflictingSettings: lambda exc: f"both {' and '.join(map(_flag, exc.settings))} were given",
    e.SessionNotNamed: lambda exc: "both --sid and --label were given" if exc.both else exc.message,
    e.SessionInUse: lambda exc: (
        f"session {exc.sid} is being written by a running `agent-uploader watch` on this "
        f"machine (spool {exc.spool})"
    ),
    e.StorageError: _store_message,
    e.StoreCheckFailed: lambda exc: exc.message,
    e.NotUploaded: lambda exc: exc.message,
}

#: The advice the command line gives instead of an error's own hint, by class (the most
#: specific class listed wins): the flags and commands the engine does not know about.
HINTS: dict[type[e.UploaderError], Callable[[Any], str | None]] = {
    e.InvalidSetting: _setting_hint,
    e.UnknownScheme: lambda exc: (
        "supported stores: file:///dir, s3://bucket/prefix, supabase://bucket; "
        "for a plain HTTP PUT target use --upload-url"
    ),
    e.SessionNotNamed: lambda exc: "pass --sid ID (or the first characters of it) or --label TEXT",
    e.EmptyLabel: lambda exc: "give some text, or --clear to remove a label",
    e.WrongGeneration: lambda exc: _then("drop --generation", exc.hint, ": "),
    e.RulesError: _rules_hint,
    e.RulesFileUnreadable: lambda exc: "check --redact-rules",
    e.ConfigError: lambda exc: exc.hint or _CONFIG_FIX,
    e.ConfigUnreadable: lambda exc: (
        f"check --config (or {CONFIG.env}); `agent-uploader config init` writes one"
    ),
    e.SessionNotFound: lambda exc: _LS,
    e.EmptySession: lambda exc: _then(exc.hint or "", "see `agent-uploader ls`"),
    e.DamagedSession: lambda exc: _then(_VERIFY, exc.hint),
    e.SpoolLocked: lambda exc: (
        "stop the other `agent-uploader watch`, or give this one its own --spool-dir"
    ),
    e.LabelTaken: lambda exc: f"{exc.hint} with `agent-uploader label --sid {exc.sid} --clear`",
    e.TargetExists: lambda exc: "pass --force to replace it, or --to another path",
    e.ServiceFileExists: lambda exc: (
        "compare it with `agent-uploader service install --print`, then pass --force to replace it"
    ),
    e.TargetNotAFile: lambda exc: "give --to the path of the file to write",
    e.TargetUnwritable: lambda exc: _then(exc.hint or "", "restore elsewhere with --to", ", or "),
    e.SpoolUnwritable: lambda exc: "choose a writable place with --spool-dir (and --state-dir)",
    e.StorageError: _store_hint,
    e.StoreCheckFailed: _check_hint,
    e.NotUploaded: lambda exc: (
        "the log above says why; `agent-uploader watch` on this spool uploads them first, "
        "and `agent-uploader status` shows how uploads go"
    ),
    e.IndexUnavailable: lambda exc: _then(exc.hint or "", "the index is chosen by --index"),
    e.IndexMismatch: lambda exc: (
        "give each store its own --index, or make this one this store's: "
        "agent-uploader index --rebuild"
    ),
    e.WatchNotRunning: lambda exc: (
        "start one with `agent-uploader watch`, or pass the --spool-dir the running one uses"
    ),
}


def _most_specific(
    table: dict[type[e.UploaderError], Callable[[Any], Any]], exc: e.UploaderError
) -> Callable[[Any], Any] | None:
    return next((table[cls] for cls in type(exc).__mro__ if cls in table), None)


def explain(exc: e.UploaderError) -> Shown:
    """The error as the command line shows it: its message and hint, or what the tables
    above say instead, and the exit code of its branch."""
    message, hint = _most_specific(MESSAGES, exc), _most_specific(HINTS, exc)
    return Shown(
        message(exc) if message else exc.message,
        hint(exc) if hint else exc.hint,
        exc.exit_code,
    )
