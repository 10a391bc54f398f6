"""The command's frame: the `agent-uploader` group, logging, and the one boundary where
every failure becomes `Error: ... / Hint: ...` and an exit code.

Errors come from the engine in words that hold for every caller (uploader.core.errors).
`explain` adds what only a person at this command line (or at the dashboard, which uses
the same table) can be told: the flag to fix, the command to run next.

click because it gives, declared once per option, the env-var fallback, the `--help`
text and the usage errors (exit 2) that this tool's flags table needs.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import click

from uploader import __version__
from uploader.core import errors as e
from uploader.core.settings import BY_NAME, SUPABASE_KEY

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("uploader")


def _setup_logging(level: str) -> None:
    from uploader.core.terminal import SafeFormatter

    # Messages quote file names, titles and what stores answer: each line is shown with
    # its terminal controls, bidi overrides and line breaks escaped (no fake log lines).
    formatter = SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler])
    # A crash's traceback too (its message may quote any of those).
    sys.excepthook = lambda kind, value, tb: print(
        formatter.formatException((kind, value, tb)), file=sys.stderr
    )
    # Request-level chatter of the SDKs would drown the uploader's own lines.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # watchdog logs a harmless race at ERROR when a watch is switched off mid-event.
    logging.getLogger("watchdog").setLevel(logging.CRITICAL)


def _fail(shown: Shown) -> None:
    from uploader.core.terminal import (
        printable,  # a message may quote a title, a path, a store's answer
    )

    click.echo(f"Error: {printable(shown.message)}", err=True)
    if shown.hint:
        click.echo(f"Hint: {printable(shown.hint)}", err=True)
    raise SystemExit(shown.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="agent-uploader")
def main() -> None:
    """Keep coding-agent sessions safe: tail transcripts into a store, crash-safe.

    \b
    Exit codes:
      0  done
      1  error (the message says what failed and what to do)
      2  bad usage: a malformed flag or value, an ambiguous session id
      3  session, checkpoint or generation not found (nothing on disk changed)
    """


def _run(command: Callable[[dict[str, Any]], int], opts: dict[str, Any]) -> None:
    """Run a long-lived command: logging, Error/Hint for what the user can fix, and an
    exit that does not wait for a store call stuck in an SDK."""
    _setup_logging(opts["log_level"])
    # SIGTERM unwinds like Ctrl+C, so that temp files are removed on the way out (watch
    # installs its own handlers once its loop runs).
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = command(opts)
    except e.UploaderError as exc:
        _fail(explain(exc))
    except KeyboardInterrupt:
        code = 130
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    stuck = [t for t in threading.enumerate() if t.is_alive() and not t.daemon]
    if len(stuck) > 1:  # more than the main thread
        # An upload still blocked in the SDK (a dead connection's read timeout):
        # everything is safe on disk, so do not wait for it.
        os._exit(code)
    raise SystemExit(code)


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


# -- the boundary: errors in the command line's words -----------------------------------


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
    e.SessionNotFound: lambda exc: _LS,
    e.EmptySession: lambda exc: _then(exc.hint or "", "see `agent-uploader ls`"),
    e.DamagedSession: lambda exc: _then(_VERIFY, exc.hint),
    e.SpoolLocked: lambda exc: (
        "stop the other `agent-uploader watch`, or give this one its own --spool-dir"
    ),
    e.LabelTaken: lambda exc: f"{exc.hint} with `agent-uploader label --sid {exc.sid} --clear`",
    e.TargetExists: lambda exc: "pass --force to replace it, or --to another path",
    e.TargetNotAFile: lambda exc: "give --to the path of the file to write",
    e.TargetUnwritable: lambda exc: _then(exc.hint or "", "restore elsewhere with --to", ", or "),
    e.SpoolUnwritable: lambda exc: "choose a writable place with --spool-dir (and --state-dir)",
    e.StorageError: _store_hint,
    e.StoreCheckFailed: _check_hint,
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


def in_cli_words(fn: Callable[P, R]) -> Callable[P, R]:
    """`fn`, raising its errors as the command line words them (for a check that runs
    outside `_run`'s boundary)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except e.UploaderError as exc:
            shown = explain(exc)
            kind = e.UsageError if shown.exit_code == 2 else e.UserError
            error = kind(shown.message, shown.hint)
            error.exit_code = shown.exit_code
            raise error from exc

    return wrapper
