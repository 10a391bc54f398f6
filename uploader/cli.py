"""The `agent-uploader` command: thin, maps every failure to `Error: ... / Hint: ...`.

click because it gives, declared once per option, the env-var fallback, the
`--help` text and the usage errors (exit 2) that this tool's flags table needs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from . import __version__
from .codec import DEFAULT_LEVEL, codec_name
from .discovery import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, Filters, agent_folders
from .errors import UsageError, UserError
from .formats import read_meta
from .pipeline import FIRST_LINE_LIMIT
from .redaction import Redactor, load_rules
from .segment import SegmentLimits
from .sessionid import derive_sid, sid_from_name, validate_sid
from .stores import DEFAULT_STORE_URL, Store, StoreOptions, open_store, resolve_store_url
from .stores.base import (
    BucketNotFound,
    StorageAuthError,
    StorageError,
    StorageUnavailable,
    WriteOnlyStore,
)
from .units import parse_ms, parse_size

log = logging.getLogger("uploader")


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


def _setup_logging(level: str) -> None:
    from .terminal import SafeFormatter

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
    from .terminal import printable  # a message may quote a title, a path, a store's answer

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


def _ui_options_for_host(fn: Any) -> Any:
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


@main.command()
@click.option(
    "--file",
    "file",
    envvar="AGENT_SESSION_FILE",
    show_envvar=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Session NDJSON file to tail.",
)
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Watch every session file in this folder, recursively (repeatable). Without "
    "--file or --dir: the agents' own folders that exist.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="With --dir: files to watch, by name or path below the folder (repeatable).  "
    "[default: *.jsonl]",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="With --dir: files to skip (repeatable; *.lock and *.trajectory.jsonl always).",
)
@click.option(
    "--idle-close",
    "idle_close",
    type=DURATION,
    default="5m",
    show_default=True,
    help="With --dir: close a file unchanged this long (its segment is uploaded); it is "
    "opened again when it grows.",
)
@click.option(
    "--scan-ms",
    type=DURATION,
    default="2s",
    show_default=True,
    help="With --dir: how often the folders are scanned for new and grown files (files "
    "unchanged for 10 minutes are looked at about every 30 s).",
)
@click.option(
    "--sid",
    envvar="AGENT_SID",
    default="auto",
    show_default=True,
    show_envvar=True,
    help="Session id; 'auto' takes the UUID in the file name, else the id in its "
    "first line, else a stable id from host and path.",
)
@store_options
@click.option(
    "--seg-bytes",
    type=SIZE,
    default="8MiB",
    show_default=True,
    help="Rotate when a segment's uncompressed bytes would exceed this (8MiB, 512KiB, "
    "bytes). A single longer line gets a segment of its own.",
)
@click.option(
    "--seg-lines",
    type=click.IntRange(min=1),
    default=10000,
    show_default=True,
    help="Rotate at this many lines.",
)
@click.option(
    "--seg-ms",
    type=DURATION,
    default="600000",
    show_default=True,
    help="Rotate a segment this long after its first line (ms, or 30s, 10m).",
)
@click.option(
    "--poll-ms",
    type=DURATION,
    default="500",
    show_default=True,
    help="Poll interval: the safety net behind file events (ms, or 2s).",
)
@click.option("--no-gzip", is_flag=True, help="Upload .jsonl instead of .jsonl.gz.")
@click.option(
    "--gzip-level",
    type=click.IntRange(0, 9),
    default=DEFAULT_LEVEL,
    show_default=True,
    help="0-9, higher is smaller and slower. 0-3 use ISA-L (fast), 4-9 use zlib.",
)
@click.option(
    "--spool-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=HOME / "spool",
    show_default=True,
    help="Spool: the active segment and segments waiting for upload.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Resume state and manifest cache.  [default: <spool-dir>/state]",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Uploads at once.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write nothing to the store: segments, checkpoints and manifests are still "
    "computed and reported (in a throwaway spool).",
)
@click.option(
    "--shutdown-timeout",
    type=DURATION,
    default="10s",
    show_default=True,
    help="On Ctrl+C/SIGTERM, how long to keep uploading before leaving the rest "
    "in the spool for the next start.",
)
@redact_options
@ui_options
@log_option
def watch(**opts: Any) -> None:
    """Tail a session file into the store until Ctrl+C.

    Lines are cut into segments (by bytes, lines, age and at compaction lines),
    gzipped, spooled on disk and uploaded with a manifest and checkpoints. A kill at
    any moment loses and doubles nothing: the next start resumes where this one
    stopped. The dashboard is served at http://127.0.0.1:4333/ meanwhile.
    """
    _run(_watch, opts)


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


def _on_command_line(name: str) -> bool:
    """Was this option's value typed on the command line (where `ps` shows it)?"""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def store_from_opts(opts: dict[str, Any]) -> Store:
    key, key_file = opts["supabase_key"], opts.get("supabase_key_file")
    if key_file is not None:
        if key and _on_command_line("supabase_key"):
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
    elif key and _on_command_line("supabase_key"):
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


def _first_line(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.readline(FIRST_LINE_LIMIT)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}", "check its permissions") from exc


