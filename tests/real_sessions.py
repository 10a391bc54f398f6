"""The real transcripts in tests/fixtures/real (see SOURCES.md there) as sessions of a
store: each under the id and agent the uploader gives it (a Claude Code subagent as
`<parent>-agent-<id>`), for the dashboard's tests, `export`'s and the docs' screenshots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from session_factory import write_session

from uploader.storage.sessionid import auto_sid
from uploader.stores.base import Store

REAL = Path(__file__).parent / "fixtures" / "real"


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


#: One session of each agent, for screenshots: (agent, a prefix of its id).
SHOWCASE = {
    "codex": "019e1625",
    "claude": "258c7280-ae70-4798-800f-63464d01a85d",
    "openclaw": "f967d602",
    "pi": "5fd1e58c",
}
