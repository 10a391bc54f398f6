"""Finding session files in folders (`watch --dir`), and what the agents' folders say.

A scan walks the folders and stats the matching files, skipping what cannot have changed
(see Scanner): at a thousand files it costs well under a millisecond, so polling every
couple of seconds finds new files and wakes idle ones without a file handle, a thread or
an inotify watch per file.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import random
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from uploader.core import safejson
from uploader.core.fsutil import read_capped
from uploader.storage.sessionid import is_safe_sid

log = logging.getLogger(__name__)

DEFAULT_INCLUDE = ("*.jsonl",)
# Lock files and OpenClaw's trajectories are not transcripts.
DEFAULT_EXCLUDE = ("*.lock", "*.trajectory.jsonl")
MAX_INDEX = 64 << 20  # an OpenClaw sessions.json larger than this is not read
# OpenClaw renames a transcript when its session ends: `<id>.jsonl.deleted.<time>`.
ENDED_SUFFIX = re.compile(r"\.(deleted|reset|bak)\.[^/]*\Z")


class Filters:
    """--include / --exclude: globs on a file's name, or on its path below the folder."""

    def __init__(
        self, include: tuple[str, ...] = DEFAULT_INCLUDE, exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    ) -> None:
        self.include, self.exclude = include, exclude
        # Compiled once: a scan matches every file of every folder, every couple of seconds.
        self._include, self._exclude = _compile(include), _compile(exclude)
        self._by_path = any("/" in g for g in include + exclude)

    def matches(self, name: str, relative: str) -> bool:
        names = (name, relative) if self._by_path else (name,)
        return any(self._include.match(n) for n in names) and not any(
            self._exclude.match(n) for n in names
        )


def _compile(globs: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs) or "(?!)")


@dataclass
class Scan:
    """What a scan saw: the matching files (path -> (size, mtime in ns)), those of them
    that are new or changed since the last scan, and the folders that hold an OpenClaw
    sessions.json."""

    files: dict[Path, tuple[int, int]]
    indexed: list[Path]
    changed: set[Path] = field(default_factory=set)


#: path -> (size, mtime in ns)
Seen = dict[Path, tuple[int, int]]

# A folder whose mtime is this recent when it is listed is listed again at the next scan:
# a file created in the same tick of the file system's clock would not change its mtime.
RACY_S = 2.0
RELIST_S = 60.0  # every folder is listed again this often anyway (odd file systems)
WARM_S = 600.0  # a file changed this recently is statted at every scan
COLD_S = 30.0  # any other file about this often: a resumed old session waits that long


@dataclass
class _Listing:
    """One folder as it was last listed."""

    mtime_ns: int
    listed_at: float
    subfolders: list[tuple[str, str]]  # (path, path below the root, ending in /)
    files: list[Path]  # the matching files
    indexed: bool  # holds a sessions.json


