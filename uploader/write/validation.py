"""The report a dry run ends with (`watch --dry-run`, with or without --once): for each file
read, what it would have written, checked against the file itself.

The figures of the segments, checkpoints and redactions are those of the manifest the dry
run would have written (the same pipeline as a real run computed them); the keys are those
the dry run's store was asked to write. The file is then read once more, here, off the hot
path: its lines that are not JSON objects, its unfinished last line, and which agent's
marker each compaction line is.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from uploader import agents
from uploader.agents import COMPACT_MARK, FIRST_LINE_LIMIT, SessionMeta, read_early_meta
from uploader.agents.lines import loads
from uploader.core.errors import Damaged
from uploader.storage.manifest import Manifest
from uploader.stores.dryrun import DryRunStore

CHUNK = 4 << 20
SHOWN_LINE_NUMBERS = 10  # the first line numbers of lines that are not JSON


@dataclass
class SegmentFigures:
    seq: int
    generation: int
    lines: int
    raw_bytes: int  # as stored, after redaction
    gzip_bytes: int  # the object's size


@dataclass
class CheckpointFigures:
    id: str
    label: str | None
    seq: int
    line_idx: int  # lines of segment `seq` up to and including the compaction line
    line: int | None  # its line number in the file (from 1)
    marker: str | None  # which agent's compaction line it is, and its type


@dataclass
class FileReport:
    path: str
    sid: str
    agent: str  # as recognised; "unknown": no known agent's format
    recognised: bool
    source_bytes: int = 0  # bytes of the complete lines read
    lines: int = 0
    segments: list[SegmentFigures] = field(default_factory=list)
    checkpoints: list[CheckpointFigures] = field(default_factory=list)
    not_json: int = 0  # complete lines that are not a JSON object
    not_json_lines: list[int] = field(default_factory=list)  # the first few, from 1
    partial_bytes: int = 0  # an unfinished last line (it waits for its newline)
    redactions: dict[str, int] = field(default_factory=dict)
    raw_bytes: int = 0  # what the segments hold, after redaction
    stored_bytes: int = 0  # what the store would hold of them
    keys: dict[str, int] = field(default_factory=dict)  # key -> bytes

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def dry_run_reports(store: DryRunStore, files: list[tuple[Path, str]]) -> list[FileReport]:
    """A report for each session the dry run wrote a manifest for, and for each of `files`
    (path, session id) that it did not (nothing complete to upload)."""
    manifests: dict[str, Manifest] = {}
    for key, raw in store.manifests.items():
        with contextlib.suppress(Damaged):
            manifest = Manifest.parse(raw, key)
            manifests[manifest.sid] = manifest
    reports = [_report(store, m.sid, Path(m.source.path or ""), m) for m in manifests.values()]
    for path, sid in files:
        if sid not in manifests:
            reports.append(_report(store, sid, path.absolute(), None))
    return sorted(reports, key=lambda r: r.path)


def _report(store: DryRunStore, sid: str, path: Path, manifest: Manifest | None) -> FileReport:
    agent = manifest.source.agent if manifest is not None else None
    if not agent or agent == agents.UNKNOWN.name:
        agent = _agent_of(path)
    report = FileReport(str(path), sid, agent, recognised=agent != agents.UNKNOWN.name)
    report.keys = {k: n for k, n in store.writes.items() if sid in k.split("/")}
    end = 0
    if manifest is not None:
        last = max((s.generation for s in manifest.segments), default=1)
        for s in manifest.segments:
            report.segments.append(
                SegmentFigures(s.seq, s.generation, s.lines or 0, s.bytes or 0, s.gzip_bytes or 0)
            )
            for rule, n in (s.redactions or {}).items():
                report.redactions[rule] = report.redactions.get(rule, 0) + n
            if s.generation == last and s.source_end is not None:
                end = max(end, s.source_end)
        report.raw_bytes = sum(s.raw_bytes for s in report.segments)
        report.stored_bytes = sum(s.gzip_bytes for s in report.segments)
    markers = _read_source(report, path, end)
    for i, c in enumerate(manifest.checkpoints if manifest is not None else ()):
        line, marker = markers[i] if i < len(markers) else (None, None)
        report.checkpoints.append(CheckpointFigures(c.id, c.label, c.seq, c.line_idx, line, marker))
    if report.lines and report.not_json == report.lines:
        report.recognised = False  # not one line of it is JSON: no transcript
    if not report.lines:
        report.recognised = False
    return report


def _agent_of(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(FIRST_LINE_LIMIT)
    except OSError:
        return agents.UNKNOWN.name
    return read_early_meta(path, head).agent


def _read_source(report: FileReport, path: Path, end: int) -> list[tuple[int, str | None]]:
    """Count the lines of path[:end] and those that are not JSON objects, and measure what
    follows `end` (an unfinished last line); the line number and marker of each
    compaction line, in order."""
    markers: list[tuple[int, str | None]] = []
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return markers
    try:
        pos, carry, number = 0, b"", 0
        while pos < end:
            chunk = os.pread(fd, min(CHUNK, end - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            data = carry + chunk
            start = 0
            while (nl := data.find(b"\n", start)) >= 0:
                number += 1
                line = data[start : nl + 1]
                obj = loads(line)
                if obj is None:
                    report.not_json += 1
                    if len(report.not_json_lines) < SHOWN_LINE_NUMBERS:
                        report.not_json_lines.append(number)
                elif COMPACT_MARK in line and (marker := _marker(obj, report.agent)):
                    markers.append((number, marker))
                start = nl + 1
            carry = data[start:]
        report.lines = number
        report.source_bytes = pos - len(carry)
        tail = os.fstat(fd).st_size - report.source_bytes
        if tail > 0 and b"\n" not in os.pread(fd, min(tail, FIRST_LINE_LIMIT), report.source_bytes):
            report.partial_bytes = tail
    finally:
        os.close(fd)
    return markers


def _marker(obj: dict[str, Any], agent: str) -> str | None:
    """`compact_boundary (Claude Code)`: the line's type (Claude Code's subtype) and the
    agent whose compaction line it is, the file's own agent asked first."""
    own = agents.get(agent)
    ordered = ([own] if own is not None else []) + [a for a in agents.AGENTS if a is not own]
    meta = SessionMeta(agent=agent)
    for candidate in ordered:
        if candidate.checkpoint_of(obj, meta, 0.0) is not None:
            kind = obj.get("subtype") if obj.get("type") == "system" else obj.get("type")
            return f"{kind} ({candidate.display})"
    return None
