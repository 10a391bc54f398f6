"""One source's pipeline (uploader.write.pipeline): a real file read into a real spool,
checked as the store will get it: the bytes of each generation queued for upload, and
where a new start goes on from."""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.support.session_factory import write_session
from uploader.core.metrics import Metrics
from uploader.storage import manifest as mf
from uploader.storage.manifest import Manifest
from uploader.stores.local import LocalStore
from uploader.write.pipeline import Pipeline
from uploader.write.segment import SegmentLimits
from uploader.write.spool import Spool
from uploader.write.state import StateStore

SID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


def lines(n: int, width: int = 10, start: int = 0) -> bytes:
    return b"".join(b"%0*d\n" % (width - 1, i) for i in range(start, start + n))


def make_spool(tmp_path: Path) -> Spool:
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    return spool


def opened(
    source: Path, spool: Spool, max_lines: int = 4, manifest: Manifest | None = None
) -> Pipeline:
    pipeline = Pipeline(source, SID, spool, StateStore(spool.state_dir),
                        SegmentLimits(max_lines=max_lines), Metrics())  # fmt: skip
    pipeline.open(manifest)
    return pipeline


def generations(spool: Spool) -> dict[int, bytes]:
    """The queued bytes of each generation, segments in seq order."""
    out: dict[int, bytes] = {}
    for item in spool.pending(SID):
        data = gzip.decompress(item.data_path.read_bytes())
        gen = int(item.meta["generation"])
        out[gen] = out.get(gen, b"") + data
    return out


def test_lines_are_queued_whole_and_a_partial_line_waits_for_its_end(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(6) + b"half a li")
    spool = make_spool(tmp_path)
    pipeline = opened(source, spool)
    result = pipeline.step()
    pipeline.finish()
    assert result.appended == len(lines(6)) and not result.ended
    assert generations(spool) == {1: lines(6)}  # the unfinished line stays in the source
    with open(source, "ab") as f:
        f.write(b"ne\n")
    again = opened(source, spool)
    again.step()
    again.finish()
    assert generations(spool) == {1: lines(6) + b"half a line\n"}
    assert [q.seq for q in spool.pending(SID)] == [1, 2, 3]  # 4 lines, 2, then 1


def test_a_new_start_goes_on_where_the_last_stopped(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(5))
    spool = make_spool(tmp_path)
    first = opened(source, spool)
    first.step()
    first.finish()
    with open(source, "ab") as f:
        f.write(lines(3, start=5))
    second = opened(source, spool)
    second.step()
    second.finish()
    assert generations(spool) == {1: lines(8)}  # nothing read twice, nothing skipped


def test_a_truncated_source_starts_a_new_generation(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(6))
    spool = make_spool(tmp_path)
    pipeline = opened(source, spool)
    pipeline.step()
    source.write_bytes(lines(2, start=100))  # shorter than what was read: truncated
    pipeline.step()
    pipeline.finish()
    assert generations(spool) == {1: lines(6), 2: lines(2, start=100)}
    second = [q for q in spool.pending(SID) if q.meta["generation"] == 2]
    assert second[0].meta["generation_reason"] == "truncated"


def test_read_to_end_spools_the_last_unterminated_line_and_ends_the_session(
    tmp_path: Path,
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(5) + b"no newline at the end")
    spool = make_spool(tmp_path)
    pipeline = opened(source, spool)
    result = pipeline.read_to_end()
    pipeline.finish()
    assert result.ended
    assert generations(spool) == {1: source.read_bytes()}
    assert spool.is_ended(SID)
    state = StateStore(spool.state_dir).load(SID)
    assert state is not None and state.ended


def read_over_store_copy(tmp_path: Path, stored: list[bytes]) -> Spool:
    """A six-line source read by a new spool while the store holds `stored` of the same
    session (in two-line segments): the spool, with what the pipeline queued."""
    store = LocalStore(tmp_path / "store")
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(6))
    write_session(store, SID, stored, path=str(source), seg_lines=2)
    manifest = Manifest.parse(store.get(mf.manifest_key(SID)), SID)
    spool = make_spool(tmp_path)
    pipeline = opened(source, spool, manifest=manifest)
    pipeline.step()
    pipeline.finish()
    return spool


def test_a_session_the_store_already_has_goes_on_after_its_segments(tmp_path: Path) -> None:
    """A new spool (another machine, a wiped spool) for a file the store has the first
    lines of: those are not uploaded again, and seq numbers go on from the store's."""
    spool = read_over_store_copy(tmp_path, lines(6).splitlines(keepends=True)[:4])
    queued = spool.pending(SID)
    assert [(q.seq, q.meta["generation"]) for q in queued] == [(3, 1)]
    assert generations(spool) == {1: lines(2, start=4)}


def test_a_file_that_differs_from_the_stores_copy_is_a_new_generation(tmp_path: Path) -> None:
    spool = read_over_store_copy(tmp_path, lines(4, start=50).splitlines(keepends=True))
    queued = spool.pending(SID)
    assert queued[0].seq == 3  # the store's seq numbers are never reused
    assert generations(spool) == {2: lines(6)}  # the whole file, beside the store's copy
    assert queued[0].meta["generation_reason"] == "differs from the store's copy"


def test_a_lost_resume_state_never_reuses_queued_seq_numbers(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    source.write_bytes(lines(10))
    spool = Spool(tmp_path / "spool")
    spool.prepare()

    def pipeline() -> Pipeline:
        p = Pipeline(source, SID, spool, StateStore(spool.state_dir),
                     SegmentLimits(max_lines=4), Metrics())  # fmt: skip
        p.open()
        return p

    first = pipeline()
    first.step()
    first.finish()  # segments 1-3 queued (4 + 4 + 2 lines), none uploaded
    spool.state_dir.joinpath(f"{SID}.json").unlink()  # the state folder was wiped
    second = pipeline()
    second.step()
    second.finish()
    queued = spool.pending(SID)
    assert [(q.seq, q.meta["generation"]) for q in queued] == [
        (1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)
    ]  # fmt: skip
    assert queued[3].meta["generation_reason"] == "resume state lost"
    for gen in (1, 2):
        data = b"".join(gzip.decompress(q.data_path.read_bytes()) for q in queued
                        if q.meta["generation"] == gen)  # fmt: skip
        assert data == source.read_bytes()
