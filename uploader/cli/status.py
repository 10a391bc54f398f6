"""`status`: how the `watch` on a spool is doing, for a person, a script or a monitor.

It reads the status file the `watch` keeps in its spool (uploader.write.status) and
exits 0 when uploads are healthy, 1 when they have been failing or the queue is too old,
3 when no `watch` runs on the spool.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from uploader.cli.app import _run, main
from uploader.cli.options import DURATION, option
from uploader.core import settings
from uploader.core.errors import WatchNotRunning
from uploader.core.terminal import json_text, printable
from uploader.core.units import format_duration, format_size
from uploader.write.status import Thresholds, read_status, report

UNHEALTHY = 1
NOT_RUNNING = WatchNotRunning.exit_code


@main.command()
@option(settings.SPOOL_DIR)
@click.option(
    "--max-queue-age",
    type=DURATION,
    default="10m",
    show_default=True,
    help="Unhealthy when a segment has waited in the upload queue longer than this.",
)
@click.option(
    "--max-failing",
    type=DURATION,
    default="1m",
    show_default=True,
    help="Unhealthy when uploads have kept failing (no success since) for longer than this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(**opts: Any) -> None:
    """Show how the running `watch` is doing: what it tails, its upload queue, its last
    upload and last error.

    \b
    Exit codes:
      0  a watch runs and its uploads are healthy
      1  uploads have been failing, or a segment waits in the queue for too long
      3  no watch runs on this spool
    """
    _run(_status, {**opts, "log_level": "WARNING"})


def _status(opts: dict[str, Any]) -> int:
    spool = opts["spool_dir"].expanduser().absolute()
    now = time.time()
    limits = Thresholds(opts["max_queue_age"] / 1000, opts["max_failing"] / 1000)
    found = read_status(spool)
    shown = report(found, now, limits)
    if opts["as_json"]:
        click.echo(json_text(json.dumps(shown, indent=1, ensure_ascii=False)))
    elif found.running:
        for line in status_lines(shown, now):
            click.echo(printable(line))
    if not found.running:
        if opts["as_json"]:
            return NOT_RUNNING
        raise WatchNotRunning(spool, found.why)
    return 0 if shown["healthy"] else UNHEALTHY


def status_lines(doc: dict[str, Any], now: float) -> list[str]:
    """The status of a running watch as a few aligned lines."""

    def ago(ts: Any) -> str:
        if not isinstance(ts, int | float):
            return "never"
        return f"{format_duration(now - ts)} ago ({time.strftime('%H:%M:%S', time.localtime(ts))})"

    queue = doc.get("queue") or {}
    waiting = queue.get("segments") or 0
    error = doc.get("last_error") or None
    redactions = doc.get("redactions") or {}
    lag = doc.get("index_lag_s")
    started = doc.get("started_at")
    up = format_duration(now - started) if isinstance(started, int | float) else "?"
    rows = [
        ("watch", f"running, pid {doc.get('pid')}, up {up}"),
        ("store", str(doc.get("store"))),
        ("spool", str(doc.get("spool"))),
        (
            "sessions",
            f"{doc.get('sessions', 0)} tailed, {format_size(doc.get('bytes_behind', 0))} "
            "not packed yet",
        ),
        (
            "queue",
            f"{waiting} segment(s), the oldest queued {ago(queue.get('oldest_queued_at'))}"
            if waiting
            else "empty",
        ),
        ("last upload", ago(doc.get("last_upload_at"))),
        ("last error", f"{ago(error.get('at'))}: {error.get('message')}" if error else "none"),
        (
            "failing",
            f"since {ago(doc.get('failing_since'))}, {doc.get('consecutive_failures')} calls"
            if doc.get("failing_since")
            else "no",
        ),
        ("redactions", ", ".join(f"{k} {n}" for k, n in sorted(redactions.items())) or "none"),
        ("index lag", "unknown" if lag is None else format_duration(lag)),
        ("health", "ok" if doc["healthy"] else "; ".join(doc["problems"])),
    ]
    width = max(len(label) for label, _ in rows)
    return [f"{label.ljust(width)}  {value}" for label, value in rows]
