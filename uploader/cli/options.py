"""Options shared by several commands (store, dashboard, logging, redaction), and the
objects they build: a store, a redactor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from uploader.cli.app import log
from uploader.core.errors import UsageError, UserError
from uploader.core.units import parse_ms, parse_size
from uploader.redaction import Redactor, load_rules
from uploader.stores import DEFAULT_STORE_URL, Store, StoreOptions, open_store, resolve_store_url


class PositiveParam(click.ParamType):  # type: ignore[type-arg]
    """A number with an optional unit (`8MiB`, `10m`), parsed by `parse`, more than 0."""

    def __init__(self, name: str, parse: Callable[[str], int], unit: str) -> None:
        self.name, self.parse, self.unit = name, parse, unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            number = self.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if number <= 0:
            self.fail(f"{value!r} must be more than 0 {self.unit}", param, ctx)
        return number


SIZE = PositiveParam("SIZE", parse_size, "bytes")
DURATION = PositiveParam("MS", parse_ms, "ms")
HOME = Path("~/.agent-uploader")


def store_options(fn: Any) -> Any:
    """The options every command that talks to a store shares."""
    decorators = [
        click.option(
            "--store",
            "store_url",
            envvar="AGENT_UPLOADER_STORE",
            show_envvar=True,
            help="Where sessions go: file:///dir, s3://bucket/prefix or supabase://bucket.  "
            f"[default: supabase://BUCKET when SUPABASE_URL and SUPABASE_KEY are set, "
            f"else {DEFAULT_STORE_URL}]",
        ),
        click.option(
            "--bucket",
            envvar="SUPABASE_BUCKET",
            default="sessions",
            show_default=True,
            show_envvar=True,
            help="Supabase Storage bucket.",
        ),
        click.option(
            "--supabase-url",
            envvar="SUPABASE_URL",
            show_envvar=True,
            help="Supabase project URL (https://<ref>.supabase.co).",
        ),
        click.option(
            "--supabase-key",
            envvar="SUPABASE_KEY",
            show_envvar=True,
            help="Supabase service key (never logged; prefer the environment variable or "
            "--supabase-key-file: a command line is visible to other users in `ps`).",
        ),
        click.option(
            "--supabase-key-file",
            envvar="SUPABASE_KEY_FILE",
            show_envvar=True,
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="Read the Supabase service key from this file.",
        ),
        click.option(
            "--upload-url",
            envvar="AGENT_UPLOAD_URL",
            show_envvar=True,
            help="Write-only: HTTP PUT each object to URL/<key> (presigned or gateway "
            "uploads); commands that read the store cannot use it.",
        ),
        click.option(
            "--s3-endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            show_envvar=True,
            help="Endpoint of an S3-compatible server (switches to path-style addressing).",
        ),
        click.option(
            "--s3-region",
            envvar="AWS_REGION",
            show_envvar=True,
            help="Region for S3 (default: the usual boto3 settings).",
        ),
    ]
    return _apply(fn, decorators)


def _ui_bind_port_token() -> list[Any]:
    return [
        click.option(
            "--ui-bind",
            envvar="AGENT_UI_BIND",
            default="127.0.0.1",
            show_default=True,
            show_envvar=True,
            help="Address the dashboard listens on. Anything but loopback needs --ui-token.",
        ),
        click.option(
            "--ui-port",
            envvar="AGENT_UI_PORT",
            default=4333,
            show_default=True,
            type=click.IntRange(0, 65535),
            show_envvar=True,
            help="Port of the dashboard (0: any free port).",
        ),
        click.option(
            "--ui-token",
            envvar="AGENT_UI_TOKEN",
            show_envvar=True,
            help="Require this token (16 characters or more) on every request: a login form "
            "sets a cookie, scripts send 'Authorization: Bearer TOKEN'. 'auto' makes one and "
            "prints a sign-in link. Needed to bind beyond loopback. Prefer the environment "
            "variable or --ui-token-file: a command line is visible to other users in `ps`.",
        ),
        click.option(
            "--ui-token-file",
            envvar="AGENT_UI_TOKEN_FILE",
            show_envvar=True,
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="Read the dashboard's token from this file.",
        ),
        click.option(
            "--ui-allowed-host",
            "ui_allowed_hosts",
            envvar="AGENT_UI_ALLOWED_HOSTS",
            show_envvar=True,
            multiple=True,
            metavar="HOST",
            help="Another name the dashboard answers to, as browsers send it in the Host "
            "header (a reverse proxy's: dash.example.com, or with :PORT); repeatable, the "
            "variable takes a comma-separated list. Loopback names and --ui-bind always are.",
        ),
        click.option(
            "--ui-dist",
            envvar="AGENT_UI_DIST",
            show_envvar=True,
            type=click.Path(file_okay=False, exists=True, path_type=Path),
            help="Serve this folder's static bundle at / instead of the built-in pages "
            "(the JSON API stays under /api/).",
        ),
    ]


def _apply(fn: Any, decorators: list[Any]) -> Any:
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def ui_options(fn: Any) -> Any:
    disable = click.option(
        "--ui-disable",
        is_flag=True,
        envvar="AGENT_UI_DISABLE",
        show_envvar=True,
        help="Do not serve the dashboard.",
    )
    return _apply(fn, [*_ui_bind_port_token(), disable])


def host_ui_options(fn: Any) -> Any:
    return _apply(fn, _ui_bind_port_token())


def _log_option(default: str) -> Any:
    return click.option(
        "--log-level",
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
        default=default,
        show_default=True,
        help="Log verbosity.",
    )


def log_option(fn: Any) -> Any:
    return _log_option("INFO")(fn)


def quiet_log_option(fn: Any) -> Any:
    """For commands whose output is their result: only warnings and errors on stderr."""
    return _log_option("WARNING")(fn)


def redact_options(fn: Any) -> Any:
    """For every command that sends transcript bytes away."""
    decorators = [
        click.option(
            "--redact",
            type=click.BOOL,
            metavar="on|off",
            default=True,
            envvar="AGENT_UPLOADER_REDACT",
            show_envvar=True,
            help="Replace high-confidence secrets (provider API keys, private keys, "
            "passwords in URLs, bearer tokens) with [REDACTED:rule:fingerprint] before "
            "anything leaves this machine; off ships the bytes exactly as written.  "
            "[default: on]",
        ),
        click.option(
            "--redact-rules",
            type=click.Path(dir_okay=False, path_type=Path),
            envvar="AGENT_UPLOADER_REDACT_RULES",
            show_envvar=True,
            help="TOML file of more rules and an allowlist, added to the built-in rules.",
        ),
    ]
    return _apply(fn, decorators)


def redactor_from_opts(opts: dict[str, Any]) -> Redactor | None:
    if not opts["redact"]:
        if opts["redact_rules"]:
            raise UsageError(
                "--redact-rules was given with --redact off",
                "drop one: rules only apply while redaction is on",
            )
        log.warning("redaction is off: secrets in transcripts are uploaded as written")
        return None
    return Redactor(load_rules(opts["redact_rules"]))


def on_command_line(name: str) -> bool:
    """Was this option's value typed on the command line (where `ps` shows it)?"""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def store_from_opts(opts: dict[str, Any]) -> Store:
    key, key_file = opts["supabase_key"], opts.get("supabase_key_file")
    if key_file is not None:
        if key and on_command_line("supabase_key"):
            raise UsageError(
                "both --supabase-key and --supabase-key-file were given", "pass one of them"
            )
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(
                f"cannot read --supabase-key-file {key_file}: {getattr(exc, 'strerror', exc)}",
                "check the path and its permissions",
            ) from exc
        if not key:
            raise UsageError(f"--supabase-key-file {key_file} is empty")
    elif key and on_command_line("supabase_key"):
        log.warning(
            "the Supabase key is on the command line, where other users of this machine can "
            "read it (ps); set SUPABASE_KEY or use --supabase-key-file instead"
        )
    options = StoreOptions(
        s3_endpoint_url=opts["s3_endpoint_url"],
        s3_region=opts["s3_region"],
        supabase_url=opts["supabase_url"],
        supabase_key=key,
        bucket=opts["bucket"],
        upload_url=opts["upload_url"],
    )
    return open_store(resolve_store_url(opts["store_url"], options), options)
