"""Micro-benchmark of the secret redactor, in-process, against gzip -6 of the same bytes.

    python bench/bench_redact.py [--mb 64] [--every-kb 100] [--seed 1] [--repeat 3]

Builds about --mb MB of Codex-like transcript lines (tests/support/transcripts.py's
`big_session_lines`: messages, reasoning with encrypted blobs, tool calls with JSON
arguments, tool outputs up to 200 KB, compactions) and plants a user line holding a
secret of a built-in rule every --every-kb KB. The stream is cut into whole-line reads of
4 MiB, as `watch` reads a file, before anything is timed. Then, each the best of
--repeat runs of CPU time (`time.process_time`), each read timed right after an untimed
pass over it (watch redacts what read() has just copied: bytes in the CPU's cache):

1. the redactor as `watch` runs it (Hyperscan when installed), on the stream with
   secrets and on the same stream without them (the common case);
2. the pure-Python fallback engine (`engine="re"`), on the stream with secrets;
3. the baseline: zlib level 6 (what gzip -6 does) of the same reads.

Both engines must produce the same bytes and find every planted secret, else it stops.
Target (the redaction issue): the redactor at most 1 ms of CPU per MB. Run by hand, not
part of the test suite; see bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import string
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from harness import Row, print_report

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.transcripts import big_session_lines, codex_line, jsonl  # noqa: E402
from uploader.redaction import Redactor, default_rules  # noqa: E402

MB = 1_000_000  # all "MB" figures are 10^6 bytes
READ = 4 << 20  # watch reads up to 4 MiB of whole lines at a time
TARGET_MS_PER_MB = 1.0
ALNUM = string.ascii_letters + string.digits


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def _b64url(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


# One secret of each kind, built from pieces at run time (no token-shaped literal here).
SECRETS: list[Callable[[random.Random], str]] = [
    lambda r: "AK" + "IA" + _rand(r, string.ascii_uppercase + "234567", 16),
    lambda r: "aws_secret_access_key = " + _rand(r, ALNUM + "+/", 40),
    lambda r: "gh" + "p_" + _rand(r, ALNUM, 36),
    lambda r: "gl" + "pat-" + _rand(r, ALNUM, 20),
    lambda r: "xo" + "xb-" + _rand(r, string.digits, 12) + "-" + _rand(r, ALNUM, 24),
    lambda r: "sk" + "_live_" + _rand(r, ALNUM, 24),
    lambda r: "sk-" + "proj-" + _rand(r, ALNUM + "-_", 156),
    lambda r: "sk-" + "ant-api03-" + _rand(r, ALNUM + "-_", 93) + "AA",
    lambda r: "AI" + "za" + _rand(r, ALNUM + "-_", 35),
    lambda r: "sb" + "p_" + _rand(r, "0123456789abcdef", 40),
    lambda r: "np" + "m_" + _rand(r, ALNUM, 36),
    lambda r: "hf" + "_" + _rand(r, string.ascii_letters, 34),
    lambda r: _b64url({"alg": "HS256"}) + "." + _b64url({"sub": "x"}) + "." + _rand(r, ALNUM, 43),
    lambda r: (
        "-----BEGIN RSA PRIVATE KEY-----\n"
        + "\n".join(_rand(r, ALNUM + "+/", 64) for _ in range(8))
        + "\n-----END RSA PRIVATE KEY-----"
    ),
    lambda r: "postgres://app:" + _rand(r, ALNUM, 20) + "@db.internal:5432/app",
    lambda r: "Authorization: Bearer " + _rand(r, ALNUM, 40),
]


def build(total: int, every: int, seed: int) -> tuple[bytes, int]:
    """The stream with a secret line after every `every` bytes; how many were planted."""
    rng = random.Random(seed)
    out: list[bytes] = []
    size, next_at, planted = 0, every, 0
    for line in big_session_lines(total, seed):
        out.append(line)
        size += len(line)
        if size >= next_at:
            secret = SECRETS[planted % len(SECRETS)](rng)
            content = [{"type": "input_text", "text": f"try this: {secret} ok?"}]
            payload = {"type": "message", "role": "user", "content": content}
            extra = jsonl(codex_line("2026-03-14T09:00:00.000Z", "response_item", payload))
            out.append(extra)
            size += len(extra)
            planted += 1
            next_at += every
    return b"".join(out), planted


def reads(data: bytes) -> list[bytes]:
    """Whole-line reads of at most READ bytes (a longer line whole), as watch makes them."""
    out, pos = [], 0
    while pos < len(data):
        end = data.rfind(b"\n", pos, pos + READ) + 1 or data.find(b"\n", pos) + 1 or len(data)
        out.append(data[pos:end])
        pos = end
    return out


def cpu_ms_per_mb(work: Callable[[bytes], object], chunks: list[bytes], repeat: int) -> float:
    """CPU per MB of `work` over the reads. Each read is gone through once, untimed, right
    before its timed call: in `watch` the redactor (then gzip) runs on bytes that read()
    has just copied, which are in the CPU's cache."""
    size = sum(map(len, chunks))
    best = float("inf")
    for _ in range(repeat):
        spent = 0.0
        for chunk in chunks:
            chunk.count(b"\n")  # as read() leaves it: in the cache
            t0 = time.process_time()
            work(chunk)
            spent += time.process_time() - t0
        best = min(best, spent)
    return 1000 * best / (size / MB)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mb", type=float, default=64, help="size of the stream, in MB")
    ap.add_argument("--every-kb", type=float, default=100, help="a secret every N KB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure, the best kept")
    args = ap.parse_args()

    t0 = time.monotonic()
    data, planted = build(int(args.mb * MB), int(args.every_kb * 1000), args.seed)
    clean = b"".join(big_session_lines(int(args.mb * MB), args.seed))
    chunks, clean_chunks = reads(data), reads(clean)
    print(f"built {len(data) / MB:.1f} MB, {planted} secrets, in {time.monotonic() - t0:.1f} s")

    t0 = time.process_time()
    fast = Redactor(default_rules())
    compile_ms = 1000 * (time.process_time() - t0)
    slow = Redactor(default_rules(), engine="re")
    fast_out = [fast.redact(c) for c in chunks]
    slow_out = [slow.redact(c) for c in chunks]
    if [r.data for r in fast_out] != [r.data for r in slow_out]:
        print("ERROR: the two engines disagree")
        return 2
    hits = sum(len(r.hits) for r in fast_out)
    if hits != planted:
        print(f"ERROR: {hits} secrets replaced, {planted} planted")
        return 2
    if any(fast.redact(c).hits for c in clean_chunks):
        print("ERROR: secrets found in the stream without any")
        return 2

    rep = args.repeat
    redactor = cpu_ms_per_mb(fast.redact, chunks, rep)
    redactor_clean = cpu_ms_per_mb(fast.redact, clean_chunks, rep)
    fallback = cpu_ms_per_mb(slow.redact, chunks, rep)
    gzip6 = cpu_ms_per_mb(lambda c: zlib.compress(c, 6), chunks, rep)

    try:
        from importlib.metadata import version

        hs_version = version("hyperscan")
    except Exception:  # the package is optional
        hs_version = "not installed"
    header = (
        f"Python {platform.python_version()}, hyperscan {hs_version} (engine: {fast.engine}), "
        f"{os.cpu_count()} CPUs, {platform.platform()}\n"
        f"stream {len(data) / MB:.1f} MB in {len(chunks)} reads of <= 4 MiB, "
        f"{planted} secrets (one per {args.every_kb:g} KB), best of {rep}\n"
    )
    ok = "yes" if redactor <= TARGET_MS_PER_MB else "NO"
    rows: list[Row] = [
        ("compiling the rules", f"{compile_ms:.0f} ms CPU", "", ""),
        (f"redactor ({fast.engine}), with secrets", f"{redactor:.3f} ms/MB", "<= 1.0", ok),
        (f"redactor ({fast.engine}), no secrets", f"{redactor_clean:.3f} ms/MB", "", ""),
        ("fallback engine (re), with secrets", f"{fallback:.2f} ms/MB", "", ""),
        ("zlib level 6 (gzip -6)", f"{gzip6:.2f} ms/MB", "", ""),
        ("redactor / gzip -6", f"{redactor / gzip6:.3f}", "", ""),
        ("fallback / gzip -6", f"{fallback / gzip6:.2f}", "", ""),
    ]
    return print_report(header, rows)


if __name__ == "__main__":
    raise SystemExit(main())
