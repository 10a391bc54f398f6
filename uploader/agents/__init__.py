"""The agents: everything agent-uploader knows about each coding agent's files, one module
per agent, and the registry the rest of the program asks.

    codex.py, claude.py, openclaw.py, pi.py   one Agent each: where it keeps its files and
                                              what it names them (session ids), its header
                                              line (metadata), its compaction lines
                                              (checkpoints), its lines as a conversation
    _session_tree.py                          the line format OpenClaw and pi share
    generic.py                                files of no known agent
    base.py                                   the Agent class, SessionMeta, CheckpointMark
    lines.py                                  what is read the same for every agent, on the
                                              hot path: timestamps, the `compact` prefilter,
                                              a file's first line
    entries.py, transcript.py                 lines as conversation entries, plain text
    titles.py                                 a session's title: the agent's own, else its
                                              first real user message
    usage.py                                  a segment's token usage, each API message once
    prices.py, prices.toml                    cost estimates from a price table kept as data

The registry below asks the agents in the order of AGENTS, and the first that answers
wins. Session ids are chosen in storage/sessionid.py from what the agents say here.

May import: core.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

from uploader.agents.base import Agent, CheckpointMark, SessionMeta, source_info
from uploader.agents.claude import CLAUDE
from uploader.agents.codex import CODEX
from uploader.agents.generic import UNKNOWN
from uploader.agents.lines import (
    COMPACT_MARK,
    COMPACTION_VALUES,
    EARLY_LINES,
    FIRST_LINE_LIMIT,
    checkpoint_id,
    first_line_of,
    line_timestamp,
    loads,
    read_first_line,
)
from uploader.agents.openclaw import OPENCLAW
from uploader.agents.pi import PI

__all__ = [
    "AGENTS",
    "COMPACT_MARK",
    "EARLY_LINES",
    "FIRST_LINE_LIMIT",
    "UNKNOWN",
    "Agent",
    "CheckpointMark",
    "SessionMeta",
    "canonical_path",
    "checkpoint_id",
    "checkpoint_of",
    "detect",
    "display_name",
    "display_names",
    "first_line_of",
    "folders_hint",
    "get",
    "line_timestamp",
    "names",
    "read_early_meta",
    "read_first_line",
    "read_meta",
    "recognise",
    "session_folders",
    "sid_from_name",
    "source_info",
]

#: The known agents, in the order they are asked (and listed to users).
AGENTS: tuple[Agent, ...] = (CODEX, CLAUDE, OPENCLAW, PI)
_BY_NAME = {agent.name: agent for agent in AGENTS}


def names() -> list[str]:
    """The known agents' names, in order (`unknown` is not one)."""
    return [agent.name for agent in AGENTS]


def get(name: str) -> Agent | None:
    """The agent of this name; None for `unknown` and any other name."""
    return _BY_NAME.get(name)


def display_name(name: str) -> str:
    agent = _BY_NAME.get(name)
    return agent.display if agent else UNKNOWN.display


def display_names() -> dict[str, str]:
    """name -> what a person calls it, in order."""
    return {agent.name: agent.display for agent in AGENTS}


# -- which agent wrote a file, and what its first line says --------------------------------


def detect(path: PurePath, first_line: bytes | None) -> str:
    """Which agent wrote this file, from its path first, then its first line."""
    return _detect(path, loads(first_line) if first_line else None)


def _detect(path: PurePath, obj: dict[str, Any] | None) -> str:
    for agent in AGENTS:
        if agent.owns_path(path):
            return agent.name
    if obj is not None:
        for agent in AGENTS:
            if agent.is_header(obj, path):
                return agent.name
    return UNKNOWN.name


def read_meta(path: PurePath, first_line: bytes | None) -> SessionMeta:
    """Session metadata from the first line of a source (parsed once)."""
    obj = loads(first_line) if first_line else None
    meta = SessionMeta(agent=_detect(path, obj))
    if obj is not None:
        any(agent.read_meta(obj, path, meta) for agent in AGENTS)
    return meta


