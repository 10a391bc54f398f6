"""Files of no known agent (`unknown`): what agent-uploader still reads in them.

- The session id: the last UUID in the file name, else the first line's id, else one
  made from host and path (storage/sessionid.py).
- Checkpoints: a top-level `"type":"compacted"` line, with its `message`, `label` and
  `git` (Codex's compaction line read without its `payload`: codex.py reads both).
- Display: each line is shown in the format it is recognised as (transcript.py), else
  as it was written.
"""

from __future__ import annotations

from pathlib import PurePath

from uploader.agents.base import Agent, last_uuid


class Generic(Agent):
    name = "unknown"
    display = "unknown"

    def sid_from_name(self, path: PurePath) -> str | None:
        return last_uuid(path.name)


UNKNOWN = Generic()
