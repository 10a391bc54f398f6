"""Session ids: derived from a source (`--sid auto`) and validated before use as a key."""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

from uploader.core.errors import UsageError

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TOPIC = re.compile(rf"^({_UUID.pattern}-topic-[A-Za-z0-9._\-]+?)\.jsonl")
# Matched whole (fullmatch): `$` would also match before a final newline, so "abc\n"
# would pass.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,127}")


def is_safe_sid(sid: str) -> bool:
    return bool(_SAFE.fullmatch(sid)) and ".." not in sid


def validate_sid(sid: str) -> str:
    """Return sid if it can name a store folder, else a UsageError that says why."""
    if not is_safe_sid(sid):
        raise UsageError(
            f"--sid {sid!r} is not a safe session id",
            "use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(no '/', '..' or control characters), or --sid auto",
        )
    return sid


def sid_from_name(name: str) -> str | None:
    """The session id a file name carries: OpenClaw topic files keep their topic suffix,
    everything else takes the last UUID in the name (Codex, Claude, OpenClaw, pi)."""
    topic = _TOPIC.match(name)
    if topic and is_safe_sid(topic.group(1)):
        return topic.group(1).lower()
    found = _UUID.findall(name)
    return found[-1].lower() if found else None


def stable_sid(path: Path) -> str:
    """Last resort: the same id every time for this host and absolute path."""
    key = f"{socket.gethostname()}:{path.absolute()}".encode()
    return "h-" + hashlib.sha256(key).hexdigest()[:24]


def derive_sid(path: Path, first_line_id: str | None) -> str:
    """`--sid auto`: file name UUID, else the id in the first line, else host and path."""
    from_name = sid_from_name(path.name)
    if from_name:
        return from_name
    if first_line_id and is_safe_sid(first_line_id):
        return first_line_id
    return stable_sid(path)
