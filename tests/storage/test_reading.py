"""Reading a session back from the store (uploader.storage.reading), as `replay`,
`reload`, the dashboard and the search index do: the bytes of the source at a
checkpoint, of a generation, or a range of lines; and a damaged or missing segment
reported, never read as if whole."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.support.session_factory import write_session
from tests.support.transcripts import CODEX_SID, codex_lines
from uploader.core.errors import (
    CheckpointNotFound,
    DamagedSession,
    GenerationNotFound,
    SessionNotFound,
)
from uploader.storage import manifest as mf
from uploader.storage.reading import (
    SegmentCache,
    cut_lines,
    iter_bytes,
    iter_lines,
    load_manifest,
    plan,
    store_fetch,
)
from uploader.stores.local import LocalStore

SID = "5e1f7a2b-0c3d-4e5f-8a9b-0c1d2e3f4a5b"


def numbered(n: int, start: int = 0) -> list[bytes]:
    return [b'{"n":%d}\n' % i for i in range(start, start + n)]


def read(
    store: LocalStore,
    sid: str,
    *,
    checkpoint: str | None = None,
    generation: int | None = None,
    all_generations: bool = False,
) -> bytes:
    reading = plan(load_manifest(store, sid), checkpoint=checkpoint, generation=generation,
                   all_generations=all_generations)  # fmt: skip
    return b"".join(iter_bytes(reading, store_fetch(store, sid)))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def test_the_whole_session_reads_as_its_source(store: LocalStore) -> None:
    lines = numbered(23)
    write_session(store, SID, lines, seg_lines=5)
    assert read(store, SID) == b"".join(lines)


def test_a_checkpoint_reads_the_source_up_to_its_compaction_line(store: LocalStore) -> None:
    lines = codex_lines()
    write_session(store, CODEX_SID, lines, seg_lines=7)
    manifest = load_manifest(store, CODEX_SID)
    [checkpoint] = manifest.checkpoints
    upto = next(i for i, line in enumerate(lines) if b'"type":"compacted"' in line) + 1
    assert read(store, CODEX_SID, checkpoint="latest") == b"".join(lines[:upto])
    assert read(store, CODEX_SID, checkpoint=checkpoint.id[:6]) == b"".join(lines[:upto])
    with pytest.raises(CheckpointNotFound):
        read(store, CODEX_SID, checkpoint="no-such-checkpoint")


def test_each_generation_reads_alone_the_latest_by_default(store: LocalStore) -> None:
    first, second = numbered(6), numbered(4, start=100)
    write_session(store, SID, first + second, seg_lines=4, generations=[6])
    assert read(store, SID) == b"".join(second)
    assert read(store, SID, generation=1) == b"".join(first)
    assert read(store, SID, all_generations=True) == b"".join(first + second)
    with pytest.raises(GenerationNotFound):
        read(store, SID, generation=3)


def test_a_range_of_lines_across_segments(store: LocalStore) -> None:
    lines = numbered(23)
    write_session(store, SID, lines, seg_lines=5)
    reading = plan(load_manifest(store, SID))
    fetch = store_fetch(store, SID)
    assert list(iter_lines(reading, fetch, 3, 12)) == list(enumerate(lines))[3:12]
    cache = SegmentCache()
    assert list(iter_lines(reading, fetch, 18, 99, cache)) == list(enumerate(lines))[18:]
    assert list(iter_lines(reading, fetch, 18, 99, cache)) == list(enumerate(lines))[18:]


def test_a_damaged_segment_is_reported_not_read(store: LocalStore) -> None:
    write_session(store, SID, numbered(12), seg_lines=5)
    key = mf.object_key(SID, load_manifest(store, SID).segments[1].path)
    store.put(key, gzip.compress(b'{"n":"changed"}\n' * 5), "application/gzip")
    with pytest.raises(DamagedSession) as damaged:
        read(store, SID)
    assert damaged.value.seq == 2


def test_a_missing_segment_or_session_is_reported(store: LocalStore) -> None:
    write_session(store, SID, numbered(12), seg_lines=5)
    store.delete([mf.object_key(SID, load_manifest(store, SID).segments[2].path)])
    with pytest.raises(DamagedSession, match="missing from the store"):
        read(store, SID)
    with pytest.raises(SessionNotFound):
        load_manifest(store, "no-such-session")


def test_cut_lines_takes_whole_lines_only() -> None:
    data = b"a\nbb\nccc"
    assert [cut_lines(data, n) for n in range(4)] == [b"", b"a\n", b"a\nbb\n", data]
