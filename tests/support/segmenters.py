"""Segmenters over a spool in a test's temp dir (tests/write/conftest.py closes them after
each test), the lines they are fed, and what they queued."""

from __future__ import annotations

import gzip
from pathlib import Path

from uploader.write.segment import Segmenter, SegmentLimits
from uploader.write.spool import Spool
from uploader.write.state import ResumeState, StateStore

SID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"

_open: list[Segmenter] = []


def make(tmp_path: Path, **limits: int | None) -> Segmenter:
    """A Segmenter of session SID over tmp_path/spool, resumed from the state a segmenter
    made before it in the same folder left, as a restarted watch resumes."""
    spool = Spool(tmp_path / "spool")
    spool.prepare()
    states = StateStore(spool.state_dir)
    state = states.load(SID) or ResumeState(SID, str(tmp_path / "src.jsonl"))
    seg = Segmenter(spool, states, state, SegmentLimits(**limits))  # type: ignore[arg-type]
    seg.recover()
    _open.append(seg)
    return seg


def close_all() -> None:
    while _open:
        _open.pop().close()


def queued(seg: Segmenter) -> list[tuple[dict[str, object], bytes]]:
    """The queued segments of SID: each one's meta and its uncompressed bytes."""
    out = []
    for item in seg.spool.pending(SID):
        raw = item.data_path.read_bytes()
        out.append((item.meta, gzip.decompress(raw) if item.data_path.suffix == ".gz" else raw))
    return out


def lines(n: int, width: int = 10, start: int = 0) -> bytes:
    """n numbered lines of `width` bytes each, newline included."""
    return b"".join(b"%0*d\n" % (width - 1, i) for i in range(start, start + n))
