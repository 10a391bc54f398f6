"""Round trips: a real `watch` writes a session (checkpoints, a truncation, two
generations), then `reload` rebuilds it at every checkpoint and at the end, byte for
byte, on every store."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import open_url, run_cli, saved_state, start_cli, store_args, wait_until
from tests.support.storeview import manifest
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    OPENCLAW_SID,
    PI_SID,
    claude_lines,
    codex_lines,
    openclaw_lines,
    pi_lines,
)

# name of the file as the agent writes it, its lines, and the session id
FORMATS: dict[str, tuple[str, Callable[[], list[bytes]], str]] = {
    "codex": (f"rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl", codex_lines, CODEX_SID),
    "claude": (f"{CLAUDE_SID}.jsonl", claude_lines, CLAUDE_SID),
    "openclaw": (f"{OPENCLAW_SID}.jsonl", openclaw_lines, OPENCLAW_SID),
    "pi": (f"2026-03-14T10-00-00-000Z_{PI_SID}.jsonl", pi_lines, PI_SID),
}
EXTRA = b'{"type":"note","text":"generation two starts differently"}\n'


def is_compaction(line: bytes) -> bool:
    """The checkpoint triggers (docs/formats.md), written out independently of the engine."""
    try:
        obj = json.loads(line)
    except ValueError:
        return False
    kind = obj.get("type") if isinstance(obj, dict) else None
    return kind in ("compacted", "compaction") or (
        kind == "system" and obj.get("subtype") == "compact_boundary"
    )


def upto_checkpoints(lines: list[bytes]) -> list[bytes]:
    """The transcript as it stood at each compaction line, the line included."""
    return [b"".join(lines[: i + 1]) for i, line in enumerate(lines) if is_compaction(line)]


def spool_state(spool: Path, sid: str) -> dict[str, Any]:
    return saved_state(spool, sid) or {}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_reload_rebuilds_every_checkpoint_and_generation(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest, fmt: str
) -> None:
    name, make_lines, sid = FORMATS[fmt]
    lines = make_lines()
    assert upto_checkpoints(lines), f"the {fmt} fixture has no compaction line"
    first_cp = next(i for i, line in enumerate(lines) if is_compaction(line))
    gen1 = lines
    gen2_start = [lines[0], EXTRA, *lines[1 : first_cp + 1]]
    gen2 = [*gen2_start, *lines[first_cp + 1 :]]
    assert len(b"".join(gen2_start)) < len(b"".join(gen1)), "generation 2 must be a truncation"

    source, spool = tmp_path / name, tmp_path / "spool"
    source.write_bytes(b"".join(gen1))
    log = tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--file", str(source), "--store", store_url, *store_args(request),
        "--spool-dir", str(spool), "--seg-lines", "4", "--poll-ms", "100", "--ui-disable",
        log=log,
    )  # fmt: skip
    try:
        size = len(b"".join(gen1))
        wait_until(lambda: spool_state(spool, sid).get("offset") == size, what="gen 1 read")
        source.write_bytes(b"".join(gen2_start))  # truncated and rewritten: generation 2
        size = len(b"".join(gen2_start))
        wait_until(
            lambda: (
                spool_state(spool, sid).get("generation") == 2
                and spool_state(spool, sid).get("offset") == size
            ),
            what="generation 2 read",
        )
        with open(source, "ab") as f:
            f.write(b"".join(lines[first_cp + 1 :]))
        size = len(b"".join(gen2))
        wait_until(lambda: spool_state(spool, sid).get("offset") == size, what="gen 2 grown")
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()

    store = open_url(request, store_url)
    m = manifest(store, sid)
    assert m is not None
    expected = upto_checkpoints(gen1) + upto_checkpoints(gen2)
    checkpoints = [c["id"] for c in m["checkpoints"]]
    assert len(checkpoints) == len(expected)

    def reload(*args: str) -> bytes:
        out = tmp_path / "out" / f"restored-{len(list(tmp_path.glob('out/*')))}.jsonl"
        done = run_cli(
            "reload", "--store", store_url, *store_args(request), "--sid", sid[:8],
            "--to", str(out), *args,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return out.read_bytes()

    assert reload() == b"".join(gen2)
    assert reload("--generation", "1") == b"".join(gen1)
    for checkpoint, want in zip(checkpoints, expected, strict=True):
        assert reload("--checkpoint", checkpoint) == want, checkpoint
    assert reload("--checkpoint", "latest") == expected[-1]

    replayed = run_cli("replay", "--store", store_url, *store_args(request), "--sid", sid)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.encode() == b"".join(gen2)
    checked = run_cli("verify", "--store", store_url, *store_args(request), "--sid", sid)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok" in checked.stdout
