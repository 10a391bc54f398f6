"""Benchmark of the dashboard (`agent-uploader host`) over a local store.

    python bench/bench_ui.py [--session-mb 100] [--sessions 10000] [--reps 20]

Generates three stores in a temp dir (with tests/support/session_factory.py, in the uploader's
layout): one session of --session-mb MB, one of a tenth of that from the same generator,
and --sessions small sessions. For each store it starts `python -m uploader host` in a
process of its own and measures, over raw sockets, time to first byte and total time of
the session pages and the sessions list, against baselines measured in the same run:
`/healthz` on the same server (the floor of the HTTP stack) and, for the session pages,
gunzipping one segment in-process (the floor for reading a segment). Server memory
(VmRSS, VmHWM) is read from /proc after warm-up and after all requests. Then it runs
`python -m uploader export` of the big session (--format md and html: the conversation
rendered as the dashboard renders it) and measures the time to its first byte on stdout
and to its end, beside the start-up of `python -m uploader --version`.

Run by hand, not part of the test suite. See bench/README.md for what it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from harness import ManifestFigures, UnsyncedStore

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.session_factory import FIXTURE_SESSIONS, write_session  # noqa: E402
from tests.support.transcripts import (  # noqa: E402
    big_session_lines,
    claude_lines,
    codex_lines,
    openclaw_lines,
    pi_lines,
)
from ui.service import Sessions  # noqa: E402
from uploader.agents.titles import first_message  # noqa: E402
from uploader.storage import manifest as mf  # noqa: E402
from uploader.storage.reading import SegmentCache  # noqa: E402
from uploader.storage.records import Segment  # noqa: E402

MB = 1_000_000  # all "MB" figures are 10^6 bytes; MiB where it says so
SEG_LINES = 10_000
SEG_BYTES = 8 << 20  # the uploader's default segment byte limit
SMALL_LINES = 5
TARGET_SESSION_TTFB_MS = 300.0
TARGET_LIST_TTFB_MS = 200.0
# What the server's settings are, read from the code rather than copied.
CATALOG_TTL_S = float(inspect.signature(Sessions.__init__).parameters["catalog_ttl_s"].default)
CACHE_BUDGET = SegmentCache().budget
# "Flat in the session's size": the bigger session's server may hold more only in the
# segment cache (bounded by its budget) plus what one request holds at most, whatever the
# session's size: one segment being read (its gzip, its chunks and their joined copy) and
# the download's in-memory spool (STAGE_IN_MEMORY, 1 MiB, ui/api_downloads.py) before it
# rolls over to disk.
FLAT_SLACK = 4 * SEG_BYTES


# -- stores --------------------------------------------------------------------------------


@dataclass
class BigStore(ManifestFigures):
    label: str
    root: Path
    sid: str
    manifest: dict[str, Any]
    seconds: float

    def segment_at(self, line: int) -> dict[str, Any]:
        first = 0
        for seg in self.segments:
            if line < first + int(seg["lines"]):
                return seg
            first += int(seg["lines"])
        return self.segments[-1]

    def segment_start(self, seq: int) -> int:
        return sum(int(s["lines"]) for s in self.segments if int(s["seq"]) < seq)


@dataclass
class ManyStore:
    root: Path
    sids: list[str]
    agents: dict[str, int]
    seconds: float
    query: str


def make_big(root: Path, label: str, sid: str, mb: float, seed: int) -> BigStore:
    store = UnsyncedStore(root)
    total = int(mb * MB)
    # The shipper records the first user message in the manifest; do the same.
    head = b"".join(
        line for _, line in zip(range(200), big_session_lines(total, seed), strict=False)
    )
    title = first_message([head], "codex")
    path = f"/home/dev/.codex/sessions/2026/03/14/rollout-2026-03-14T09-00-00-{sid}.jsonl"
    started = time.perf_counter()
    manifest = write_session(
        store,
        sid,
        big_session_lines(total, seed),
        path=path,
        seg_lines=SEG_LINES,
        seg_bytes=SEG_BYTES,
        closed=True,
        updated_at="2026-03-14T18:00:00.000Z",
        extra={"first_message": title} if title else None,
    )
    return BigStore(label, root, sid, manifest, time.perf_counter() - started)


TITLE_WORDS = (
    "orders",
    "pagination",
    "auth",
    "refresh",
    "tokens",
    "flaky",
    "test",
    "migration",
    "schema",
    "cache",
    "invalidation",
    "deploy",
    "rollback",
    "logging",
    "retry",
    "upload",
    "parser",
    "streaming",
    "timeout",
    "memory",
    "leak",
    "docs",
    "release",
    "benchmark",
)
TITLE_VERBS = ("Fix", "Add", "Refactor", "Explain", "Speed up", "Review", "Debug", "Remove")
SEARCH_WORD = "pagination"


def make_many(root: Path, n: int, seed: int) -> ManyStore:
    """n small sessions: the four agents' fixture sessions cut to SMALL_LINES lines, with
    their real source paths (so the agent is detected as the uploader would), varied
    titles, machines and update times (2 % in the last hour), 95 % closed."""
    store = UnsyncedStore(root)
    rng = Random(seed)
    line_sets = {
        "codex": codex_lines,
        "claude": claude_lines,
        "openclaw": openclaw_lines,
        "pi": pi_lines,
    }
    templates = []
    for fixture_sid, (make_lines, path, _closed) in FIXTURE_SESSIONS.items():
        for name, fn in line_sets.items():
            if fn is make_lines:
                templates.append((name, fixture_sid, path, make_lines()[:SMALL_LINES]))
    now = datetime.now(UTC)
    sids, agents = [], dict.fromkeys(line_sets, 0)
    started = time.perf_counter()
    for i in range(n):
        _agent, fixture_sid, path, lines = rng.choice(templates)
        sid = f"{rng.getrandbits(32):08x}-{i:04x}-4000-8000-{rng.getrandbits(48):012x}"
        ago = rng.uniform(0, 3600) if rng.random() < 0.02 else rng.uniform(3600, 30 * 86400)
        updated = (now - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        words = rng.sample(TITLE_WORDS, 3)
        title = f"{rng.choice(TITLE_VERBS)} the {words[0]} {words[1]} ({words[2]}, #{i})"
        manifest = write_session(
            store,
            sid,
            lines,
            path=path.replace(fixture_sid, sid),
            seg_lines=SEG_LINES,
            host=f"machine-{rng.randrange(4)}",
            closed=rng.random() < 0.95,
            updated_at=updated,
            extra={"first_message": title},
        )
        agents[manifest["source"]["agent"]] = agents.get(manifest["source"]["agent"], 0) + 1
        sids.append(sid)
    return ManyStore(root, sids, agents, time.perf_counter() - started, SEARCH_WORD)


# -- the server ----------------------------------------------------------------------------


class Server:
    """`python -m uploader host` over one store, in a process session of its own."""

    def __init__(self, root: Path) -> None:
        self.log: list[str] = []
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uploader",
                "host",
                "--store",
                f"file://{root}",
                "--ui-port",
                "0",
                "--log-level",
                "INFO",
                "--index",  # in the run's temp dir, not the user's data folder
                str(root.with_name(root.name + "-index.sqlite3")),
            ],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        found = threading.Event()
        self.url = ""

        def drain() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.log.append(line.rstrip())
                m = re.search(r"dashboard at (http://\S+?)/?$", line.strip())
                if m and not self.url:
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=drain, daemon=True).start()
        if not found.wait(60) or not self.url:
            self.stop()
            raise SystemExit("the server did not start:\n" + "\n".join(self.log[-20:]))
        self.start_s = time.perf_counter() - started
        self.port = int(self.url.rsplit(":", 1)[1])

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM in bytes."""
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@dataclass
class Hit:
    status: int
    ttfb: float
    total: float
    size: int


