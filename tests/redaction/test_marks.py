"""The marks a redactor finds for its caller: where they are in the redacted bytes, exactly
as a scan of those bytes would find them, however the secrets lie around them."""

from __future__ import annotations

import json
import random
import string

import pytest

from tests.support.transcripts import claude_lines, codex_lines, hostile_lines, pi_lines
from uploader.core.hyperscan import hs
from uploader.core.literals import Literals
from uploader.redaction import Redactor, Rule, RuleSet, default_rules

MARKS = (b"compact", b'"usage"', b'"token_count"', b"@", b"ghp")  # some inside secrets


def token(rng: random.Random) -> str:
    """A GitHub token built at run time (no token-shaped literal in the repository)."""
    return (
        "gh" + "p_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    )


def corpus(rng: random.Random) -> bytes:
    """Every agent's fixture lines, with lines that put secrets before, after and around
    the marks (a mark inside a secret goes with it)."""
    lines = [*codex_lines(), *claude_lines(), *pi_lines(), *hostile_lines()]
    for _ in range(60):
        text = rng.choice(
            [
                f"compact {token(rng)} compact",
                f'"usage" {token(rng)}"usage"',
                f"postgres://app:compact{rng.randrange(10**9)}x@db.internal/app compact",
                f'{token(rng)}{token(rng)} then "token_count"',
            ]
        )
        line = json.dumps({"type": "user", "message": {"content": text}}).encode() + b"\n"
        lines.insert(rng.randrange(len(lines) + 1), line)
    return b"".join(lines)


@pytest.mark.skipif(hs is None, reason="the marks come from the Hyperscan scan")
def test_marks_are_where_a_scan_of_the_redacted_bytes_finds_them() -> None:
    rng = random.Random(5)
    data = corpus(rng)
    redactor = Redactor(default_rules(), "hyperscan").with_marks(MARKS)
    scan = Literals(MARKS, engine="find")
    starts = [0, *(i + 1 for i, b in enumerate(data) if b == 10)]
    for _ in range(20):  # whole runs of lines, cut anywhere between lines
        a, b = sorted(rng.sample(starts, 2))
        piece = data[a:]
        result = redactor.redact(piece, b - a)
        assert result.marks is not None
        assert list(result.marks) == scan.hits(result.data, 0, result.end)
    whole = redactor.redact(data)
    assert whole.hits, "the corpus has secrets"
    assert list(whole.marks or ()) == scan.hits(whole.data, 0, whole.end)


def test_without_hyperscan_the_caller_is_told_to_scan_itself() -> None:
    redactor = Redactor(default_rules(), "re").with_marks(MARKS)
    assert redactor.redact(b'{"usage":1}\n').marks is None
    assert Redactor(default_rules()).redact(b'{"usage":1}\n').marks is None  # no marks asked


def test_with_marks_compiles_once_per_set_of_marks() -> None:
    redactor = Redactor(default_rules()).with_marks(MARKS)
    assert redactor.with_marks(MARKS) is redactor
    assert redactor.with_marks(MARKS[:1]).marks == MARKS[:1]


@pytest.mark.skipif(hs is None, reason="about the Hyperscan engine")
def test_marks_do_not_hide_that_hyperscan_takes_none_of_the_rules() -> None:
    whole_line = Rule(id="whole-line", regex=r"\Atoken=([0-9a-f]{24})\Z", secret_group=1)
    with pytest.raises(RuntimeError, match="compiles none of these rules"):
        Redactor(RuleSet((whole_line,)), "hyperscan", marks=MARKS)
