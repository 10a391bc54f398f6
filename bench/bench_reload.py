"""Benchmark of `agent-uploader reload` against `zcat` of the same segments.

    python bench/bench_reload.py [--size 1GiB] [--repeat 1] [--workdir DIR] [--keep]

Generates a Codex-like session of --size (tests/support/session_factory.py, in the uploader's
layout: segments of at most 8 MiB gzipped at level 1 with uploader.codec.pack, and a
manifest) in a local store, and a second one of an eighth of that from the same
generator. Then, in the same run and on the same disk, for each session:

1. the floor: `zcat seg1 seg2 … > out_zcat.jsonl` (sh, gzip's own gunzip of the very
   same files into a file);
2. the real CLI in a subprocess: `python -m uploader reload --store file://… --sid …
   --to out_reload.jsonl --force`.

Wall time from spawn to exit, MB/s of uncompressed output and the child's peak RSS
(`/usr/bin/time`, whose own footprint is a few MiB; see `timed`). Both outputs must
equal the generated session byte for byte (sha256 of the generated lines), else the
benchmark stops with an error. The ratio reload/zcat is judged on the big session, and
memory on the two sessions' peak RSS (flat in the session's size).

Run by hand, not part of the test suite. See bench/README.md for what it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import ManifestFigures, UnsyncedStore, print_report

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.session_factory import write_session  # noqa: E402
from tests.support.transcripts import big_session_lines  # noqa: E402
from uploader.core import codec  # noqa: E402
from uploader.core.units import format_size, parse_size  # noqa: E402
from uploader.storage import manifest as mf  # noqa: E402

MB = 1_000_000  # all "MB" and "MB/s" figures are 10^6 bytes; MiB where it says so
SEG_BYTES = 8 << 20  # the uploader's defaults: --seg-bytes 8MiB, --seg-lines 10000
SEG_LINES = 10_000
SMALL_DIVISOR = 8
TARGET_RATIO = 1.0  # reload MB/s / zcat MB/s, on the big session
# "Flat in the session's size": reload holds one segment at a time (its gzip, one
# decompressed chunk), so the big session's peak RSS may exceed the small one's by at
# most one segment's worth, whatever the sizes.
FLAT_SLACK = SEG_BYTES
TIME = Path("/usr/bin/time")
BIG_SID = "019ce1a2-0000-7000-8000-00000000b160"
SMALL_SID = "019ce1a2-0000-7000-8000-00000000001e"


# -- the sessions --------------------------------------------------------------------------


@dataclass
class Session(ManifestFigures):
    label: str
    root: Path
    sid: str
    manifest: dict[str, Any]
    sha256: str  # of all the generated lines, in order: what both outputs must equal
    seconds: float

    @property
    def gzip_bytes(self) -> int:
        return sum(int(s["gzip_bytes"]) for s in self.segments)

    def files(self) -> list[Path]:
        return [self.root / mf.object_key(self.sid, str(s["path"])) for s in self.segments]


def hashed(lines: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for line in lines:
        digest.update(line)
        yield line


def make_session(root: Path, label: str, sid: str, size: int, seed: int) -> Session:
    """A session of about `size` bytes, streamed: one segment in memory at a time."""
    digest = hashlib.sha256()
    path = f"/home/dev/.codex/sessions/2026/03/14/rollout-2026-03-14T09-00-00-{sid}.jsonl"
    started = time.perf_counter()
    manifest = write_session(
        UnsyncedStore(root),
        sid,
        hashed(big_session_lines(size, seed), digest),
        path=path,
        seg_lines=SEG_LINES,
        seg_bytes=SEG_BYTES,
        closed=True,
        updated_at="2026-03-14T18:00:00.000Z",
    )
    return Session(label, root, sid, manifest, digest.hexdigest(), time.perf_counter() - started)


# -- runs ----------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float  # seconds from spawn to exit
    rss: int  # the child's peak RSS, bytes
    extra: float = 0.0  # zcat: seconds to fsync its output afterwards


@dataclass
class Figures:
    runs: list[Run] = field(default_factory=list)

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda r: r.wall)

    @property
    def peak_rss(self) -> int:
        return max(r.rss for r in self.runs)


class Interrupts:
    """Ctrl+C and SIGTERM end the run (SystemExit: the child is stopped, the temp dir
    removed), but not while a child is being spawned, when its pid is not known yet and
    it could not be stopped: then just after."""

    held = False
    pending = 0

    @classmethod
    def handler(cls, signum: int, frame: Any) -> None:
        if cls.held:
            cls.pending = signum
        else:
            raise SystemExit(128 + signum)

    @classmethod
    def deliver(cls) -> None:
        if cls.pending:
            raise SystemExit(128 + cls.pending)


def timed(argv: list[str], log: Path, workdir: Path) -> Run:
    """Run argv to its end: wall time, and the peak RSS of that child alone.

    Not this script's RUSAGE_CHILDREN nor wait4: on Linux a child's ru_maxrss starts from
    the high-water mark of the process it was forked from (exec keeps it), and this
    script is far bigger than `reload`. /usr/bin/time is a few MiB, so what it reports
    (%M) is the child's own. Without it, a small Python wrapper does the same (its own
    ~10 MiB then sets the floor of the figure)."""
    rss_file = workdir / "rss.txt"
    rss_file.unlink(missing_ok=True)
    if TIME.exists():
        wrapped = [str(TIME), "-f", "%M", "-o", str(rss_file), *argv]
    else:
        wrapper = (
            "import resource, subprocess, sys; "
            "rc = subprocess.call(sys.argv[2:]); "
            "open(sys.argv[1], 'w').write(str(resource.getrusage("
            "resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(rc)"
        )
        wrapped = [sys.executable, "-c", wrapper, str(rss_file), *argv]
    os.sync()  # start with no dirty pages of an earlier run waiting to be written
    with open(log, "ab") as out:
        started = time.perf_counter()
        # A session of its own (Ctrl+C in the terminal reaches only this script), stopped
        # as a group if the run is interrupted; no interruption while it is being spawned.
        Interrupts.held = True
        try:
            proc = subprocess.Popen(
                wrapped,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        finally:
            Interrupts.held = False
        try:
            Interrupts.deliver()
            rc = proc.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        wall = time.perf_counter() - started
    if rc != 0:
        raise SystemExit(f"{shlex.join(argv[:4])} … exited with {rc}:\n{log.read_text()[-3000:]}")
    # ru_maxrss is KiB on Linux (GNU time's %M too), bytes on macOS
    kib = int(rss_file.read_text().split()[-1])
    return Run(wall, kib * (1 if sys.platform == "darwin" else 1024))


def check_output(out: Path, session: Session, who: str) -> None:
    """The output must be the generated session, byte for byte; stop loudly if not."""
    with open(out, "rb") as f:
        got = hashlib.file_digest(f, "sha256").hexdigest()
    size = out.stat().st_size
    if got != session.sha256 or size != session.raw_bytes:
        raise SystemExit(
            f"MISMATCH: {who} wrote {size:,} bytes with sha256 {got}; the generated "
            f"{session.label} is {session.raw_bytes:,} bytes with sha256 {session.sha256}"
        )


def run_zcat(session: Session, workdir: Path) -> Run:
    out = workdir / "out_zcat.jsonl"
    files = " ".join(shlex.quote(str(p)) for p in session.files())
    run = timed(
        ["sh", "-c", f"zcat {files} > {shlex.quote(str(out))}"], workdir / "zcat.log", workdir
    )
    # reload fsyncs its file before the rename (its contract); zcat does not. The time
    # to fsync zcat's output now, with nothing else dirty, is given beside it.
    started = time.perf_counter()
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    run.extra = time.perf_counter() - started
    check_output(out, session, "zcat")
    out.unlink()
    return run


def reload_argv(session: Session, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uploader",
        "reload",
        "--store",
        f"file://{session.root}",
        "--sid",
        session.sid,
        "--to",
        str(out),
        "--force",
    ]


def run_reload(session: Session, workdir: Path) -> Run:
    out = workdir / "out_reload.jsonl"
    run = timed(reload_argv(session, out), workdir / "reload.log", workdir)
    check_output(out, session, "reload")
    out.unlink()
    return run


def start_up(workdir: Path, reps: int = 3) -> float:
    """Seconds for `python -m uploader reload --help`: interpreter start and the CLI's
    imports, which every reload pays whatever the session's size."""
    argv = [sys.executable, "-m", "uploader", "reload", "--help"]
    return min(timed(argv, workdir / "startup.log", workdir).wall for _ in range(reps))


