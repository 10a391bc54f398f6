"""Waking a pipeline when its file changes: once per step, not once per write.

watchdog turns every inotify event into Python work on three threads (about 150 us
per event here), so an agent writing 1,000 lines a second would cost 15% of a core
in events alone. A FileWaker unschedules its watch as soon as it fires, and the
pipeline re-arms it before waiting again: one event per step at any write rate.
A write that lands while the watch is off is caught by `Pipeline.has_news()`,
checked right after re-arming, and polling remains the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver, ObservedWatch


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
        watch = self.observer.schedule(_Handler(self, waker.folder), waker.folder)
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

    def dispatch(self, folder: str, paths: tuple[str | None, ...]) -> None:
        with self._lock:
            entry = self._folders.get(folder)
            wakers = list(entry[1]) if entry is not None else []
        for waker in wakers:
            if waker.path in paths:
                waker.loop.call_soon_threadsafe(waker.event.set)


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
    def __init__(self, watches: FolderWatches, path: Path, loop: asyncio.AbstractEventLoop):
        self.watches = watches
        self.path = str(path)
        self.folder = str(path.parent)
        self.loop = loop
        self.event = asyncio.Event()
        self._armed = False

    def arm(self) -> None:
        if not self._armed:
            self.watches.add(self)
            self._armed = True

    def disarm(self) -> None:
        if self._armed:
            self._armed = False
            self.watches.remove(self)

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
