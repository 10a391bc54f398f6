"""The kill test: `watch` SIGKILLed at random moments while another process writes.

A writer process appends lines of mixed sizes (a few bytes to ~300 KB, some of them
compaction lines, some written in two pieces) to a session file. Meanwhile a real
`watch` process is started and SIGKILLed again and again: during start-up and
recovery, while it catches up, right after an upload, so kills land mid-append,
mid-rotation and mid-upload. Between kills the store must only ever hold a prefix
of the source, and a segment once in the manifest never changes. After the writer
stops, one clean run drains everything; then the store must hold every line of the
file exactly once, in order, byte for byte.

Redaction is on (the default) and some lines carry secrets, some of them cut in two by
a partial write: what the store holds is compared with the source redacted in one
piece, which also shows that how reads were split never changes the stored bytes.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import open_url, saved_state, start_cli, store_args, wait_until
from tests.support.storeview import generations, manifest, rebuild, segment_bytes
from uploader.redaction import Redactor, default_rules
from uploader.stores import Store

SID = "0f6c2b9e-8d41-4f7a-b3c5-91e2d7a4c608"
SEED = 20260314
KILLS = 24
SEG_LINES = 7
SEG_BYTES = 64 << 10
COMPACTION_PREFIX = b'{"type":"compacted","payload":{"message":""},'

# The writer: a separate process appending to the session file until the stop file
# appears (or a safety bound of time/lines is reached). Deterministic from its seed.
WRITER = r"""
import json, os, random, sys, time

