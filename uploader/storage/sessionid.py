"""Session ids: derived from a source (`--sid auto`) and validated before use as a key.

The one derivation, for `watch --file` and `watch --dir` alike (auto_sid): the id the
file's name carries by its agent's conventions (uploader.agents.sid_from_name), else the
id its first line gives, else a stable id from host and path.
"""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

from uploader import agents
from uploader.core.errors import InvalidSetting

# Matched whole (fullmatch): `$` would also match before a final newline, so "abc\n"
# would pass.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,127}")


def is_safe_sid(sid: str) -> bool:
    return bool(_SAFE.fullmatch(sid)) and ".." not in sid


def validate_sid(sid: str) -> str:
    """Return sid if it can name a store folder, else an InvalidSetting that says why."""
    if not is_safe_sid(sid):
        raise InvalidSetting(
            "sid",
            sid,
            f"{sid!r} is not a safe session id",
            "use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(no '/', '..' or control characters)",
        )
    return sid


def stable_sid(path: Path) -> str:
    """Last resort: the same id every time for this host and absolute path."""
    key = f"{socket.gethostname()}:{path.absolute()}".encode()
    return "h-" + hashlib.sha256(key).hexdigest()[:24]


def derive_sid(path: Path, first_line_id: str | None) -> str:
    """The file name's id, else the id in the first line, else host and path."""
    from_name = agents.sid_from_name(path)
    if from_name and is_safe_sid(from_name):
        return from_name
    if first_line_id and is_safe_sid(first_line_id):
        return first_line_id
    return stable_sid(path)


def auto_sid(path: Path) -> str | None:
    """`--sid auto` for the file at path; None while its name carries no id and its first
    line is not complete yet (ask again when it grows). OSError if it cannot be read.

    The first line is read only when the name is not enough. A Claude Code subagent's
    file gets an id of its own from its path or first line, never its parent's."""
    if agents.sid_from_name(path) is not None:
        return derive_sid(path, None)
    first = agents.read_first_line(path)
    if first is None:
        return None
    return derive_sid(path, agents.read_meta(path, first).first_line_id)
