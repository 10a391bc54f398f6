"""Benchmark of `agent-uploader watch` against a moto S3 server in another process.

    python bench/bench_watch.py [--mb 50] [--seed 1]

Generates a realistic (seeded) transcript, then measures, with real processes:

1. throughput: `watch` on the complete file until the store's manifest covers every
   byte; wall time, the child's CPU (user+sys, from wait4) and peak RSS;
2. baselines on the same bytes: the `gzip -6` command, zlib level 6 and ISA-L in-process;
3. steady rate: a writer appends lines at --rate lines/s while `watch` tails the file;
   watch's CPU as % of one core over that window;
4. idle: watch left alone with nothing to read; store requests (from moto's request
   log) and CPU over that window.

Run by hand, not part of the test suite. See bench/README.md for what it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from random import Random
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import cpu_seconds, print_report, run_in_temp_dir  # noqa: E402

from tests.support.transcripts import Corpus, TranscriptGen, write_transcript  # noqa: E402
from uploader.write.state import StateStore  # noqa: E402

MB = 1_000_000  # all "MB" figures are 10^6 bytes
BUCKET = "bench"
PREFIX = "run"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
TARGET_CPU_RATIO = 0.35  # watch CPU per MB / gzip -6 CPU per MB
TARGET_SIZE_RATIO = 1.35  # stored bytes / gzip -6 bytes
TARGET_STEADY_PCT = 5.0  # % of one core at the steady rate
STEADY_MAX_LINE = 8 << 10  # the steady writer streams ordinary lines, not huge tool outputs


# -- processes --------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)
    rusage: resource.struct_rusage | None = None
    peak_rss_mb: float | None = None  # VmHWM read just before the stop


CHILDREN: list[Child] = []
EXTRA_WATCH_ARGS: list[str] = []
#: `watch` keeps a search index of what it uploads (its default). Measured here only with
#: --with-index: the index has a benchmark of its own (bench_index.py), and the figures
#: and targets here are tailing, cutting, redacting and uploading. Either way the index
#: is a file in the run's temp dir, never one in the user's data folder.
WITH_INDEX = [False]


def spawn(name: str, args: list[str], log: Path, env: dict[str, str]) -> Child:
    with open(log, "ab") as out:
        # A session of its own: Ctrl+C reaches only this script, which then stops the
        # children itself (in `stop_all`), in order.
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    child = Child(name, proc, log)
    CHILDREN.append(child)
    return child


def exited(child: Child) -> bool:
    """Has the child ended? Reaps it with wait4, which keeps its own rusage (CPU, peak
    RSS); Popen.poll() would reap it and lose that."""
    if child.rusage is None:
        pid, status, ru = os.wait4(child.proc.pid, os.WNOHANG)
        if not pid:
            return False
        child.proc.returncode = os.waitstatus_to_exitcode(status)
        child.rusage = ru
    return True


def reap(child: Child, timeout: float) -> resource.struct_rusage:
    """Wait for the child to end; its rusage."""
    deadline = time.monotonic() + timeout
    while True:
        if exited(child):
            assert child.rusage is not None
            return child.rusage
        if time.monotonic() > deadline:
            print(f"  ! {child.name} did not exit in {timeout:.0f}s; killing it", flush=True)
            child.proc.kill()
            deadline = time.monotonic() + 10
        time.sleep(0.01)


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.02) -> float:
    """Poll until check() holds; return the time it took. Raises after `timeout`."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENT_", "SUPABASE_", "AWS_"))}
    env.update(AWS_ENV)
    # The checkout's code, not whatever `uploader` the interpreter has installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Moto:
    """moto's S3 server in its own process; its werkzeug request log counts requests."""

    LINE = re.compile(rb'"(?:\x1b\[[\d;]*m)*(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP')

    def __init__(self, tmp: Path) -> None:
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = tmp / "moto.log"
        cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        self.child = spawn("moto", cmd, self.log, child_env())

        def up() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0

        wait_for(up, 30, "the moto server")
        import boto3
        from botocore.config import Config

        self.s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            region_name=AWS_ENV["AWS_REGION"],
            config=Config(s3={"addressing_style": "path"}),
        )
        self.s3.create_bucket(Bucket=BUCKET)

    def requests(self) -> Counter[str]:
        return Counter(m.group(1).decode() for m in self.LINE.finditer(self.log.read_bytes()))

    def manifest(self, sid: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/sessions/{sid}/manifest.json")
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body["Body"].read())  # type: ignore[no-any-return]

    def segment_bytes(self, sid: str) -> tuple[int, int]:
        """(objects, total size) under the session's segments/ folder, as the store has it."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"{PREFIX}/sessions/{sid}/segments/"
        )
        sizes = [o["Size"] for page in pages for o in page.get("Contents", ())]
        return len(sizes), sum(sizes)


def session_file(tmp: Path, sid: str) -> Path:
    """Transcripts get a folder of their own, as in an agent's sessions folder: watch
    listens to the file's folder, and must not be woken by the bench's own log files."""
    folder = tmp / "sessions"
    folder.mkdir(exist_ok=True)
    return folder / f"{sid}.jsonl"


def start_watch(name: str, file: Path, tmp: Path, moto: Moto, extra: tuple[str, ...] = ()) -> Child:
    cmd = [
        sys.executable, "-m", "uploader", "watch", "--file", str(file),
        "--store", f"s3://{BUCKET}/{PREFIX}", "--s3-endpoint-url", moto.endpoint,
        "--s3-region", AWS_ENV["AWS_REGION"], "--spool-dir", str(tmp / f"spool-{name}"),
        "--ui-disable", "--shutdown-timeout", "60s", "--log-level", "INFO",
        "--index", str(tmp / f"index-{name}.sqlite3") if WITH_INDEX[0] else "off",
        *EXTRA_WATCH_ARGS, *extra,
    ]  # fmt: skip
    return spawn(f"watch-{name}", cmd, tmp / f"watch-{name}.log", child_env())


def wait_ready(child: Child) -> float:
    """Seconds from spawn until watch logs that it is watching."""

    def ready() -> bool:
        if exited(child):
            raise RuntimeError(f"{child.name} exited early:\n{child.log.read_text()[-3000:]}")
        return b" watching " in child.log.read_bytes()

    wait_for(ready, 60, f"{child.name} to start", interval=0.005)
    return time.monotonic() - child.started


def vm_hwm_mb(pid: int) -> float | None:
    """Peak RSS of a live process since its exec. (wait4's ru_maxrss is no good here:
    Linux carries the parent's high-water mark over the fork, and this script holds the
    whole transcript in memory, so every child would seem as big as it.)"""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for row in f:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        pass
    return None


def stop_watch(child: Child) -> resource.struct_rusage:
    if not exited(child):
        child.peak_rss_mb = vm_hwm_mb(child.proc.pid)
        child.proc.send_signal(signal.SIGINT)
    ru = reap(child, 90)
    if child.proc.returncode not in (0, 130):
        print(
            f"  ! {child.name} exited with {child.proc.returncode}:\n"
            f"{child.log.read_text()[-3000:]}",
            flush=True,
        )
    return ru


def spool_state(tmp: Path, name: str, sid: str) -> dict[str, Any]:
    """The resume state the watch saved (read as watch reads it: the file is JSON lines)."""
    try:
        state = StateStore(tmp / f"spool-{name}" / "state").load(sid)
    except (OSError, ValueError):
        return {}
    return asdict(state) if state is not None else {}


def queue_empty(tmp: Path, name: str) -> bool:
    return not any((tmp / f"spool-{name}" / "queue").rglob("*.meta.json"))


def manifest_bytes(m: dict[str, Any] | None) -> tuple[int, int]:
    segs = (m or {}).get("segments", [])
    return sum(s["bytes"] for s in segs), sum(s.get("gzip_bytes", 0) for s in segs)


def source_covered(m: dict[str, Any] | None) -> int:
    """Source bytes the manifest's segments cover (stored bytes differ once a secret is
    redacted; each segment records where it ends in the source)."""
    segs = (m or {}).get("segments", [])
    if not segs:
        return 0
    end = segs[-1].get("source_end")
    return int(end) if end is not None else manifest_bytes(m)[0]


def cpu_of(ru: resource.struct_rusage) -> float:
    return ru.ru_utime + ru.ru_stime


def rss_mb(child: Child, ru: resource.struct_rusage) -> float:
    return child.peak_rss_mb if child.peak_rss_mb is not None else maxrss_mb(ru)


def maxrss_mb(ru: resource.struct_rusage) -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    return ru.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)


# -- the runs ---------------------------------------------------------------------------


def baselines(data_path: Path, tmp: Path, level: int) -> dict[str, Any]:
    data = data_path.read_bytes()
    res: dict[str, Any] = {}

    def inproc(compressobj: Callable[[], Any]) -> tuple[float, int]:
        t0 = time.process_time()
        comp, out = compressobj(), 0
        for i in range(0, len(data), 1 << 20):
            out += len(comp.compress(data[i : i + (1 << 20)]))
        out += len(comp.flush())
        return time.process_time() - t0, out

    res["zlib6"] = inproc(lambda: zlib.compressobj(6, zlib.DEFLATED, 31))
    try:
        from isal import isal_zlib

        res["isal"] = inproc(lambda: isal_zlib.compressobj(level, zlib.DEFLATED, 31))
    except ImportError:
        res["isal"] = None
    gz = shutil.which("gzip")
    if gz:
        out_path = tmp / "baseline.gz"
        with open(out_path, "wb") as out:
            proc = subprocess.Popen([gz, "-6", "-c", str(data_path)], stdout=out)
        ru = reap(Child("gzip", proc, out_path), 300)
        res["gzip_cmd"] = (cpu_of(ru), out_path.stat().st_size)
        out_path.unlink()
    else:
        res["gzip_cmd"] = None
    return res


def run_startup(tmp: Path, moto: Moto, corpus: Corpus, seed: int) -> dict[str, float]:
    """The fixed cost of one watch process: interpreter, imports, store probe, shutdown,
    on a one-line file. Subtracted from the throughput run to give the per-MB cost.
    Run twice, keeping the lower figures: the first run also warms the caches (page
    cache, .pyc files) for the runs after it."""
    runs = []
    for i in range(2):
        gen = TranscriptGen(seed + 10 + i, corpus)
        path = session_file(tmp, gen.sid)
        path.write_bytes(next(gen.lines(0, end_with_compaction=False)))
        child = start_watch(f"startup-{i}", path, tmp, moto)
        ready_s = wait_ready(child)
        time.sleep(0.5)
        ru = stop_watch(child)
        runs.append({"ready_s": ready_s, "cpu_s": cpu_of(ru), "rss_mb": rss_mb(child, ru)})
    return {key: min(r[key] for r in runs) for key in runs[0]}


def run_throughput(
    tmp: Path,
    moto: Moto,
    path: Path,
    sid: str,
    name: str = "throughput",
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    size = path.stat().st_size
    before = moto.requests()
    child = start_watch(name, path, tmp, moto, extra)
    sigint_sent = False
    stalled_since = 0.0

    def uploaded() -> bool:
        nonlocal sigint_sent, stalled_since
        if not sigint_sent and exited(child):
            raise RuntimeError(f"watch exited early:\n{child.log.read_text()[-3000:]}")
        if spool_state(tmp, name, sid).get("offset") != size:
            return False
        if not queue_empty(tmp, name):
            return False
        if source_covered(moto.manifest(sid)) == size:
            return True
        # All read, nothing queued, the manifest short: the last segment is still open
        # (the file ends without a compaction line?). SIGINT closes and uploads it.
        stalled_since = stalled_since or time.monotonic()
        if not sigint_sent and time.monotonic() - stalled_since > 3:
            child.proc.send_signal(signal.SIGINT)
            sigint_sent = True
        return False

    wait_for(uploaded, 600, "the upload of the whole file")
    wall = time.monotonic() - child.started
    ru = stop_watch(child)
    after = moto.requests()
    m = moto.manifest(sid)
    _, gz = manifest_bytes(m)
    if source_covered(m) != size:
        raise RuntimeError(f"the manifest covers {source_covered(m)} of {size} bytes")
    objects, stored = moto.segment_bytes(sid)
    return {
        "wall_s": wall,
        "cpu_s": cpu_of(ru),
        "rss_mb": rss_mb(child, ru),
        "stored": stored,
        "manifest_gzip": gz,
        "segments": objects,
        "puts": after["PUT"] - before["PUT"],
        "checkpoints": len((m or {}).get("checkpoints", [])),
        "sigint_tail": sigint_sent,
        "redacted": sum(sum(s.get("redactions", {}).values()) for s in (m or {})["segments"]),
    }


def run_steady_and_idle(
    tmp: Path, moto: Moto, corpus: Corpus, seed: int, rate: int, steady_s: float, idle_s: float
) -> dict[str, Any]:
    gen = TranscriptGen(seed + 1, corpus)
    path = session_file(tmp, gen.sid)
    n = int(rate * steady_s)
    stream = gen.lines(1 << 62, end_with_compaction=False)
    head = next(stream)
    lines: list[bytes] = []
    for ln in stream:
        if len(ln) <= STEADY_MAX_LINE:
            lines.append(ln)
            if len(lines) == n:
                break
    path.write_bytes(head)
    child = start_watch("steady", path, tmp, moto)
    wait_ready(child)
    time.sleep(1.0)  # let start-up settle

    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        cpu0, t0 = cpu_seconds(child.proc.pid), time.monotonic()
        req0 = moto.requests()
        for i, line in enumerate(lines):  # one write per line, as agents do
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            os.write(fd, line)
        t1 = time.monotonic()
        cpu1 = cpu_seconds(child.proc.pid)
    finally:
        os.close(fd)
    size = path.stat().st_size
    lag = wait_for(
        lambda: spool_state(tmp, "steady", gen.sid).get("offset") == size, 60, "watch to catch up"
    )
    time.sleep(1.0)  # uploads of segments closed at the end of the window
    req1 = moto.requests()

    # idle: nothing to read; nothing should go to the store
    cpu2, t2, req2 = cpu_seconds(child.proc.pid), time.monotonic(), moto.requests()
    time.sleep(idle_s)
    cpu3, t3, req3 = cpu_seconds(child.proc.pid), time.monotonic(), moto.requests()

    ru = stop_watch(child)
    raw = source_covered(moto.manifest(gen.sid))
    if raw != size:
        raise RuntimeError(f"steady run: the manifest covers {raw} of {size} bytes")
    written = sum(len(ln) for ln in lines)
    return {
        "lines": len(lines),
        "window_s": t1 - t0,
        "mb_s": written / MB / (t1 - t0),
        "cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0),
        "lag_s": lag,
        "puts": sum((req1 - req0).values()),
        "idle_s": t3 - t2,
        "idle_requests": req3 - req2,
        "idle_cpu_pct": 100 * (cpu3 - cpu2) / (t3 - t2),
        "rss_mb": rss_mb(child, ru),
    }


# -- report -----------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mb", type=float, default=50, help="transcript size in MB (10^6 bytes)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=int, default=1000, help="steady run: lines per second")
    ap.add_argument("--steady-s", type=float, default=20, help="steady run: seconds")
    ap.add_argument("--idle-s", type=float, default=10, help="idle run: seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, spools)")
    ap.add_argument(
        "--watch-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for every `watch` (repeatable), e.g. --watch-arg=--gzip-level=3",
    )
    ap.add_argument("--with-index", action="store_true", help="watch keeps its search index too")
    args = ap.parse_args()

    EXTRA_WATCH_ARGS.extend(args.watch_arg)
    WITH_INDEX[0] = args.with_index

    return run_in_temp_dir("bench-watch-", lambda tmp: bench(args, tmp), CHILDREN, keep=args.keep)


def bench(args: argparse.Namespace, tmp: Path) -> int:
    from uploader.core.codec import DEFAULT_LEVEL, codec_name

    try:
        from importlib.metadata import version

        isal_version = version("isal")
    except Exception:
        isal_version = "not installed"

    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    load_before = os.getloadavg()[0]
    say(f"generating a {args.mb:g} MB transcript (seed {args.seed}) in {tmp}")
    corpus = Corpus(Random(args.seed))
    gen = TranscriptGen(args.seed, corpus)
    path = session_file(tmp, gen.sid)
    sizes = write_transcript(path, gen, int(args.mb * MB))
    size = path.stat().st_size
    ssorted = sorted(sizes)

    def pct(p: float) -> int:
        return ssorted[min(len(ssorted) - 1, int(p * len(ssorted)))]

    say("baselines: gzip -6 (command), zlib-6 and ISA-L in-process")
    base = baselines(path, tmp, DEFAULT_LEVEL)
    gz_cpu, gz_bytes = base["gzip_cmd"] or base["zlib6"]
    gz_label = "gzip -6 command" if base["gzip_cmd"] else "zlib-6 in-process"

    say("starting moto S3 in another process")
    moto = Moto(tmp)
    say("start-up cost: watch on a one-line file")
    startup = run_startup(tmp, moto, corpus, args.seed)
    say("throughput: watch on the complete file until the manifest covers it")
    tp = run_throughput(tmp, moto, path, gen.sid)
    say(f"steady: {args.rate} lines/s for {args.steady_s:g} s, then idle for {args.idle_s:g} s")
    st = run_steady_and_idle(tmp, moto, corpus, args.seed, args.rate, args.steady_s, args.idle_s)

    mb = size / MB
    gz_ms = 1000 * gz_cpu / mb
    gross_ms = 1000 * tp["cpu_s"] / mb
    net_ms = 1000 * max(0.0, tp["cpu_s"] - startup["cpu_s"]) / mb
    size_ratio = tp["stored"] / gz_bytes
    idle_n = sum(st["idle_requests"].values())
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, target, "" if ok is None else verdict(ok)))

    row("transcript", f"{mb:.1f} MB, {len(sizes):,} lines, gzip -6 ratio {size / gz_bytes:.2f}x")
    row(
        "line sizes p50 / p90 / p99 / max",
        f"{pct(0.5):,} / {pct(0.9):,} / {pct(0.99):,} / {ssorted[-1]:,} B",
    )
    row(f"{gz_label}: CPU, size", f"{gz_ms:.1f} ms/MB, {gz_bytes:,} B")
    z_cpu, z_bytes = base["zlib6"]
    row("zlib-6 in-process: CPU, size", f"{1000 * z_cpu / mb:.1f} ms/MB, {z_bytes:,} B")
    if base["isal"]:
        i_cpu, i_bytes = base["isal"]
        row(
            f"{codec_name(DEFAULT_LEVEL)} in-process: CPU, size",
            f"{1000 * i_cpu / mb:.1f} ms/MB, {i_bytes:,} B = {i_bytes / gz_bytes:.2f}x",
        )
    row(
        "watch start-up+shutdown (1-line file)",
        f"{1000 * startup['cpu_s']:.0f} ms CPU, ready in {startup['ready_s']:.2f} s, "
        f"RSS {startup['rss_mb']:.0f} MB",
    )
    row(
        "throughput: wall, spawn -> all uploaded",
        f"{tp['wall_s']:.2f} s" + (" (tail closed by SIGINT)" if tp["sigint_tail"] else ""),
    )
    row("throughput: MB/s end to end", f"{mb / tp['wall_s']:.1f} MB/s")
    row(
        "throughput: MB/s without start-up",
        f"{mb / (tp['wall_s'] - startup['ready_s']):.1f} MB/s"
        if tp["wall_s"] > startup["ready_s"]
        else "n/a",
    )
    row("throughput: watch CPU (user+sys)", f"{1000 * tp['cpu_s']:.0f} ms")
    row("throughput: CPU per MB, gross", f"{gross_ms:.1f} ms/MB")
    row("throughput: CPU per MB, net of start-up", f"{net_ms:.1f} ms/MB")
    row("throughput: peak RSS", f"{tp['rss_mb']:.0f} MB")
    row(
        "throughput: stored segment bytes",
        f"{tp['stored']:,} B in {tp['segments']} segments, {tp['checkpoints']} checkpoints, "
        f"{tp['puts']} PUTs",
    )
    row(
        "CPU ratio watch (net) / gzip -6",
        f"{net_ms / gz_ms:.3f}",
        f"<= {TARGET_CPU_RATIO}",
        net_ms / gz_ms <= TARGET_CPU_RATIO,
    )
    row(
        "CPU ratio watch (gross) / gzip -6",
        f"{gross_ms / gz_ms:.3f}",
        f"<= {TARGET_CPU_RATIO}",
        gross_ms / gz_ms <= TARGET_CPU_RATIO,
    )
    row(
        "size ratio stored / gzip -6",
        f"{size_ratio:.3f}",
        f"<= {TARGET_SIZE_RATIO}",
        size_ratio <= TARGET_SIZE_RATIO,
    )
    row(
        "steady: lines, rate, volume",
        f"{st['lines']:,} lines in {st['window_s']:.1f} s, {st['lines'] / st['window_s']:.0f} "
        f"lines/s, {st['mb_s']:.2f} MB/s, {st['puts']} store requests",
    )
    row(
        "steady: watch CPU, % of one core",
        f"{st['cpu_pct']:.2f} %",
        f"< {TARGET_STEADY_PCT} %",
        st["cpu_pct"] < TARGET_STEADY_PCT,
    )
    row("steady: caught up after the writer stopped", f"{st['lag_s']:.2f} s")
    row(
        f"idle: store requests in {st['idle_s']:.0f} s",
        f"{idle_n}" + (f" {dict(st['idle_requests'])}" if idle_n else ""),
        "0",
        idle_n == 0,
    )
    row("idle: watch CPU, % of one core", f"{st['idle_cpu_pct']:.2f} %")
    row("steady+idle: peak RSS", f"{st['rss_mb']:.0f} MB")

    print()
    return print_report(
        f"agent-uploader watch benchmark: Python {platform.python_version()}, isal "
        f"{isal_version}, codec {codec_name(DEFAULT_LEVEL)}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.machine()}, seed {args.seed}, load average "
        f"{load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end",
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
