"""Waking a pipeline when its file changes, at a cost that stays low at any write rate.

A folder's watchdog watch stays scheduled while any file in it is tailed: scheduling one
starts an emitter thread with its own inotify instance (about 0.3 ms of CPU and a thread
each time), too much to pay once per line of a file that grows a line a second.

But every inotify event is Python work on watchdog's threads (about 150 us), so a file
written hundreds of times a second must not keep its watch: a waker that sees
BUSY_EVENTS events between two of its pipeline's steps lets the watch go, and the
pipeline, which finds news after every step then, reads every MIN_STEP_INTERVAL_S
without events until the file goes quiet and the watch is taken again.

A waker passes an event on only while it is armed (its pipeline is waiting), and only
the first: one wake-up per step. A write that lands while it is not armed is caught by
`Pipeline.has_news()`, checked right after arming, and polling remains the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from pathlib import Path

from watchdog.events import (
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch

log = logging.getLogger(__name__)

# Events between two steps that make a file "busy": at MIN_STEP_INTERVAL_S = 0.1 that is
# 100 writes a second, where the events cost more than re-scheduling the watch would.
BUSY_EVENTS = 10
# What a tailed file can do that its pipeline must see: grow or shrink, be created,
# renamed or deleted. Filtered in the kernel (the inotify mask), so the opens and closes
# around every append of an agent that opens the file for each line cost nothing.
EVENTS: list[type[FileSystemEvent]] = [
    FileModifiedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileDeletedEvent,
]


class FolderWatches:
    """One watchdog watch per folder, shared by the wakers of the files in it. watchdog
    takes two watches of one folder for the same watch: unscheduling one would silently
    remove the other (and unscheduling the second would raise)."""

    def __init__(self, observer: BaseObserver) -> None:
        self.observer = observer
        # add/remove run on the event loop only; dispatch on watchdog's thread, which holds
        # the observer's lock meanwhile: so never call the observer under this lock.
        self._lock = threading.Lock()
        self._folders: dict[str, tuple[ObservedWatch, set[FileWaker]]] = {}

    def add(self, waker: FileWaker) -> None:
        with self._lock:
            entry = self._folders.get(waker.folder)
            if entry is not None:
                entry[1].add(waker)
                return
        watch = self.observer.schedule(
            _Handler(self, waker.folder), waker.folder, event_filter=EVENTS
        )
        with self._lock:
            self._folders[waker.folder] = (watch, {waker})

    def remove(self, waker: FileWaker) -> None:
        with self._lock:
            entry = self._folders.get(waker.folder)
            if entry is None or waker not in entry[1]:
                return
            entry[1].discard(waker)
            if entry[1]:
                return
            del self._folders[waker.folder]
        with contextlib.suppress(KeyError):  # the observer dropped it already
            self.observer.unschedule(entry[0])

    def scheduled(self) -> int:
        """How many folder watches are scheduled (for tests and metrics)."""
        with self._lock:
            return len(self._folders)

    def dispatch(self, folder: str, paths: tuple[str | None, ...]) -> None:
        with self._lock:
            entry = self._folders.get(folder)
            wakers = list(entry[1]) if entry is not None else []
        for waker in wakers:
            if waker.path in paths:
                waker.notify()


class _Handler(FileSystemEventHandler):
    def __init__(self, watches: FolderWatches, folder: str) -> None:
        self.watches = watches
        self.folder = folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = (_text(event.src_path), _text(getattr(event, "dest_path", None)))
        self.watches.dispatch(self.folder, paths)


def _text(path: str | bytes | None) -> str | None:
    return os.fsdecode(path) if path is not None else None


class FileWaker:
    """The file events of one tailed file, for its pipeline's loop."""

    def __init__(self, watches: FolderWatches, path: Path, loop: asyncio.AbstractEventLoop):
        self.watches = watches
        self.path = str(path)
        self.folder = str(path.parent)
        self.loop = loop
        self.event = asyncio.Event()
        self._watched = False  # registered with the folder's watch
        # Written by the loop and by watchdog's thread; a race costs at most one extra
        # wake-up or one step's worth of counting, never a missed write (has_news).
        self._armed = False
        self._events = 0  # events since the pipeline's last step
        self._unwatchable = False  # the last attempt to watch failed (said once)

    def arm(self) -> None:
        """Pass the next event on: the pipeline is about to wait. Without a watch (every
        file handle or inotify watch taken), polling still finds every write."""
        if not self._watched:
            try:
                self.watches.add(self)
            except OSError as exc:
                if not self._unwatchable:
                    log.warning("%s: no file events (%s); polling instead", self.path, exc)
                self._unwatchable = True
            else:
                self._watched = True
                self._unwatchable = False
        self._armed = True

    def disarm(self) -> None:
        """No wake-ups until the pipeline waits again."""
        self._armed = False

    def stepped(self) -> None:
        """The pipeline took a step: a file that was busy since the last one lets its
        folder's watch go (see the module's docstring)."""
        if self._events >= BUSY_EVENTS:
            self.release()
        self._events = 0

    def release(self) -> None:
        """No more events at all: the file is closed, or too busy to watch."""
        self._armed = False
        if self._watched:
            self._watched = False
            self.watches.remove(self)

    def notify(self) -> None:
        """On watchdog's thread: the file changed."""
        self._events += 1
        if self._armed:
            self._armed = False
            self.loop.call_soon_threadsafe(self.event.set)

    async def wait(self, timeout: float) -> bool:
        """Until the file changes, `set()` is called, or `timeout` seconds; True unless
        it timed out. Cheaper than asyncio.wait_for: no task per wait."""
        if self.event.is_set():
            return True
        timer = self.loop.call_later(timeout, self._time_out)
        self._timed_out = False
        try:
            await self.event.wait()
        finally:
            timer.cancel()
        return not self._timed_out

    def _time_out(self) -> None:
        self._timed_out = True
        self.event.set()

    def set(self) -> None:
        self.event.set()
