"""Benchmark of `agent-uploader watch --dir` over many session files, most of them idle.

    python bench/bench_dirs.py [--files 1000] [--growing 5] [--seconds 60]

Builds a folder in Claude Code's layout (`DIR/-home-dev-proj-NN/<uuid4>.jsonl`), then,
with real processes and a `file://` store:

1. first run: `watch --dir DIR` until the store holds a manifest for every file; SIGINT;
2. the measured run: `watch --dir DIR` again on the same spool and store while a few
   files grow by a line a second and the rest stay untouched; after a warm-up, its CPU
   (% of one core), peak RSS, open file descriptors and the store requests it makes,
   split into requests about the growing sessions and about the idle ones;
3. baseline: `watch --file` on one file growing the same way, the per-process floor.

Store requests are counted by running watch through a small launcher that wraps
`LocalStore.get/put/list/delete` and logs each call (time, method, key) to a file.
Run by hand, not part of the test suite. See bench/README.md for what it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import cpu_seconds, print_report, run_in_temp_dir  # noqa: E402

from tests.support.storeview import rebuild  # noqa: E402
from tests.support.transcripts import CLAUDE_SID, claude_entry, claude_lines, jsonl  # noqa: E402
from uploader.stores.local import LocalStore  # noqa: E402
from uploader.write.discovery import Filters, Scanner  # noqa: E402

MB = 1_000_000
TARGET_CPU_PCT = 1.0  # % of one core, the whole watch process
TARGET_RSS_MB = 150.0  # peak RSS (VmHWM), MiB
FILES_PER_PROJECT = 25
# No search index (bench_index.py measures it; and none in the user's data folder).
WATCH_ARGS = ["--ui-disable", "--idle-close", "5s", "--scan-ms", "2s", "--index", "off"]
EXTRA_WATCH_ARGS: list[str] = []
METHODS = ("get", "put", "list", "delete")

# Run as `python launch.py REQUEST_LOG [PROFILE_OUT|-] uploader-args...`: watch with every
# LocalStore call logged as "time<TAB>method<TAB>key" (one O_APPEND write per call). With a
# profile path, every thread runs under cProfile: SIGUSR1 clears the figures (the window
# starts), SIGUSR2 writes all threads' merged figures to the path (the window ends).
LAUNCHER = """\
import cProfile, os, pstats, sys, threading, time

log_path, profile_out = sys.argv[1], sys.argv[2]
sys.argv = ["agent-uploader", *sys.argv[3:]]
fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


def record(method, key):
    os.write(fd, f"{time.time():.6f}\\t{method}\\t{key}\\n".encode())


from uploader.stores.local import LocalStore


def wrap(name):
    orig = getattr(LocalStore, name)
    if name == "delete":
        def counted(self, keys):
            keys = list(keys)
            for key in keys:
                record(name, key)
            return orig(self, keys)
    else:
        def counted(self, key, *args, **kwargs):
            record(name, key)
            return orig(self, key, *args, **kwargs)
    setattr(LocalStore, name, counted)


for name in ("get", "put", "list", "delete"):
    wrap(name)

profiles = []
if profile_out != "-":
    import signal

    thread_run = threading.Thread.run

    def profiled_run(self):
        prof = cProfile.Profile()
        profiles.append(prof)
        prof.enable()
        try:
            thread_run(self)
        finally:
            prof.disable()

    threading.Thread.run = profiled_run
    main_prof = cProfile.Profile()
    profiles.append(main_prof)
    main_prof.enable()

    class Snapshot:  # what pstats.Stats takes, without disabling a running profiler
        def __init__(self, prof):
            prof.snapshot_stats()
            self.stats = prof.stats

        def create_stats(self):
            pass

    def clear(signum, frame):  # SIGUSR1: the window starts
        for prof in list(profiles):
            prof.clear()

    def dump(signum, frame):  # SIGUSR2: the window ends
        stats = None
        for prof in list(profiles):
            try:
                snap = Snapshot(prof)
                stats = pstats.Stats(snap) if stats is None else stats.add(snap)
            except TypeError:  # nothing recorded in that thread
                pass
        tmp = profile_out + ".new"
        stats.dump_stats(tmp)
        os.replace(tmp, profile_out)

    signal.signal(signal.SIGUSR1, clear)
    signal.signal(signal.SIGUSR2, dump)

