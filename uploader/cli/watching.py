"""`watch` (tail files into the store, with the dashboard beside it) and `host` (the
dashboard alone, over a store)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import click

from uploader.agents.formats import read_meta
from uploader.cli.app import _run, log, main
from uploader.cli.options import (
    DURATION,
    HOME,
    SIZE,
    host_ui_options,
    log_option,
    on_command_line,
    redact_options,
    redactor_from_opts,
    store_from_opts,
    store_options,
    ui_options,
)
from uploader.core.codec import DEFAULT_LEVEL, codec_name
from uploader.core.errors import UsageError, UserError
from uploader.storage.sessionid import derive_sid, sid_from_name, validate_sid
from uploader.stores import Store
from uploader.stores.base import (
    StorageError,
    WriteOnlyStore,
)
from uploader.write.discovery import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, Filters, agent_folders
from uploader.write.pipeline import FIRST_LINE_LIMIT
from uploader.write.segment import SegmentLimits


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


def _first_line(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.readline(FIRST_LINE_LIMIT)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}", "check its permissions") from exc


def _watch(opts: dict[str, Any]) -> int:
    from uploader.write.watch import WatchConfig, Watcher, check_store

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
            token_on_command_line=on_command_line("ui_token"),
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
@host_ui_options
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
        token_on_command_line=on_command_line("ui_token"),
        allowed_hosts=opts["ui_allowed_hosts"],
        dist=opts["ui_dist"],
    )
    return run_host(dashboard, open_browser=opts["open_browser"])


def check_readable(store: Store) -> None:
    """A reading command's start-up check: the store exists and can be read, and nothing is
    created (a typo in --store must not make an empty folder)."""
    from uploader.stores.local import LocalStore
    from uploader.write.watch import check_store

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


if __name__ == "__main__":  # pragma: no cover
    main()
