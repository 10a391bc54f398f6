"""The resume state of one session: where reading stopped, saved atomically.

The state and the spooled files are kept consistent by the order of writes
(docs/design.md: the durability protocol): segment bytes are fsynced before the state that
counts them is saved, and a closed segment's `.meta.json` is written before the
state moves on to the next seq, so a kill at any point is repaired at start.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uploader.core.errors import UnreadableState as UnreadableState  # raised here
from uploader.core.fsutil import atomic_write

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
    bytes: int = 0  # in the active segment, as stored (after redaction)
    source_bytes: int = 0  # the source bytes those came from: differs once a secret is redacted
    redactions: dict[str, int] = field(default_factory=dict)  # rule -> secrets replaced in it
    # What the next segment's token count goes on from (agents/usage.py): the last closed
    # segment's `usage_carry`, so that a message split over two counts once.
    usage_carry: dict[str, Any] | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    opened_at: float | None = None  # wall clock of the active segment's first line
    meta: dict[str, Any] = field(default_factory=dict)
    generation_reason: str | None = None  # set until the new generation's first segment closes
    pending_checkpoint: dict[str, Any] | None = None  # a compaction line ends the active segment
    ended: bool = False  # the source was deleted and everything read is spooled
    titled: bool = False  # a closed segment's head held the session's title (agents/titles.py)

    def to_bytes(self) -> builtins.bytes:
        # Saved after every batch of lines: a shallow copy, not asdict()'s deep one.
        data = dict(vars(self))
        data["identity"] = vars(self.identity) if self.identity is not None else None
        data["version"] = STATE_VERSION
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, raw: builtins.bytes) -> ResumeState:
        data = json.loads(raw)
        data.pop("version", None)
        ident = data.pop("identity", None)
        # States saved before redaction existed: stored and source bytes were the same.
        data.setdefault("source_bytes", data.get("bytes", 0))
        state = cls(**data)
        state.identity = SourceIdentity(**ident) if ident else None
        return state


# Appended states before the file is rewritten with the last one alone: it stays small
# (tens of KB) and the rewrite's cost is spread over that many saves.
COMPACT_AFTER = 64
_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


class StateStore:
    """One file per session under the state dir, in JSON lines: the last complete line is
    the session's state.

    A save appends a line and fdatasyncs it: about 70 us of CPU, where writing a temp
    file, fsyncing, renaming it over the old one and fsyncing the folder cost 350 us, the
    biggest cost of a session that grows a line a second. A crash during an append can
    only leave a torn last line, which `load` passes over for the one before it: the
    state as it was before that save, which start-up repairs from like any other. The
    first save of each StateStore, and every COMPACT_AFTER-th, rewrites the file
    atomically with the one line (temp file, fsync, rename, fsync the folder): that drops
    a torn line before anything is appended after it, and bounds the file.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._appended: dict[str, int] = {}  # sid -> lines appended since our last rewrite

    def path(self, sid: str) -> Path:
        return self.root / f"{sid}.json"

    def load(self, sid: str) -> ResumeState | None:
        path = self.path(sid)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return _last_state(raw)
        except ValueError as exc:
            raise UnreadableState(sid, path, str(exc)) from exc

    def save(self, state: ResumeState) -> None:
        path = self.path(state.sid)
        line = state.to_bytes() + b"\n"
        appended = self._appended.pop(state.sid, None)
        if appended is not None and appended < COMPACT_AFTER:
            try:
                _append_synced(path, line)
            except FileNotFoundError:
                pass  # the spool forgot the session meanwhile: written anew below
            else:
                self._appended[state.sid] = appended + 1
                return
        # On any failure above or here, the next save rewrites the file again.
        atomic_write(path, line)
        self._appended[state.sid] = 0


def _append_synced(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if os.write(fd, line) != len(line):
            os.ftruncate(fd, size)  # no torn line for the next append to follow
            raise OSError(errno.ENOSPC, "state not saved: the disk is full", str(path))
        _datasync(fd)
    finally:
        os.close(fd)


def _last_state(raw: builtins.bytes) -> ResumeState:
    """The state in the last line. Only a line without its newline may be torn (by a
    crash during its append): then the line before it is the state. Anything else that
    does not read is damage, and an error."""
    *whole, tail = raw.split(b"\n")
    if tail:  # unterminated: whole but for its newline, or torn; or an earlier version's
        try:
            return ResumeState.from_bytes(tail)
        except (ValueError, TypeError):
            if not whole:
                raise ValueError("no readable state: its only line is cut short") from None
    elif not whole:
        raise ValueError("no readable state: the file is empty")
    try:
        return ResumeState.from_bytes(whole[-1])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"no readable state: {exc}") from exc