from uploader.cli.app import main

main()
"""


# -- the session files ------------------------------------------------------------------


def iso(ts: float) -> str:
    t = datetime.fromtimestamp(ts, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def session_lines(sid: str, project: str, rng: Random) -> list[bytes]:
    """The Claude Code fixture session with this file's id, folder and uuids; a third of
    the files stop before its compaction (shorter sessions, no checkpoint)."""
    lines = [
        ln.replace(CLAUDE_SID.encode(), sid.encode())
        .replace(b"9f0c1d2e-1111-4a2b-8c3d-", sid[:24].encode())
        .replace(b"/home/dev/shop-api", f"/home/dev/{project}".encode())
        for ln in claude_lines()
    ]
    if rng.random() < 1 / 3:
        lines = lines[: rng.randint(4, 10)]
    return lines


class Appender:
    """Appends a line a second to each growing file (one O_APPEND write per line, as an
    agent writes), from a thread, until stopped."""

    TEXTS = (
        "Let me check the existing tests before changing anything.",
        "The failure comes from the offset being computed before the header is parsed.",
        "Now I'll run the test suite to make sure nothing else broke.",
        "That fixed the first case; the second one still fails on an empty page.",
    )

    def __init__(self, files: dict[str, Path], rng: Random) -> None:
        self.files = files
        self.rng = rng
        self.n = 0
        self.parents: dict[str, str | None] = dict.fromkeys(files)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="appender")

    def line(self, sid: str) -> bytes:
        self.n += 1
        project = self.files[sid].parent.name.replace("-home-dev-", "")
        entry_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        kind = ("assistant", "user")[self.n % 2]
        if kind == "assistant":
            text = " ".join(self.rng.choice(self.TEXTS) for _ in range(self.rng.randint(1, 8)))
            message: dict[str, Any] = {
                "id": f"msg_{self.n:08d}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "usage": {"input_tokens": 12, "output_tokens": 40 + len(text) // 4},
            }
        else:
            out = "\n".join(f"tests/test_orders.py::test_{i} PASSED" for i in range(20))
            message = {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": out}],
            }
        obj = claude_entry(
            kind,
            {"message": message},
            parent=self.parents[sid],
            uuid=entry_id,
            timestamp=iso(time.time()),
            sid=sid,
            cwd=f"/home/dev/{project}",
        )
        self.parents[sid] = entry_id
        return jsonl(obj)

    def _run(self) -> None:
        t0 = time.monotonic()
        tick = 0
        while not self.stop.is_set():
            for sid, path in self.files.items():
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
                try:
                    os.write(fd, self.line(sid))
                finally:
                    os.close(fd)
            tick += 1
            self.stop.wait(max(0.0, t0 + tick - time.monotonic()))

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)


def build_tree(root: Path, files: int, growing: int, rng: Random) -> tuple[dict[str, Path], int]:
    """`files` sessions in folders of FILES_PER_PROJECT, their mtimes days to minutes in
    the past (old sessions); returns (the growing ones: sid -> path, total bytes)."""
    paths: dict[str, Path] = {}
    total = 0
    now = time.time()
    for i in range(files):
        project = f"proj-{i // FILES_PER_PROJECT:02d}"
        folder = root / f"-home-dev-{project}"
        folder.mkdir(parents=True, exist_ok=True)
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        path = folder / f"{sid}.jsonl"
        data = b"".join(session_lines(sid, project, rng))
        path.write_bytes(data)
        age = rng.uniform(600, 30 * 86400)
        os.utime(path, (now - age, now - age))
        paths[sid] = path
        total += len(data)
    # The first two growing files share a folder (two sessions in one project: their
    # wakers share its watch); the others are spread over the folders.
    step = max(1, files // max(1, growing))
    picks = [0, 1, *(k * step for k in range(1, growing))]
    order = list(dict.fromkeys(i for i in [*picks, *range(files)] if i < files))[:growing]
    sids = list(paths)
    return {sids[i]: paths[sids[i]] for i in order}, total


# -- processes --------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    requests: Path
    started: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)
    rusage: resource.struct_rusage | None = None


CHILDREN: list[Child] = []


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "SUPABASE_", "AWS_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_watch(
    tmp: Path, name: str, target: list[str], store: Path, spool: Path, profile: Path | None
) -> Child:
    """watch through the launcher, in a process session of its own: Ctrl+C reaches only
    this script, which then stops the children itself."""
    log, requests = tmp / f"watch-{name}.log", tmp / f"requests-{name}.tsv"
    cmd = [
        sys.executable, str(tmp / "launch.py"), str(requests), str(profile or "-"),
        "watch", *target, "--store", f"file://{store}", "--spool-dir", str(spool),
        *WATCH_ARGS, *EXTRA_WATCH_ARGS,
    ]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=child_env(), start_new_session=True
        )
    child = Child(name, proc, log, requests)
    CHILDREN.append(child)
    return child


def exited(child: Child) -> bool:
    if child.rusage is None:
        pid, status, ru = os.wait4(child.proc.pid, os.WNOHANG)
        if not pid:
            return False
        child.proc.returncode = os.waitstatus_to_exitcode(status)
        child.rusage = ru
    return True


def stop_watch(child: Child, timeout: float = 90) -> int:
    """SIGINT, as Ctrl+C; the exit code (killed after `timeout`)."""
    if not exited(child):
        child.proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout
    while not exited(child):
        if time.monotonic() > deadline:
            print(f"  ! {child.name} did not exit in {timeout:.0f}s; killing it", flush=True)
            child.proc.kill()
            deadline = time.monotonic() + 10
        time.sleep(0.02)
    code = child.proc.returncode
    if code != 0:
        print(f"  ! {child.name} exited with {code}:\n{child.log.read_text()[-3000:]}", flush=True)
    return code


def status_mb(pid: int, key: str) -> float:
    """VmHWM (peak RSS since exec) or VmRSS of a live process, MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for row in f:
            if row.startswith(key + ":"):
                return int(row.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def open_fds(pid: int, under: Path) -> tuple[int, int]:
    """(open file descriptors, those on files below `under`)."""
    total = files = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        total += 1
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith(str(under) + os.sep):
                files += 1
    return total, files


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> float:
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - t0


def wait_ready(child: Child, marker: bytes = b" watching ") -> float:
    """Seconds from spawn until watch logs that it is watching."""

    def ready() -> bool:
        if exited(child):
            raise RuntimeError(f"{child.name} exited early:\n{child.log.read_text()[-3000:]}")
        return marker in child.log.read_bytes()

    wait_for(ready, 60, f"{child.name} to start", interval=0.01)
    return time.monotonic() - child.started


def requests(child: Child) -> list[tuple[float, str, str]]:
    out = []
    with contextlib.suppress(FileNotFoundError):
        for row in child.requests.read_text().splitlines():
            t, method, key = row.split("\t", 2)
            out.append((float(t), method, key))
    return out


def split_requests(
    rows: list[tuple[float, str, str]], t0: float, t1: float, growing: set[str]
) -> dict[str, Counter[str]]:
    """Requests before, during and after [t0, t1), each about growing or idle sessions,
    counted per method: {"window growing": Counter({"put": 2}), ...}."""
    out: dict[str, Counter[str]] = {}
    for t, method, key in rows:
        when = "before" if t < t0 else "window" if t < t1 else "after"
        parts = key.split("/")
        sid = parts[1] if len(parts) > 1 and parts[0] == "sessions" else None
        about = "growing" if sid in growing else "idle"
        out.setdefault(f"{when} {about}", Counter())[method] += 1
    return out


def fmt_counts(c: Counter[str] | None) -> str:
    if not c:
        return "0"
    return f"{sum(c.values())} (" + ", ".join(f"{m} {c[m]}" for m in METHODS if c[m]) + ")"


# -- the runs ---------------------------------------------------------------------------


def manifests_in(store: Path) -> list[Path]:
    sessions = store / "sessions"
    if not sessions.is_dir():
        return []
    return [p for d in os.scandir(sessions) if (p := Path(d.path) / "manifest.json").exists()]


def covered(store: Path, sid: str) -> int:
    """Bytes of the session the manifest names (its last generation)."""
    try:
        m = json.loads((store / "sessions" / sid / "manifest.json").read_bytes())
    except FileNotFoundError:
        return -1
    segs = m.get("segments", [])
    gen = segs[-1].get("generation", 1) if segs else 1
    return sum(s["bytes"] for s in segs if s.get("generation", 1) == gen)


def run_first(tmp: Path, projects: Path, files: int, say: Callable[[str], None]) -> dict[str, Any]:
    """watch --dir over files it has never seen, until every session has a manifest."""
    store, spool = tmp / "store", tmp / "spool"
    child = start_watch(tmp, "first", ["--dir", str(projects)], store, spool, None)
    ready = wait_ready(child)

    def done() -> bool:
        if exited(child):
            raise RuntimeError(f"watch exited early:\n{child.log.read_text()[-3000:]}")
        return len(manifests_in(store)) >= files

    wait_for(done, 3600, f"{files} manifests", interval=0.5)
    # The time the last of them was written, not when this poll noticed it.
    last = max(p.stat().st_mtime for p in manifests_in(store))
    hwm = status_mb(child.proc.pid, "VmHWM")
    code = stop_watch(child)
    assert child.rusage is not None
    cpu = child.rusage.ru_utime + child.rusage.ru_stime
    rows = requests(child)
    say(f"first run: {files} manifests {last - child.started_wall:.1f} s after spawn; exit {code}")
    return {
        "ready_s": ready,
        "manifests_s": last - child.started_wall,
        "cpu_s": cpu,
        "hwm_mb": hwm,
        "exit": code,
        "requests": Counter(m for _, m, _ in rows),
    }


def measure(
    child: Child,
    appender: Appender,
    warmup: float,
    seconds: float,
    projects: Path,
    say: Callable[[str], None],
    profile: Path | None = None,
) -> dict[str, Any]:
    """Start the appender once watch is up; after `warmup`, watch's CPU over `seconds`;
    then its memory and open files; stop the appender and then watch. With `profile`
    (the launcher's), the profile covers the window only."""
    ready = wait_ready(child)
    appender.start()
    time.sleep(warmup)
    pid = child.proc.pid
    say(f"{child.name}: measuring for {seconds:g} s")
    if profile is not None:
        os.kill(pid, signal.SIGUSR1)
    cpu0, m0, t0 = cpu_seconds(pid), time.monotonic(), time.time()
    time.sleep(seconds)
    cpu1, m1, t1 = cpu_seconds(pid), time.monotonic(), time.time()
    if profile is not None:
        os.kill(pid, signal.SIGUSR2)
        wait_for(profile.exists, 30, "the profile")
    fds = open_fds(pid, projects)
    res = {
        "ready_s": ready,
        "cpu_pct": 100 * (cpu1 - cpu0) / (m1 - m0),
        "window_s": m1 - m0,
        "t0": t0,
        "t1": t1,
        "hwm_mb": status_mb(pid, "VmHWM"),
        "rss_mb": status_mb(pid, "VmRSS"),
        "fds": fds,
        "threads": len(os.listdir(f"/proc/{pid}/task")),
    }
    appender.close()
    time.sleep(0.2)
    res["exit"] = stop_watch(child)
    return res


def check_store(store: Path, files: dict[str, Path]) -> list[str]:
    """The sessions rebuilt from the store, segment by segment, against the files."""
    st = LocalStore(store)
    bad = []
    for sid, path in files.items():
        got, want = rebuild(st, sid), path.read_bytes()
        if got != want:
            bad.append(f"{path.name}: store has {len(got)} bytes, the file {len(want)}")
    return bad


def scan_cost(projects: Path, reps: int = 20, steady_s: float = 120.0) -> tuple[float, float, int]:
    """In-process: ms of CPU for a first scan of the tree (every folder listed, every file
    statted; best of reps), for an average scan in the steady state (a Scanner's scans
    every 2 s over steady_s, on a clock that runs that fast: cold files statted in turn,
    folders listed again once a minute), and the files found."""
    best, n = float("inf"), 0
    for _ in range(reps):
        t0 = time.process_time()
        n = len(Scanner([projects], Filters()).scan().files)
        best = min(best, time.process_time() - t0)
    now = [time.time()]
    scanner = Scanner([projects], Filters(), clock=lambda: now[0])
    scanner.scan()
    scans = int(steady_s / 2)
    t0 = time.process_time()
    for _ in range(scans):
        now[0] += 2.0
        scanner.scan()
    return 1000 * best, 1000 * (time.process_time() - t0) / scans, n


# -- report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--files", type=int, default=1000, help="session files in the tree")
    ap.add_argument("--growing", type=int, default=5, help="files that grow a line a second")
    ap.add_argument("--seconds", type=float, default=60, help="measured window, seconds")
    ap.add_argument("--warmup", type=float, default=10, help="seconds before the window")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="make the temp dir in this folder")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (tree, logs, store)")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="run the measured watch under cProfile (all threads, the window only; its CPU "
        "figures are inflated) and print where its time goes",
    )
    ap.add_argument(
        "--watch-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for every `watch` (repeatable), e.g. --watch-arg=--scan-ms=5s",
    )
    args = ap.parse_args()
    if args.growing > args.files:
        ap.error("--growing cannot exceed --files")
    EXTRA_WATCH_ARGS.extend(args.watch_arg)

    return run_in_temp_dir(
        "bench-dirs-", lambda tmp: bench(args, tmp), CHILDREN, keep=args.keep,
        workdir=args.workdir,
    )  # fmt: skip


