"""What happens to the source, and what the store must show for it.

Real `watch` processes on real files: the source is truncated, renamed and recreated,
deleted, left with a partial line, given a 20 MB line, CRLF endings and invalid UTF-8,
and cut by exact rotation limits. Every test asserts what a user would check: the
bytes of each generation in the store, rebuilt from the manifest (sha256 checked).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import open_url, saved_state, start_cli, store_args, wait_until
from tests.support.storeview import generations, manifest, rebuild, segment_bytes, store_from_url
from uploader.stores import Store

SID = "7d3e9a41-5c2b-4e8f-a1d6-3b9c0e72f5a8"


def line(i: int, text: str = "hello", size: int = 0) -> bytes:
    """One transcript line; `size` pads it to exactly that many bytes (newline included)."""
    head = b'{"timestamp":"2026-03-14T09:%02d:%02d.000Z","type":"response_item","i":%d,' % (
        i // 60 % 60,
        i % 60,
        i,
    )
    body = b'"text":"%s"}\n' % text.encode()
    if size:
        pad = size - len(head) - len(body) - len(b'"pad":"",')
        assert pad >= 0, f"line {i} cannot be {size} bytes"
        return head + b'"pad":"' + b"p" * pad + b'",' + body
    return head + body


def lines(start: int, stop: int, text: str = "hello") -> bytes:
    return b"".join(line(i, text) for i in range(start, stop))


class Watch:
    """`agent-uploader watch` on one source and spool, started and stopped like a user
    does (Ctrl+C), with the resume state readable for waiting on progress."""

    def __init__(self, tmp_path: Path, source: Path, store_url: str, *extra: str) -> None:
        self.spool = tmp_path / "spool"
        self.log = tmp_path / "watch.log"
        self.args = [
            "watch", "--file", str(source), "--store", store_url,
            "--spool-dir", str(self.spool), "--poll-ms", "50", *extra,
        ]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=30)
            self.proc = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        started = self.log_text().count(" watching ")
        self.proc = start_cli(*self.args, log=self.log)
        proc = self.proc
        wait_until(
            lambda: self.log_text().count(" watching ") > started or proc.poll() is not None,
            timeout=30,
            what="watch to start",
        )
        assert proc.poll() is None, self.log_text()

    def state(self) -> dict[str, Any] | None:
        return saved_state(self.spool, SID)

    def wait_read(self, offset: int, generation: int = 1, timeout: float = 30) -> None:
        """Until the spool holds the source up to `offset` in that generation."""

        def done() -> bool:
            st = self.state()
            return st is not None and (st["generation"], st["offset"]) == (generation, offset)

        wait_until(done, timeout=timeout, what=f"offset {offset} of generation {generation}")

    def stop(self, sig: int = signal.SIGINT) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self.proc = None
        assert code == 0, self.log_text()[-4000:]

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code


def endpoint_args(request: pytest.FixtureRequest) -> list[str]:
    return store_args(request)


def open_store(store_url: str, request: pytest.FixtureRequest) -> Store:
    return open_url(request, store_url)


def segments_of(store: Store) -> list[dict[str, Any]]:
    m = manifest(store, SID)
    assert m is not None, "no manifest in the store"
    segments: list[dict[str, Any]] = m["segments"]
    return segments


# -- truncation, replacement, deletion ------------------------------------------------


def test_truncate_and_rewrite_starts_a_new_generation(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    first = lines(0, 30, "first")
    source.write_bytes(first)
    with Watch(tmp_path, source, store_url, *endpoint_args(request), "--seg-lines", "8") as w:
        w.start()
        w.wait_read(len(first))
        # Truncated and rewritten, longer than before and with other first bytes.
        second = lines(100, 150, "second")
        with open(source, "wb") as f:
            f.write(second)
        w.wait_read(len(second), generation=2)
        more = lines(150, 160, "second")
        with open(source, "ab") as f:
            f.write(more)
        second += more
        w.wait_read(len(second), generation=2)
        # Truncated again, this time shorter than what was read.
        third = lines(200, 203, "third")
        with open(source, "wb") as f:
            f.write(third)
        w.wait_read(len(third), generation=3)
        w.stop()
    store = open_store(store_url, request)
    assert generations(store, SID) == {1: first, 2: second, 3: third}
    assert rebuild(store, SID) == third
    segments = segments_of(store)
    gens = [s["generation"] for s in segments]
    assert gens == sorted(gens)  # generations never interleave
    for gen in (2, 3):
        opening = next(s for s in segments if s["generation"] == gen)
        assert "truncated" in opening["generation_reason"]


def test_rename_and_recreate_keeps_both_files_apart(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    old_content = lines(0, 20, "old")
    source.write_bytes(old_content)
    with Watch(tmp_path, source, store_url, *endpoint_args(request), "--seg-lines", "6") as w:
        w.start()
        w.wait_read(len(old_content))
        # The agent rotates its log: mv f f.old, a last few lines still go to the
        # renamed file, then a new file appears at the same path.
        late = lines(20, 25, "late")
        new_content = lines(100, 112, "new")
        with open(source, "ab") as old_file:
            os.rename(source, tmp_path / f"{SID}.jsonl.old")
            old_file.write(late)
            old_file.flush()
            with open(source, "xb") as new_file:
                new_file.write(new_content)
        w.wait_read(len(new_content), generation=2)
        more = lines(112, 130, "new")
        with open(source, "ab") as f:
            f.write(more)
        new_content += more
        w.wait_read(len(new_content), generation=2)
        w.stop()
    store = open_store(store_url, request)
    assert generations(store, SID) == {1: old_content + late, 2: new_content}
    assert rebuild(store, SID) == new_content
    opening = next(s for s in segments_of(store) if s["generation"] == 2)
    assert opening["generation_reason"] == "replaced"


@pytest.mark.parametrize("event", ["truncate", "replace"])
def test_source_changed_while_not_watched(tmp_path: Path, event: str) -> None:
    source = tmp_path / f"{SID}.jsonl"
    store_url = f"file://{tmp_path / 'store'}"
    before = lines(0, 12, "before")
    source.write_bytes(before)
    with Watch(tmp_path, source, store_url) as w:
        w.start()
        w.wait_read(len(before))
        w.stop()
        after = lines(500, 540, "after")  # longer than before: only its identity differs
        if event == "truncate":
            with open(source, "wb") as f:
                f.write(after)
        else:
            os.rename(source, tmp_path / "old.jsonl")
            source.write_bytes(after)
        w.start()
        w.wait_read(len(after), generation=2)
        w.stop()
    store = store_from_url(store_url)
    assert generations(store, SID) == {1: before, 2: after}


def test_deleting_the_source_closes_the_session(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    content = lines(0, 15)
    source.write_bytes(content)
    with Watch(tmp_path, source, store_url, *endpoint_args(request), "--seg-lines", "4") as w:
        w.start()
        w.wait_read(len(content))
        # Lines written right before the delete are read from the still-open file.
        last = lines(15, 19, "last words")
        with open(source, "ab") as f:
            f.write(last)
        content += last
        os.unlink(source)
        assert w.wait_exit(timeout=30) == 0, w.log_text()
    store = open_store(store_url, request)
    m = manifest(store, SID)
    assert m is not None and m["closed"] is True
    assert rebuild(store, SID) == content
    assert list(generations(store, SID)) == [1]
    assert not list((tmp_path / "spool" / "queue").rglob("*.meta.json"))


# -- partial lines ---------------------------------------------------------------------


def test_partial_line_at_exit_is_uploaded_once_when_complete(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    complete = lines(0, 10)
    partial = b'{"type":"response_item","i":10,"text":"cut in'
    source.write_bytes(complete + partial)
    store = open_store(store_url, request)
    with Watch(tmp_path, source, store_url, *endpoint_args(request)) as w:
        w.start()
        w.wait_read(len(complete))  # the same read saw the partial tail
        w.stop()
        assert rebuild(store, SID) == complete

        # Still no newline at the next run: still nothing of it in the store.
        more_partial = b" the middle"
        with open(source, "ab") as f:
            f.write(more_partial)
        w.start()
        w.wait_read(len(complete))
        w.stop()
        assert rebuild(store, SID) == complete

        rest = b' of a sentence"}\n' + lines(11, 14)
        with open(source, "ab") as f:
            f.write(rest)
        whole = source.read_bytes()
        w.start()
        w.wait_read(len(whole))
        w.stop()
    assert rebuild(store, SID) == whole
    finished = partial + more_partial + b' of a sentence"}\n'
    assert whole.count(finished) == 1 and rebuild(store, SID).count(finished) == 1
    for s in segments_of(store):
        assert segment_bytes(store, SID, s).endswith(b"\n")


# -- sizes and bytes -------------------------------------------------------------------


def test_20mb_line_gets_a_segment_of_its_own(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    before = lines(0, 20)
    source.write_bytes(before)
    size = 20 << 20
    prefix = b'{"type":"response_item","payload":{"output":"'
    suffix = b'"}}\n'
    room = size - len(prefix) - len(suffix)
    blob = random.Random(7).randbytes(room // 2 + 1).hex().encode()[:room]
    big = prefix + blob + suffix
    assert len(big) == size
    after = lines(20, 40)
    args = [*endpoint_args(request), "--seg-bytes", "1MiB"]
    with Watch(tmp_path, source, store_url, *args) as w:
        w.start()
        w.wait_read(len(before))
        with open(source, "ab") as f:  # in pieces: the watcher may see it half-written
            for at in range(0, size, 5 << 20):
                f.write(big[at : at + (5 << 20)])
                f.flush()
            f.write(after)
        w.wait_read(len(before) + size + len(after), timeout=60)
        w.stop()
    store = open_store(store_url, request)
    assert rebuild(store, SID) == before + big + after
    segments = segments_of(store)
    [own] = [s for s in segments if s["bytes"] > 1 << 20]
    assert own["lines"] == 1 and own["bytes"] == size
    assert segment_bytes(store, SID, own) == big


CRLF_AND_INVALID_UTF8 = [
    b'\xff\xfe{"type":"session_meta","payload":{"id":"x"}}\r\n',  # invalid first line
    b'{"text":"caf\xc3\xa9 \xf0\x9f\x98\x80"}\r\n',  # valid multi-byte UTF-8, CRLF
    b'{"text":"\xe9t\xe9 in latin-1"}\n',
    b"\r\n",
    b"\n",
    b'{"text":"a bare\rcarriage return"}\n',
    b'{"nul":"\x00","overlong":"\xc0\xaf","surrogate":"\xed\xa0\x80"}\n',
    b'{"type":"compacted","payload":{"message":"\xff\xfe"}}\n',
    b'{"type":"compacted","payload":{"message":""}}\r\n',  # a checkpoint, CRLF ended
    b'{"cut":"\xe2\x82"}\r\n',  # a multi-byte sequence cut short before the CR
    b"\r\r\n",
    b'{"text":"after"}\r\n',
    b"\x80\x81\x82\n",
]


@pytest.mark.parametrize("gzip", ["gzip", "no-gzip"])
def test_crlf_and_invalid_utf8_are_kept_byte_for_byte(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest, gzip: str
) -> None:
    source = tmp_path / f"{SID}.jsonl"
    content = b"".join(CRLF_AND_INVALID_UTF8)
    source.write_bytes(content[:100])  # starts mid-line: the rest arrives while watched
    args = [*endpoint_args(request), "--seg-lines", "3"]
    if gzip == "no-gzip":
        args.append("--no-gzip")
    with Watch(tmp_path, source, store_url, *args) as w:
        w.start()
        with open(source, "ab") as f:
            f.write(content[100:])
        w.wait_read(len(content))
        w.stop()
    store = open_store(store_url, request)
    assert rebuild(store, SID) == content
    segments = segments_of(store)
    assert sum(s["lines"] for s in segments) == len(CRLF_AND_INVALID_UTF8)
    assert all(s["path"].endswith(".jsonl" if gzip == "no-gzip" else ".jsonl.gz") for s in segments)
    m = manifest(store, SID)
    assert m is not None
    # The CRLF-ended compaction line is a checkpoint, and closes its segment.
    index = CRLF_AND_INVALID_UTF8.index(b'{"type":"compacted","payload":{"message":""}}\r\n')
    starts, n = {}, 0
    for s in segments:
        starts[s["seq"]] = n
        n += s["lines"]
    at = [starts[c["seq"]] + c["line_idx"] - 1 for c in m["checkpoints"]]
    assert index in at
    closing = next(s for s in segments if starts[s["seq"]] + s["lines"] - 1 == index)
    assert segment_bytes(store, SID, closing).endswith(CRLF_AND_INVALID_UTF8[index])


# -- rotation limits ---------------------------------------------------------------------


def _split_lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _write_in_bursts(w: Watch, source: Path, parts: list[bytes]) -> bytes:
    """Append each part and wait until it is read: segments stay open across reads."""
    for part in parts:
        with open(source, "ab") as f:
            f.write(part)
        w.wait_read(source.stat().st_size)
    return source.read_bytes()


def test_seg_lines_is_exact(tmp_path: Path) -> None:
    source = tmp_path / f"{SID}.jsonl"
    store_url = f"file://{tmp_path / 'store'}"
    rng = random.Random(11)
    all_lines = [line(i, size=rng.randint(120, 3000)) for i in range(38)]
    source.write_bytes(b"".join(all_lines[:20]))
    with Watch(tmp_path, source, store_url, "--seg-lines", "7", "--seg-bytes", "64MiB") as w:
        w.start()
        w.wait_read(source.stat().st_size)
        content = _write_in_bursts(
            w, source, [b"".join(all_lines[20:23]), all_lines[23], b"".join(all_lines[24:])]
        )
        w.stop()
    store = store_from_url(store_url)
    assert rebuild(store, SID) == content
    assert [s["lines"] for s in segments_of(store)] == [7, 7, 7, 7, 7, 3]


@pytest.mark.parametrize("max_lines", [10_000, 5])
def test_seg_bytes_is_exact(tmp_path: Path, max_lines: int) -> None:
    """No segment is over --seg-bytes unless it is one single line, and none is closed
    early: the next line would not have fitted (or --seg-lines was reached)."""
    max_bytes = 4096
    source = tmp_path / f"{SID}.jsonl"
    store_url = f"file://{tmp_path / 'store'}"
    rng = random.Random(max_lines)
    sizes = [rng.choice((rng.randint(120, 400), rng.randint(400, 3000))) for _ in range(60)]
    sizes[10:13] = [max_bytes, 4000, 96]  # exactly the limit; then exactly filling one
    sizes[30:32] = [max_bytes + 1, 9000]  # oversized lines, one after the other
    sizes[45] = 5000  # oversized with an open segment before it
    all_lines = [line(i, size=size) for i, size in enumerate(sizes)]
    source.write_bytes(b"".join(all_lines[:15]))
    args = ["--seg-bytes", str(max_bytes), "--seg-lines", str(max_lines)]
    with Watch(tmp_path, source, store_url, *args) as w:
        w.start()
        w.wait_read(source.stat().st_size)
        bursts = [b"".join(all_lines[i : i + 9]) for i in range(15, 60, 9)]
        content = _write_in_bursts(w, source, bursts)
        w.stop()
    store = store_from_url(store_url)
    assert rebuild(store, SID) == content
    segments = segments_of(store)
    pieces = [_split_lines(segment_bytes(store, SID, s)) for s in segments]
    assert [p for piece in pieces for p in piece] == all_lines
    for s in segments:
        assert s["bytes"] <= max_bytes or s["lines"] == 1, s
        assert s["lines"] <= max_lines, s
    assert any(s["bytes"] == max_bytes for s in segments)
    for s, following in zip(segments, pieces[1:], strict=False):
        closed_early = s["bytes"] + len(following[0]) <= max_bytes and s["lines"] < max_lines
        assert not closed_early, f"segment {s['seq']} closed before it was full"