class Scanner:
    """Finds the session files under some folders and notices them change, cheaply enough
    to run every couple of seconds over thousands of files (`watch --dir`).

    A folder is listed again only when its mtime says a file was created, renamed or
    deleted in it. A file is statted at every scan while it is warm (changed in the last
    WARM_S), else about every COLD_S: a thousand old sessions cost a few dozen stats a
    scan, not a thousand, and one that grows again is noticed within COLD_S.
    """

    def __init__(
        self,
        roots: list[Path],
        filters: Filters,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.roots = roots
        self.filters = filters
        self.clock = clock
        self._listings: dict[str, _Listing] = {}
        self._stamps: Seen = {}
        self._next_stat: dict[Path, float] = {}  # when a cold file is statted again

    def scan(self) -> Scan:
        """Every matching regular file under the roots (hidden folders aside), with its
        size and mtime as last statted."""
        now = self.clock()
        found = Scan({}, [])
        listings: dict[str, _Listing] = {}
        for root in self.roots:
            stack = [(str(root), "")]
            while stack:
                folder, relative = stack.pop()
                listing = self._list(folder, relative, now)
                if listing is None:
                    continue
                listings[folder] = listing
                stack.extend(listing.subfolders)
                if listing.indexed:
                    found.indexed.append(Path(folder))
                # In a folder listed again, every file is statted: one may have been
                # replaced by another of the same name.
                relisted = listing.listed_at == now
                for path in listing.files:
                    self._stamp(path, now, found, due=relisted)
        if any(listings.get(f) is not old for f, old in self._listings.items()):
            # Some folder was listed again or is gone: forget the files that are gone.
            self._next_stat = {p: t for p, t in self._next_stat.items() if p in found.files}
        self._listings = listings
        self._stamps = found.files
        return found

    def _list(self, folder: str, relative: str, now: float) -> _Listing | None:
        """The folder's listing: the last one while its mtime says nothing changed (a new
        one has listed_at == now)."""
        last = self._listings.get(folder)
        try:
            mtime_ns = os.stat(folder).st_mtime_ns
        except (FileNotFoundError, NotADirectoryError):  # gone meanwhile
            return None
        except OSError:  # not readable now: what it held is still there
            return last
        if (
            last is not None
            and last.mtime_ns == mtime_ns
            and last.listed_at - mtime_ns / 1e9 >= RACY_S
            and now - last.listed_at < RELIST_S
        ):
            return last
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError:  # out of file handles, say: a folder not listed is not gone
            return last
        listing = _Listing(mtime_ns, now, [], [], False)
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not name.startswith("."):
                        listing.subfolders.append((entry.path, f"{relative}{name}/"))
                    continue
            except OSError:  # gone meanwhile
                continue
            if name == "sessions.json":
                listing.indexed = True
            if self.filters.matches(name, relative + name):
                listing.files.append(Path(entry.path))
        return listing

    def _stamp(self, path: Path, now: float, found: Scan, *, due: bool) -> None:
        """Record the file's (size, mtime): statted now if it is new, warm or due, else
        as it was last time."""
        last = self._stamps.get(path)
        if last is not None and not due and now < self._next_stat.get(path, 0.0):
            found.files[path] = last
            return
        try:
            st = os.stat(path)
        except OSError:  # gone meanwhile
            return
        if not stat.S_ISREG(st.st_mode):  # a pipe would block the reader
            return
        if now - st.st_mtime < WARM_S:
            self._next_stat.pop(path, None)
        else:  # spread over the interval, so that no scan stats them all at once
            self._next_stat[path] = now + COLD_S * (0.5 + random.random() / 2)
        stamp = found.files[path] = (st.st_size, st.st_mtime_ns)
        if stamp != last:
            found.changed.add(path)


def ended_copy(path: Path) -> Path | None:
    """The file an agent renamed `path` to when its session ended, if any (compressed
    copies are not read: their bytes are not the transcript's)."""
    with contextlib.suppress(OSError):
        for sibling in path.parent.iterdir():
            rest = sibling.name[len(path.name) :]
            if (
                sibling.name.startswith(path.name)
                and ENDED_SUFFIX.match(rest)
                and not sibling.name.endswith(".zst")
            ):
                return sibling
    return None


@dataclass(frozen=True)
class OpenClawIndex:
    """What an OpenClaw `sessions.json` says: the active session ids and their titles."""

    active: frozenset[str]
    titles: dict[str, str]

    # A topic transcript (`<id>-topic-<thread>`) belongs to the session `<id>` lists.
    def is_active(self, sid: str) -> bool:
        return sid in self.active or sid[:36] in self.active

    def title_of(self, sid: str) -> str | None:
        return self.titles.get(sid) or self.titles.get(sid[:36])


def read_sessions_json(folder: Path) -> OpenClawIndex | None:
    """The `sessions.json` beside OpenClaw transcripts, or None if there is none, or it
    is being rewritten (the next scan reads it again), or it is not an index at all (too
    large, nested too deeply, NaN, not an object: said in a warning). Either way the
    transcripts beside it are read as usual, only without the index's titles."""
    path = folder / "sessions.json"
    try:
        raw = read_capped(path, MAX_INDEX)
        data = safejson.loads(raw, max_bytes=MAX_INDEX)
    except FileNotFoundError:
        return None
    except safejson.BadJSON as exc:
        if exc.syntax:  # most likely caught half written: read again when it changes
            log.debug("%s not read: %s", path, exc)
        else:
            log.warning("%s cannot be used: %s; its sessions are read without it", path, exc)
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be used: %s; its sessions are read without it", path, exc)
        return None
    if not isinstance(data, dict):
        log.warning("%s cannot be used: not a JSON object; its sessions are read without it", path)
        return None
    active, titles = set(), {}
    for entry in data.values():
        if not isinstance(entry, dict):
            continue
        sid = entry.get("sessionId")
        if not isinstance(sid, str) or not is_safe_sid(sid):
            continue
        active.add(sid)
        for key in ("label", "displayName", "subject"):
            value = entry.get(key)
            if isinstance(value, str) and value.strip():
                titles[sid] = " ".join(value.split())[:200]
                break
    return OpenClawIndex(frozenset(active), titles)
