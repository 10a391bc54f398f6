"""The storage layout and the per-session manifest (docs/storage-format.md).

Everything that knows the store's keys (keys.py, re-exported here) or the manifest's
JSON is here and beside it: the typed manifest (Manifest here; the records it holds,
Segment, Checkpoint and Source, in records.py; how a stored value is read and a record
written back, in stored_values.py), the one check a stored manifest passes before
anything reads it (Manifest.parse), and the one writer of its JSON (Manifest.to_json,
dumps).

Stores hold manifests of every version of the uploader, and of writers newer than this
one, so a manifest read and written back keeps what it had:

- a field the model does not name (a newer writer's) is kept in `extra` and written back;
- fields keep the order the stored JSON had them in (a record made here has the order
  docs/storage-format.md shows), so a manifest read and written back unchanged is the
  same bytes, but for its `updated_at`;
- a field an older writer did not write reads as its default; one whose default is None
  ("not said") is left out again when the record is written back, the others (a
  segment's generation 1, `closed` false, ...) are written with their defaults.

A value of the wrong type in a field the check does not cover reads as the readers have
always read it (a `label` that is not a string is no label) and is written back so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from uploader.core import safejson
from uploader.core.errors import DamagedSession

# The keys are this module's too (`mf.manifest_key`, ...): they live in keys.py.
from uploader.storage.keys import (
    ARCHIVE_PREFIX as ARCHIVE_PREFIX,
    CHECKPOINTS_FOLDER as CHECKPOINTS_FOLDER,
    GZIP_TYPE as GZIP_TYPE,
    JSON_TYPE as JSON_TYPE,
    LABELS_KEY as LABELS_KEY,
    LATEST_CHECKPOINT as LATEST_CHECKPOINT,
    MANIFEST_NAME as MANIFEST_NAME,
    NDJSON_TYPE as NDJSON_TYPE,
    SEGMENTS_FOLDER as SEGMENTS_FOLDER,
    SESSIONS_PREFIX as SESSIONS_PREFIX,
    archive_prefix as archive_prefix,
    checkpoint_key as checkpoint_key,
    content_type as content_type,
    latest_checkpoint_key as latest_checkpoint_key,
    manifest_key as manifest_key,
    object_key as object_key,
    segment_path as segment_path,
    session_prefix as session_prefix,
    sid_of_manifest_key as sid_of_manifest_key,
)
from uploader.storage.records import Checkpoint, Segment, Source
from uploader.storage.stored_values import (
    json_object,
    or_default,
    stored_text,
    stored_whole,
    unknown_fields,
)

MANIFEST_VERSION = 1
MAX_MANIFEST = 64 << 20  # some 200,000 segments: anything larger is not a manifest


def iso_now() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


ACTIVE_WINDOW_S = 15 * 60


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """`sessions/{sid}/manifest.json`: the index of one session. Immutable: a writer makes
    the next one with `dataclasses.replace` and the helpers below."""

    version: int = MANIFEST_VERSION
    sid: str = ""
    created_at: str | None = None  # ISO times (UTC, milliseconds)
    updated_at: str | None = None
    active_seq: int | None = None  # the seq the next segment will get
    segments: tuple[Segment, ...] = ()  # in seq order
    checkpoints: tuple[Checkpoint, ...] = ()  # in (seq, line_idx) order
    source: Source = field(default_factory=Source)
    writer: str | None = None  # host/spool id of the watch that writes it
    closed: bool = False  # the source is gone: nothing more will be added
    first_message: str | None = None  # the title of a session without one
    label: str | None = None  # only from `import` (users' labels are in labels.json)
    title: str | None = None  # only from `import`
    extra: dict[str, Any] = field(default_factory=dict)
    read_order: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    FIELDS: ClassVar[tuple[str, ...]] = (
        "version", "sid", "created_at", "updated_at", "active_seq", "segments",
        "checkpoints", "source", "writer", "closed", "first_message", "label", "title",
    )  # fmt: skip
    NAMES: ClassVar[frozenset[str]] = frozenset(FIELDS)

    # -- reading -------------------------------------------------------------------------

    @classmethod
    def parse(cls, raw: bytes, where: str) -> Manifest:
        """The manifest in `raw`, checked; DamagedSession (naming `where`) for anything else,
        however hostile (nested 100,000 deep, NaN, hundreds of MiB, not an object)."""
        try:
            data = safejson.loads(raw, max_bytes=MAX_MANIFEST)
        except ValueError as exc:
            raise DamagedSession(f"{where} is not valid JSON ({exc})") from exc
        return cls.from_json(data, where)

    @classmethod
    def from_json(cls, data: Any, where: str) -> Manifest:
        """A manifest from decoded JSON, checked as `parse` checks it."""
        if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
            raise DamagedSession(f"{where} is not a session manifest")
        problem = shape_problem(data)
        if problem:
            raise DamagedSession(f"{where}: {problem}")
        source = data.get("source")
        writer = data.get("writer")
        return cls(
            version=or_default(stored_whole(data.get("version")), MANIFEST_VERSION),
            sid=stored_text(data.get("sid")) or "",
            created_at=stored_text(data.get("created_at")),
            updated_at=stored_text(data.get("updated_at")),
            active_seq=stored_whole(data.get("active_seq")),
            segments=tuple(Segment.from_json(s) for s in data["segments"]),
            checkpoints=tuple(Checkpoint.from_json(c) for c in data.get("checkpoints") or ()),
            source=Source.from_json(source) if isinstance(source, dict) else Source(),
            writer=None if writer is None else str(writer),
            closed=bool(data.get("closed")),
            first_message=stored_text(data.get("first_message")),
            label=stored_text(data.get("label")),
            title=stored_text(data.get("title")),
            extra=unknown_fields(data, cls.NAMES),
            read_order=tuple(data),
        )

    def generations(self) -> list[int]:
        return sorted({s.generation for s in self.segments})

    def usage(self, generation: int | None = None) -> dict[str, float] | None:
        """The token usage of a generation's segments (the newest by default), summed
        from their records; None when a segment of it was not counted."""
        if not self.segments:
            return None
        if generation is None:
            generation = max(s.generation for s in self.segments)
        total: dict[str, float] = {}
        for s in self.segments:
            if s.generation != generation:
                continue
            if s.usage is None:
                return None
            for key, value in (s.usage or {}).items():
                total[key] = total.get(key, 0) + value
        return total

    def seconds_since_update(self) -> float | None:
        """Seconds since the manifest was last written, or None if it does not say."""
        if self.updated_at is None:
            return None
        try:
            updated = datetime.fromisoformat(self.updated_at.replace("Z", "+00:00"))
        except ValueError:
            return None
        return max(0.0, datetime.now(tz=UTC).timestamp() - updated.timestamp())

    def being_written(self) -> bool:
        """Open, and written within ACTIVE_WINDOW_S: a watch somewhere probably writes it."""
        age = self.seconds_since_update()
        return not self.closed and age is not None and age < ACTIVE_WINDOW_S

    # -- writing -------------------------------------------------------------------------

    def with_segment(self, meta: Mapping[str, Any]) -> Manifest:
        """With a queued segment recorded, from its .meta.json: its entry, its checkpoint
        and the source it names. Idempotent: a re-upload replaces its own entry."""
        entry = Segment.from_meta(meta)
        segments = sorted(
            [*(s for s in self.segments if s.seq != entry.seq), entry], key=lambda s: s.seq
        )
        checkpoints = self.checkpoints
        if meta.get("checkpoint"):
            checkpoint = Checkpoint.from_json(meta["checkpoint"])
            checkpoints = tuple(
                sorted(
                    [*(c for c in checkpoints if c.id != checkpoint.id), checkpoint],
                    key=lambda c: (c.seq, c.line_idx),
                )
            )
        return replace(
            self,
            segments=tuple(segments),
            active_seq=max(self.active_seq or 1, entry.seq + 1),
            checkpoints=checkpoints,
            source=Source.from_json(meta["source"]) if meta.get("source") else self.source,
        )

    def with_fields(self, fields: Mapping[str, Any], where: str = "manifest fields") -> Manifest:
        """With top-level fields set from JSON values (an importer's label and title):
        those the model names become typed, the others go into `extra`."""
        if not fields:
            return self
        return Manifest.from_json({**self.to_json(), **fields}, where)

    def touched(self) -> Manifest:
        """The manifest about to be written: updated now."""
        return replace(self, updated_at=iso_now())

    def to_json(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.FIELDS}
        values["segments"] = [s.to_json() for s in self.segments]
        values["checkpoints"] = [c.to_json() for c in self.checkpoints]
        values["source"] = self.source.to_json()
        return json_object(values, frozenset(), self.extra, self.read_order)

    def dumps(self) -> bytes:
        """The manifest as stored (its updated_at as it is: see `touched`)."""
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False).encode()


def new_manifest(sid: str, writer: str) -> Manifest:
    now = iso_now()
    return Manifest(
        sid=sid, created_at=now, updated_at=now, active_seq=1, writer=writer, closed=False
    )


# -- the check of a stored manifest ------------------------------------------------------

# Matched whole (fullmatch): `$` would let "segments/x\n" through.
_SEGMENT_PATH = re.compile(r"segments/[A-Za-z0-9][A-Za-z0-9._\-]*")
_CHECKPOINT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*")


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def shape_problem(manifest: dict[str, Any]) -> str | None:
    """What makes the manifest unusable (valid JSON, wrong shape), or None. Readers rely on
    every field they use having the right type; stored data must not crash them."""
    for n, entry in enumerate(manifest["segments"], 1):
        if not isinstance(entry, dict):
            return f"segment entry {n} is not an object"
        if not _count(entry.get("seq")) or not entry["seq"]:
            return f"segment entry {n} has no valid seq ({entry.get('seq')!r})"
        if not isinstance(entry.get("path"), str) or not _SEGMENT_PATH.fullmatch(entry["path"]):
            return f"segment {entry['seq']} has no valid path ({entry.get('path')!r})"
        for field_name in ("lines", "bytes", "gzip_bytes", "generation"):
            if field_name in entry and not _count(entry[field_name]):
                return f"segment {entry['seq']} has an invalid {field_name} ({entry[field_name]!r})"
    checkpoints = manifest.get("checkpoints")
    if checkpoints is not None and not isinstance(checkpoints, list):
        return "its checkpoints are not a list"
    for cp in checkpoints or ():
        if not isinstance(cp, dict) or not isinstance(cp.get("id"), str):
            return f"a checkpoint without an id: {json.dumps(cp)[:120]}"
        if not _CHECKPOINT_ID.fullmatch(cp["id"]):
            return f"checkpoint id {cp['id']!r} is not valid"
        if not _count(cp.get("seq")) or not _count(cp.get("line_idx")):
            return f"checkpoint {cp['id']} has no valid seq and line_idx"
    if not isinstance(manifest.get("source", {}), dict):
        return "its source is not an object"
    return None
