"""The `import` command: legacy one-JSON-file-per-session workspaces into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from uploader.batch.legacy import LEGACY_DIR, import_workspace
from uploader.cli.app import _run, main
from uploader.cli.options import (
    log_option,
    redact_options,
    redactor_from_opts,
    store_from_opts,
    store_options,
)
from uploader.core.errors import UsageError, UserError
from uploader.core.terminal import printable
from uploader.storage.sessionid import is_safe_sid


@main.command(name="import")
@click.argument("workspace", type=click.Path(file_okay=False, path_type=Path))
@click.option("--agent-id", default="main", show_default=True, help="The agent they belong to.")
@click.option("--dry-run", is_flag=True, help="Change nothing; report what would happen.")
@click.option("--no-backup", is_flag=True, help="Leave the originals where they are.")
@click.option("-v", "--verbose", is_flag=True, help="One line per file.")
@store_options
@redact_options
@log_option
def import_command(**opts: Any) -> None:
    """Import sessions of the old layout (WORKSPACE/.sessions/<id>.json) into the store.

    Each becomes an NDJSON transcript (one message per line, timestamps kept), uploaded
    as a closed session with its label and display name. The originals move to
    .sessions/backup_old_format/ unless --no-backup. A corrupt file is reported and the
    rest go on; importing twice imports nothing twice.
    """
    _run(_import, opts)


def _import(opts: dict[str, Any]) -> int:
    # Absolute: the path goes into each transcript, which must be the same on every run.
    workspace: Path = opts["workspace"].expanduser().resolve()
    if not (workspace / LEGACY_DIR).is_dir():
        raise UserError(
            f"no {LEGACY_DIR} folder in {workspace}", "give the workspace that holds .sessions/"
        )
    if not is_safe_sid(opts["agent_id"]):
        raise UsageError(f"--agent-id {opts['agent_id']!r} is not a plain name")
    redactor = redactor_from_opts(opts)
    store = None
    if not opts["dry_run"]:
        from uploader.write.watch_setup import check_store

        store = store_from_opts(opts)
        check_store(store)
    report = import_workspace(
        workspace,
        store,
        opts["agent_id"],
        dry_run=opts["dry_run"],
        backup=not opts["no_backup"],
        redact=redactor or False,
    )
    if opts["verbose"] or opts["dry_run"]:
        for line in report.lines:  # file names and their problems, shown escaped
            click.echo(printable(line))
    backup = "none" if report.backup is None or opts["dry_run"] else str(report.backup)
    rows = [
        ("found", str(report.found)),
        ("imported", "0 (dry run)" if opts["dry_run"] else str(report.imported)),
        ("skipped (already in the store)", str(report.skipped)),
        ("errors", str(len(report.errors))),
        ("backup", backup),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key.ljust(width)}  {printable(value)}")
    for error in report.errors:
        click.echo(f"error: {printable(error)}", err=True)
    return 1 if report.errors else 0
