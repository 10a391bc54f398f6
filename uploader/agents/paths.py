"""Where each agent keeps its session files (docs/formats.md), so that `reload` without `--to`
puts a session back where its agent will find it.

The manifest records the path the file had on the machine that wrote it. Only its last
parts are reused (the file name, and the project or agent folder), each checked to be a
plain name: a manifest is data from the store and must not choose where a file goes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePath
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,254}$")
_CODEX_NAME = re.compile(r"^rollout-(\d{4})-(\d\d)-(\d\d)T[\w\-.]*\.jsonl$")
_SAFE_FOLDER = re.compile(r"^[A-Za-z0-9._\-]{1,255}$")


def _plain(name: str | None) -> str | None:
    if name and _PLAIN.fullmatch(name) and name.endswith(".jsonl"):
        return name
    return None


def _folder(name: str | None) -> str | None:
    if name and _SAFE_FOLDER.fullmatch(name) and name not in (".", ".."):
        return name
    return None


def claude_project(cwd: str) -> str:
    """Claude Code's folder for a working directory: every non-alphanumeric becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or "~/.codex").expanduser()


def canonical_path(manifest: dict[str, Any]) -> Path | None:
    """The path the session's agent reads it from on this machine, or None if the agent
    has no such place or the manifest does not say enough."""
    source = manifest.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("path"), str):
        return None
    original = PurePath(source["path"])
    name = original.name
    agent = source.get("agent")
    home = Path.home()
    if agent == "codex":
        found = _CODEX_NAME.fullmatch(name)
        if found is None:
            return None
        year, month, day = found.groups()
        return codex_home() / "sessions" / year / month / day / name
    if agent == "claude":
        cwd = source.get("cwd")
        project = _folder(claude_project(cwd) if isinstance(cwd, str) else original.parent.name)
        if project is None or _plain(name) is None:
            return None
        return home / ".claude" / "projects" / project / name
    if agent == "openclaw":
        parts = original.parts
        if len(parts) < 4 or parts[-2] != "sessions" or parts[-4] != "agents":
            return None
        agent_id = _folder(parts[-3])
        if agent_id is None or _plain(name) is None:
            return None
        return home / ".openclaw" / "agents" / agent_id / "sessions" / name
    if agent == "pi":
        folder = _folder(original.parent.name)
        if folder is None or not folder.startswith("--") or _plain(name) is None:
            return None
        return home / ".pi" / "agent" / "sessions" / folder / name
    return None
