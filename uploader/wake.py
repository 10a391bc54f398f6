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
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver, ObservedWatch


class _Handler(FileSystemEventHandler):
    def __init__(self, waker: FileWaker) -> None:
        self.waker = waker

    def on_any_event(self, event: FileSystemEvent) -> None:
        if self.waker.path in (event.src_path, getattr(event, "dest_path", None)):
            self.waker.loop.call_soon_threadsafe(self.waker.event.set)


class FileWaker:
    def __init__(self, observer: BaseObserver, path: Path, loop: asyncio.AbstractEventLoop):
        self.observer = observer
        self.path = str(path)
        self.folder = str(path.parent)
        self.loop = loop
        self.event = asyncio.Event()
        self._handler = _Handler(self)
        self._watch: ObservedWatch | None = None

    def arm(self) -> None:
        if self._watch is None:
            self._watch = self.observer.schedule(self._handler, self.folder)

    def disarm(self) -> None:
        if self._watch is not None:
            self.observer.unschedule(self._watch)
            self._watch = None

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
