"""Finding session files in folders (`watch --dir`), and what the agents' folders say.

A scan walks the folders and stats the matching files: at a few thousand files it costs
a few milliseconds, so polling every couple of seconds finds new files and wakes idle
ones without a file handle, a thread or an inotify watch per file.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .agentpaths import codex_home
from .sessionid import is_safe_sid

log = logging.getLogger(__name__)

DEFAULT_INCLUDE = ("*.jsonl",)
# Lock files and OpenClaw's trajectories are not transcripts.
DEFAULT_EXCLUDE = ("*.lock", "*.trajectory.jsonl")
# OpenClaw renames a transcript when its session ends: `<id>.jsonl.deleted.<time>`.
ENDED_SUFFIX = re.compile(r"\.(deleted|reset|bak)\.[^/]*$")


def agent_folders() -> list[tuple[str, Path]]:
    """The agents' own session folders that exist on this machine."""
    home = Path.home()
    candidates = [
        ("Codex", codex_home() / "sessions"),
        ("Claude Code", home / ".claude" / "projects"),
        *(
            ("OpenClaw", folder)
            for folder in sorted((home / ".openclaw" / "agents").glob("*/sessions"))
        ),
        ("pi", home / ".pi" / "agent" / "sessions"),
    ]
    return [(agent, path) for agent, path in candidates if path.is_dir()]


class Filters:
    """--include / --exclude: globs on a file's name, or on its path below the folder."""

    def __init__(
        self, include: tuple[str, ...] = DEFAULT_INCLUDE, exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    ) -> None:
        self.include, self.exclude = include, exclude
        # Compiled once: a scan matches every file of every folder, every couple of seconds.
        self._include, self._exclude = _compile(include), _compile(exclude)
        self._by_path = any("/" in g for g in include + exclude)

    def matches(self, name: str, relative: str) -> bool:
        names = (name, relative) if self._by_path else (name,)
        return any(self._include.match(n) for n in names) and not any(
            self._exclude.match(n) for n in names
        )


def _compile(globs: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs) or "(?!)")


@dataclass
class Scan:
    """What a scan saw: the matching files (path -> (size, mtime in ns)), and the folders
    that hold an OpenClaw sessions.json."""

    files: dict[Path, tuple[int, int]]
    indexed: list[Path]


#: path -> (size, mtime in ns)
Seen = dict[Path, tuple[int, int]]


def scan(roots: list[Path], filters: Filters) -> Scan:
    """Every matching regular file under the roots (hidden folders aside), with its size
    and mtime: one scandir per folder and one stat per matching file."""
    found = Scan({}, [])
    for root in roots:
        stack = [(str(root), "")]
        while stack:
            folder, relative = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:  # gone meanwhile, or not readable
                continue
            for entry in entries:
                name = entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith("."):
                            stack.append((entry.path, f"{relative}{name}/"))
                        continue
                    if name == "sessions.json":
                        found.indexed.append(Path(folder))
                    if not filters.matches(name, relative + name):
                        continue
                    st = entry.stat()
                except OSError:  # gone meanwhile
                    continue
                if stat.S_ISREG(st.st_mode):  # a pipe would block the reader
                    found.files[Path(entry.path)] = (st.st_size, st.st_mtime_ns)
    return found


def ended_copy(path: Path) -> Path | None:
    """The file an agent renamed `path` to when its session ended, if any (compressed
    copies are not read: their bytes are not the transcript's)."""
    with contextlib.suppress(OSError):
        for sibling in path.parent.iterdir():
            rest = sibling.name[len(path.name) :]
            if (
                sibling.name.startswith(path.name)
                and ENDED_SUFFIX.match(rest)
                and not sibling.name.endswith(".zst")
            ):
                return sibling
    return None


@dataclass(frozen=True)
class OpenClawIndex:
    """What an OpenClaw `sessions.json` says: the active session ids and their titles."""

    active: frozenset[str]
    titles: dict[str, str]

    # A topic transcript (`<id>-topic-<thread>`) belongs to the session `<id>` lists.
    def is_active(self, sid: str) -> bool:
        return sid in self.active or sid[:36] in self.active

    def title_of(self, sid: str) -> str | None:
        return self.titles.get(sid) or self.titles.get(sid[:36])


def read_sessions_json(folder: Path) -> OpenClawIndex | None:
    """The `sessions.json` beside OpenClaw transcripts, or None if there is none (or it
    is being rewritten: the next scan reads it again)."""
    try:
        data = json.loads((folder / "sessions.json").read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.debug("%s/sessions.json not read: %s", folder, exc)
        return None
    if not isinstance(data, dict):
        return None
    active, titles = set(), {}
    for entry in data.values():
        if not isinstance(entry, dict):
            continue
        sid = entry.get("sessionId")
        if not isinstance(sid, str) or not is_safe_sid(sid):
            continue
        active.add(sid)
        for key in ("label", "displayName", "subject"):
            value = entry.get(key)
            if isinstance(value, str) and value.strip():
                titles[sid] = " ".join(value.split())[:200]
                break
    return OpenClawIndex(frozenset(active), titles)
