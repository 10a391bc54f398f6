"""Benchmark of the search index (uploader.index, SQLite): indexing throughput, index
size, search latency, and the session list of a large store.

    python bench/bench_index.py [--mb 200] [--copies 10] [--sessions 100000] [--queries 300]

1. **Transcripts.** `--mb` MB of seeded Codex and Claude Code sessions (TranscriptGen
   from tests/support/transcripts.py, the text of real code and prose), written `--copies` times
   under other ids into a local store in the uploader's layout (so the index holds
   `--mb` x `--copies` MB: 200 x 10 is 2 GB).
2. **Indexing** every segment (`Indexer.refresh`, as `agent-uploader index` does):
   MB of transcript per CPU second of this process (`time.process_time`: every thread),
   beside baselines on the same bytes in the same run: gzip -6 (zlib) and the floor of
   reading them (gunzip, sha256 and `json.loads` of every line).
3. **Size** of the index file against the gzipped segments it was made from.
4. **Search latency**: `--queries` searches (common and rare words, two-word phrases,
   prefixes, with and without filters) of 20 hits each: p50, p95, max; beside grepping
   the gunzipped bytes for the same word (what one does without an index) for a few.
5. **Session list** of a store of `--sessions` small sessions: the dashboard's first page
   (`GET /` through the app) from the index, cold and warm, beside the same page listing
   the store without an index; then the store requests a refresh makes after 10 sessions
   changed.

Run by hand, not part of the test suite. Prints a table; --keep keeps the temp dir.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from random import Random
from typing import Any

from harness import UnsyncedStore

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import uploader  # noqa: E402
from tests.support.session_factory import write_session  # noqa: E402
from tests.support.storeview import CountingStore  # noqa: E402
from tests.support.transcripts import MB, Corpus, TranscriptGen  # noqa: E402
from tests.support.uiclient import TestClient  # noqa: E402
from ui.app import UIConfig, create_app  # noqa: E402
from ui.service import Sessions  # noqa: E402
from uploader.index.base import SearchQuery  # noqa: E402
from uploader.index.indexer import Indexer  # noqa: E402
from uploader.index.query import words  # noqa: E402
from uploader.index.sqlite import SqliteIndex  # noqa: E402
from uploader.storage import manifest as mf  # noqa: E402
from uploader.stores.base import Store  # noqa: E402


def row(name: str, value: str, note: str = "") -> None:
    print(f"  {name:<44} {value:>16}  {note}")


# -- 1. transcripts --------------------------------------------------------------------------


def make_store(root: Path, mb: float, copies: int, seed: int) -> tuple[Store, int, int]:
    """(the store, bytes of transcript in it, bytes of its gzipped segments)."""
    store = UnsyncedStore(root)
    corpus = Corpus(Random(seed))
    sessions: list[tuple[str, list[bytes]]] = []
    made, n = 0, 0
    while made < mb * MB:
        gen = TranscriptGen(seed + n, corpus)
        lines = list(gen.lines(int(min(20 * MB, mb * MB - made + 1))))
        sessions.append((gen.sid, lines))
        made += sum(map(len, lines))
        n += 1
    raw = packed = 0
    for copy in range(copies):
        for sid, lines in sessions:
            manifest = write_session(store, f"{sid}-{copy}", lines, agent=None, seg_bytes=4 << 20)
            raw += sum(s["bytes"] for s in manifest["segments"])
            packed += sum(s["gzip_bytes"] for s in manifest["segments"])
    return store, raw, packed


def segments(store: Store) -> Iterator[bytes]:
    for key in store.list(mf.SESSIONS_PREFIX):
        if "/segments/" in key:
            yield store.get(key)


# -- 2. indexing -----------------------------------------------------------------------------


def cpu(work: Callable[[], Any]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def read_floor(store: Store) -> None:
    for blob in segments(store):
        data = gzip.decompress(blob)
        hashlib.sha256(data).digest()
        for line in data.splitlines():
            with contextlib.suppress(ValueError):
                json.loads(line)


def gzip6(store: Store) -> None:
    for blob in segments(store):
        zlib.compress(gzip.decompress(blob), 6)


def gunzip_only(store: Store) -> float:
    return cpu(lambda: [gzip.decompress(b) for b in segments(store)])


# -- 4. search -------------------------------------------------------------------------------


def queries(index: SqliteIndex, n: int, seed: int) -> list[SearchQuery]:
    """Words and phrases taken from the indexed text itself: common and rare."""
    rng = Random(seed)
    rows = index._read("SELECT text FROM docs ORDER BY random() LIMIT 2000")
    vocab = Counter(w for r in rows for w in words(r[0]) if len(w) > 3 and not w.isdigit())
    common = [w for w, _ in vocab.most_common(200)]
    rare = [w for w, c in vocab.items() if c == 1] or common
    out: list[SearchQuery] = []
    for i in range(n):
        kind = i % 6
        text = rng.choice(rows)[0]
        ws = [w for w in words(text) if len(w) > 2]
        if kind == 0:
            out.append(SearchQuery(rng.choice(common)))
        elif kind == 1:
            out.append(SearchQuery(rng.choice(rare)))
        elif kind == 2 and len(ws) > 3:
            at = rng.randrange(len(ws) - 1)
            out.append(SearchQuery(f'"{ws[at]} {ws[at + 1]}"'))
        elif kind == 3:
            out.append(SearchQuery(rng.choice(common)[:4] + "*"))
        elif kind == 4:
            out.append(SearchQuery(f"{rng.choice(common)} {rng.choice(rare)}"))
        else:
            out.append(SearchQuery(rng.choice(common), role="user", agent="claude"))
    return out


def grep_store(store: Store, word: str) -> int:
    """Segments holding `word`, found without an index: gunzip each and look."""
    needle = word.strip('"*').encode()
    return sum(needle in gzip.decompress(blob) for blob in segments(store))


def timed(calls: Iterable[Callable[[], Any]]) -> list[float]:
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


# -- 5. the session list ---------------------------------------------------------------------


def many_sessions(root: Path, n: int) -> UnsyncedStore:
    store = UnsyncedStore(root)
    for i in range(n):
        line = {"type": "user", "message": {"role": "user", "content": f"task number {i}"},
                "timestamp": "2026-03-14T09:00:00Z"}  # fmt: skip
        write_session(store, f"s{i:07d}", [json.dumps(line).encode() + b"\n"], agent="claude")
    return store


def first_page(sessions: Sessions) -> float:
    with TestClient(create_app(sessions, UIConfig())) as client:
        started = time.perf_counter()
        response = client.get("/")
        took = time.perf_counter() - started
        assert response.status_code == 200, response.text[:300]
    return took


def list_bench(tmp: Path, n: int) -> None:
    print(f"\nsession list of a store of {n:,} sessions")
    started = time.perf_counter()
    store = many_sessions(tmp / "many", n)
    row("store written", f"{time.perf_counter() - started:.0f} s")
    index = SqliteIndex(tmp / "many.sqlite3")
    started = time.perf_counter()
    Indexer(store, index, workers=8).refresh()
    row("indexed once (every manifest read)", f"{time.perf_counter() - started:.1f} s")
    index.close()

    # A `host` started on the indexed store: its first page, then again.
    def indexed() -> Sessions:  # as a `host` started on the indexed store has it
        return Sessions(store, indexer=Indexer(store, SqliteIndex(tmp / "many.sqlite3")))

    cold = first_page(indexed())
    warm_sessions = indexed()
    warm = timed([lambda: first_page(warm_sessions)] * 10)
    row("first page from the index, new process", f"{cold * 1000:.0f} ms", "target < 200 ms")
    row("first page from the index, p50 / max of 10",
        f"{statistics.median(warm) * 1000:.0f} / {max(warm) * 1000:.0f} ms")  # fmt: skip
    baseline = first_page(Sessions(store))
    row("baseline: the same page listing the store", f"{baseline * 1000:.0f} ms",
        f"{baseline / cold:.0f}x the indexed one")  # fmt: skip

    # Ten sessions change (written as watch writes them, with their change-feed marks).
    for i in range(10):
        path = tmp / f"changed-{i}.jsonl"
        path.write_text(json.dumps({"type": "user", "message": {"role": "user",
                        "content": f"changed {i}"}}) + "\n")  # fmt: skip
        uploader.snapshot(store, path, f"s{i:07d}-new", redact=False)
    counting = CountingStore(store)
    index = SqliteIndex(tmp / "many.sqlite3")
    done = Indexer(counting, index).refresh()
    calls = ", ".join(f"{k} {v}" for k, v in sorted(counting.calls.items()))
    row("refresh after 10 sessions changed", f"{sum(counting.calls.values())} requests", calls)
    row("  sessions read again", str(len(done.sessions)))


# -- the run ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="MB of distinct transcripts")
    parser.add_argument("--copies", type=int, default=2, help="times each is in the store")
    parser.add_argument("--sessions", type=int, default=20_000, help="for the session list")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    try:
        print(f"transcripts: {args.mb:g} MB x {args.copies} copies")
        started = time.perf_counter()
        store, raw, packed = make_store(tmp / "store", args.mb, args.copies, args.seed)
        row("written", f"{raw / MB:,.0f} MB", f"{packed / MB:,.0f} MB gzipped, "
            f"{time.perf_counter() - started:.0f} s")  # fmt: skip

        print("\nindexing (CPU of this process, every thread)")
        index = SqliteIndex(tmp / "index.sqlite3")
        took = cpu(lambda: Indexer(store, index, workers=2).refresh())
        floor = cpu(lambda: read_floor(store))
        zipped = cpu(lambda: gzip6(store)) - gunzip_only(store)
        row("index", f"{raw / MB / took:,.1f} MB/CPU-s", f"{took:.1f} s; target >= 50")
        row("baseline: gunzip + sha256 + json.loads", f"{raw / MB / floor:,.1f} MB/CPU-s",
            f"index costs {took / floor:.1f}x reading")  # fmt: skip
        row("baseline: gzip -6 (zlib)", f"{raw / MB / zipped:,.1f} MB/CPU-s",
            f"index costs {took / zipped:.2f}x gzip -6")  # fmt: skip

        stats = index.stats()
        print("\nsize")
        row("index file", f"{stats['bytes'] / MB:,.0f} MB",
            f"{stats['bytes'] / packed:.2f}x the gzipped segments, "
            f"{stats['bytes'] / raw:.2f}x the transcripts")  # fmt: skip
        row("documents / usage records", f"{stats['docs']:,} / {stats['usage']:,}")

        print(f"\nsearch ({args.queries} queries, 20 hits each, over {raw / MB:,.0f} MB)")
        asked = queries(index, args.queries, args.seed)
        index.search(asked[0])  # the first opens the file's pages
        latencies = timed([functools.partial(index.search, q) for q in asked])
        row("p50 / p95 / max", f"{pct(latencies, .5) * 1000:.1f} / "
            f"{pct(latencies, .95) * 1000:.1f} / {max(latencies) * 1000:.0f} ms",
            "target p95 < 100 ms")  # fmt: skip
        grep = timed([functools.partial(grep_store, store, q.text) for q in asked[:3]])
        row("baseline: gunzip and grep every segment", f"{statistics.median(grep) * 1000:,.0f} ms",
            f"{statistics.median(grep) / pct(latencies, .5):,.0f}x the p50")  # fmt: skip
        index.close()

        list_bench(tmp, args.sessions)
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
