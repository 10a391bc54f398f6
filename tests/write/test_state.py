"""The resume state file: appended line by line, rewritten now and then, and read back
as the last whole line, whatever a crash left at its end."""

from __future__ import annotations

from pathlib import Path

import pytest

from uploader.write.state import COMPACT_AFTER, ResumeState, SourceIdentity, StateStore

SID = "7d3e9a41-5c2b-4e8f-a1d6-3b9c0e72f5a8"


def state(offset: int) -> ResumeState:
    return ResumeState(
        SID, "/home/dev/s.jsonl", SourceIdentity(1, 2, 4096, "ab" * 32), offset=offset,
        meta={"cwd": "/home/dev", "title": "naïve ✓"}, pending_checkpoint={"line": 3},
    )  # fmt: skip


def test_every_save_reads_back_and_the_file_stays_small(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    for offset in range(COMPACT_AFTER * 3):
        store.save(state(offset))
        assert store.load(SID) == state(offset)
        assert StateStore(tmp_path).load(SID) == state(offset)  # another reader too
    lines = store.path(SID).read_bytes().splitlines()
    assert 1 <= len(lines) <= COMPACT_AFTER + 1


def test_a_torn_last_line_gives_the_state_before_it(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(state(100))
    store.save(state(200))
    whole = state(300).to_bytes() + b"\n"
    for cut in (1, len(whole) // 2, len(whole) - 2):
        torn = tmp_path / "torn.json"
        torn.write_bytes(store.path(SID).read_bytes() + whole[:cut])
        assert StateStore(tmp_path).load("torn") == state(200), f"cut at {cut}"
    # All but the newline is a whole state: its segment bytes were synced before it.
    torn.write_bytes(store.path(SID).read_bytes() + whole[:-1])
    assert StateStore(tmp_path).load("torn") == state(300)


def test_the_first_save_after_a_crash_drops_the_torn_line(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(state(100))
    store.save(state(200))
    with open(store.path(SID), "ab") as f:
        f.write(state(300).to_bytes()[:40])  # the crash
    restarted = StateStore(tmp_path)
    assert restarted.load(SID) == state(200)
    restarted.save(state(250))
    restarted.save(state(260))
    assert (
        restarted.path(SID).read_bytes()
        == state(250).to_bytes() + b"\n" + state(260).to_bytes() + b"\n"
    )
    assert StateStore(tmp_path).load(SID) == state(260)


def test_a_state_file_of_an_earlier_version_is_read(tmp_path: Path) -> None:
    """Earlier versions wrote one JSON document without a newline."""
    (tmp_path / f"{SID}.json").write_bytes(state(42).to_bytes())
    assert StateStore(tmp_path).load(SID) == state(42)


def test_a_state_file_removed_between_saves_is_written_anew(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(state(1))
    store.save(state(2))
    store.path(SID).unlink()  # `delete` made the spool forget the session
    store.save(state(3))
    assert StateStore(tmp_path).load(SID) == state(3)


def test_a_state_file_with_no_whole_line_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    (tmp_path / f"{SID}.json").write_bytes(b'{"sid": "7d3e')
    with pytest.raises(ValueError, match="no readable state"):
        StateStore(tmp_path).load(SID)


def test_a_damaged_whole_line_is_an_error_not_an_older_state(tmp_path: Path) -> None:
    """Only a crash mid-append can leave a bad line, and only as the last, unterminated
    one: a bad line with its newline is damage, which must not pass as a rollback."""
    store = StateStore(tmp_path)
    store.save(state(100))
    with open(store.path(SID), "ab") as f:
        f.write(b'{"sid": "x", "offs\x00\x00et": 1}\n')
    with pytest.raises(ValueError, match="no readable state"):
        StateStore(tmp_path).load(SID)
