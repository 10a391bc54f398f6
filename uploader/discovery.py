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


@dataclass(frozen=True)
class Filters:
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE

    def matches(self, root: Path, path: Path) -> bool:
        """Globs match the file's name, or its path below the watched folder."""
        names = (path.name, path.relative_to(root).as_posix())
        if not any(fnmatch.fnmatch(n, g) for g in self.include for n in names):
            return False
        return not any(fnmatch.fnmatch(n, g) for g in self.exclude for n in names)


#: path -> (size, mtime in ns): what a scan saw.
Seen = dict[Path, tuple[int, int]]


def scan(roots: list[Path], filters: Filters) -> Seen:
    """Every matching regular file under the roots, with its size and mtime."""
    seen: Seen = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            base = Path(folder)
            for name in files:
                path = base / name
                if not filters.matches(root, path):
                    continue
                with contextlib.suppress(OSError):  # gone meanwhile
                    st = path.stat()
                    if stat.S_ISREG(st.st_mode):  # a pipe would block the reader
                        seen[path] = (st.st_size, st.st_mtime_ns)
    return seen


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
