"""`watch` (tail files into the store, with the dashboard beside it) and `host` (the
dashboard alone, over a store)."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import click

from uploader import agents
from uploader.cli.app import _run, log, main
from uploader.cli.options import (
    host_ui_options,
    index_option,
    log_option,
    option,
    options,
    prices_option,
    redact_options,
    redactor_from_opts,
    secret_from_opts,
    store_from_opts,
    store_options,
    ui_options,
)
from uploader.core import settings
from uploader.core.codec import codec_name
from uploader.core.errors import IndexError_, UsageError, UserError
from uploader.index import open_index
from uploader.index.background import BackgroundIndexer
from uploader.index.indexer import Indexer
from uploader.messages import explain
from uploader.storage.sessionid import auto_sid, validate_sid
from uploader.stores import Store
from uploader.stores.base import (
    StorageError,
    WriteOnlyStore,
)
from uploader.write.discovery import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, Filters
from uploader.write.segment import SegmentLimits


@main.command()
@options(
    settings.FILE,
    settings.DIR,
    settings.INCLUDE,
    settings.EXCLUDE,
    settings.IDLE_CLOSE,
    settings.SCAN_MS,
    settings.SID,
)
@store_options
@options(
    settings.SEG_BYTES,
    settings.SEG_LINES,
    settings.SEG_MS,
    settings.POLL_MS,
    settings.NO_GZIP,
    settings.GZIP_LEVEL,
    settings.SPOOL_DIR,
    settings.STATE_DIR,
    settings.CONCURRENCY,
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write nothing to the store: segments, checkpoints and manifests are still "
    "computed, and reported at the end (in a throwaway spool).",
)
@click.option(
    "--once",
    is_flag=True,
    help="Read the files to their end, upload every complete line, and exit (with "
    "--dry-run: print a validation report of each file; exit 1 if one is no transcript).",
)
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: the report as JSON.")
@option(settings.SHUTDOWN_TIMEOUT)
@redact_options
@index_option
@prices_option
@ui_options
@log_option
def watch(**opts: Any) -> None:
    """Tail a session file into the store until Ctrl+C (or, with --once, to its end).

    Lines are cut into segments (by bytes, lines, age and at compaction lines),
    gzipped, spooled on disk and uploaded with a manifest and checkpoints. A kill at
    any moment loses and doubles nothing: the next start resumes where this one
    stopped. The dashboard is served at http://127.0.0.1:4333/ meanwhile, and
    `agent-uploader status` tells how the uploads go.
    """
    _run(_watch, opts)


def _watch(opts: dict[str, Any]) -> int:
    from uploader.write.watch import Watcher
    from uploader.write.watch_setup import WatchConfig, check_store

    if opts["as_json"] and not opts["dry_run"]:
        raise UsageError("--json prints the report of a dry run", "add --dry-run (and --once)")
    redactor = redactor_from_opts(opts)  # a bad rules file fails before anything is made
    path: Path | None = opts["file"]
    if path is None:
        dirs = _watch_folders(opts)
        sid = None
    else:
        if opts["dir"]:
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
        once=opts["once"],
    )
    watcher = Watcher(config, store)
    # The search index follows what this watch uploads: none for a run that uploads
    # nothing or ends at once, or a store it cannot read back (--upload-url).
    indexed = not (opts["dry_run"] or opts["once"] or opts["upload_url"])
    indexer = _indexer(opts, store) if indexed else None  # one for the dashboard too
    if indexer is not None:
        watcher.indexer = BackgroundIndexer(
            indexer,
            watcher.set_index_lag,
            live=watcher.live,
            activity=lambda: watcher.metrics.lines_read,
        )
    # The dashboard's port is taken first: a busy port fails before anything is created.
    # A one-shot run serves none (it would be gone before anyone looked).
    if not opts["ui_disable"] and not opts["once"]:
        from ui.launch import build_dashboard  # the engine itself never imports the web side

        watcher.companion = build_dashboard(
            store,
            **dashboard_options(opts),
            live=watcher.live,
            stats=watcher.stats,
            health=watcher.health_report,
            indexer=indexer,
        )
    if not opts["dry_run"]:
        check_store(store)
    # What start-up made (modules, boto3's service models, compiled rules) lives as long as
    # the process: kept out of every later garbage collection, whose full passes would
    # walk all of it again every few MB read (about 0.5 ms of CPU per MB).
    gc.freeze()
    try:
        code = asyncio.run(watcher.run())
    finally:
        gc.unfreeze()  # for a caller that goes on (a test, say)
    if opts["dry_run"]:
        from uploader.cli.reports import print_dry_run_report

        print_dry_run_report(watcher, [(path, sid)] if path and sid else [], opts["as_json"])
    return code


def _watch_folders(opts: dict[str, Any]) -> list[Path]:
    """--dir folders, or the agents' own folders that exist (saying which)."""
    if opts["sid"] != "auto":
        raise UsageError("--sid names one file's session", "with --dir, each file gets its own")
    dirs = [d.expanduser().absolute() for d in opts["dir"]]
    for folder in dirs:
        if not folder.is_dir():
            raise UserError(f"folder {folder} does not exist", "check --dir")
    if dirs:
        return dirs
    found = agents.session_folders()
    if not found:
        raise UsageError(
            "no session file or folder given, and no agent folders found "
            f"({agents.folders_hint()})",
            "pass --file PATH or --dir FOLDER",
        )
    for agent, folder in found:
        log.info("found %s sessions in %s", agent.display, folder)
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
    try:
        sid = auto_sid(path)
        if sid is None:
            # The id may be in the first line: wait for it, so the session gets the same id
            # on every start (and the same one `watch --dir` gives it).
            if opts["once"]:
                raise UserError(
                    f"the first line of {path} is not complete: nothing to read yet",
                    "pass --sid, or try again once the agent has written a line",
                )
            log.info("waiting for the first line of %s to name the session (or pass --sid)", path)
            while (sid := auto_sid(path)) is None:
                time.sleep(opts["poll_ms"] / 1000)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}", "check its permissions") from exc
    return sid


@main.command()
@store_options
@index_option
@prices_option
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
    dashboard = build_dashboard(store, **dashboard_options(opts), indexer=_indexer(opts, store))
    return run_host(dashboard, open_browser=opts["open_browser"])


def _indexer(opts: dict[str, Any], store: Store) -> Indexer | None:
    """The search index of `watch` and `host` (None: --index off). One that cannot be
    opened is said, and they run without search: uploads never wait for an index."""
    try:
        index = open_index(opts["index"], store.description)
        return Indexer(store, index) if index is not None else None
    except IndexError_ as exc:
        shown = explain(exc)
        log.warning("running without search: %s (%s)", shown.message, shown.hint)
        return None


def dashboard_options(opts: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's settings, as `watch` and `host` both take them."""
    return {
        "bind": opts["ui_bind"],
        "port": opts["ui_port"],
        "token": secret_from_opts(opts, "ui_token", "the dashboard token", "AGENT_UI_TOKEN"),
        "allowed_hosts": opts["ui_allowed_host"],
        "dist": opts["ui_dist"],
    }


def check_readable(store: Store) -> None:
    """A reading command's start-up check: the store exists and can be read, and nothing is
    created (a typo in --store must not make an empty folder)."""
    from uploader.stores.local import LocalStore
    from uploader.write.watch_setup import check_store

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