path, seed, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rng = random.Random(seed)
deadline = time.monotonic() + 90
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def write_all(data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def secret():
    # Made up at run time: no token-shaped literal sits in the repository.
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    pick = lambda n: "".join(rng.choice(alnum) for _ in range(n))
    kind = rng.randrange(3)
    if kind == 0:
        return "gh" + "p_" + pick(36)
    if kind == 1:
        base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        return "AK" + "IA" + "".join(rng.choice(base32) for _ in range(16))
    return "postgres://app:" + pick(20) + "@db.internal:5432/app"


def line(i):
    r = rng.random()
    if r < 0.08:
        return b'{"type":"compacted","payload":{"message":""},"i":%d}\n' % i
    if r < 0.30:
        return b'{"i":%d}\n' % i  # a few bytes
    if r < 0.80:
        size = rng.randint(20, 2000)
    elif r < 0.95:
        size = rng.randint(2000, 60000)
    else:
        size = rng.randint(60000, 300000)  # larger than --seg-bytes: a segment of its own
    text = rng.randbytes(size // 2).hex() if rng.random() < 0.5 else "x" * size
    if rng.random() < 0.15:
        text = text[: size // 2] + " " + secret() + " " + text[size // 2 :]
    obj = {"timestamp": "2026-03-14T10:%02d:%02d.000Z" % (i // 60 % 60, i % 60),
           "type": "response_item", "i": i, "payload": {"text": text}}
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


try:
    i = 0
    while not os.path.exists(stop) and time.monotonic() < deadline and i < 700:
        data = line(i)
        if rng.random() < 0.2:  # a partial line is visible for a moment
            cut = rng.randint(1, len(data) - 1)
            write_all(data[:cut])
            time.sleep(0.003)
            write_all(data[cut:])
        else:
            write_all(data)
        i += 1
        time.sleep(rng.choice((0.0, 0.005, 0.02, 0.05)))
finally:
    os.close(fd)
"""


def _poll(check: Callable[[], bool], timeout: float) -> bool:
    """Like wait_until, but only reports whether the condition came (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def _wait_log(log: Path, pos: int, needle: bytes, count: int, timeout: float = 10) -> bool:
    """Until `needle` appeared `count` times in the log after `pos` (bounded)."""
    return _poll(lambda: _log_since(log, pos).count(needle) >= count, timeout)


def _log_since(log: Path, pos: int) -> bytes:
    if not log.exists():
        return b""
    with open(log, "rb") as f:
        f.seek(pos)
        return f.read()


def _state(spool: Path) -> dict[str, Any] | None:
    return saved_state(spool, SID)


def _queued(spool: Path) -> list[Path]:
    return sorted((spool / "queue" / SID).glob("*.meta.json"))


def _read_source(source: Path, start: int, length: int) -> bytes:
    with open(source, "rb") as f:
        f.seek(start)
        return f.read(length)


REDACTOR = Redactor(default_rules())


def redacted(data: bytes) -> bytes:
    return REDACTOR.redact(data).data


class PrefixChecker:
    """Between kills: the store holds a prefix of the (redacted) source, seq without gaps,
    and a segment once listed never changes. Checks only segments it has not seen yet."""

    def __init__(self, store: Store, source: Path) -> None:
        self.store = store
        self.source = source
        self.seen: dict[int, dict[str, Any]] = {}
        self.offset = 0  # source bytes covered by the segments seen so far

    def check(self) -> int:
        m = manifest(self.store, SID)
        if m is None:
            assert not self.seen, "the manifest disappeared"
            return 0
        segments = m["segments"]
        assert [s["seq"] for s in segments] == list(range(1, len(segments) + 1))
        for s in segments:
            old = self.seen.get(s["seq"])
            if old is not None:
                assert s == old, f"segment {s['seq']} changed in the manifest"
                continue
            assert s["generation"] == 1, f"a kill started a new generation: {s}"
            data = segment_bytes(self.store, SID, s)
            end = s["source_end"]
            want = redacted(_read_source(self.source, self.offset, end - self.offset))
            assert data == want, f"segment {s['seq']} is not the next part of the source"
            self.seen[s["seq"]] = s
            self.offset = end
        return len(segments)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(SEED)
    source = tmp_path / f"{SID}.jsonl"
    spool = tmp_path / "spool"
    log = tmp_path / "watch.log"
    stop_file = tmp_path / "stop-writer"
    store = open_url(request, store_url)
    args = [
        "watch", "--file", str(source), "--store", store_url, *store_args(request),
        "--spool-dir", str(spool), "--seg-lines", str(SEG_LINES), "--seg-bytes", "64KiB",
        "--poll-ms", "50", "--log-level", "DEBUG",
    ]  # fmt: skip
    # The file exists before the first start (the CLI refuses a missing file).
    source.write_bytes(b'{"type":"session_meta","payload":{"id":"%s"}}\n' % SID.encode())
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(source), str(SEED), str(stop_file)],
        stderr=subprocess.PIPE,
    )
    checker = PrefixChecker(store, source)
    proc: subprocess.Popen[bytes] | None = None
    kinds: dict[str, int] = {}
    try:
        for _round in range(KILLS):
            pos = log.stat().st_size if log.exists() else 0
            proc = start_cli(*args, log=log)
            r = rng.random()
            if r < 0.15:  # during start-up: imports, spool repair, the store probe
                kind = "start-up"
                time.sleep(rng.uniform(0.0, 0.5))
            elif r < 0.5:  # while catching up with what was written meanwhile
                kind = "catching up"
                _wait_log(log, pos, b" watching ", 1)
                time.sleep(rng.uniform(0.0, 0.6))
            else:  # right after the k-th upload: the next upload or rotation is under way
                kind = "after an upload"
                k = rng.randint(1, 12)
                _wait_log(log, pos, b"uploaded segment", k)
                time.sleep(rng.uniform(0.0, 0.03))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc = None
            kinds[kind] = kinds.get(kind, 0) + 1
            checker.check()
    finally:
        stop_file.touch()
        if proc is not None:
            proc.kill()
            proc.wait(timeout=30)
        _, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err.decode(errors="replace")
    assert sum(kinds.values()) >= 20
    in_store_before = checker.check()

    # The clean run: catch up, upload everything, stop with Ctrl+C.
    want = source.read_bytes()
    assert want.endswith(b"\n")
    pos = log.stat().st_size if log.exists() else 0
    proc = start_cli(*args, log=log)
    try:
        # Ctrl+C before the signal handlers are in place would only test Python's default.
        wait_until(lambda: b" watching " in _log_since(log, pos), timeout=30, what="start")

        def caught_up() -> bool:
            state = _state(spool)
            return state is not None and state["offset"] == len(want) and not _queued(spool)

        wait_until(caught_up, timeout=60, what="the clean run to catch up")
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    tail = _log_since(log, pos).decode(errors="replace")
    assert code == 0, tail[-4000:]
    assert not _queued(spool), "segments left in the spool after a clean stop"

    # What a user checks: the session rebuilt from the store is the file, exactly, but
    # for its secrets.
    stored = rebuild(store, SID)
    assert stored == redacted(want)
    m = manifest(store, SID)
    assert m is not None
    secrets = sum(sum(s.get("redactions", {}).values()) for s in m["segments"])
    assert secrets == stored.count(b"[REDACTED:") > 0
    assert b"ghp_" not in stored and b"postgres://app:" + b"[REDACTED" in stored
    assert list(generations(store, SID)) == [1]
    checker.check()
    m = manifest(store, SID)
    assert m is not None and m["closed"] is False
    segments = m["segments"]
    assert sum(s["lines"] for s in segments) == want.count(b"\n")
    assert segments[-1]["source_end"] == len(want)
    for s in segments:
        assert s["lines"] <= SEG_LINES, s
        assert s["bytes"] <= SEG_BYTES or s["lines"] == 1, s

    # One checkpoint per compaction line, each at the end of its segment.
    lines = want.splitlines(keepends=True)
    compactions = [i for i, line in enumerate(lines) if line.startswith(COMPACTION_PREFIX)]
    assert compactions, "the writer wrote no compaction line"
    starts, first = {}, 0
    for s in segments:
        starts[s["seq"]] = first
        first += s["lines"]
    checkpoints = m["checkpoints"]
    at = [starts[c["seq"]] + c["line_idx"] - 1 for c in checkpoints]
    assert at == compactions
    assert all(
        c["line_idx"] == next(s for s in segments if s["seq"] == c["seq"])["lines"]
        for c in checkpoints
    )
    # No stray objects: every segment and checkpoint object is named by the manifest.
    prefix = f"sessions/{SID}/"
    keys = set(store.list(prefix))
    named = {prefix + s["path"] for s in segments}
    named |= {f"{prefix}checkpoints/{c['id']}.json" for c in checkpoints}
    named |= {f"{prefix}checkpoints/latest.json", f"{prefix}manifest.json"}
    assert keys == named
    print(
        f"{sum(kinds.values())} kills {kinds}; {len(lines)} lines, {len(want)} bytes, "
        f"{len(segments)} segments ({in_store_before} in the store before the clean run), "
        f"{len(checkpoints)} checkpoints"
    )
