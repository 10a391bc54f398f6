"""What redaction costs `watch`: the same transcripts uploaded with --redact on and off.

    python bench/bench_watch_redaction.py [--mb 40] [--seed 1] [--every-kb 100]

A seeded transcript (bench_watch's generator) gets a secret about every --every-kb KB
(a user line naming an API key, a token or a database URL with its password). `watch`
uploads it to a moto S3 server in another process, at two sizes (half and all of --mb),
with redaction on and off. The difference between the two sizes is watch's marginal CPU
per MB: start-up, imports and the store probe drop out. Baselines in the same run: gzip
-6 of the same bytes, and the redactor alone, in-process, on the same bytes in the 4 MiB
reads watch makes.

Targets (our security issue): with redaction on, marginal CPU per MB at most 0.25x that of
gzip -6; the redactor itself at most 1 ms of CPU per MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import uuid
from pathlib import Path
from random import Random

from bench_watch import (
    CHILDREN,
    MB,
    Corpus,
    Moto,
    TranscriptGen,
    baselines,
    run_throughput,
    session_file,
)
from harness import print_report, run_in_temp_dir

TARGET_RATIO = 0.25  # watch's marginal CPU per MB with redaction on / gzip -6's
TARGET_REDACT_MS = 1.0  # the redactor's own CPU per MB
READ = 4 << 20  # watch reads at most this much at a time


def secret(rng: Random) -> str:
    """A made-up secret of one of the kinds agents leak (built here, not stored anywhere)."""
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    pick = lambda n: "".join(rng.choice(alnum) for _ in range(n))  # noqa: E731
    return rng.choice(
        [
            "gh" + "p_" + pick(36),
            "AK"
            + "IA"
            + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            "sk_" + "live_" + pick(32),
            f"postgres://app:{pick(20)}@db.internal:5432/app",
            "Authorization: Bearer " + pick(40),
        ]
    )


def write_with_secrets(path: Path, gen: TranscriptGen, limit: int, every: int) -> int:
    """The transcript with a user line carrying a secret after every `every` bytes; the
    number of secrets written."""
    rng, planted, next_at, size = Random(limit), 0, every, 0
    with open(path, "wb") as f:
        for line in gen.lines(limit):
            f.write(line)
            size += len(line)
            if size >= next_at:
                text = f"use this one: {secret(rng)} and tell me if it works"
                body = {"type": "user", "sessionId": gen.sid, "timestamp": gen.ts(),
                        "message": {"role": "user", "content": text}}  # fmt: skip
                extra = json.dumps(body, separators=(",", ":")).encode() + b"\n"
                f.write(extra)
                size += len(extra)
                planted += 1
                next_at += every
    return planted


def redactor_ms_per_mb(data: bytes) -> tuple[float, int]:
    """CPU of the redactor alone on whole-line reads of READ bytes, as watch makes them;
    best of three."""
    from uploader.redaction import Redactor, default_rules

    redactor = Redactor(default_rules())
    best, hits = float("inf"), 0
    for _ in range(3):
        t0, pos, hits = time.process_time(), 0, 0
        while pos < len(data):
            end = data.rfind(b"\n", pos, pos + READ) + 1 or len(data)
            hits += len(redactor.redact(data[pos:end]).hits)
            pos = end
        best = min(best, time.process_time() - t0)
    return 1000 * best / (len(data) / MB), hits


def copy_as_new_session(path: Path, tmp: Path) -> tuple[Path, str]:
    """The same bytes under another session id (the id comes from the file name)."""
    sid = str(uuid.uuid4())
    target = session_file(tmp, sid)
    shutil.copyfile(path, target)
    return target, sid


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mb", type=float, default=40, help="the larger transcript, in MB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every-kb", type=float, default=100, help="a secret every N KB")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, spools)")
    args = ap.parse_args()
    return run_in_temp_dir("bench-redact-", lambda tmp: bench(args, tmp), CHILDREN, keep=args.keep)


def bench(args: argparse.Namespace, tmp: Path) -> int:
    def say(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    corpus = Corpus(Random(args.seed))
    files: dict[str, tuple[Path, int]] = {}
    for name, mb in (("small", args.mb / 2), ("large", args.mb)):
        gen = TranscriptGen(args.seed, corpus)
        path = session_file(tmp, gen.sid + f"-{name}")
        planted = write_with_secrets(path, gen, int(mb * MB), int(args.every_kb * 1000))
        files[name] = (path, planted)
        say(f"{name}: {path.stat().st_size / MB:.1f} MB with {planted} secrets")
    large = files["large"][0].read_bytes()
    say("baselines: gzip -6 and the redactor alone, on the larger transcript")
    base = baselines(files["large"][0], tmp, 1)
    gz_cpu, _ = base["gzip_cmd"] or base["zlib6"]
    gz_ms = 1000 * gz_cpu / (len(large) / MB)
    red_ms, hits = redactor_ms_per_mb(large)
    moto = Moto(tmp)
    cpu: dict[tuple[str, str], float] = {}
    redacted: dict[tuple[str, str], int] = {}
    for mode in ("off", "on"):
        for name, (path, _) in files.items():
            copy, sid = copy_as_new_session(path, tmp)
            say(f"watch --redact {mode}: {name} transcript")
            run = run_throughput(tmp, moto, copy, sid, f"{name}-{mode}", ("--redact", mode))
            cpu[mode, name] = run["cpu_s"]
            redacted[mode, name] = run["redacted"]
    delta_mb = (files["large"][0].stat().st_size - files["small"][0].stat().st_size) / MB
    marginal = {m: 1000 * (cpu[m, "large"] - cpu[m, "small"]) / delta_mb for m in ("off", "on")}
    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        rows.append((name, value, target, "" if ok is None else ("yes" if ok else "NO")))

    row("transcripts", f"{args.mb / 2:g} and {args.mb:g} MB, a secret every {args.every_kb:g} KB")
    row("gzip -6, CPU per MB (baseline)", f"{gz_ms:.1f} ms/MB")
    row("redactor alone, CPU per MB", f"{red_ms:.2f} ms/MB ({hits} secrets found)",
        f"<= {TARGET_REDACT_MS} ms/MB", red_ms <= TARGET_REDACT_MS)  # fmt: skip
    for mode in ("off", "on"):
        row(f"watch --redact {mode}: CPU small / large",
            f"{cpu[mode, 'small']:.2f} s / {cpu[mode, 'large']:.2f} s")  # fmt: skip
        ratio = marginal[mode] / gz_ms
        row(f"watch --redact {mode}: marginal CPU per MB",
            f"{marginal[mode]:.2f} ms/MB = {ratio:.3f}x gzip -6",
            f"<= {TARGET_RATIO}x" if mode == "on" else "",
            ratio <= TARGET_RATIO if mode == "on" else None)  # fmt: skip
    row(
        "redaction's share of watch's marginal CPU", f"{marginal['on'] - marginal['off']:.2f} ms/MB"
    )
    planted = files["large"][1]
    row("secrets redacted in the store (large)", f"{redacted['on', 'large']} of {planted} planted",
        str(planted), redacted["on", "large"] == planted)  # fmt: skip
    row("secrets redacted with --redact off", str(redacted["off", "large"]), "0",
        redacted["off", "large"] == 0)  # fmt: skip
    print()
    return print_report(
        f"agent-uploader redaction benchmark: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, seed {args.seed}",
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
