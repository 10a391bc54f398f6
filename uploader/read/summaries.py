"""A store's sessions (by their manifests' keys) and each one's summary, as the session
list shows it: title, agent, times, size, label, redactions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from uploader import agents
from uploader.storage import manifest as mf
from uploader.storage.manifest import Manifest
from uploader.storage.records import Segment
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import Store

log = logging.getLogger(__name__)


def parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class SessionSummary:
    sid: str
    title: str
    agent: str
    host: str
    created: float | None
    updated: float | None
    lines: int
    bytes: int
    gzip_bytes: int
    segments: int
    checkpoints: int
    generations: int
    closed: bool
    label: str | None = None
    live: bool = False
    first_ts: float | None = None
    last_ts: float | None = None
    redactions: dict[str, int] = field(default_factory=dict)  # rule -> secrets replaced
    # Token usage summed from the segments' records (Manifest.usage); None: not counted.
    usage: dict[str, float] | None = None
    parent: str | None = None  # a subagent's parent session (source.parent)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def agent_name(self) -> str:
        return agents.display_name(self.agent)

    @property
    def redacted(self) -> int:
        """Secrets replaced before upload, over all segments."""
        return sum(self.redactions.values())

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        data["agent_name"] = self.agent_name
        data["redacted"] = self.redacted
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionSummary:
        """A summary as to_json() wrote it (the search index keeps them)."""
        names = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in data.items() if k in names})


def title_of(manifest: Manifest) -> str:
    """The label set by a user, else the agent's own title, else the first user message,
    else the id."""
    for value in (manifest.label, manifest.title, manifest.source.title, manifest.first_message):
        if value and value.strip():
            return " ".join(value.split())
    return manifest.sid


def summarize(manifest: Manifest, *, live: bool = False) -> SessionSummary:
    segments = manifest.segments
    first = [s.first_ts for s in segments if s.first_ts is not None]
    last = [s.last_ts for s in segments if s.last_ts is not None]
    return SessionSummary(
        sid=manifest.sid,
        title=title_of(manifest),
        agent=manifest.source.agent or "unknown",
        host=manifest.source.host or "",
        created=parse_time(manifest.created_at),
        updated=parse_time(manifest.updated_at),
        lines=sum(s.lines or 0 for s in segments),
        bytes=sum(s.bytes or 0 for s in segments),
        gzip_bytes=sum(
            s.gzip_bytes if s.gzip_bytes is not None else s.bytes or 0 for s in segments
        ),
        segments=len(segments),
        checkpoints=len(manifest.checkpoints),
        generations=len({s.generation for s in segments}),
        closed=manifest.closed,
        label=manifest.label,
        live=live,
        first_ts=min(first) if first else None,
        last_ts=max(last) if last else None,
        redactions=redactions_of(segments),
        usage=manifest.usage(),
        parent=_parent_of(manifest),
    )


def _parent_of(manifest: Manifest) -> str | None:
    parent = manifest.source.extra.get("parent")
    return parent if isinstance(parent, str) and parent else None


def redactions_of(segments: Iterable[Segment]) -> dict[str, int]:
    """Secrets replaced per rule, summed over the segments (rule names, never values)."""
    total: dict[str, int] = {}
    for segment in segments:
        for rule, count in (segment.redactions or {}).items():
            if count > 0:
                total[rule] = total.get(rule, 0) + count
    return dict(sorted(total.items()))


_odd_keys: set[str] = set()  # manifests under names no session can have, said once


def list_sids(store: Store) -> Iterator[str]:
    for key in store.list(mf.SESSIONS_PREFIX):
        sid = mf.sid_of_manifest_key(key)
        if sid is not None:
            if is_safe_sid(sid):
                yield sid
            elif key not in _odd_keys:  # a control character, '..': written by no uploader
                _odd_keys.add(key)
                log.warning("%s/%s is not a session's manifest; left out", store.description, key)
