"""The real transcripts in tests/fixtures/real (see SOURCES.md there) as sessions of a
store: each under the id and agent the uploader gives it (a Claude Code subagent as
`<parent>-agent-<id>`), for the dashboard's tests, `export`'s and the docs' screenshots."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.session_factory import write_session
from uploader.agents.usage import USAGE_KEYS
from uploader.storage.sessionid import auto_sid
from uploader.stores.base import Store

REAL = Path(__file__).parents[1] / "fixtures" / "real"


@dataclass(frozen=True)
class RealSession:
    sid: str
    agent: str
    path: Path

    def lines(self) -> list[bytes]:
        lines = self.path.read_bytes().splitlines(keepends=True)
        if lines and not lines[-1].endswith(b"\n"):
            lines[-1] += b"\n"
        return lines


def real_sessions() -> list[RealSession]:
    out = []
    for path in sorted(REAL.rglob("*.jsonl")):
        sid = auto_sid(path)
        assert sid is not None, path
        out.append(RealSession(sid, path.relative_to(REAL).parts[0], path))
    return out


def write_real_sessions(store: Store) -> list[RealSession]:
    sessions = real_sessions()
    for s in sessions:
        write_session(store, s.sid, s.lines(), agent=s.agent, path=str(s.path))
    return sessions


# -- what the lines say, read here without the uploader's parsers -----------------------


def objects(s: RealSession) -> Iterator[dict[str, Any]]:
    """Every JSON object of the file, also two written on one line and one after stray
    characters (both are in the real files)."""
    decoder = json.JSONDecoder()
    for raw in s.path.read_bytes().splitlines():
        text = raw.decode("utf-8", "replace")
        pos = text.find("{")
        while 0 <= pos < len(text):
            try:
                obj, end = decoder.raw_decode(text, pos)
            except ValueError:
                break
            if isinstance(obj, dict):
                yield obj
            pos = text.find("{", end)


_CLAUDE = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation_input_tokens": "cache_write",
}
_CODEX = {"input_tokens": "input", "output_tokens": "output", "cached_input_tokens": "cache_read"}
_TREE = {"input": "input", "output": "output", "cacheRead": "cache_read",
         "cacheWrite": "cache_write"}  # fmt: skip


def expected_usage(s: RealSession) -> dict[str, float]:
    """Claude: each (message.id, requestId) once, with its largest figures. Codex: a
    token_count counts only when its cumulative total changed, with the turn's figures.
    OpenClaw and pi: every assistant message's own usage."""
    total: dict[str, float] = dict.fromkeys(USAGE_KEYS, 0)
    claude: dict[tuple[str, str], dict[str, float]] = {}
    codex_total: Any = None
    for obj in objects(s):
        msg: dict[str, Any] = obj["message"] if isinstance(obj.get("message"), dict) else {}
        if s.agent == "claude" and obj.get("type") == "assistant":
            numbers = msg.get("usage")
            if isinstance(numbers, dict):
                key = (str(msg.get("id")), str(obj.get("requestId")))
                best = claude.setdefault(key, {})
                for src, name in _CLAUDE.items():
                    if isinstance(numbers.get(src), int):
                        best[name] = max(best.get(name, 0), numbers[src])
        payload: dict[str, Any] = obj["payload"] if isinstance(obj.get("payload"), dict) else {}
        if s.agent == "codex" and payload.get("type") == "token_count":
            info = payload.get("info") or {}
            if info.get("total_token_usage") not in (None, codex_total):
                codex_total = info["total_token_usage"]
                turn = info.get("last_token_usage") or codex_total
                for src, name in _CODEX.items():
                    total[name] += turn.get(src, 0)
        if s.agent in ("openclaw", "pi") and msg.get("role") == "assistant":
            numbers = msg.get("usage")
            if isinstance(numbers, dict):
                for src, name in _TREE.items():
                    if isinstance(numbers.get(src), int | float):
                        total[name] += numbers[src]
    for figures in claude.values():
        for name, value in figures.items():
            total[name] += value
    return total


#: One session of each agent, for screenshots: (agent, a prefix of its id).
SHOWCASE = {
    "codex": "019e1625",
    "claude": "258c7280-ae70-4798-800f-63464d01a85d",
    "openclaw": "f967d602",
    "pi": "5fd1e58c",
}
