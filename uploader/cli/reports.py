"""What `watch --dry-run` prints when it ends: the validation report of each file read
(uploader.write.validation), as aligned lines or as JSON, on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from uploader import agents
from uploader.core.errors import NotATranscript
from uploader.core.terminal import json_text, printable
from uploader.core.units import format_size
from uploader.stores.dryrun import DryRunStore
from uploader.write.validation import FileReport, dry_run_reports

if TYPE_CHECKING:
    from uploader.write.watch import Watcher


def print_dry_run_report(watcher: Watcher, files: list[tuple[Path, str]], as_json: bool) -> None:
    """Print the report; NotATranscript (exit 1) if a file is no transcript it knows."""
    store = watcher.store
    assert isinstance(store, DryRunStore)
    reports = dry_run_reports(store, files)
    if as_json:
        click.echo(json_text(json.dumps([r.to_json() for r in reports], indent=1)))
    else:
        for i, r in enumerate(reports):
            if i:
                click.echo()
            for line in file_lines(r):
                click.echo(printable(line))
        if not reports:
            click.echo("nothing was read: no session file had a complete line")
    unknown = [r.path for r in reports if not r.recognised]
    if unknown:
        raise NotATranscript(unknown)


def _bytes(n: int) -> str:
    return f"{n:,} B ({format_size(n)})" if n >= 1024 else f"{n:,} B"


def file_lines(r: FileReport) -> list[str]:
    """One file's report: its path, then a label column and a value, with the segments,
    checkpoints and keys each on a line of their own below theirs."""
    rows: list[tuple[str, str, list[str]]] = [
        ("session", r.sid, []),
        (
            "agent",
            agents.display_name(r.agent)
            if r.recognised
            else "not recognised: no transcript of Codex, Claude Code, OpenClaw or pi",
            [],
        ),
        ("read", f"{r.lines:,} complete lines, {_bytes(r.source_bytes)}", []),
        (
            "segments",
            str(len(r.segments)),
            [
                f"{s.seq}: {s.lines:,} lines, {_bytes(s.raw_bytes)} -> {_bytes(s.gzip_bytes)}"
                + (f" (generation {s.generation})" if s.generation != 1 else "")
                for s in r.segments
            ],
        ),
        (
            "checkpoints",
            str(len(r.checkpoints)),
            [
                f"{c.id} at line {c.line or '?'} (segment {c.seq}, its line {c.line_idx}): "
                f"{c.marker or 'marker not found'}, {c.label or 'no label'}"
                for c in r.checkpoints
            ],
        ),
        ("not JSON", _not_json(r), []),
        (
            "last line",
            f"unfinished: {_bytes(r.partial_bytes)} without a newline, uploaded once it ends"
            if r.partial_bytes
            else "complete",
            [],
        ),
        (
            "redactions",
            ", ".join(f"{k} {n}" for k, n in sorted(r.redactions.items())) or "none",
            [],
        ),
        ("stored", _stored(r), []),
        ("keys", str(len(r.keys)), [f"{key}  {_bytes(n)}" for key, n in r.keys.items()]),
    ]
    width = max(len(label) for label, _, _ in rows)
    out = [r.path]
    for label, value, items in rows:
        out.append(f"  {label.ljust(width)}  {value}")
        out.extend(f"    {item}" for item in items)
    return out


def _not_json(r: FileReport) -> str:
    if not r.not_json:
        return "none"
    more = " …" if r.not_json > len(r.not_json_lines) else ""
    return f"{r.not_json:,} lines: {', '.join(map(str, r.not_json_lines))}{more}"


def _stored(r: FileReport) -> str:
    ratio = ""
    if r.stored_bytes and r.raw_bytes > r.stored_bytes:
        ratio = f", {r.raw_bytes / r.stored_bytes:.1f}x smaller"
    return f"{_bytes(r.stored_bytes)} for {_bytes(r.raw_bytes)} of lines{ratio}"