def _watch(opts: dict[str, Any]) -> int:
    from .watch import WatchConfig, Watcher, check_store

    redactor = redactor_from_opts(opts)  # a bad rules file fails before anything is made
    path: Path | None = opts["file"]
    if path is None:
        dirs = _watch_folders(opts)
        sid = None
    else:
        if opts["dirs"]:
            raise UsageError("both --file and --dir were given", "watch one file, or folders")
        path, sid, dirs = path.expanduser(), _file_sid(path.expanduser(), opts), []
    store = store_from_opts(opts)
    limits = SegmentLimits(
        max_bytes=opts["seg_bytes"],
        max_lines=opts["seg_lines"],
        max_age_s=opts["seg_ms"] / 1000,
        gzip_level=None if opts["no_gzip"] else opts["gzip_level"],
    )
    log.debug("codec %s", "none" if opts["no_gzip"] else codec_name(opts["gzip_level"]))
    config = WatchConfig(
        file=path,
        sid=sid,
        spool_dir=opts["spool_dir"].expanduser(),
        state_dir=opts["state_dir"].expanduser() if opts["state_dir"] else None,
        limits=limits,
        poll_s=opts["poll_ms"] / 1000,
        concurrency=opts["concurrency"],
        dry_run=opts["dry_run"],
        shutdown_timeout_s=opts["shutdown_timeout"] / 1000,
        dirs=dirs,
        filters=Filters(
            include=tuple(opts["include"]) or DEFAULT_INCLUDE,
            exclude=DEFAULT_EXCLUDE + tuple(opts["exclude"]),
        ),
        idle_s=opts["idle_close"] / 1000,
        scan_s=opts["scan_ms"] / 1000,
        redactor=redactor,
    )
    watcher = Watcher(config, store)
    # The dashboard's port is taken first: a busy port fails before anything is created.
    if not opts["ui_disable"]:
        from ui.launch import build_dashboard  # the engine itself never imports the web side

        watcher.companion = build_dashboard(
            store,
            bind=opts["ui_bind"],
            port=opts["ui_port"],
            token=opts["ui_token"],
            token_file=opts["ui_token_file"],
            token_on_command_line=_on_command_line("ui_token"),
            allowed_hosts=opts["ui_allowed_hosts"],
            dist=opts["ui_dist"],
            live=watcher.live,
            stats=watcher.stats,
        )
    if not opts["dry_run"]:
        check_store(store)
    return asyncio.run(watcher.run())


def _watch_folders(opts: dict[str, Any]) -> list[Path]:
    """--dir folders, or the agents' own folders that exist (saying which)."""
    if opts["sid"] != "auto":
        raise UsageError("--sid names one file's session", "with --dir, each file gets its own")
    dirs = [d.expanduser().absolute() for d in opts["dirs"]]
    for folder in dirs:
        if not folder.is_dir():
            raise UserError(f"folder {folder} does not exist", "check --dir")
    if dirs:
        return dirs
    found = agent_folders()
    if not found:
        raise UsageError(
            "no session file or folder given, and no agent folders found "
            "(~/.codex/sessions, ~/.claude/projects, ~/.openclaw/agents/*/sessions, "
            "~/.pi/agent/sessions)",
            "pass --file PATH or --dir FOLDER",
        )
    for agent, folder in found:
        log.info("found %s sessions in %s", agent, folder)
    return [folder for _, folder in found]


def _file_sid(path: Path, opts: dict[str, Any]) -> str:
    """The one file's session id (--sid, or derived as `auto` says)."""
    if not path.exists():
        raise UserError(
            f"session file {path} does not exist",
            "check the path; the agent creates it when a session starts",
        )
    if not path.is_file():
        raise UserError(f"{path} is not a regular file")
    if opts["sid"] != "auto":
        return validate_sid(opts["sid"])
    first = _first_line(path)
    if sid_from_name(path.name) is None and not first.endswith(b"\n"):
        # The id may be in the first line: wait for it, so the session gets the same id on
        # every start.
        log.info("waiting for the first line of %s to name the session (or pass --sid)", path)
        while not first.endswith(b"\n") and len(first) < FIRST_LINE_LIMIT:
            time.sleep(opts["poll_ms"] / 1000)
            first = _first_line(path)
    return derive_sid(path, read_meta(path, first or None).first_line_id)


@main.command()
@store_options
@_ui_options_for_host
@click.option("--open", "open_browser", is_flag=True, help="Open the dashboard in a browser.")
@log_option
def host(**opts: Any) -> None:
    """Serve the dashboard over a store without tailing anything.

    Lists every session in the store, shows segments and checkpoints, and replays
    transcripts. It only reads the store.
    """
    _run(_host, opts)


def _host(opts: dict[str, Any]) -> int:
    from ui.launch import build_dashboard, run_host

    store = store_from_opts(opts)
    check_readable(store)
    dashboard = build_dashboard(
        store,
        bind=opts["ui_bind"],
        port=opts["ui_port"],
        token=opts["ui_token"],
        token_file=opts["ui_token_file"],
        token_on_command_line=_on_command_line("ui_token"),
        allowed_hosts=opts["ui_allowed_hosts"],
        dist=opts["ui_dist"],
    )
    return run_host(dashboard, open_browser=opts["open_browser"])


def check_readable(store: Store) -> None:
    """A reading command's start-up check: the store exists and can be read, and nothing is
    created (a typo in --store must not make an empty folder)."""
    from .stores.local import LocalStore
    from .watch import check_store

    if isinstance(store, LocalStore):
        if not store.root.is_dir():
            raise UserError(
                f"no store at {store.root}",
                "check --store (or AGENT_UPLOADER_STORE); `watch` creates it on first upload",
            )
        return
    try:
        next(iter(store.list("sessions/manifest-probe")), None)
    except WriteOnlyStore as exc:
        raise UserError(
            f"{store.description} can only be written",
            "--upload-url is write-only: pass the --store it uploads into",
        ) from exc
    except StorageError:
        check_store(store)


# The other commands live in their own modules; importing them registers them.
from . import cli_import, cli_scan, cli_sessions, cli_sweep  # noqa: E402, F401

if __name__ == "__main__":  # pragma: no cover
    main()
