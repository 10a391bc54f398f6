"""The command's frame: the `agent-uploader` group, logging, and the one boundary where
every failure becomes `Error: ... / Hint: ...` and an exit code.

click because it gives, declared once per option, the env-var fallback, the `--help`
text and the usage errors (exit 2) that this tool's flags table needs.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from uploader import __version__
from uploader.core.errors import UserError
from uploader.stores.base import (
    BucketNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
)

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


def _fail(exc: UserError) -> None:
    from uploader.core.terminal import (
        printable,  # a message may quote a title, a path, a store's answer
    )

    click.echo(f"Error: {printable(exc.message)}", err=True)
    if exc.hint:
        click.echo(f"Hint: {printable(exc.hint)}", err=True)
    raise SystemExit(exc.exit_code)


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
    except UserError as exc:
        _fail(exc)
    except StorageError as exc:
        _fail(store_failure(exc))
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


def store_failure(exc: StorageError) -> UserError:
    """A store call that failed in a command that does not retry: what to check."""
    if isinstance(exc, StorageAuthError):
        hint = "check the store's credentials (SUPABASE_KEY, the AWS settings) and permissions"
    elif isinstance(exc, BucketNotFound):
        hint = "check --store: the bucket or folder does not exist"
    elif isinstance(exc, StorageUnavailable):
        hint = "the store did not answer; check the network and try again"
    else:
        hint = "check --store and try again"
    return UserError(f"the store failed: {exc}", hint)
