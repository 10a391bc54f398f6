"""The commands that read sessions back: `replay`, `reload`, `verify`, `ls`.

They never write the store, settle everything that can fail before touching the disk,
and print results on stdout and messages on stderr, so that they work in pipes. What is
read comes from the engine (uploader.read, uploader.storage); here it is printed, each
cell or line from the store shown escaped (`printable`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from uploader import agents
from uploader.agents import canonical_path
from uploader.agents.transcript import ParseState, parse_line, render_text
from uploader.cli.app import _run, main
from uploader.cli.options import DURATION, quiet_log_option, store_from_opts, store_options
from uploader.cli.sessions import _named, _open, session_options
from uploader.cli.watching import check_readable
from uploader.core.errors import UsageError, UserError
from uploader.core.terminal import json_text, printable
from uploader.core.units import format_size
from uploader.read.catalog import Catalog
from uploader.read.finding import find_session
from uploader.read.following import emit_pieces, follow
from uploader.read.listing import SORT_KEYS, Query, select
from uploader.read.restoring import check_target, plan_restore, write_restore
from uploader.read.summaries import list_sids
from uploader.read.verify import Report, verify_session
from uploader.storage.reading import load_manifest, plan
from uploader.stores import Store

PROGRESS_AFTER_S = 0.5  # a restore quicker than this shows no progress bar


# -- replay -----------------------------------------------------------------------------


@main.command()
@session_options
@click.option(
    "--checkpoint", metavar="ID", help="Stop at this checkpoint: 'latest' or an id (or prefix)."
)
@click.option("--generation", type=click.IntRange(min=1), help="Read this generation.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["raw", "text"]),
    default="raw",
    show_default=True,
    help="raw: the NDJSON lines as stored; text: a readable conversation.",
)
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing new segments as they are uploaded."
)
@click.option(
    "--interval",
    type=DURATION,
    default="2s",
    show_default=True,
    help="With --follow: how often to look for new segments.",
)
@store_options
@quiet_log_option
def replay(**opts: Any) -> None:
    """Print a session to stdout: raw NDJSON, or a readable conversation.

    Every segment is checked against its sha256 before a byte of it is printed.
    """
    _run(_replay, opts)


def _replay(opts: dict[str, Any]) -> int:
    if opts["follow"] and opts["checkpoint"]:
        raise UsageError("--follow reads to the end; it cannot stop at a --checkpoint")
    store, sid = _open(opts)
    manifest = load_manifest(store, sid)
    reading = plan(manifest, checkpoint=opts["checkpoint"], generation=opts["generation"])
    agent = manifest.source.agent or "unknown"
    write = _TextPrinter(agent).write if opts["fmt"] == "text" else _RawPrinter().write
    try:
        last = emit_pieces(store, reading, write, after_seq=0)
        if opts["follow"]:
            follow(
                store, sid, reading.generation, last, write,
                interval_s=opts["interval"] / 1000, note=_note,
            )  # fmt: skip
    except BrokenPipeError:
        # The reader went away (`| head`): a quiet end, and no second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        return 130
    return 0


class _RawPrinter:
    def __init__(self) -> None:
        self.out = sys.stdout.buffer

    def write(self, data: bytes, first_index: int) -> None:
        self.out.write(data)
        self.out.flush()


class _TextPrinter:
    def __init__(self, agent: str) -> None:
        self.agent = agent
        self.state = ParseState()  # a line's meaning may depend on earlier segments' lines

    def write(self, data: bytes, first_index: int) -> None:
        entries = (
            entry
            for i, line in enumerate(data.splitlines(True))
            for entry in parse_line(line, first_index + i, self.agent, self.state)
        )
        for text in render_text(entries):
            # Terminal and bidi controls in transcript text (an escape sequence can retitle
            # a terminal, clear it or write the clipboard) are shown escaped, never obeyed.
            click.echo(printable(text, lines=True))
        sys.stdout.flush()


def _note(text: str) -> None:
    click.echo(text, err=True)


# -- reload -----------------------------------------------------------------------------


@main.command()
@session_options
@click.option(
    "--checkpoint", metavar="ID", help="Rebuild the file as it stood at this checkpoint "
    "('latest' or an id or prefix).",
)  # fmt: skip
@click.option(
    "--generation",
    type=click.IntRange(min=1),
    help="Rebuild this generation (default: the latest).",
)
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: where the session's agent keeps it).",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@store_options
@quiet_log_option
def reload(**opts: Any) -> None:
    """Rebuild a session's file, byte for byte.

    Segments are checked against their sha256 while streaming into a temp file, which
    is fsynced and renamed into place: a crash or a damaged segment leaves the target
    untouched.
    """
    _run(_reload, opts)


def _reload(opts: dict[str, Any]) -> int:
    store, sid = _open(opts)
    manifest, reading = plan_restore(
        store, sid, checkpoint=opts["checkpoint"], generation=opts["generation"]
    )
    target: Path | None = opts["target"]
    home = target is None
    if target is None:
        target = canonical_path(manifest.source.to_json())
        if target is None:
            agent = manifest.source.agent or "unknown"
            raise UsageError(
                f"session {sid} ({agent}) has no place of its own to go back to",
                "pass --to PATH",
            )
    target = target.expanduser()
    check_target(target, force=opts["force"])
    total = sum(p.entry.bytes or 0 for p in reading.pieces)
    with _Progress(total, f"reload {sid[:8]}") as progress:
        done = write_restore(store, reading, target, force=opts["force"], progress=progress)
    where = " where its agent will find it" if home else ""
    at = f" at checkpoint {done.checkpoint}" if done.checkpoint else ""
    click.echo(
        f"restored {sid}{at}: {done.lines:,} lines, {format_size(done.bytes)} "
        f"(generation {done.generation}) to {printable(str(done.path))}{where}",
        err=True,
    )
    return 0


class _Progress:
    """A progress bar on a terminal, shown only once the work has taken a moment."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = total, label
        self.started = time.monotonic()
        self.done = 0
        self.bar: Any = None
        self.enabled = sys.stderr.isatty() and total > 0

    def __call__(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is None and time.monotonic() - self.started >= PROGRESS_AFTER_S:
            self.bar = click.progressbar(length=self.total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
            self.bar.update(self.done)
        elif self.bar is not None:
            self.bar.update(n)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


# -- verify -----------------------------------------------------------------------------


@main.command()
@session_options
@click.option("--all", "all_sessions", is_flag=True, help="Check every session in the store.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@store_options
@quiet_log_option
def verify(**opts: Any) -> None:
    """Check every segment of a session (or of all of them).

    Checks sha256, byte and line counts, that seq numbers have no gaps, and that the
    manifest and checkpoints agree. Exits 1 if anything is wrong, naming the session,
    the segment and the problem.
    """
    _run(_verify, opts)


def _verify(opts: dict[str, Any]) -> int:
    store = store_from_opts(opts)
    check_readable(store)
    if opts["all_sessions"]:
        if _named(opts) or opts["label"]:
            raise UsageError("--all checks every session; drop SID/--sid/--label")
        sids = sorted(list_sids(store))
    else:
        sids = [find_session(store, _named(opts), label=opts["label"])]
    with ThreadPoolExecutor(4, thread_name_prefix="verify") as pool:
        reports = list(pool.map(lambda sid: verify_session(store, sid), sids))
    if opts["as_json"]:
        click.echo(json.dumps([r.to_json() for r in reports], indent=1))
    else:
        _print_reports(reports, store)
    return 0 if all(r.ok for r in reports) else 1


def _print_reports(reports: list[Report], store: Store) -> None:
    rows = [
        [
            r.sid,
            f"{r.segments:,}",
            f"{r.lines:,}",
            format_size(r.bytes),
            f"{r.checkpoints:,}",
            "ok" if r.ok else f"{len(r.problems)} problem(s)",
        ]
        for r in reports
    ]
    _table(["SESSION", "SEGMENTS", "LINES", "SIZE", "CHECKPOINTS", "RESULT"], rows)
    problems = [p for r in reports for p in r.problems]
    for problem in problems:
        click.echo(f"problem: {printable(str(problem))}")
    bad = sum(not r.ok for r in reports)
    summary = f"{len(reports)} session(s) checked in {store.description}"
    click.echo(f"{summary}: {bad} with problems" if bad else f"{summary}: all ok", err=True)


def _table(headers: list[str], rows: list[list[str]]) -> None:
    """Columns of text, each cell shown escaped (ids, titles and agents come from the
    store, which anyone who can write it fills)."""
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in [headers, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# -- ls ---------------------------------------------------------------------------------


@main.command(name="ls")
@click.option("--search", "-q", "text", default="", help="Only titles, labels or ids with this.")
@click.option("--agent", type=click.Choice([*agents.names(), "unknown"]), help="Only this agent's.")
@click.option(
    "--active",
    "active_minutes",
    type=click.IntRange(min=1),
    metavar="MINUTES",
    help="Only sessions updated in the last MINUTES.",
)
@click.option(
    "--sort", type=click.Choice(SORT_KEYS), default="updated", show_default=True, help="Order."
)
@click.option("--asc", is_flag=True, help="Ascending (default: descending).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per session.")
@store_options
@quiet_log_option
def ls(**opts: Any) -> None:
    """List the sessions in the store, filtered as on the dashboard."""
    _run(_ls, opts)


def _ls(opts: dict[str, Any]) -> int:
    store = store_from_opts(opts)
    check_readable(store)
    catalog = Catalog(store)
    query = Query(
        text=opts["text"],
        agent=opts["agent"] or "",
        active_minutes=opts["active_minutes"],
        sort=opts["sort"],
        descending=not opts["asc"],
    )
    items = select(catalog.sessions(wait=True), query)[: opts["limit"]]
    if catalog.last_error:
        raise UserError(catalog.last_error, "check --store and try again")
    if opts["as_json"]:
        click.echo(
            json_text(json.dumps([i.to_json() for i in items], indent=1, ensure_ascii=False))
        )
        return 0
    rows = [
        [
            i.sid,
            _cut(printable(i.title), 48),
            i.agent,
            _when(i.updated),
            f"{i.lines:,}",
            format_size(i.bytes),
            str(i.segments),
            str(i.checkpoints),
            "closed" if i.closed else "open",
        ]
        for i in items
    ]
    headers = ["ID", "TITLE", "AGENT", "UPDATED", "LINES", "SIZE", "SEGS", "CKPTS", "STATE"]
    if rows:
        _table(headers, rows)
    click.echo(f"{len(items)} session(s) in {store.description}", err=True)
    return 0


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "-"
