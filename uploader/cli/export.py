"""`export`: a session's conversation as one file, Markdown or standalone HTML, to share or
archive outside the tool (the rendering is the dashboard's: ui/export.py)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from uploader.cli.app import _run, main
from uploader.cli.options import prices_option, quiet_log_option, store_options
from uploader.cli.sessions import _open, session_options
from uploader.core.terminal import printable
from uploader.core.units import format_size
from uploader.read.catalog import Catalog
from uploader.read.restoring import check_target, write_atomically
from uploader.read.summaries import summarize
from uploader.storage.reading import iter_lines, plan, store_fetch


@main.command()
@session_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html"]),
    default="md",
    show_default=True,
    help="md: Markdown; html: one standalone page (its CSS inside, no scripts, images "
    "inside as data: URLs).",
)
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: stdout). Written whole or not at all.",
)
@click.option("--force", is_flag=True, help="Replace the --to file if it exists.")
@click.option(
    "--checkpoint", metavar="ID", help="The conversation up to this checkpoint ('latest' or "
    "an id or prefix).",
)  # fmt: skip
@click.option("--generation", type=click.IntRange(min=1), help="Export this generation.")
@prices_option
@store_options
@quiet_log_option
def export(**opts: Any) -> None:
    """Write a session's conversation as one Markdown or HTML file.

    The same conversation the dashboard shows: tool calls with their results, diffs,
    rendered Markdown (html), token usage. Every segment is checked against its sha256
    before it is used; a session is read a segment at a time.
    """
    _run(_export, opts)


def _export(opts: dict[str, Any]) -> int:
    from ui import export as rendering  # the engine itself never imports the web side

    target: Path | None = opts["target"]
    if target is not None:
        target = target.expanduser()
        check_target(target, force=opts["force"])
    store, sid = _open(opts)
    manifest = Catalog(store).manifest(sid)  # with its label, or its first message as title
    reading = plan(manifest, checkpoint=opts["checkpoint"], generation=opts["generation"])
    summary = summarize(manifest)
    note = f"As it stood at checkpoint {reading.checkpoint.id}." if reading.checkpoint else ""
    lines = iter_lines(reading, store_fetch(store, sid), 0, reading.lines)
    render = rendering.html if opts["fmt"] == "html" else rendering.markdown
    pieces = render(summary, lines, note=note)
    if target is None:
        try:
            for chunk in _encoded(pieces):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader went away (`| head`): a quiet end
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    size = write_atomically(target, _encoded(pieces))
    click.echo(
        f"exported {sid} ({opts['fmt']}, {format_size(size)}) to {printable(str(target))}",
        err=True,
    )
    return 0


def _encoded(pieces: Iterator[str]) -> Iterator[bytes]:
    for piece in pieces:
        yield piece.encode("utf-8", "replace")  # a lone surrogate from a JSON escape: '?'
