"""`watch --dir`'s scanner on real folders: what it must notice, and how soon.

The scanner skips work that cannot find anything (folders whose mtime is unchanged,
long-idle files between their turns), so each test checks that the skipping never
hides a change for longer than promised. Time is a clock the test moves.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from uploader.write.discovery import COLD_S, RELIST_S, Filters, Scanner

DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make(path: Path, data: bytes = b'{"type":"user"}\n', *, age_s: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def age(path: Path, age_s: float) -> None:
    then = time.time() - age_s
    os.utime(path, (then, then))


def scans_until(scanner: Scanner, clock: Clock, path: Path, size: int, limit_s: float) -> float:
    """Scan every 2 s (on the test's clock) until `path` is reported changed with `size`;
    the seconds that took. Fails after limit_s."""
    waited = 0.0
    while waited <= limit_s:
        found = scanner.scan()
        if path in found.changed and found.files[path][0] == size:
            return waited
        clock.now += 2.0
        waited += 2.0
    raise AssertionError(f"{path.name} not seen at {size} bytes within {limit_s} s")


def test_first_scan_finds_matching_files_in_every_folder_but_hidden_ones(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    want = {
        make(root / "2026" / "11" / "22" / "rollout-a.jsonl"),
        make(root / "proj" / "b.jsonl"),
    }
    make(root / "proj" / "b.jsonl.lock")
    make(root / "proj" / "c.trajectory.jsonl")
    make(root / "proj" / "notes.txt")
    make(root / ".hidden" / "d.jsonl")
    os.mkfifo(root / "proj" / "pipe.jsonl")
    found = Scanner([root], Filters()).scan()
    assert set(found.files) == want
    assert found.changed == want
    b = root / "proj" / "b.jsonl"
    assert found.files[b] == (16, b.stat().st_mtime_ns)


def test_a_file_written_at_once_is_seen_at_the_next_scan(tmp_path: Path) -> None:
    clock = Clock()
    path = make(tmp_path / "p" / "a.jsonl")
    scanner = Scanner([tmp_path], Filters(), clock=clock)
    scanner.scan()
    clock.now += 2
    assert scanner.scan().changed == set()
    with open(path, "ab") as f:
        f.write(b'{"type":"assistant"}\n')
    clock.now += 2
    assert scans_until(scanner, clock, path, 37, limit_s=0) == 0


def test_a_long_idle_file_that_grows_is_seen_within_cold_s(tmp_path: Path) -> None:
    clock = Clock()
    path = make(tmp_path / "p" / "old.jsonl", age_s=DAY)
    age(path.parent, DAY)
    scanner = Scanner([tmp_path], Filters(), clock=clock)
    assert path in scanner.scan().files
    clock.now += 2
    with open(path, "ab") as f:  # a resumed session
        f.write(b'{"type":"assistant"}\n')
    scans_until(scanner, clock, path, 37, limit_s=COLD_S)


def test_a_new_file_is_found_even_when_its_folder_mtime_did_not_move(tmp_path: Path) -> None:
    """A file created in the same tick of the file system's clock as the last listing
    leaves the folder's mtime as it was."""
    clock = Clock()
    folder = tmp_path / "p"
    make(folder / "a.jsonl")
    scanner = Scanner([tmp_path], Filters(), clock=clock)
    scanner.scan()
    mtime = folder.stat().st_mtime_ns
    new = make(folder / "b.jsonl")
    os.utime(folder, ns=(mtime, mtime))
    clock.now += 2
    assert new in scanner.scan().changed  # the listing was recent: listed again


def test_a_folder_whose_mtime_lies_is_listed_again_within_relist_s(tmp_path: Path) -> None:
    clock = Clock()
    folder = tmp_path / "p"
    make(folder / "a.jsonl", age_s=DAY)
    age(folder, DAY)
    scanner = Scanner([tmp_path], Filters(), clock=clock)
    scanner.scan()
    mtime = folder.stat().st_mtime_ns
    new = make(folder / "b.jsonl")
    os.utime(folder, ns=(mtime, mtime))  # as some network file systems report it
    assert scans_until(scanner, clock, new, 16, limit_s=RELIST_S + 2) > 2  # not at once


def test_a_replaced_file_is_seen_at_the_next_scan_even_when_long_idle(tmp_path: Path) -> None:
    clock = Clock()
    path = make(tmp_path / "p" / "a.jsonl", b"x" * 100 + b"\n", age_s=DAY)
    scanner = Scanner([tmp_path], Filters(), clock=clock)
    scanner.scan()
    clock.now += 2
    path.unlink()
    make(path, b"y" * 50 + b"\n", age_s=DAY / 2)  # the folder's mtime moves
    assert scans_until(scanner, clock, path, 51, limit_s=0) == 0


def test_files_in_new_subfolders_are_found(tmp_path: Path) -> None:
    clock = Clock()
    root = tmp_path / "sessions"
    make(root / "2026" / "11" / "21" / "rollout-a.jsonl", age_s=DAY)
    for folder in (root / "2026" / "11" / "21", root / "2026" / "11", root / "2026", root):
        age(folder, DAY)
    scanner = Scanner([root], Filters(), clock=clock)
    scanner.scan()
    clock.now += 2
    new = make(root / "2026" / "11" / "22" / "rollout-b.jsonl")
    assert new in scanner.scan().changed


def test_deleted_files_and_folders_are_gone_at_the_next_scan(tmp_path: Path) -> None:
    clock = Clock()
    a = make(tmp_path / "p" / "a.jsonl", age_s=DAY)
    b = make(tmp_path / "q" / "b.jsonl", age_s=DAY)
    c = make(tmp_path / "q" / "c.jsonl", age_s=DAY)
    scanner = Scanner([tmp_path], Filters(), clock=clock)
    assert set(scanner.scan().files) == {a, b, c}
    a.unlink()
    b.unlink()
    c.unlink()
    b.parent.rmdir()
    clock.now += 2
    assert scanner.scan().files == {}
    clock.now += 2
    back = make(b)  # and one that comes back is new again
    assert scanner.scan().changed == {back}
