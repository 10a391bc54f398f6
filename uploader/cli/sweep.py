"""The `sweep` command: ship finished sessions of an agent folder, once or on intervals."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from uploader.batch.sweep import Job, SweepResult, load_jobs, nexus_sink, store_sink, sweep
from uploader.cli.app import _run, main
from uploader.cli.options import (
    log_option,
    options,
    redact_options,
    redactor_from_opts,
    store_from_opts,
    store_options,
)
from uploader.core import settings
from uploader.core.errors import UsageError, UserError
from uploader.core.terminal import printable


@main.command(name="sweep")
@click.argument("sessions_dir", required=False, type=click.Path(path_type=Path))
@click.argument("archive_dir", required=False, type=click.Path(path_type=Path))
@click.argument("agent_id", required=False)
@click.option(
    "--interval-minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="Sweep again every N minutes until Ctrl+C (default: once).",
)
@click.option(
    "--jobs",
    "jobs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Run the sweeps of a jobs file, each on its own interval: a JSON list of {"id", '
    '"type": "session_upload", "description", "intervalMinutes", "args": [sessionsDir, '
    "archiveDir, agentId]}.",
)
@click.option("--json", "as_json", is_flag=True, help="Print each result as one JSON line.")
@options(settings.NEXUS_URL, settings.NEXUS_KEY)
@store_options
@redact_options
@log_option
def sweep_command(**opts: Any) -> None:
    """Upload the finished sessions of SESSIONS_DIR, then move them to ARCHIVE_DIR.

    A session is finished when sessions.json in SESSIONS_DIR does not list it as active.
    Each is uploaded whole as a closed session (or posted to --nexus-url), then moved to
    ARCHIVE_DIR. A file that fails stays for the next sweep; running a sweep twice
    uploads nothing twice. Exits 1 if anything was reported as an error.
    """
    _run(_sweep, opts)


def _sweep(opts: dict[str, Any]) -> int:
    jobs = _jobs(opts)
    redact = redactor_from_opts(opts) or False
    if bool(opts["nexus_url"]) != bool(opts["nexus_key"]):
        raise UsageError("--nexus-url and --nexus-key go together", "pass both, or neither")
    if opts["nexus_url"]:
        sinks = {
            j.id: nexus_sink(opts["nexus_url"], opts["nexus_key"], j.agent_id, redact=redact)
            for j in jobs
        }
    else:
        from uploader.write.watch_setup import check_store

        store = store_from_opts(opts)
        check_store(store)
        sinks = {j.id: store_sink(store, redact=redact) for j in jobs}
    once = all(job.interval_minutes == 0 for job in jobs)
    due = dict.fromkeys((job.id for job in jobs), 0.0)
    code = 0
    while True:
        now = time.monotonic()
        for job in jobs:
            if due[job.id] <= now:
                result = sweep(job.sessions_dir, job.archive_dir, job.id, sinks[job.id])
                _report(result, as_json=opts["as_json"])
                code = max(code, 0 if result.success and not result.errors else 1)
                due[job.id] = now + job.interval_minutes * 60
        if once:
            return code
        time.sleep(max(0.0, min(due.values()) - time.monotonic()))


def _jobs(opts: dict[str, Any]) -> list[Job]:
    positional = (opts["sessions_dir"], opts["archive_dir"], opts["agent_id"])
    if opts["jobs_file"] is not None:
        if any(positional) or opts["interval_minutes"]:
            raise UsageError("--jobs runs the jobs of the file", "drop the other arguments")
        try:
            return load_jobs(opts["jobs_file"])
        except ValueError as exc:
            raise UserError(str(exc), "fix the jobs file") from exc
    if not all(positional):
        raise UsageError(
            "sweep needs SESSIONS_DIR ARCHIVE_DIR AGENT_ID (or --jobs FILE)",
            "e.g. agent-uploader sweep ~/.openclaw/agents/main/sessions ~/archive main",
        )
    sessions_dir, archive_dir, agent_id = positional
    return [
        Job(
            f"sweep-{agent_id}",
            opts["interval_minutes"] or 0,
            sessions_dir.expanduser(),
            archive_dir.expanduser(),
            agent_id,
        )
    ]


def _report(result: SweepResult, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json()))
        return
    click.echo(printable(f"{result.job_id}: {result.message}"))
    for error in result.errors:  # file names and what went wrong, shown escaped
        click.echo(f"  error: {printable(error)}")