def get(port: int, path: str, timeout: float = 300.0) -> Hit:
    """One GET over a fresh connection (Connection: close): time to the first byte of the
    response and to its end, from before the connect."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        first = sock.recv(1 << 16)
        ttfb = time.perf_counter() - started
        size = len(first)
        while chunk := sock.recv(1 << 20):
            size += len(chunk)
        total = time.perf_counter() - started
    if not first:
        raise RuntimeError(f"GET {path}: the server closed the connection without a response")
    status = int(first.split(b" ", 2)[1])
    return Hit(status, ttfb, total, size)


def checked(port: int, path: str) -> Hit:
    hit = get(port, path)
    if hit.status != 200:
        raise RuntimeError(f"GET {path} answered {hit.status}")
    return hit


# -- figures -------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Row:
    name: str
    path: str
    first: Hit
    hits: list[Hit] = field(default_factory=list)
    kind: str = ""  # "session", "list" or "" (not judged)

    @property
    def ttfb_p50(self) -> float:
        return statistics.median(h.ttfb for h in self.hits)

    @property
    def ttfb_p95(self) -> float:
        return pct([h.ttfb for h in self.hits], 95)

    @property
    def total_p50(self) -> float:
        return statistics.median(h.total for h in self.hits)

    @property
    def worst(self) -> float:
        """What the target is judged on: the first (uncached) request or the p95."""
        return max(self.first.ttfb, self.ttfb_p95)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def measure(port: int, name: str, path: str, reps: int, kind: str = "") -> Row:
    row = Row(name, path, checked(port, path), kind=kind)
    row.hits = [checked(port, path) for _ in range(reps)]
    return row


def measure_cycle(port: int, name: str, paths: list[str], reps: int, kind: str = "") -> Row:
    """The same page kind at different places: request i asks for paths[i % len]."""
    row = Row(name, f"{paths[0]} … ({len(paths)} places)", checked(port, paths[0]), kind=kind)
    row.hits = [checked(port, paths[(i + 1) % len(paths)]) for i in range(reps)]
    return row


def print_rows(rows: list[Row], healthz: Row, gunzip_s: float | None) -> None:
    head = f"  {'request':<46}{'first':>9}{'p50':>9}{'p95':>9}{'total50':>9}{'KB':>8}"
    head += f"{'÷healthz':>10}" + (f"{'first÷gz':>10}{'p50÷gz':>8}" if gunzip_s else "")
    print(head + "   (ms; ttfb unless total)")
    for row in rows:
        line = f"  {row.name:<46}{ms(row.first.ttfb)}{ms(row.ttfb_p50)}{ms(row.ttfb_p95)}"
        line += f"{ms(row.total_p50)}{row.hits[0].size / 1000:8.0f}"
        line += f"{row.ttfb_p50 / healthz.ttfb_p50:10.1f}"
        if gunzip_s and row.kind == "session":
            line += f"{row.first.ttfb / gunzip_s:10.2f}{row.ttfb_p50 / gunzip_s:8.2f}"
        print(line)


def gunzip_floor(big: BigStore, reps: int = 5) -> dict[str, float]:
    """Seconds to gunzip the first segment in-process: zlib (the floor asked for), and
    ISA-L (what the server uses when installed), and the server's own reading path."""
    from uploader.storage.reading import segment_bytes

    seg = big.segments[0]
    stored = (big.root / mf.object_key(big.sid, str(seg["path"]))).read_bytes()
    out: dict[str, float] = {}

    def best(fn: Callable[[], Any]) -> float:
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    out["zlib"] = best(lambda: zlib.decompress(stored, 31))
    try:
        from isal import isal_zlib

        out["isal"] = best(lambda: isal_zlib.decompress(stored, 31))
    except ImportError:
        pass
    entry = Segment.from_json(seg)
    out["segment_bytes"] = best(lambda: segment_bytes(big.sid, entry, stored))
    out["stored"] = len(stored)
    out["raw"] = int(seg["bytes"])
    return out


