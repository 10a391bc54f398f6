"""pi-coding-agent: `~/.pi/agent/sessions/--<cwd>--/<time>_<uuid>.jsonl`; the line format
is the session tree it shares with OpenClaw (_session_tree.py).

Outside `~/.pi` a pi file is told from an OpenClaw one by its name alone: both start with
the same `session` header.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

from uploader.agents._session_tree import SessionTree
from uploader.agents.base import last_uuid, plain_file, plain_folder

_NAME = re.compile(r"^\d{4}-\d\d-\d\dT[\w\-.]+_[0-9a-f]{8}-")


class Pi(SessionTree):
    name = "pi"
    display = "pi"
    folders_hint = "~/.pi/agent/sessions"

    def session_folders(self) -> list[Path]:
        return [Path.home() / ".pi" / "agent" / "sessions"]

    def owns_path(self, path: PurePath) -> bool:
        return ".pi" in path.parts

    def canonical_path(self, source: dict[str, Any], original: PurePath) -> Path | None:
        folder = plain_folder(original.parent.name)
        if folder is None or not folder.startswith("--") or plain_file(original.name) is None:
            return None
        return Path.home() / ".pi" / "agent" / "sessions" / folder / original.name

    def sid_from_name(self, path: PurePath) -> str | None:
        return last_uuid(path.name) if _NAME.match(path.name) else None

    def is_header(self, obj: dict[str, Any], path: PurePath) -> bool:
        return super().is_header(obj, path) and bool(_NAME.match(path.name))


PI = Pi()
