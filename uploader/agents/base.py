"""The Agent: everything agent-uploader knows about one agent's files, as one object.

Each agent module (codex, claude, openclaw, pi) defines a subclass and one instance of it;
the package's registry (uploader/agents/__init__.py) asks them in order. The defaults here
are what a file of no known agent gets (generic.py). Also here: the facts read from a
first line (SessionMeta), a compaction line's checkpoint (CheckpointMark), and the checks
that keep a manifest's path from choosing where `reload` writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from uploader.agents.entries import Entry, ParseState

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = re.compile(UUID_PATTERN)
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,254}$")
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9._\-]{1,255}$")
_GIT_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass
class SessionMeta:
    """Facts about a session read from its first line(s); kept in the resume state."""

    agent: str = "unknown"
    first_line_id: str | None = None  # the session id the first line gives this file
    git_commit: str | None = None
    git_branch: str | None = None
    cwd: str | None = None
    title: str | None = None  # from the agent's own index (OpenClaw sessions.json)
    parent: str | None = None  # a subagent's parent session (Claude Code `sessionId`)
    parsed: bool = False  # the first line has been seen (or is too long to parse)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v is not False}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionMeta:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class CheckpointMark:
    """A compaction line found in the stream: what the checkpoint record will say."""

    label: str
    git: str | None
    ts: float


def source_info(meta: SessionMeta, path: str, host: str) -> dict[str, Any]:
    """The manifest's `source` block."""
    info: dict[str, Any] = {"agent": meta.agent, "path": path, "host": host}
    if meta.cwd:
        info["cwd"] = meta.cwd
    if meta.git_branch:
        info["git_branch"] = meta.git_branch
    if meta.git_commit:
        info["git_commit"] = meta.git_commit
    if meta.title:
        info["title"] = meta.title
    if meta.parent:
        info["parent"] = meta.parent
    return info


class Agent:
    """One agent's files. Every method answers for this agent only, and is asked by the
    registry in the agents' order; the defaults say "not mine"."""

    #: The manifest's `source.agent`, `ls --agent`, the dashboard's filter.
    name = "unknown"
    #: What a person calls it.
    display = "unknown"
    #: Where it keeps its files, as a message to a user says it.
    folders_hint = ""
    #: Event types that only repeat or annotate the conversation: `replay` leaves them out.
    quiet_events: frozenset[str] = frozenset()

    # -- where its files are -------------------------------------------------------------

    def session_folders(self) -> list[Path]:
        """Where it keeps session files on this machine (they may not exist)."""
        return []

    def owns_path(self, path: PurePath) -> bool:
        """Is this file one of its by where it lies or how it is named?"""
        return False

    def canonical_path(self, source: dict[str, Any], original: PurePath) -> Path | None:
        """Where `reload` puts a session back so that this agent finds it, from the
        manifest's `source` (original: the path it had where it was written)."""
        return None

    def sid_from_name(self, path: PurePath) -> str | None:
        """The session id its naming conventions put in the file's path."""
        return None

    # -- reading its lines ---------------------------------------------------------------

    def is_header(self, obj: dict[str, Any], path: PurePath) -> bool:
        """Is this parsed first line its session header (says which agent wrote a file)?"""
        return False

    def read_meta(self, obj: dict[str, Any], path: PurePath, meta: SessionMeta) -> bool:
        """Fill meta from a first line of its header's shape; False if it is not."""
        return False

    def recognises(self, obj: dict[str, Any]) -> bool:
        """Is this parsed line (any line, `type` a string) one of its formats? Used to
        show a file of unknown agent as a conversation."""
        return False

    def checkpoint_of(
        self, obj: dict[str, Any], meta: SessionMeta, ts: float
    ) -> CheckpointMark | None:
        """The checkpoint a compaction line of its format makes, else None."""
        return None

    def parse(self, obj: dict[str, Any], index: int, state: ParseState, size: int) -> list[Entry]:
        """The entries of one parsed line (its `type` is a string). Raises on a shape it
        did not foresee: the caller shows such a line raw."""
        raise NotImplementedError(f"{self.name} lines are not parsed")


# -- helpers the agents share --------------------------------------------------------------


def last_uuid(name: str) -> str | None:
    """The last UUID in a file name, lower-cased."""
    found = _UUID.findall(name)
    return found[-1].lower() if found else None


def is_uuid(text: str) -> bool:
    return bool(_UUID.fullmatch(text))


def plain_file(name: str | None) -> str | None:
    """A transcript's file name from a manifest, if it is a plain `*.jsonl` name."""
    if name and _PLAIN.fullmatch(name) and name.endswith(".jsonl"):
        return name
    return None


def plain_folder(name: str | None) -> str | None:
    """A folder name from a manifest, if it is a plain name (never `.` or `..`)."""
    if name and _SAFE_FOLDER.fullmatch(name) and name not in (".", ".."):
        return name
    return None


def short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_git(git: str | None) -> str | None:
    if git and _GIT_SHA.fullmatch(git):
        return git[:7]
    return git