# -- export ------------------------------------------------------------------------------


@dataclass
class Spawned:
    ttfb: float  # from the spawn to the first byte on stdout
    total: float  # to its end
    size: int


def spawn(argv: list[str]) -> Spawned:
    """`python -m uploader ARGV`, its stdout read to the end and dropped."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uploader", *argv],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.fileno()
    first = os.read(out, 1 << 16)
    ttfb = time.perf_counter() - started
    size = len(first)
    while chunk := os.read(out, 1 << 20):
        size += len(chunk)
    err = proc.stderr.read()
    if proc.wait() != 0 or not first:
        raise SystemExit(f"`uploader {' '.join(argv)}` failed: {err.decode()[-2000:]}")
    return Spawned(ttfb, time.perf_counter() - started, size)


@dataclass
class ExportRun:
    startup: list[Spawned]  # `python -m uploader --version`
    runs: dict[str, list[Spawned]]  # per --format


def run_export(big: BigStore, reps: int) -> ExportRun:
    startup = [spawn(["--version"]) for _ in range(3)]
    store = f"file://{big.root}"
    runs = {
        fmt: [spawn(["export", big.sid, "--store", store, "--format", fmt]) for _ in range(reps)]
        for fmt in ("md", "html")
    }
    return ExportRun(startup, runs)


def print_export_run(big: BigStore, run: ExportRun) -> None:
    base = statistics.median(s.total for s in run.startup)
    reps = len(next(iter(run.runs.values())))
    print(
        f"\nexport of the {big.label} ({reps} runs each, a new process each time; "
        f"`python -m uploader --version` takes {base * 1000:.0f} ms)"
    )
    head = f"  {'format':<8}{'ttfb p50':>10}{'ttfb max':>10}{'total p50':>11}{'total max':>11}"
    print(head + f"{'MB out':>8}{'MB/s':>7}   (ms, from the spawn)")
    for fmt, spawned in run.runs.items():
        ttfb = [s.ttfb for s in spawned]
        total = [s.total for s in spawned]
        mid = statistics.median(total)
        print(
            f"  {fmt:<8}{ms(statistics.median(ttfb))}  {ms(max(ttfb))}   {ms(mid)}   "
            f"{ms(max(total))}{spawned[0].size / MB:8.1f}{big.raw_bytes / MB / mid:7.1f}"
        )


# -- runs ----------------------------------------------------------------------------------


@dataclass
class SessionRun:
    big: BigStore
    start_s: float
    cold: Hit
    warm: Hit  # /s/<sid>?view=segments just after: compiles the templates
    rows: list[Row]
    healthz: Row
    mem_start: dict[str, int]
    mem_warm: dict[str, int]
    mem_end: dict[str, int]
    touched: int  # raw bytes of the distinct segments the requests read


def run_session(big: BigStore, reps: int) -> SessionRun:
    server = Server(big.root)
    try:
        port, sid = server.port, big.sid
        mem_start = server.memory()
        cold = checked(port, "/api/sessions?limit=1")  # loads the catalog
        # Compiles the session page's templates without reading a segment, so that the
        # first request of each page below shows the cost of a segment not yet cached.
        warm = checked(port, f"/s/{sid}?view=segments")
        mem_warm = server.memory()
        healthz = measure(port, "/healthz", "/healthz", reps)
        limit = 200
        total = big.lines
        mid = total // 2 // limit * limit
        api_start = total * 3 // 4
        last = max(0, (total - 1) // limit * limit)
        rows = [
            measure(port, "session page, first page", f"/s/{sid}", reps, "session"),
            measure(
                port, "session page, last page (start=end)", f"/s/{sid}?start=end", reps, "session"
            ),
            measure(port, "session page, raw view", f"/s/{sid}?view=raw", reps, "session"),
            measure(
                port,
                f"session page, middle (start={mid})",
                f"/s/{sid}?start={mid}",
                reps,
                "session",
            ),
            measure(
                port,
                f"api lines start={api_start} limit=200",
                f"/api/sessions/{sid}/lines?start={api_start}&limit=200",
                reps,
                "session",
            ),
        ]
        # One page in each segment, in turn: with more segment bytes than the cache holds,
        # every request reads and gunzips a segment (LRU over a cycle always misses).
        starts = [big.segment_start(int(s["seq"])) + 100 for s in big.segments]
        misses = sum(int(s["bytes"]) for s in big.segments) > CACHE_BUDGET
        rows.append(
            measure_cycle(
                port,
                f"session page, each segment in turn{' (misses)' if misses else ''}",
                [f"/s/{sid}?start={s}" for s in starts],
                reps,
                "session",
            )
        )
        # The whole session as .jsonl (not judged; fewer repetitions: it reads every segment).
        download = f"/api/sessions/{sid}/download"
        rows.append(measure(port, "download .jsonl (whole session)", download, max(2, reps // 5)))
        mem_end = server.memory()
    finally:
        server.stop()
    touched_segs = {int(big.segment_at(n)["seq"]) for n in (0, last, mid, api_start, *starts)}
    touched = sum(int(s["bytes"]) for s in big.segments if int(s["seq"]) in touched_segs)
    return SessionRun(
        big, server.start_s, cold, warm, rows, healthz, mem_start, mem_warm, mem_end, touched
    )


@dataclass
class ListRun:
    many: ManyStore
    start_s: float
    cold: Hit
    warm: Hit  # /s/<sid>?view=segments just after: compiles the templates
    rows: list[Row]
    healthz: Row
    stale: Row | None
    mem_start: dict[str, int]
    mem_warm: dict[str, int]
    mem_end: dict[str, int]


def run_list(many: ManyStore, reps: int, stale: bool) -> ListRun:
    server = Server(many.root)
    try:
        port = server.port
        mem_start = server.memory()
        cold = checked(port, "/")  # loads the catalog
        warm = checked(port, f"/s/{many.sids[0]}?view=segments")
        mem_warm = server.memory()
        healthz = measure(port, "/healthz", "/healthz", reps)
        sid = many.sids[len(many.sids) // 2]
        middle = max(1, math.ceil(len(many.sids) / 50) // 2)
        rows = [
            measure(port, "sessions list /", "/", reps, "list"),
            measure(port, f"sessions list /?q={many.query}", f"/?q={many.query}", reps, "list"),
            measure(port, f"sessions list, page {middle}", f"/?page={middle}", reps, "list"),
            measure(port, "api /api/sessions?limit=50", "/api/sessions?limit=50", reps, "list"),
            measure(port, "a session page in this store", f"/s/{sid}", reps, "session"),
        ]
        stale_row = None
        if stale:
            # Past the catalog's TTL a request starts a background refresh (a listing of
            # the store and a re-read of the open sessions); requests meanwhile compete.
            time.sleep(CATALOG_TTL_S + 1)
            stale_row = measure(
                port, "sessions list / after the TTL (refreshing)", "/", reps, "list"
            )
        mem_end = server.memory()
    finally:
        server.stop()
    return ListRun(
        many, server.start_s, cold, warm, rows, healthz, stale_row, mem_start, mem_warm, mem_end
    )


def print_memory(
    label: str, start: dict[str, int], warm: dict[str, int], end: dict[str, int]
) -> None:
    print(
        f"  memory ({label}): RSS {mib(start['VmRSS'])} at start, {mib(warm['VmRSS'])} after "
        f"warm-up, {mib(end['VmRSS'])} after all requests; peak (VmHWM) {mib(end['VmHWM'])}"
    )


def print_session_run(run: SessionRun, floor: dict[str, float] | None) -> None:
    big = run.big
    print(
        f"\n{big.label}: {big.raw_bytes / MB:.1f} MB, {big.lines:,} lines, "
        f"{len(big.segments)} segments (≤ {SEG_LINES:,} lines, ≤ {mib(SEG_BYTES)})"
    )
    print(
        f"  server ready {run.start_s:.2f} s after spawn; cold first request "
        f"(/api/sessions?limit=1, loads the catalog) {run.cold.ttfb * 1000:.1f} ms, then "
        f"?view=segments (compiles the templates) {run.warm.ttfb * 1000:.1f} ms"
    )
    print_rows([run.healthz, *run.rows], run.healthz, floor["zlib"] if floor else None)
    print_memory(big.label, run.mem_start, run.mem_warm, run.mem_end)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--session-mb", type=float, default=100.0, help="the big session's MB")
    parser.add_argument("--sessions", type=int, default=10_000, help="small sessions")
    parser.add_argument("--reps", type=int, default=20, help="requests per figure")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--export-reps", type=int, default=3, help="exports per format (0: none)")
    parser.add_argument("--no-stale", action="store_true", help="skip the after-TTL figure")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    try:
        return run(args, tmp)
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> int:
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"catalog TTL {CATALOG_TTL_S:g} s, segment cache {mib(CACHE_BUDGET)}; "
        f"load average {os.getloadavg()[0]:.2f} (other load shows up in every figure)"
    )
    small_mb = args.session_mb / 10
    print("generating …", flush=True)
    big = make_big(
        tmp / "big",
        f"{args.session_mb:g} MB session",
        "019ce1a2-0000-7000-8000-000000000100",
        args.session_mb,
        args.seed,
    )
    print(f"  {big.label}: {big.seconds:.1f} s", flush=True)
    small = make_big(
        tmp / "small",
        f"{small_mb:g} MB session",
        "019ce1a2-0000-7000-8000-000000000010",
        small_mb,
        args.seed,
    )
    print(f"  {small.label}: {small.seconds:.1f} s", flush=True)
    many = make_many(tmp / "many", args.sessions, args.seed)
    per = many.seconds / max(1, args.sessions) * 1000
    agents = ", ".join(f"{k} {v}" for k, v in many.agents.items())
    print(
        f"  {args.sessions:,} small sessions: {many.seconds:.1f} s ({per:.2f} ms each; {agents})",
        flush=True,
    )

    floor = gunzip_floor(big)
    print(
        f"\nfloor: gunzip of one segment in-process ({floor['stored'] / MB:.1f} MB gzip → "
        f"{floor['raw'] / MB:.1f} MB): zlib {floor['zlib'] * 1000:.1f} ms"
        + (f", isal {floor['isal'] * 1000:.1f} ms" if "isal" in floor else "")
        + f"; the server's segment_bytes (gunzip + sha256 + checks) "
        f"{floor['segment_bytes'] * 1000:.1f} ms"
    )
    print("measuring …", flush=True)
    big_run = run_session(big, args.reps)
    print_session_run(big_run, floor)
    small_run = run_session(small, args.reps)
    print_session_run(small_run, floor)
    if args.export_reps > 0:
        print_export_run(big, run_export(big, args.export_reps))
    list_run = run_list(many, args.reps, stale=not args.no_stale)
    print(f"\n{args.sessions:,} small sessions ({SMALL_LINES} lines each)")
    print(
        f"  server ready {list_run.start_s:.2f} s after spawn; cold first request "
        f"(/, loads the catalog) {list_run.cold.ttfb * 1000:.1f} ms, then a session's "
        f"?view=segments (compiles its templates) {list_run.warm.ttfb * 1000:.1f} ms"
    )
    rows = list_run.rows + ([list_run.stale] if list_run.stale else [])
    print_rows([list_run.healthz, *rows], list_run.healthz, None)
    print_memory(
        f"{args.sessions:,}-session store", list_run.mem_start, list_run.mem_warm, list_run.mem_end
    )

    # -- targets
    print("\ntargets")
    missed = []

    def judge(name: str, ok: bool, detail: str) -> None:
        print(f"  {'PASS' if ok else 'MISS'}  {name}: {detail}")
        if not ok:
            missed.append(name)

    for label, session_rows in (
        (big.label, [r for r in big_run.rows if r.kind == "session"]),
        (f"{args.sessions:,}-session store", [r for r in list_run.rows if r.kind == "session"]),
    ):
        worst = max(session_rows, key=lambda r: r.worst)
        judge(
            f"session page TTFB < {TARGET_SESSION_TTFB_MS:g} ms ({label})",
            worst.worst * 1000 < TARGET_SESSION_TTFB_MS,
            f"worst of first request and p95: {worst.worst * 1000:.1f} ms ({worst.name})",
        )
    worst = max((r for r in rows if r.kind == "list"), key=lambda r: r.worst)
    judge(
        f"sessions list TTFB < {TARGET_LIST_TTFB_MS:g} ms ({args.sessions:,} sessions)",
        worst.worst * 1000 < TARGET_LIST_TTFB_MS,
        f"worst of first request and p95: {worst.worst * 1000:.1f} ms ({worst.name}); "
        f"the cold first request, not judged: {list_run.cold.ttfb * 1000:.0f} ms",
    )
    # The bigger session's server may hold more only in the segment cache (what it
    # touched, up to the budget) and one segment being read.
    cache_big = min(CACHE_BUDGET, big_run.touched)
    cache_small = min(CACHE_BUDGET, small_run.touched)
    grew = big_run.mem_end["VmHWM"] - small_run.mem_end["VmHWM"]
    allowed = cache_big - cache_small + FLAT_SLACK
    judge(
        "memory flat in the session's size",
        grew <= allowed,
        f"peak RSS {mib(small_run.mem_end['VmHWM'])} ({small.label}) → "
        f"{mib(big_run.mem_end['VmHWM'])} ({big.label}): +{mib(grew)} for "
        f"{(big.raw_bytes - small.raw_bytes) / MB:.0f} MB more session; allowed "
        f"+{mib(allowed)} (segment cache {mib(cache_small)} → {mib(cache_big)}, budget "
        f"{mib(CACHE_BUDGET)}, + {mib(FLAT_SLACK)} for one request's buffers)",
    )
    print(f"  (load average {os.getloadavg()[0]:.2f} at the end)")
    print("\nall targets met" if not missed else f"\nmissed: {'; '.join(missed)}")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
