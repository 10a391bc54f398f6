"""A session being watched, as a `watch` process leaves it in its spool: the first lines
of claude_lines() in the active segment and the resume state the pipeline keeps for it
(what uploader.write.live.LiveSessions reads). `append` writes one more line as the
engine would; `watching = False` is the watch letting the session go."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.transcripts import claude_lines
from uploader.write.spool import Spool
from uploader.write.state import ResumeState

LIVE_SID = "live-session"


class LiveFixture:
    def __init__(self, root: Path) -> None:
        self.spool = Spool(root / "spool")
        self.spool.prepare()
        self.lines = claude_lines()[:3]
        self.active = self.spool.active_path(LIVE_SID)
        self.active.write_bytes(b"".join(self.lines))
        self.state = ResumeState(sid=LIVE_SID, path="/home/dev/.claude/projects/x/live.jsonl",
                                 lines=3, bytes=self.active.stat().st_size, seq=1,
                                 meta={"agent": "claude"}, first_ts=1773478800.0,
                                 last_ts=time.time())  # fmt: skip
        self.watching = True

    def states(self) -> dict[str, ResumeState]:
        return {LIVE_SID: self.state} if self.watching else {}

    def append(self, line: bytes) -> None:
        with open(self.active, "ab") as f:
            f.write(line)
        self.lines.append(line)
        self.state.lines += 1
        self.state.bytes += len(line)
