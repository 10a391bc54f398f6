"""A folder on this machine as the store (the default: ~/.agent-uploader/store).

Objects are private files (0600) and the folders made for them private (0700), whatever
the umask: they hold transcripts. A folder that exists already keeps its mode (the root
may be a folder the user chose to share, and its mode is theirs to decide).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from uploader.core.fsutil import atomic_write, fsync_dir, make_private_dir, write_synced
from uploader.stores.base import (
    ObjectNotFound,
    StorageAuthError,
    StorageConflict,
    StorageError,
    StorageUnavailable,
    check_key,
)


def _translate(exc: OSError, what: str) -> StorageError:
    if isinstance(exc, PermissionError):
        return StorageAuthError(f"permission denied: {what}")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN):
        return StorageUnavailable(f"{what}: {exc.strerror}")
    return StorageError(f"{what}: {exc}")


def _create_only(path: Path, data: bytes) -> None:
    """Write a temp file durably, then link it into place: the link fails if the name
    exists, so two writers can never both create it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        write_synced(tmp, data)
        os.link(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().absolute()
        self.description = f"file://{self.root}"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def check(self) -> None:
        try:
            make_private_dir(self.root)
        except OSError as exc:
            raise _translate(exc, f"cannot create store folder {self.root}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageAuthError(f"store folder {self.root} is not writable")

    def put(self, key: str, data: bytes, content_type: str, *, create_only: bool = False) -> None:
        path = self._path(key)
        try:
            make_private_dir(path.parent)
            if create_only:
                _create_only(path, data)
            else:
                atomic_write(path, data)
        except FileExistsError as exc:
            raise StorageConflict(f"{key} already exists") from exc
        except OSError as exc:
            raise _translate(exc, f"writing {path}") from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise _translate(exc, f"reading {path}") from exc

    def list(self, prefix: str) -> Iterator[str]:
        # Walk only the deepest folder the prefix names, then filter by the rest.
        folder, _, _ = prefix.rpartition("/")
        base = self.root / folder if folder else self.root
        if not base.is_dir():
            return iter(())
        keys = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith("."):  # temp files of writes in progress
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def delete(self, keys: Iterable[str]) -> None:
        folders = set()
        for key in keys:
            path = self._path(key)
            folders.add(path.parent)
            with contextlib.suppress(FileNotFoundError):
                try:
                    path.unlink()
                except OSError as exc:
                    if isinstance(exc, FileNotFoundError):
                        raise
                    raise _translate(exc, f"deleting {key}") from exc
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            self._prune(folder)

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, up to the root: as in a bucket, no key, no folder."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or gone): stop here
                return
            folder = folder.parent

    def close(self) -> None:
        pass
