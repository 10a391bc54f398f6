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
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from uploader import __version__
from uploader.cli.config_layer import with_config_option
from uploader.core import errors as e
from uploader.messages import Shown as Shown, explain as explain

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


def _fail(shown: Shown) -> NoReturn:
    from uploader.core.terminal import (
        printable,  # a message may quote a title, a path, a store's answer
    )

    click.echo(f"Error: {printable(shown.message)}", err=True)
    if shown.hint:
        click.echo(f"Hint: {printable(shown.hint)}", err=True)
    raise SystemExit(shown.exit_code)


class Commands(click.Group):
    """agent-uploader's groups of commands. A command that takes settings gets --config
    when it is registered (uploader.cli.config_layer); an error raised while a command's
    options are read (the config file's) is shown as `_run` shows one."""

    group_class = type  # a group made with @main.group() is one of these too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        with_config_option(cmd)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except e.UploaderError as exc:
            _fail(explain(exc))


@click.group(
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
    code = exit_code(command, opts)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    stuck = [t for t in threading.enumerate() if t.is_alive() and not t.daemon]
    if len(stuck) > 1:  # more than the main thread
        # An upload still blocked in the SDK (a dead connection's read timeout):
        # everything is safe on disk, so do not wait for it.
        os._exit(code)
    raise SystemExit(code)


def exit_code(command: Callable[[dict[str, Any]], int], opts: dict[str, Any]) -> int:
    """Run `command`: its exit code, 130 at Ctrl+C; an error the user can fix is shown
    as `Error: ... / Hint: ...` and exits with its code. (A short command that sets up no
    logging and starts no thread runs through this alone.)"""
    try:
        if "prices" in opts:  # a command that estimates costs: --prices, else the built-in
            _use_prices(opts["prices"])
        return command(opts)
    except e.UploaderError as exc:
        _fail(explain(exc))
    except KeyboardInterrupt:
        return 130


def _use_prices(path: Path | None) -> None:
    from uploader.agents.prices import use_prices

    try:
        use_prices(path)
    except (OSError, ValueError) as exc:
        raise e.UserError(
            f"--prices: {exc}",
            'give a TOML file of [models."NAME"] tables with input, output, cache_read '
            "and cache_write in dollars per million tokens (docs/dashboard.md#prices)",
        ) from None


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


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