def read_early_meta(path: PurePath, head: bytes) -> SessionMeta:
    """Session metadata from the first complete lines of a file (head: its first
    FIRST_LINE_LIMIT bytes or fewer), each field from the first line that carries it.

    Real files do not always open with their header: Claude Code's often start with
    `file-history-snapshot`, `summary` or `queue-operation` lines, which name no folder.
    Only these early lines are parsed, once each. `parsed` is set when nothing more is to
    be learnt: the agent and folder are known, EARLY_LINES lines were read, or the head is
    full; until then the caller asks again as the file grows."""
    objs: list[dict[str, Any]] = []
    pos, complete = 0, 0
    while complete < EARLY_LINES:
        nl = head.find(b"\n", pos, FIRST_LINE_LIMIT)
        if nl < 0:
            break
        obj = _salvage(head[pos:nl])
        if obj is not None:
            objs.append(obj)
        pos, complete = nl + 1, complete + 1
    meta = SessionMeta(agent=_detect_early(path, objs))
    for obj in objs:
        found = SessionMeta()
        if any(agent.read_meta(obj, path, found) for agent in AGENTS):
            for name in ("first_line_id", "git_commit", "git_branch", "cwd", "parent"):
                if getattr(meta, name) is None and getattr(found, name) is not None:
                    setattr(meta, name, getattr(found, name))
        if meta.agent != UNKNOWN.name and meta.cwd and meta.git_branch:
            break
    meta.parsed = (
        (meta.agent != UNKNOWN.name and meta.cwd is not None)
        or complete >= EARLY_LINES
        or len(head) >= FIRST_LINE_LIMIT  # all there will ever be to read
    )
    return meta


def _salvage(line: bytes) -> dict[str, Any] | None:
    """A line's JSON object; a line with stray characters before its `{` (an editor slip
    seen in a real OpenClaw header) is read from its first `{`."""
    obj = loads(line)
    if obj is None and not line.startswith(b"{"):
        brace = line.find(b"{")
        if brace > 0:
            obj = loads(line[brace:])
    return obj


def _detect_early(path: PurePath, objs: list[dict[str, Any]]) -> str:
    """The agent from the path, else the first early line that is a header, else the first
    early line whose shape only one agent writes."""
    for agent in AGENTS:
        if agent.owns_path(path):
            return agent.name
    for obj in objs:
        for agent in AGENTS:
            if agent.is_header(obj, path):
                return agent.name
    for obj in objs:
        found = recognise(obj)
        if found is not None:
            return found.name
    return UNKNOWN.name


def checkpoint_of(line: bytes, meta: SessionMeta, read_at: float) -> CheckpointMark | None:
    """A CheckpointMark when the line is a compaction line of any known format (whichever
    agent the file's path or first line suggested: that is a guess, the line is not)."""
    if not any(value in line for value in COMPACTION_VALUES):
        return None
    obj = loads(line)
    if obj is None:
        return None
    ts = line_timestamp(line) or read_at
    for agent in AGENTS:
        mark = agent.checkpoint_of(obj, meta, ts)
        if mark is not None:
            return mark
    return None


def recognise(obj: dict[str, Any]) -> Agent | None:
    """The agent whose format this parsed line (any line) is in, if one claims it."""
    if not isinstance(obj.get("type"), str):
        return None
    return next((agent for agent in AGENTS if agent.recognises(obj)), None)


def sid_from_name(path: str | PurePath) -> str | None:
    """The session id a file's name (and, for Claude's subagents, its folders) carries by
    its agent's conventions; else the last UUID in the name; else None."""
    path = PurePath(path)
    for agent in (*AGENTS, UNKNOWN):
        sid = agent.sid_from_name(path)
        if sid:
            return sid
    return None


# -- where the files are -------------------------------------------------------------------


def session_folders() -> list[tuple[Agent, Path]]:
    """The agents' own session folders that exist on this machine."""
    return [
        (agent, folder) for agent in AGENTS for folder in agent.session_folders() if folder.is_dir()
    ]


def folders_hint() -> str:
    """The agents' folders as a message to a user names them."""
    return ", ".join(agent.folders_hint for agent in AGENTS)


def canonical_path(source: dict[str, Any]) -> Path | None:
    """The path the session's agent reads it from on this machine, or None if the agent
    has no such place or the manifest's `source` block (as JSON) does not say enough.

    The manifest records the path the file had on the machine that wrote it. Only its last
    parts are reused (the file name, and the project or agent folder), each checked to be
    a plain name: a manifest is data from the store and must not choose where a file goes.
    """
    if not isinstance(source.get("path"), str):
        return None
    name = source.get("agent")
    agent = _BY_NAME.get(name) if isinstance(name, str) else None
    return agent.canonical_path(source, PurePath(source["path"])) if agent else None
