"""File events for tailed files, with a real watchdog observer on real files.

A quiet file keeps its folder's watch from one step to the next (scheduling one costs a
thread); a busy file lets it go (its events would cost more than polling); a folder's
watch is shared by its files. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from watchdog.observers import Observer

from uploader.stores.local import LocalStore
from uploader.write.pipeline import Pipeline, StepResult
from uploader.write.segment import SegmentLimits
from uploader.write.wake import BUSY_EVENTS, FileWaker, FolderWatches
from uploader.write.watch import Watcher
from uploader.write.watch_setup import WatchConfig

WAIT_S = 5.0


def run(body: Callable[[FolderWatches, asyncio.AbstractEventLoop], Awaitable[None]]) -> None:
    async def main() -> None:
        observer = Observer()
        observer.daemon = True
        observer.start()
        try:
            await body(FolderWatches(observer), asyncio.get_running_loop())
        finally:
            observer.stop()
            observer.join(timeout=5)

    asyncio.run(main())


def append(path: Path) -> None:
    with open(path, "ab") as f:
        f.write(b'{"type":"assistant"}\n')


async def settle(condition: Callable[[], bool]) -> None:
    """Until watchdog's threads have caught up with what the test did (bounded)."""
    for _ in range(int(WAIT_S / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("watchdog did not catch up in time")


def test_a_quiet_file_is_woken_by_each_write_and_keeps_its_folder_watch(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"")

    async def body(watches: FolderWatches, loop: asyncio.AbstractEventLoop) -> None:
        waker = FileWaker(watches, path, loop)
        for _ in range(3):
            waker.event.clear()
            waker.arm()
            append(path)
            assert await waker.wait(WAIT_S), "the write did not wake the waker"
            waker.disarm()
            waker.stepped()
            assert watches.scheduled() == 1
        waker.release()
        assert watches.scheduled() == 0

    run(body)


def test_a_busy_file_lets_its_watch_go_and_takes_it_again_when_it_waits(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"")

    async def body(watches: FolderWatches, loop: asyncio.AbstractEventLoop) -> None:
        waker = FileWaker(watches, path, loop)
        waker.arm()
        append(path)
        assert await waker.wait(WAIT_S)
        waker.disarm()
        waker.stepped()
        assert watches.scheduled() == 1, "one write is not busy"
        waker.event.clear()
        # As watchdog's thread reports a busy file between two steps (real events can be
        # merged by inotify and by watchdog's queue when its threads fall behind).
        for _ in range(BUSY_EVENTS):
            waker.notify()
        assert not waker.event.is_set(), "a waker that is not armed must not wake"
        waker.stepped()
        assert watches.scheduled() == 0, "a busy file kept its folder's watch"
        waker.event.clear()
        waker.arm()  # it went quiet: the pipeline waits again
        assert watches.scheduled() == 1
        append(path)
        assert await waker.wait(WAIT_S), "the watch taken again did not wake the waker"
        waker.release()

    run(body)


def test_files_of_one_folder_share_its_watch_and_wake_only_their_own_waker(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"")
    b.write_bytes(b"")

    async def body(watches: FolderWatches, loop: asyncio.AbstractEventLoop) -> None:
        wa, wb = FileWaker(watches, a, loop), FileWaker(watches, b, loop)
        wa.arm()
        wb.arm()
        assert watches.scheduled() == 1
        append(b)
        assert await wb.wait(WAIT_S)
        assert not wa.event.is_set()
        wb.release()
        assert watches.scheduled() == 1  # still a's
        append(a)
        assert await wa.wait(WAIT_S)
        wa.release()
        assert watches.scheduled() == 0

    run(body)


def test_reading_the_file_does_not_wake_its_waker(tmp_path: Path) -> None:
    """Opens and closes are filtered in the kernel: an agent that opens its transcript
    for every line, or a reader, costs no wake-up."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"type":"user"}\n')

    async def body(watches: FolderWatches, loop: asyncio.AbstractEventLoop) -> None:
        waker = FileWaker(watches, path, loop)
        waker.arm()
        for _ in range(5):
            path.read_bytes()
        assert not await waker.wait(0.5), "a read woke the waker"
        waker.event.clear()
        append(path)  # the watch works: a write does wake it
        assert await waker.wait(WAIT_S)
        waker.release()

    run(body)


def test_a_deleted_source_or_a_line_written_in_pieces_costs_ten_steps_a_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source that is gone has news at every look until its grace period ends, and each
    piece of a long line fires an event: neither may make the pipeline step in a loop."""
    steps = 0
    step = Pipeline.step

    def counted(self: Pipeline) -> StepResult:
        nonlocal steps
        steps += 1
        return step(self)

    monkeypatch.setattr(Pipeline, "step", counted)
    sid = "7d3e9a41-5c2b-4e8f-a1d6-3b9c0e72f5a8"
    source = tmp_path / f"{sid}.jsonl"
    source.write_bytes(b'{"type":"user"}\n')
    store = LocalStore(tmp_path / "store")
    config = WatchConfig(source, sid, tmp_path / "spool", None, SegmentLimits())
    watcher = Watcher(config, store)

    async def main() -> None:
        task = asyncio.create_task(watcher.run())
        await settle(lambda: watcher.pipelines.get(sid) is not None)
        await asyncio.sleep(0.3)
        before = steps
        with open(source, "ab") as f:  # 0.5 s of pieces of one line, 5 ms apart
            for _ in range(100):
                f.write(b"x" * 100)
                f.flush()
                await asyncio.sleep(0.005)
            f.write(b"\n")
        assert steps - before <= 12, f"{steps - before} steps for 0.5 s of pieces"
        before = steps
        source.unlink()  # the session ends after the grace period (1 s)
        await asyncio.wait_for(task, timeout=WAIT_S)
        assert steps - before <= 20, f"{steps - before} steps while the source was gone"

    asyncio.run(main())
    assert json.loads(store.get(f"sessions/{sid}/manifest.json"))["closed"] is True