def bench(args: argparse.Namespace, tmp: Path) -> int:
    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    load_before = os.getloadavg()[0]
    rng = Random(args.seed)
    (tmp / "launch.py").write_text(LAUNCHER)
    projects = tmp / "projects"
    say(f"writing {args.files:,} session files in {projects}")
    growing, total = build_tree(projects, args.files, args.growing, rng)
    n_projects = len(list(projects.iterdir()))

    say("first run: watch --dir until every session has a manifest in the store")
    first = run_first(tmp, projects, args.files, say)
    incomplete = [
        sid
        for p in projects.glob("*/*.jsonl")
        for sid in [p.stem]
        if covered(tmp / "store", sid) != p.stat().st_size
    ]
    queue_left = sum(1 for _ in (tmp / "spool" / "queue").rglob("*.meta.json"))

    scan_ms, steady_ms, scanned = scan_cost(projects)
    say(
        f"in-process scan of the tree: {scan_ms:.1f} ms CPU for {scanned} files the first "
        f"time, {steady_ms:.2f} ms a scan after"
    )

    say(
        f"measured run: watch --dir again, {len(growing)} files growing a line a second, "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s"
    )
    profile = tmp / "watch-dirs.pstats" if args.profile else None
    child = start_watch(
        tmp, "dirs", ["--dir", str(projects)], tmp / "store", tmp / "spool", profile
    )
    dirs = measure(child, Appender(growing, rng), args.warmup, args.seconds, projects, say, profile)
    split = split_requests(requests(child), dirs["t0"], dirs["t1"], set(growing))
    bad = check_store(tmp / "store", growing)
    say(f"measured run: exit {dirs['exit']}; growing sessions checked against the store")

    say(f"baseline: watch --file on one file growing a line a second, same {args.seconds:g} s")
    single_dir = tmp / "single"
    single_dir.mkdir()
    sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    single = {sid: single_dir / f"{sid}.jsonl"}
    single[sid].write_bytes(b"".join(session_lines(sid, "proj-single", Random(args.seed))))
    child = start_watch(
        tmp, "file", ["--file", str(single[sid])], tmp / "store-file", tmp / "spool-file", None
    )
    base = measure(child, Appender(single, rng), args.warmup, args.seconds, single_dir, say)
    bad += check_store(tmp / "store-file", single)
    if profile is not None and profile.exists():
        import pstats

        print(f"\nwatch --dir under cProfile, the {args.seconds:g} s window, all threads:")
        stats = pstats.Stats(str(profile))
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats("uploader", 20)

    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, target, "" if ok is None else verdict(ok)))

    idle_window = split.get("window idle", Counter())
    first_requests = first["requests"]
    idle_n = sum(idle_window.values())
    n_grow = len(growing)
    cpu_ratio = dirs["cpu_pct"] / base["cpu_pct"] if base["cpu_pct"] else float("inf")
    row(
        "files",
        f"{args.files:,} in {n_projects} folders, {total / MB:.1f} MB; {n_grow} growing "
        f"(1 line/s each, in {len({p.parent for p in growing.values()})} folders), the rest "
        "idle",
    )
    row(
        "first run: spawn -> all manifests",
        f"{first['manifests_s']:.1f} s ({1000 * first['manifests_s'] / args.files:.0f} ms a "
        f"file); ready in {first['ready_s']:.2f} s",
    )
    row(
        "first run: CPU, peak RSS, requests",
        f"{first['cpu_s']:.1f} s CPU, {first['hwm_mb']:.0f} MiB, "
        f"{sum(first['requests'].values()):,} requests "
        f"({', '.join(f'{m} {n:,}' for m in METHODS if (n := first_requests[m]))})",
    )
    row(
        "first run: exit code, sessions complete",
        f"exit {first['exit']}, {args.files - len(incomplete):,}/{args.files:,} manifests cover "
        f"their file, {queue_left} segments left queued",
        "0, all",
        first["exit"] == 0 and not incomplete and not queue_left,
    )
    row(
        "scan of the tree, in-process (info)",
        f"first {scan_ms:.1f} ms CPU, then {steady_ms:.2f} ms a scan = "
        f"{steady_ms / 20:.3f} % of a core at --scan-ms 2s",
    )
    row(
        f"watch --dir: CPU over {dirs['window_s']:.0f} s",
        f"{dirs['cpu_pct']:.2f} % of one core",
        f"< {TARGET_CPU_PCT:g} %",
        dirs["cpu_pct"] < TARGET_CPU_PCT,
    )
    row(
        "watch --dir: peak RSS (VmHWM)",
        f"{dirs['hwm_mb']:.0f} MiB (at the end: {dirs['rss_mb']:.0f} MiB)",
        f"< {TARGET_RSS_MB:g}",
        dirs["hwm_mb"] < TARGET_RSS_MB,
    )
    row(
        "store requests, idle sessions, window",
        fmt_counts(idle_window),
        "0",
        idle_n == 0,
    )
    row("store requests, growing sessions, window", fmt_counts(split.get("window growing")))
    row(
        "store requests at start-up + warm-up",
        f"idle {fmt_counts(split.get('before idle'))}, "
        f"growing {fmt_counts(split.get('before growing'))}",
    )
    row(
        "store requests at shutdown",
        f"idle {fmt_counts(split.get('after idle'))}, "
        f"growing {fmt_counts(split.get('after growing'))}",
    )
    row(
        "watch --dir: open fds, threads at the end",
        f"{dirs['fds'][0]} fds ({dirs['fds'][1]} on session files), {dirs['threads']} threads",
    )
    row(
        f"baseline watch --file: CPU over {base['window_s']:.0f} s",
        f"{base['cpu_pct']:.2f} % of one core",
    )
    row(
        "baseline watch --file: peak RSS, fds",
        f"{base['hwm_mb']:.0f} MiB (at the end: {base['rss_mb']:.0f} MiB); "
        f"{base['fds'][0]} fds ({base['fds'][1]} on its file), {base['threads']} threads",
    )
    row(
        "ratio --dir / --file (CPU, peak RSS)",
        f"{cpu_ratio:.1f}x, {dirs['hwm_mb'] / base['hwm_mb']:.2f}x; "
        f"--dir above the floor: {dirs['cpu_pct'] - base['cpu_pct']:.2f} % CPU, "
        f"{dirs['hwm_mb'] - base['hwm_mb']:.0f} MiB",
    )
    row(
        "exit codes, growing files == store",
        f"exit {dirs['exit']} / {base['exit']}; {n_grow + 1 - len(bad)}/{n_grow + 1} rebuilt "
        f"sessions equal their file",
        "0, all",
        dirs["exit"] == 0 and base["exit"] == 0 and not bad,
    )

    print()
    code = print_report(
        f"agent-uploader watch --dir benchmark: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, seed {args.seed}, "
        f"load average {load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end"
        + (" (under cProfile: CPU inflated)" if args.profile else ""),
        rows,
    )
    for line in bad:
        print(f"  MISMATCH {line}")
    return code


if __name__ == "__main__":
    sys.exit(main())
