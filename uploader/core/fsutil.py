"""Small durable-file helpers: the temp, fsync, rename, fsync-the-directory dance; and
files and folders only their owner can read, whatever the umask.

Everything this program writes (spool, state, manifest cache, a local store, restored
and archived transcripts) holds transcripts, and transcripts hold secrets: files are
created 0600 and folders 0700. A folder that already exists keeps its mode unless the
caller owns it by construction (`tighten`): a user's folder is never changed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside `path` survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_opener(path: str, flags: int) -> int:
    """An `opener` for open(): a file it creates is 0600, whatever the umask (which can
    only take bits away: fchmod sets them exactly). Only for files this program owns: an
    existing file is made 0600 too when opened for writing."""
    fd = os.open(path, flags | os.O_CLOEXEC, PRIVATE_FILE)
    if flags & (os.O_WRONLY | os.O_RDWR):
        with contextlib.suppress(PermissionError):  # another user's file: leave its mode
            os.fchmod(fd, PRIVATE_FILE)
    return fd


def make_private_dir(path: Path, *, tighten: bool = False) -> list[Path]:
    """Create `path` and its missing parents as 0700 folders; the ones created, outermost
    first. An existing folder keeps its mode, unless `tighten` (a folder that is ours by
    its name, inside a folder of ours): then group and others lose their access to it."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    if not folder.is_dir():  # a file where a folder should be: as mkdir says it
        error = errno.EEXIST if folder == path else errno.ENOTDIR
        raise OSError(error, os.strerror(error), str(path if folder == path else missing[-1]))
    made = []
    for each in reversed(missing):
        try:
            each.mkdir(PRIVATE_DIR)
        except FileExistsError:
            if not each.is_dir():
                raise
            continue  # made meanwhile by another process: not ours to change
        os.chmod(each, PRIVATE_DIR)  # exactly 0700 under any umask
        made.append(each)
    if tighten and path not in made:
        with contextlib.suppress(PermissionError):  # not ours after all: leave it
            mode = path.stat().st_mode & 0o7777
            if mode & 0o077:
                os.chmod(path, mode & ~0o077)
    return made


def write_synced(path: Path, data: bytes) -> None:
    """Write a new private file and fsync it (its name is made durable by the caller)."""
    with open(path, "wb", opener=private_opener) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file
    (a private one, whatever mode the old file had)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def copy_synced(source: Path, target: Path) -> None:
    """Copy a file's bytes into a new private file, fsynced, keeping its times (not its
    mode: the copy is private whatever the original's mode)."""
    with open(source, "rb") as src, open(target, "wb", opener=private_opener) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
        st = os.fstat(src.fileno())
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a regular file; a ValueError saying why if it holds more than `limit`
    (a hostile or runaway file is not read into memory) or is no regular file (opening a
    pipe would wait for a writer forever)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("it is not a regular file")
        if st.st_size > limit:  # not read at all (a sparse terabyte)
            raise ValueError(f"it is larger than {limit >> 20} MiB")
        data = f.read(limit + 1)  # it may have grown meanwhile
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit >> 20} MiB")
    return data
