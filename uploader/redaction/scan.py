"""The engine side of `agent-uploader scan`: which files, read in whole-line chunks, and the
secrets each holds (rule, fingerprint, line, column: never the value)."""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from uploader.core.newlines import count_newlines
from uploader.redaction.engine import Redactor

CHUNK = 4 << 20  # whole lines, about this much at a time
# `*.jsonl`, and the copies OpenClaw renames a transcript to when its session ends
# (`<id>.jsonl.deleted.<time>`, `.reset.`, `.bak.`); compressed ones are not text.
_TRANSCRIPT = re.compile(r".*\.jsonl(?:\.(?:deleted|reset|bak)\.[^/]*)?\Z", re.DOTALL)
_COMPRESSED = (".zst", ".gz", ".xz", ".bz2")


@dataclass(frozen=True)
class FileFinding:
    path: Path
    line: int  # 1-based
    column: int  # 1-based byte offset in the line
    rule: str
    fingerprint: str


def is_transcript_name(name: str) -> bool:
    return _TRANSCRIPT.match(name) is not None and not name.endswith(_COMPRESSED)


def transcript_files(
    paths: Iterable[Path], on_error: Callable[[Path, OSError], None]
) -> Iterator[Path]:
    """Each path that is a file, and the transcripts found under each folder (recursively,
    sorted; symlinked folders are not followed). A folder that cannot be listed goes to
    `on_error`, and the walk goes on."""
    for path in paths:
        if not path.is_dir():
            yield path
            continue
        found: list[Path] = []
        for folder, dirs, files in os.walk(path, onerror=functools.partial(_walk_error, on_error)):
            dirs.sort()
            found.extend(Path(folder, name) for name in files if is_transcript_name(name))
        yield from sorted(found)


def _walk_error(on_error: Callable[[Path, OSError], None], exc: OSError) -> None:
    on_error(Path(exc.filename), exc)


def scan_file(path: Path, redactor: Redactor, chunk: int = CHUNK) -> Iterator[FileFinding]:
    """The secrets in one file, read `chunk` bytes of whole lines at a time (a longer line
    is read whole). OSError if it cannot be read, or is not a regular file (a FIFO would
    block the scan)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", buffering=0) as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        line = 0
        pending: list[bytes] = []
        while True:
            block = f.read(chunk)
            if not block:
                if pending:
                    yield from _findings(path, redactor, b"".join(pending), line)
                return
            cut = block.rfind(b"\n") + 1
            if not cut:  # inside a line longer than the chunk
                pending.append(block)
                continue
            data = b"".join([*pending, block[:cut]]) if pending else block[:cut]
            pending = [block[cut:]] if cut < len(block) else []
            yield from _findings(path, redactor, data, line)
            line += count_newlines(data)


def _findings(path: Path, redactor: Redactor, data: bytes, line: int) -> Iterator[FileFinding]:
    for f in redactor.find(data):
        yield FileFinding(path, line + f.line, f.column, f.rule, f.fingerprint)
