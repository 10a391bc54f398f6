"""The records a manifest holds: the Source it was read from, each Segment, each
Checkpoint; each read from stored JSON keeping what it does not know, and written back
in its order (see uploader.storage.manifest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from uploader.storage.stored_values import (
    json_object,
    or_default,
    stored_digest,
    stored_figures,
    stored_number,
    stored_text,
    stored_whole,
    unknown_fields,
)


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where the lines come from (`source`): which agent wrote them, on which machine."""

    agent: str | None = None  # codex, claude, openclaw, pi or unknown
    path: str | None = None  # the file on the machine that wrote it
    host: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    title: str | None = None  # the agent's own title for the session
    extra: dict[str, Any] = field(default_factory=dict)
    read_order: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    FIELDS: ClassVar[tuple[str, ...]] = (
        "agent", "path", "host", "cwd", "git_branch", "git_commit", "title",
    )  # fmt: skip
    NAMES: ClassVar[frozenset[str]] = frozenset(FIELDS)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Source:
        return cls(
            **{name: stored_text(data.get(name)) for name in cls.FIELDS},
            extra=unknown_fields(data, cls.NAMES),
            read_order=tuple(data),
        )

    def to_json(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.FIELDS}
        return json_object(values, frozenset(), self.extra, self.read_order)


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One uploaded segment's entry (`segments[]`). Counts that a writer did not record
    are None: readers check only what the entry says."""

    seq: int
    path: str  # below the session's prefix: segments/session-000001.jsonl.gz
    first_ts: float | None = None  # whole epoch seconds
    last_ts: float | None = None
    lines: int | None = None
    bytes: int | None = None  # uncompressed, as stored (after redaction)
    gzip_bytes: int | None = None  # the object's size
    sha256: str | None = None  # of the uncompressed bytes
    generation: int = 1
    generation_reason: str | None = None  # on a generation's first segment
    source_end: int | None = None  # where the segment ends in its generation's source
    redactions: dict[str, int] | None = None  # rule -> secrets replaced (only when any)
    # Token usage of its lines (agents/usage.py: each API message once, across segments),
    # and what the next segment's count goes on from; None when not counted.
    usage: dict[str, float] | None = None
    usage_carry: dict[str, Any] | None = None
    # Fields the model does not name: a newer writer's, or the annotations of a watch's
    # live view (`where`, `local`), which never go to a store.
    extra: dict[str, Any] = field(default_factory=dict)
    read_order: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    # In the order a writer writes them; the fields a queued segment's .meta.json carries
    # into the manifest.
    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq", "path", "first_ts", "last_ts", "lines", "bytes", "gzip_bytes", "sha256",
        "generation", "generation_reason", "source_end", "redactions", "usage", "usage_carry",
    )  # fmt: skip
    NAMES: ClassVar[frozenset[str]] = frozenset(FIELDS)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Segment:
        """An entry of a checked manifest (Manifest.parse), or a record of this process."""
        counts = data.get("redactions")
        return cls(
            seq=data["seq"],
            path=data["path"],
            first_ts=stored_number(data.get("first_ts")),
            last_ts=stored_number(data.get("last_ts")),
            lines=stored_whole(data.get("lines")),
            bytes=stored_whole(data.get("bytes")),
            gzip_bytes=stored_whole(data.get("gzip_bytes")),
            sha256=stored_digest(data.get("sha256")),
            generation=or_default(stored_whole(data.get("generation")), 1),
            generation_reason=stored_text(data.get("generation_reason")),
            source_end=stored_whole(data.get("source_end")),
            redactions=(
                {k: v for k, v in counts.items() if isinstance(v, int)}
                if isinstance(counts, dict)
                else None
            ),
            usage=stored_figures(data.get("usage")),
            usage_carry=data["usage_carry"] if isinstance(data.get("usage_carry"), dict) else None,
            extra=unknown_fields(data, cls.NAMES),
            read_order=tuple(data),
        )

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Segment:
        """The manifest entry of a queued segment, from its .meta.json (which carries more:
        its checkpoint, its source, when it was queued)."""
        return cls.from_json({k: meta[k] for k in cls.FIELDS if meta.get(k) is not None})

    def to_json(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.FIELDS}
        return json_object(values, frozenset(), self.extra, self.read_order)

    @property
    def gzipped(self) -> bool:
        return self.path.endswith(".gz")


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """A compaction line (`checkpoints[]`, and the checkpoint's own objects): the last
    line of segment `seq`, which holds `line_idx` lines up to and including it."""

    id: str  # the compaction's time (UTC) and seq: ids sort in time order
    label: str | None = None
    seq: int
    line_idx: int
    git: str | None = None  # a short commit or a branch, when known
    ts: float | None = None  # whole epoch seconds
    extra: dict[str, Any] = field(default_factory=dict)
    read_order: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    FIELDS: ClassVar[tuple[str, ...]] = ("id", "label", "seq", "line_idx", "git", "ts")
    NAMES: ClassVar[frozenset[str]] = frozenset(FIELDS)
    _ALWAYS: ClassVar[frozenset[str]] = frozenset({"git"})  # written even when unknown

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        """An entry of a checked manifest (Manifest.parse), or a record of this process."""
        return cls(
            id=data["id"],
            label=stored_text(data.get("label")),
            seq=data["seq"],
            line_idx=data["line_idx"],
            git=stored_text(data.get("git")),
            ts=stored_number(data.get("ts")),
            extra=unknown_fields(data, cls.NAMES),
            read_order=tuple(data),
        )

    def to_json(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.FIELDS}
        return json_object(values, self._ALWAYS, self.extra, self.read_order)
