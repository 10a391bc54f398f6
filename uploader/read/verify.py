"""`verify`: download every segment of a session and check it against its manifest.

A report names each problem by session and segment: a segment that is missing, not
gzip, truncated, or whose bytes, lines or sha256 differ; seq numbers with gaps or
repeats; generations that go backwards; checkpoints that point outside their segment
or whose objects are missing or differ. Segments are streamed, one at a time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from uploader.core import safejson
from uploader.core.errors import Damaged
from uploader.storage import manifest as mf
from uploader.storage.manifest import Manifest
from uploader.storage.reading import iter_segment, load_manifest
from uploader.storage.records import Checkpoint, Segment
from uploader.stores.base import ObjectNotFound, StorageError, Store


@dataclass(frozen=True)
class Problem:
    sid: str
    segment: int | None  # None: the manifest or a checkpoint
    what: str

    def __str__(self) -> str:
        where = f"segment {self.segment}" if self.segment is not None else "manifest"
        return f"{self.sid} {where}: {self.what}"


@dataclass
class Report:
    sid: str
    segments: int = 0
    lines: int = 0
    bytes: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, what: str, segment: int | None = None) -> None:
        self.problems.append(Problem(self.sid, segment, what))

    def to_json(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "ok": self.ok,
            "segments": self.segments,
            "lines": self.lines,
            "bytes": self.bytes,
            "checkpoints": self.checkpoints,
            "problems": [{"segment": p.segment, "problem": p.what} for p in self.problems],
        }


def verify_session(store: Store, sid: str) -> Report:
    """Check one session; a session that does not exist raises NotFound."""
    report = Report(sid)
    try:
        manifest = load_manifest(store, sid)
    except Damaged as exc:
        report.problem(exc.message)
        return report
    segments = sorted(manifest.segments, key=lambda s: s.seq)
    _check_sequence(report, manifest, segments)
    for entry in segments:
        _check_segment(store, report, entry)
    _check_checkpoints(store, report, manifest, segments)
    return report


def _check_sequence(report: Report, manifest: Manifest, segments: list[Segment]) -> None:
    seqs = [s.seq for s in segments]
    for seq, count in sorted(Counter(seqs).items()):
        if count > 1:
            report.problem(f"listed {count} times in the manifest", seq)
    if seqs:
        missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
        for seq in missing:
            report.problem("missing from the manifest (a gap in seq)", seq)
    generation = 0
    for entry in segments:
        current = entry.generation
        if current < generation:
            report.problem(f"generation {current} after generation {generation}", entry.seq)
        generation = max(generation, current)
    active = manifest.active_seq
    if seqs and active is not None and active <= max(seqs):
        report.problem(f"active_seq {active} is not after the last segment {max(seqs)}")


def _check_segment(store: Store, report: Report, entry: Segment) -> None:
    seq = entry.seq
    key = mf.object_key(report.sid, entry.path)
    report.segments += 1
    try:
        stored = store.get(key)
    except ObjectNotFound:
        report.problem(f"{key} is missing from the store", seq)
        return
    size = 0
    try:
        for chunk in iter_segment(report.sid, entry, stored):
            size += len(chunk)
    except Damaged as exc:
        what = exc.message.split(f"segment {seq} ", 1)[-1]
        report.problem(what, seq)
        return
    report.bytes += size
    report.lines += entry.lines or 0


def _check_checkpoints(
    store: Store, report: Report, manifest: Manifest, segments: list[Segment]
) -> None:
    lines_of = {s.seq: s.lines or 0 for s in segments}
    for cp in manifest.checkpoints:
        report.checkpoints += 1
        cid, seq, line_idx = cp.id, cp.seq, cp.line_idx
        if seq not in lines_of:
            report.problem(f"checkpoint {cid} names segment {seq}, which is not listed")
            continue
        if not 0 < line_idx <= lines_of[seq]:
            report.problem(
                f"checkpoint {cid} is at line {line_idx}, outside the segment's "
                f"{lines_of[seq]} lines",
                seq,
            )
        _check_checkpoint_object(store, report, cid, cp)


def _check_checkpoint_object(store: Store, report: Report, cid: str, cp: Checkpoint) -> None:
    key = mf.checkpoint_key(report.sid, cid)
    try:
        stored = safejson.loads(store.get(key))
    except ObjectNotFound:
        report.problem(f"checkpoint {cid}: {key} is missing from the store")
        return
    except (ValueError, StorageError) as exc:
        report.problem(f"checkpoint {cid}: {key} cannot be read ({exc})")
        return
    if stored != cp.to_json():
        report.problem(f"checkpoint {cid}: {key} differs from the manifest's entry")
