"""The resume state of one session: where reading stopped, saved atomically.

The state and the spooled files are kept consistent by the order of writes
(DESIGN.md, durability protocol): segment bytes are fsynced before the state that
counts them is saved, and a closed segment's `.meta.json` is written before the
state moves on to the next seq, so a kill at any point is repaired at start.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .fsutil import atomic_write

STATE_VERSION = 1


@dataclass
class SourceIdentity:
    """Device, inode and a hash of the first bytes: how a replaced file is told apart."""

    dev: int
    ino: int
    head_len: int
    head_sha256: str


@dataclass
class ResumeState:
    sid: str
    path: str
    identity: SourceIdentity | None = None
    offset: int = 0  # source bytes already in the spool (closed segments + active)
    generation: int = 1
    seq: int = 1  # seq of the active segment
    lines: int = 0  # in the active segment
    bytes: int = 0  # in the active segment
    first_ts: float | None = None
    last_ts: float | None = None
    opened_at: float | None = None  # wall clock of the active segment's first line
    meta: dict[str, Any] = field(default_factory=dict)
    generation_reason: str | None = None  # set until the new generation's first segment closes
    pending_checkpoint: dict[str, Any] | None = None  # a compaction line ends the active segment
    ended: bool = False  # the source was deleted and everything read is spooled

    def to_bytes(self) -> builtins.bytes:
        data = asdict(self)
        data["version"] = STATE_VERSION
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: builtins.bytes) -> ResumeState:
        data = json.loads(raw)
        data.pop("version", None)
        ident = data.pop("identity", None)
        state = cls(**data)
        state.identity = SourceIdentity(**ident) if ident else None
        return state


class StateStore:
    """One JSON file per session under the state dir."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sid: str) -> Path:
        return self.root / f"{sid}.json"

    def load(self, sid: str) -> ResumeState | None:
        try:
            raw = self.path(sid).read_bytes()
        except FileNotFoundError:
            return None
        return ResumeState.from_bytes(raw)

    def save(self, state: ResumeState) -> None:
        atomic_write(self.path(state.sid), state.to_bytes())
