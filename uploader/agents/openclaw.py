"""OpenClaw: `~/.openclaw/agents/<agent id>/sessions/<uuid>.jsonl`, or
`<uuid>-topic-<thread>.jsonl` for a thread of a chat; the line format is pi's
(_session_tree.py).

When a session ends OpenClaw renames its file `<uuid>.jsonl.deleted.<time>` (or `.reset.`,
`.bak.`): the name still carries the id. Its `sessions.json` beside the transcripts lists
the active sessions and their titles (read by write/discovery.py).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

from uploader.agents._session_tree import SessionTree
from uploader.agents.base import UUID_PATTERN, is_uuid, plain_file, plain_folder
from uploader.agents.pi import PI

_TOPIC = re.compile(rf"^({UUID_PATTERN}-topic-[A-Za-z0-9._\-]+?)\.jsonl")
_MAX_SID = 128  # a longer topic id could not name a store folder: the UUID alone does


class OpenClaw(SessionTree):
    name = "openclaw"
    display = "OpenClaw"
    folders_hint = "~/.openclaw/agents/*/sessions"

    def session_folders(self) -> list[Path]:
        return sorted((Path.home() / ".openclaw" / "agents").glob("*/sessions"))

    def owns_path(self, path: PurePath) -> bool:
        return ".openclaw" in path.parts

    def canonical_path(self, source: dict[str, Any], original: PurePath) -> Path | None:
        parts = original.parts
        if len(parts) < 4 or parts[-2] != "sessions" or parts[-4] != "agents":
            return None
        agent_id = plain_folder(parts[-3])
        if agent_id is None or plain_file(original.name) is None:
            return None
        return Path.home() / ".openclaw" / "agents" / agent_id / "sessions" / original.name

    def sid_from_name(self, path: PurePath) -> str | None:
        name = path.name
        topic = _TOPIC.match(name)
        if topic and len(topic.group(1)) <= _MAX_SID and ".." not in topic.group(1):
            return topic.group(1).lower()
        head, dot, _ = name.partition(".jsonl")
        return head.lower() if dot and is_uuid(head) else None

    def is_header(self, obj: dict[str, Any], path: PurePath) -> bool:
        return super().is_header(obj, path) and not PI.is_header(obj, path)


OPENCLAW = OpenClaw()