# -- output --------------------------------------------------------------------------------


def mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def mbps(session: Session, seconds: float) -> float:
    return session.raw_bytes / seconds / MB


def decompressor_name() -> str:
    if codec.isal_zlib is None:
        return "zlib (isal not installed)"
    from importlib.metadata import version

    return f"ISA-L (isal {version('isal')})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", default="1GiB", help="the big session's size (1GiB, 256MiB; default 1GiB)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workdir", type=Path, help="make the temp dir in this folder (default: the system's)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (stores, logs)")
    args = parser.parse_args(argv)
    try:
        args.size = parse_size(args.size)
    except ValueError as exc:
        parser.error(f"--size: {exc}")
    if args.size < SMALL_DIVISOR * SEG_BYTES:
        parser.error(f"--size must be at least {mib(SMALL_DIVISOR * SEG_BYTES)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    signal.signal(signal.SIGTERM, Interrupts.handler)
    signal.signal(signal.SIGINT, Interrupts.handler)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-reload-", dir=args.workdir))
    try:
        return run(args, tmp)
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> int:
    # Stores (~0.4x the sizes, gzip) plus one output at a time (the full size).
    need = int(args.size * (1 + 1 / SMALL_DIVISOR) * 0.6) + args.size + (256 << 20)
    free = shutil.disk_usage(tmp).free
    if free < need:
        raise SystemExit(f"{tmp}: {format_size(free)} free, about {format_size(need)} needed")
    gzip_version = subprocess.run(
        ["gzip", "--version"], capture_output=True, text=True, check=False
    ).stdout.split("\n")[0]
    load_before = os.getloadavg()[0]
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"decompressor {decompressor_name()}; baseline {gzip_version}; peak RSS by "
        f"{TIME if TIME.exists() else 'a Python wrapper'}; load average {load_before:.2f}"
    )
    print(f"generating in {tmp} (not measured) …", flush=True)
    big = make_session(tmp / "big", f"{mib(args.size)} session", BIG_SID, args.size, args.seed)
    small_size = args.size // SMALL_DIVISOR
    small = make_session(
        tmp / "small", f"{mib(small_size)} session", SMALL_SID, small_size, args.seed
    )
    for s in (big, small):
        print(
            f"  {s.label}: {s.raw_bytes / MB:,.1f} MB, {s.lines:,} lines, "
            f"{len(s.segments)} segments, {s.gzip_bytes / MB:,.1f} MB gzip "
            f"({s.raw_bytes / s.gzip_bytes:.2f}x); {s.seconds:.1f} s",
            flush=True,
        )

    boot = start_up(tmp)
    print(f"start-up (python -m uploader reload --help, best of 3): {boot:.3f} s")
    figures: dict[tuple[str, str], Figures] = {}
    for n in range(args.repeat):
        print(f"round {n + 1}/{args.repeat} …", flush=True)
        for s in (big, small):
            for tool, fn in (("zcat", run_zcat), ("reload", run_reload)):
                r = fn(s, tmp)
                figures.setdefault((tool, s.label), Figures()).runs.append(r)
                note = f", then fsync {r.extra:.2f} s" if tool == "zcat" else ""
                print(
                    f"  {tool:<6} {s.label}: {r.wall:.2f} s, {mbps(s, r.wall):,.0f} MB/s, "
                    f"peak RSS {mib(r.rss)}{note}; output checked",
                    flush=True,
                )

    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, target: str = "", ok: str = "") -> None:
        rows.append((name, value, target, ok))

    for s in (big, small):
        zf, rf = figures[("zcat", s.label)], figures[("reload", s.label)]
        zb, rb = zf.best, rf.best
        row(
            f"zcat, {s.label} ({len(s.segments)} segments)",
            f"{zb.wall:6.2f} s  {mbps(s, zb.wall):6,.0f} MB/s  peak RSS {mib(zf.peak_rss)}",
        )
        row(
            "  zcat + fsync of its output (info)",
            f"{zb.wall + zb.extra:6.2f} s  {mbps(s, zb.wall + zb.extra):6,.0f} MB/s",
        )
        row(
            f"reload, {s.label}",
            f"{rb.wall:6.2f} s  {mbps(s, rb.wall):6,.0f} MB/s  peak RSS {mib(rf.peak_rss)}",
        )
        row(
            "  reload net of start-up (info)",
            f"{rb.wall - boot:6.2f} s  {mbps(s, rb.wall - boot):6,.0f} MB/s",
        )
        ratio = mbps(s, rb.wall) / mbps(s, zb.wall)
        vs_sync = mbps(s, rb.wall) / mbps(s, zb.wall + zb.extra)
        judged = s is big
        row(
            f"ratio reload / zcat, {s.label}" + ("" if judged else " (info)"),
            f"{ratio:.2f}x  (vs zcat + fsync {vs_sync:.2f}x)",
            f">= {TARGET_RATIO:.1f}x" if judged else "",
            ("yes" if ratio >= TARGET_RATIO else "NO") if judged else "",
        )
    small_rss = figures[("reload", small.label)].peak_rss
    big_rss = figures[("reload", big.label)].peak_rss
    row(
        "reload peak RSS, small → big",
        f"{mib(small_rss)} → {mib(big_rss)}  ({big_rss / small_rss:.2f}x for "
        f"{big.raw_bytes / small.raw_bytes:.0f}x the bytes)",
        f"+≤ {mib(FLAT_SLACK)}",
        "yes" if big_rss - small_rss <= FLAT_SLACK else "NO",
    )

    print()
    return print_report(
        f"agent-uploader reload benchmark: Python {platform.python_version()}, decompressor "
        f"{decompressor_name()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.machine()}, best of {args.repeat}, load average {load_before:.2f} at "
        f"start, {os.getloadavg()[0]:.2f} at end",
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
