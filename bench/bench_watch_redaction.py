"""What redaction costs `watch`: the same transcripts uploaded with --redact on and off.

    python bench/bench_watch_redaction.py [--mb 40] [--runs 5] [--seed 1] [--every-kb 100]

A seeded transcript (TranscriptGen, tests/support/transcripts.py) gets a secret about every
--every-kb KB (a user line naming an API key, a token or a database URL with its
password), at two sizes: --mb, and the same generator stopped at half of it, which is the
large file's first half closed by a compaction line. `watch` uploads each to a moto S3
server in another process, with redaction on and off, --runs times in turns, each time as
a new session, until the manifest's last segment ends at the file's last byte; its CPU
(user+sys, every thread) is read then, before it is stopped, and the least of the runs
kept. The difference between the two sizes, per MB, is watch's marginal CPU: start-up,
imports and the store probe drop out.

Baselines on the large transcript: the `gzip -6` command, and the redactor alone,
in-process, on the reads watch makes (fresh bytes from os.pread: about 4 MiB of whole
lines, the partial line after them read again with the next), all made before the clock
starts. Only `redact` is timed, two ways: on the reads as they are (from memory), and
each right after an untimed pass over it (in the CPU's cache, as bench_redact.py times).

Targets (our security issue): with redaction on, marginal CPU per MB at most 0.25x that of
gzip -6; the redactor itself at most 1 ms of CPU per MB.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from random import Random
from typing import Any

from bench_watch import (
    CHILDREN,
    MB,
    WITH_INDEX,
    Moto,
    baselines,
    exited,
    manifest_bytes,
    queue_empty,
    session_file,
    source_covered,
    spool_state,
    start_watch,
    stop_watch,
    wait_for,
)
from harness import print_report, run_in_temp_dir

from tests.support.transcripts import Corpus, TranscriptGen, jsonl
from uploader.redaction import Redactor, default_rules

TARGET_RATIO = 0.25  # watch's marginal CPU per MB with redaction on / gzip -6's
TARGET_REDACT_MS = 1.0  # the redactor's own CPU per MB
READ = 4 << 20  # watch reads this much past its partial line at a time


def secret(rng: Random) -> str:
    """A made-up secret of one of the kinds agents leak (built here, not stored anywhere)."""
    upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def pick(n: int, alphabet: str = upper + upper.lower() + "0123456789") -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    return rng.choice(
        [
            "gh" + "p_" + pick(36),
            "AK" + "IA" + pick(16, upper + "234567"),
            "sk_" + "live_" + pick(32),
            f"postgres://app:{pick(20)}@db.internal:5432/app",
            "Authorization: Bearer " + pick(40),
        ]
    )


def write_with_secrets(path: Path, gen: TranscriptGen, limit: int, every: int, seed: int) -> int:
    """The transcript with a user line carrying a secret before the first line past every
    `every` bytes; the number of secrets written. The secrets come from the seed alone and
    take the time of the line before them (the generator's random state is left alone),
    so a smaller limit gives the start of a larger one's file, closed by the generator's
    last line, a compaction."""
    rng, planted, next_at, size, stamp = Random(seed), 0, every, 0, ""
    with open(path, "wb") as f:
        for line in gen.lines(limit):
            if size >= next_at:
                text = f"use this one: {secret(rng)} and tell me if it works"
                body = {"type": "user", "sessionId": gen.sid, "timestamp": stamp,
                        "message": {"role": "user", "content": text}}  # fmt: skip
                extra = jsonl(body)
                f.write(extra)
                size += len(extra)
                planted += 1
                next_at += every
            f.write(line)
            size += len(line)
            stamp = gen.t.isoformat(timespec="milliseconds")  # the time of `line`
    return planted


def watch_reads(path: Path) -> list[tuple[bytes, int]]:
    """(buf, end) as watch's reader hands them to the redactor: buf fresh from os.pread,
    buf[:end] its whole lines; the partial line after them starts the next read."""
    reads, pos, carry = [], 0, 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while (buf := os.pread(fd, carry + READ, pos)) and (end := buf.rfind(b"\n") + 1):
            reads.append((buf, end))
            pos, carry = pos + end, len(buf) - end
        if pos != os.fstat(fd).st_size:  # watch would read on; this would time less
            raise RuntimeError(f"{path.name}: a line longer than 4 MiB, or no last newline")
    finally:
        os.close(fd)
    return reads


def redactor_ms_per_mb(
    redactor: Redactor, reads: list[tuple[bytes, int]], repeat: int = 5
) -> tuple[float, float, int]:
    """CPU of `redact` alone per MB of the reads, the best of `repeat` passes each way, in
    turns: on the reads as they are (from memory), and on each right after an untimed
    pass over it (in the CPU's cache). And the secrets it replaced."""
    best, hits = {False: float("inf"), True: float("inf")}, 0
    for _ in range(repeat):
        for warm in (False, True):
            spent, hits = 0.0, 0
            for buf, end in reads:
                if warm:
                    buf.count(b"\n")
                t0 = time.process_time()
                result = redactor.redact(buf, end)
                spent += time.process_time() - t0
                hits += len(result.hits)
            best[warm] = min(best[warm], spent)
    mb = sum(end for _, end in reads) / MB
    return 1000 * best[False] / mb, 1000 * best[True] / mb, hits


def process_cpu_s(pid: int) -> float:
    """User+sys CPU of a live process, all its threads, to the nanosecond: the process CPU
    clock of clock_getcpuclockid(3) (Linux; /proc/PID/stat counts 10 ms ticks)."""
    return time.clock_gettime(((~pid) << 3) | 2)


def upload(tmp: Path, moto: Moto, path: Path, name: str, mode: str) -> tuple[float, dict[str, Any]]:
    """`watch --redact MODE` on a copy of the transcript under a new session id, until the
    manifest's last segment ends at the file's last byte: watch's CPU up to then (its
    shutdown left out: whether the interpreter's finalisation runs or os._exit cuts it
    short varies from run to run, 0.08 s against 0.01), and the manifest."""
    sid = str(uuid.uuid4())  # watch takes the session id from the file name
    copy = session_file(tmp, sid)
    shutil.copyfile(path, copy)
    size = copy.stat().st_size
    child = start_watch(name, copy, tmp, moto, ("--redact", mode))

    def uploaded() -> bool:
        if exited(child):
            raise RuntimeError(f"watch exited early:\n{child.log.read_text()[-3000:]}")
        return (
            spool_state(tmp, name, sid).get("offset") == size
            and queue_empty(tmp, name)
            and source_covered(moto.manifest(sid)) == size
        )

    # A last segment that does not close by itself (at the compaction ending the file)
    # would wait for the stop, out of the figure: that fails here.
    wait_for(uploaded, 30 + size / MB, f"watch to upload {path.name}")
    cpu = process_cpu_s(child.proc.pid)
    stop_watch(child)
    copy.unlink()
    manifest = moto.manifest(sid)
    assert manifest is not None
    return cpu, manifest


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mb", type=float, default=40, help="the larger transcript, in MB")
    ap.add_argument("--runs", type=int, default=5, help="watch runs per figure, least CPU kept")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every-kb", type=float, default=100, help="a secret every N KB")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, spools)")
    ap.add_argument("--with-index", action="store_true", help="watch keeps its search index too")
    args = ap.parse_args()
    WITH_INDEX[0] = args.with_index
    return run_in_temp_dir("bench-redact-", lambda tmp: bench(args, tmp), CHILDREN, keep=args.keep)


def bench(args: argparse.Namespace, tmp: Path) -> int:
    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.2f}] {msg}", flush=True)

    load_before = os.getloadavg()[0]
    corpus = Corpus(Random(args.seed))
    files: dict[str, tuple[Path, int, int]] = {}  # name: path, size, secrets planted
    for name, mb in (("small", args.mb / 2), ("large", args.mb)):
        gen = TranscriptGen(args.seed, corpus)
        path = session_file(tmp, f"{name}-{gen.sid}")
        every = int(args.every_kb * 1000)
        planted = write_with_secrets(path, gen, int(mb * MB), every, args.seed)
        files[name] = (path, path.stat().st_size, planted)
        say(f"{name}: {path.stat().st_size / MB:.1f} MB with {planted} secrets")
    small, large = (files[n][0].read_bytes() for n in ("small", "large"))
    closing = small.rfind(b"\n", 0, len(small) - 1) + 1  # where the last line starts
    if not large.startswith(small[:closing]):
        raise RuntimeError("the small transcript is not the start of the large one")
    del small, large

    say("baselines: gzip -6 and the redactor alone, on the large transcript")
    base = baselines(files["large"][0], tmp, 1)
    gz_cpu, _ = base["gzip_cmd"] or base["zlib6"]
    gz_ms = 1000 * gz_cpu / (files["large"][1] / MB)
    redactor = Redactor(default_rules())  # compiled before the clock starts, as in watch
    reads = watch_reads(files["large"][0])
    red_cold, red_warm, hits = redactor_ms_per_mb(redactor, reads)
    del reads

    moto = Moto(tmp)
    cpu: dict[tuple[str, str], list[float]] = defaultdict(list)
    redacted: dict[tuple[str, str], set[int]] = defaultdict(set)
    for run in range(args.runs):
        for mode in ("off", "on"):
            for name, (path, size, _) in files.items():
                say(f"run {run + 1}/{args.runs}: watch --redact {mode}, {name} transcript")
                spent, manifest = upload(tmp, moto, path, f"{name}-{mode}-{run}", mode)
                raw, _ = manifest_bytes(manifest)
                if mode == "off" and raw != size:
                    raise RuntimeError(f"--redact off stored {raw} raw bytes of {size}")
                cpu[mode, name].append(spent)
                segments = manifest["segments"]
                redacted[mode, name].add(
                    sum(sum(s.get("redactions", {}).values()) for s in segments)
                )
    delta_mb = (files["large"][1] - files["small"][1]) / MB
    least = {key: min(v) for key, v in cpu.items()}
    marginal = {m: 1000 * (least[m, "large"] - least[m, "small"]) / delta_mb for m in ("off", "on")}
    rounds = {  # from each round's two runs alone: how much one figure moves
        m: [
            1000 * (big - small) / delta_mb
            for small, big in zip(cpu[m, "small"], cpu[m, "large"], strict=True)
        ]
        for m in ("off", "on")
    }
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, target, "" if ok is None else ("yes" if ok else "NO")))

    sizes = " and ".join(f"{files[n][1] / MB:.1f}" for n in ("small", "large"))
    row("transcripts", f"{sizes} MB, a secret every {args.every_kb:g} KB")
    row("gzip -6, CPU per MB (baseline)", f"{gz_ms:.1f} ms/MB")
    planted = files["large"][2]
    for label, ms in (("from memory", red_cold), ("each read warmed first", red_warm)):
        row(f"redactor alone, {label}", f"{ms:.2f} ms/MB ({hits} of {planted} secrets)",
            f"<= {TARGET_REDACT_MS} ms/MB", ms <= TARGET_REDACT_MS)  # fmt: skip
    for mode in ("off", "on"):
        for name in ("small", "large"):
            runs = ", ".join(f"{c:.2f}" for c in cpu[mode, name])
            row(f"watch --redact {mode}: CPU, {name}", f"{least[mode, name]:.2f} s (runs: {runs})")
        ratio = marginal[mode] / gz_ms
        lo, hi = min(rounds[mode]), max(rounds[mode])
        row(f"watch --redact {mode}: marginal CPU per MB",
            f"{marginal[mode]:.2f} ms/MB = {ratio:.3f}x gzip -6 (by round: {lo:.1f} to {hi:.1f})",
            f"<= {TARGET_RATIO}x" if mode == "on" else "",
            ratio <= TARGET_RATIO if mode == "on" else None)  # fmt: skip
    row(
        "redaction's share of watch's marginal CPU", f"{marginal['on'] - marginal['off']:.2f} ms/MB"
    )
    for name in ("small", "large"):
        planted = files[name][2]
        row(f"secrets redacted in the store, {name}, every run",
            "/".join(map(str, sorted(redacted["on", name]))) + f" of {planted} planted",
            str(planted), redacted["on", name] == {planted})  # fmt: skip
    off = redacted["off", "small"] | redacted["off", "large"]
    row("secrets redacted with --redact off", "/".join(map(str, sorted(off))), "0", off == {0})
    print()
    return print_report(
        f"agent-uploader redaction benchmark: Python {platform.python_version()}, redactor "
        f"engine {redactor.engine}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.machine()}, seed {args.seed}, least CPU of "
        f"{args.runs} runs, load average {load_before:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end",
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
