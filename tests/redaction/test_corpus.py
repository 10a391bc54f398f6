"""False positives: transcripts without secrets come through redaction untouched.

The corpus: the real transcripts in tests/fixtures/real (written by Claude Code, Codex,
OpenClaw and pi; see SOURCES.md there), the synthetic sessions of each agent, and a
large generated session full of code, hashes, UUIDs, base64 blobs and tool output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.transcripts import (
    big_session_lines,
    claude_lines,
    codex_lines,
    hostile_lines,
    openclaw_lines,
    pi_lines,
)
from uploader.redaction import Redactor, default_rules

REAL = Path(__file__).parents[1] / "fixtures" / "real"
REDACTOR = Redactor(default_rules())


def real_transcripts() -> list[Path]:
    return sorted(p for p in REAL.rglob("*.jsonl") if p.is_file())


def test_the_real_corpus_is_there() -> None:
    agents = {p.relative_to(REAL).parts[0] for p in real_transcripts()}
    assert agents == {"claude", "codex", "openclaw", "pi"}
    assert len(real_transcripts()) >= 12


@pytest.mark.parametrize("path", real_transcripts(), ids=lambda p: p.name[:40])
def test_real_transcripts_have_no_false_positives(path: Path) -> None:
    data = path.read_bytes()
    found = REDACTOR.redact(data)
    assert found.hits == (), [data[i : i + 60] for i, _ in found.hits]
    assert found.data is data  # untouched, not even copied


def test_synthetic_sessions_have_no_false_positives() -> None:
    for lines in (codex_lines(), claude_lines(), openclaw_lines(), pi_lines(), hostile_lines()):
        data = b"".join(lines)
        assert REDACTOR.redact(data).hits == ()


def test_a_large_generated_session_has_no_false_positives() -> None:
    total, size = 0, 0
    buffer: list[bytes] = []
    for line in big_session_lines(24 << 20, seed=7):
        buffer.append(line)
        size += len(line)
        if size > 4 << 20:
            assert REDACTOR.redact(b"".join(buffer)).hits == ()
            total += size
            buffer.clear()
            size = 0
    assert total >= 16 << 20
