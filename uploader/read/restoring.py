"""Rebuilding a session file from the store (`reload`, and `restore()` of the Python API).

Everything that can fail without touching the disk is settled first: the manifest, the
checkpoint, the generation, whether the target may be written. Then the segments stream
into a temp file beside the target, each checked against its sha256 as it passes; only a
complete, checked, fsynced file is renamed into place. A crash or a damaged segment
leaves the target as it was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from uploader.core.errors import EmptySession, TargetExists, TargetNotAFile, TargetUnwritable
from uploader.core.fsutil import fsync_dir, make_private_dir, private_opener
from uploader.storage.manifest import Manifest
from uploader.storage.reading import Plan, iter_bytes, load_manifest, plan, store_fetch
from uploader.stores.base import Store

#: Called with the number of bytes just written (a progress bar's `update`).
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Restored:
    path: Path
    lines: int
    bytes: int
    generation: int | None
    checkpoint: str | None


def plan_restore(
    store: Store, sid: str, *, checkpoint: str | None = None, generation: int | None = None
) -> tuple[Manifest, Plan]:
    """The manifest and the reading that rebuilds the session (NotFound if either the
    session, the checkpoint or the generation does not exist)."""
    manifest = load_manifest(store, sid)
    reading = plan(manifest, checkpoint=checkpoint, generation=generation)
    if not reading.pieces:  # a source deleted before its first line: nothing to rebuild
        raise EmptySession(sid)
    return manifest, reading


def check_target(target: Path, *, force: bool) -> None:
    """May the file be written? Asked before anything is fetched. Only a regular file is
    ever replaced: not a link (whose target would be left as it was), a device or a pipe."""
    if target.is_symlink() or (target.exists() and not target.is_file()):
        kind = "a link" if target.is_symlink() else "a folder" if target.is_dir() else "not a file"
        raise TargetNotAFile(target, kind)
    if target.exists() and not force:
        raise TargetExists(target)


def write_restore(
    store: Store,
    reading: Plan,
    target: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> Restored:
    check_target(target, force=force)
    size = write_atomically(target, iter_bytes(reading, store_fetch(store, reading.sid)), progress)
    checkpoint = reading.checkpoint.id if reading.checkpoint else None
    return Restored(target, reading.lines, size, reading.generation, checkpoint)


def write_atomically(
    target: Path, chunks: Iterable[bytes], progress: Progress | None = None
) -> int:
    """Write the chunks to `target` through a temp file: the whole file or nothing.
    Folders that had to be made for it are removed again if it fails."""
    made = _make_parents(target.parent)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.restore.tmp")
    try:  # a replaced file keeps its mode; a new one is private: transcripts hold secrets
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o600
    size = 0
    try:
        with open(tmp, "wb", opener=private_opener) as out:
            os.fchmod(out.fileno(), mode)
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(exc, OSError):
            raise _disk_error(target, exc) from exc
        raise
    fsync_dir(target.parent)
    return size


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents, private (0700); the ones created,
    outermost first. Folders that exist keep their modes: they are the user's."""
    try:
        return make_private_dir(folder)
    except OSError as exc:
        raise _disk_error(Path(exc.filename) if exc.filename else folder, exc) from exc


def _disk_error(path: Path, exc: OSError) -> TargetUnwritable:
    return TargetUnwritable(path, str(exc.strerror), full=exc.errno in (errno.ENOSPC, errno.EDQUOT))
