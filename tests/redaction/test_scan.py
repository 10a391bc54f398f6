"""`agent-uploader scan` as a user runs it: transcripts of each agent with secrets in the
user's text, tool arguments, tool output and reasoning; what it prints, that it never
prints a secret, and its exit codes.

Secrets are built at run time from pieces; the expected fingerprints, lines and columns
are computed here from what was planted.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import string
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.transcripts import claude_lines, codex_lines, openclaw_lines, pi_lines
from uploader.core.terminal import printable
from uploader.redaction import Redactor, default_rules
from uploader.redaction.scan import is_transcript_name, scan_file

ALNUM = string.ascii_letters + string.digits


def rand(alphabet: str, n: int, seed: int) -> str:
    return "".join(random.Random(seed).choices(alphabet, k=n))


PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    + "\n".join(rand(ALNUM + "+/", 70, 10 + i) for i in range(6))
    + "\n-----END OPENSSH PRIVATE KEY-----"
)
SECRETS = {
    "aws-access-key-id": "AK" + "IA" + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 1),
    "github-token": "gh" + "p_" + rand(ALNUM, 36, 2),
    "anthropic-api-key": "sk-" + "ant-api03-" + rand(ALNUM + "-_", 93, 3) + "AA",
    "stripe-key": "sk" + "_live_" + rand(ALNUM, 28, 4),
    "slack-token": "xo" + "xb-" + "2048" + "1357913-" + "4096" + "246802468-" + rand(ALNUM, 24, 5),
    "url-password": rand(ALNUM, 20, 6),
    "bearer-token": rand(ALNUM, 44, 7),
    "private-key": PEM,
}
S = SECRETS


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:8]


def _j(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


# Where each agent puts what: (the line, the rules of the secrets in it, in order).
USER_TEXT = f"deploy with {S['aws-access-key-id']} then push with {S['github-token']}"
COMMAND = f"curl -sH 'Authorization: Bearer {S['bearer-token']}' https://api.example.com/v1/me"
ENV_FILE = (
    f"ANTHROPIC_API_KEY={S['anthropic-api-key']}\nSTRIPE_KEY={S['stripe-key']}\n"
    f"DATABASE_URL=postgres://app:{S['url-password']}@db.internal:5432/app\n"
)
THINKING = f"The Slack token {S['slack-token']} is in the repo; it must be rotated."
USER_RULES = ["aws-access-key-id", "github-token"]
COMMAND_RULES = ["bearer-token"]
OUTPUT_RULES = ["anthropic-api-key", "stripe-key", "url-password", "private-key"]
THINKING_RULES = ["slack-token"]


def secret_lines(agent: str) -> list[tuple[bytes, list[str]]]:
    ts = "2026-03-14T11:00:0{}.000Z"
    if agent == "codex":

        def item(n: int, payload: dict[str, Any]) -> bytes:
            return _j({"timestamp": ts.format(n), "type": "response_item", "payload": payload})

        output = json.dumps({"output": ENV_FILE + PEM, "metadata": {"exit_code": 0}})
        return [
            (item(1, {"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": USER_TEXT}]}), USER_RULES),
            (item(2, {"type": "reasoning", "content": None, "encrypted_content": "gAAAAB",
                      "summary": [{"type": "summary_text", "text": THINKING}]}), THINKING_RULES),
            (item(3, {"type": "function_call", "name": "shell", "call_id": "call_K1",
                      "arguments": json.dumps({"command": ["bash", "-lc", COMMAND]})}),
             COMMAND_RULES),
            (item(4, {"type": "function_call_output", "call_id": "call_K1", "output": output}),
             OUTPUT_RULES),
        ]  # fmt: skip
    if agent == "claude":
        sid = "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a"

        def entry(n: int, kind: str, message: dict[str, Any]) -> bytes:
            return _j({"type": kind, "sessionId": sid, "uuid": f"k-{n}",
                       "timestamp": ts.format(n), "message": message})  # fmt: skip

        return [
            (entry(1, "user", {"role": "user", "content": USER_TEXT}), USER_RULES),
            (entry(2, "assistant", {"id": "msg_K", "role": "assistant", "content": [
                {"type": "thinking", "thinking": THINKING, "signature": "c2ln"},
                {"type": "tool_use", "id": "toolu_K", "name": "Bash",
                 "input": {"command": COMMAND}}]}), THINKING_RULES + COMMAND_RULES),
            (entry(3, "user", {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_K", "content": ENV_FILE + PEM,
                 "is_error": False}]}), OUTPUT_RULES),
        ]  # fmt: skip

    def message(n: int, msg: dict[str, Any]) -> bytes:
        return _j({"type": "message", "id": f"7e00000{n}", "parentId": None,
                   "timestamp": ts.format(n), "message": msg})  # fmt: skip

    return [  # OpenClaw and pi share the format
        (message(1, {"role": "user", "content": [{"type": "text", "text": USER_TEXT}]}),
         USER_RULES),
        (message(2, {"role": "assistant", "content": [
            {"type": "thinking", "thinking": THINKING},
            {"type": "toolCall", "id": "call_K", "name": "bash",
             "arguments": {"command": COMMAND}}]}), THINKING_RULES + COMMAND_RULES),
        (message(3, {"role": "toolResult", "toolCallId": "call_K",
                     "content": [{"type": "text", "text": ENV_FILE + PEM}], "isError": False}),
         OUTPUT_RULES),
    ]  # fmt: skip


FIXTURES = {
    "codex": codex_lines,
    "claude": claude_lines,
    "openclaw": openclaw_lines,
    "pi": pi_lines,
}
NAMES = {
    "codex": "sessions/2026/03/14/rollout-2026-03-14T11-00-00-019ce1a2.jsonl",
    "claude": "projects/-home-dev-shop-api/5b1e0c7a.jsonl",
    "openclaw": "agents/main/sessions/7d3f9a10.jsonl.deleted.2026-03-14T13-00-00.000Z",
    "pi": "pi/--home-dev-shop-api--/2026-03-14T10-05-00-000Z_0a1b2c3d.jsonl",
}

Expected = set[tuple[str, int, int, str, str]]  # (file, line, column, rule, fingerprint)


def column_of(line: bytes, rule: str) -> int:
    """1-based byte column of the planted secret in the raw line."""
    if rule == "private-key":
        return line.index(b"-----BEGIN") + 1
    return line.index(SECRETS[rule].encode()) + 1


def write_transcripts(root: Path) -> Expected:
    """One transcript per agent, the secret lines in the middle; what scan must report."""
    expected: Expected = set()
    for agent, make in FIXTURES.items():
        lines = make()
        half = len(lines) // 2
        planted = secret_lines(agent)
        path = root / NAMES[agent]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join([*lines[:half], *(line for line, _ in planted), *lines[half:]]))
        for i, (line, rules) in enumerate(planted):
            for rule in rules:
                found = (str(path), half + i + 1, column_of(line, rule), rule)
                expected.add((*found, fingerprint(SECRETS[rule])))
    return expected


def parse_text(stdout: str) -> Expected:
    out: Expected = set()
    for row in stdout.splitlines():
        if row.startswith(("no secrets", "Hint")) or " scanned" in row:
            continue
        rest, fp = row.rsplit(" ", 1)
        where, rule = rest.rsplit(": ", 1)
        path, line, column = where.rsplit(":", 2)
        out.add((path, int(line), int(column), rule, fp))
    return out


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS.values():
            for form in (secret, json.dumps(secret)[1:-1], secret[:24]):
                assert form not in text


def test_scan_reports_every_agents_secrets(tmp_path: Path) -> None:
    expected = write_transcripts(tmp_path / "home")
    (tmp_path / "home" / "notes.txt").write_text(S["github-token"])  # not a transcript
    result = run_cli("scan", str(tmp_path / "home"))
    assert result.returncode == 1, result.stderr
    assert parse_text(result.stdout) == expected
    total = len(expected)
    counts = {rule: sum(1 for e in expected if e[3] == rule) for rule in SECRETS}
    by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items()))
    assert f"{total} secrets in 4 of 4 files scanned: {by_rule}" in result.stdout
    assert "Hint: rotate" in result.stderr
    assert_no_secret(result.stdout, result.stderr)
    # In file order, then line order.
    rows = [r for r in result.stdout.splitlines() if r.count(":") >= 3][: len(expected)]
    keys = [(p, int(line)) for p, line, _ in (r.split(": ")[0].rsplit(":", 2) for r in rows)]
    assert keys == sorted(keys)


def test_scan_json(tmp_path: Path) -> None:
    expected = write_transcripts(tmp_path)
    result = run_cli("scan", "--json", *sorted(str(p) for p in tmp_path.rglob("*.jsonl*")))
    assert result.returncode == 1, result.stderr
    records = [json.loads(row) for row in result.stdout.splitlines()]
    assert all(set(r) == {"rule", "fingerprint", "file", "line", "column"} for r in records)
    found = {(r["file"], r["line"], r["column"], r["rule"], r["fingerprint"]) for r in records}
    assert found == expected
    assert "secrets in 4 of 4 files scanned" in result.stderr  # the summary leaves stdout alone
    assert_no_secret(result.stdout, result.stderr)


def test_clean_transcripts_exit_0(tmp_path: Path) -> None:
    for agent, make in FIXTURES.items():
        (tmp_path / f"{agent}.jsonl").write_bytes(b"".join(make()))
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no secrets in 4 files scanned"


def test_without_paths_it_scans_the_agents_folders(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "CODEX_HOME": str(home / ".codex")}
    result = run_cli("scan", env=env)
    assert result.returncode == 2
    assert "Error: no agent session folders" in result.stderr
    assert "Hint: give the transcripts to scan" in result.stderr
    claude = home / ".claude" / "projects" / "-home-dev-app"
    claude.mkdir(parents=True)
    (claude / "s.jsonl").write_bytes(b"".join(claude_lines()) + secret_lines("claude")[0][0])
    (home / ".pi" / "agent" / "sessions").mkdir(parents=True)
    result = run_cli("scan", env=env)
    assert result.returncode == 1, result.stderr
    assert f"scanning Claude Code: {home / '.claude' / 'projects'}" in result.stderr
    assert f"scanning pi: {home / '.pi' / 'agent' / 'sessions'}" in result.stderr
    assert "scanning Codex" not in result.stderr
    assert {row[3] for row in parse_text(result.stdout)} == set(USER_RULES)


def test_unreadable_files_are_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "a.jsonl"
    good.write_bytes(secret_lines("pi")[0][0])
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    os.mkfifo(tmp_path / "pipe.jsonl")
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 1
    assert f"Error: cannot read {tmp_path / 'gone.jsonl'}: " in result.stderr
    assert f"{tmp_path / 'pipe.jsonl'}: not a regular file" in result.stderr
    assert {row[3] for row in parse_text(result.stdout)} == set(USER_RULES)
    assert "2 secrets in 1 of 1 file scanned" in result.stdout
    assert "2 could not be read" in result.stdout
    # Nothing found, but a file could not be read: still exit 1.
    good.write_bytes(b'{"clean": true}\n')
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 1
    assert "no secrets in 1 file scanned; 2 could not be read" in result.stdout


def test_file_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "evil\x1b[2J"
    folder.mkdir()
    (folder / "a\u202etxt.jsonl").write_bytes(secret_lines("pi")[0][0])
    result = run_cli("scan", str(tmp_path))
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "evil\\x1b[2J/a\\u202etxt.jsonl:1:" in result.stdout
    assert printable("a\nb\u2066c\udcff") == "a\\nb\\u2066c\\xff"


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = run_cli("scan", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nid = "acme"\nregex = "acme_("\n')
    result = run_cli("scan", "--redact-rules", str(rules), str(tmp_path))
    assert result.returncode == 2
    assert f"Error: {rules}: rule 'acme': 'regex' does not compile" in result.stderr
    assert "Hint: " in result.stderr
    result = run_cli("scan", "--bogus")
    assert result.returncode == 2


@pytest.mark.parametrize("how", ["flag", "env"])
def test_a_rules_file_adds_rules(tmp_path: Path, how: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nid = "acme-token"\nregex = \'acme_[a-z0-9]{32}\'\nkeywords = ["acme_"]\n'
        f"[allowlist]\nvalues = [{json.dumps(S['github-token'])}]\n"
    )
    acme = "acme_" + rand(string.ascii_lowercase + string.digits, 32, 9)
    transcript = tmp_path / "t" / "s.jsonl"
    transcript.parent.mkdir()
    transcript.write_bytes(_j({"text": f"{acme} {S['github-token']} {S['stripe-key']}"}))
    args, env = (["--redact-rules", str(rules)], None)
    if how == "env":
        args, env = [], {"AGENT_UPLOADER_REDACT_RULES": str(rules)}
    result = run_cli("scan", *args, str(transcript.parent), env=env)
    assert result.returncode == 1, result.stderr
    found = parse_text(result.stdout)
    assert {(r[3], r[4]) for r in found} == {
        ("acme-token", fingerprint(acme)),
        ("stripe-key", fingerprint(S["stripe-key"])),
    }
    assert acme not in result.stdout


def test_scan_file_reads_whole_lines_in_chunks(tmp_path: Path) -> None:
    """Findings do not depend on the chunk size, lines longer than a chunk included."""
    lines = [line for line, _ in secret_lines("codex")]
    long_line = _j({"output": "x" * 5000 + " " + S["github-token"]})
    data = b"".join([*codex_lines(), *lines, long_line, *pi_lines(), lines[0].rstrip(b"\n")])
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    redactor = Redactor(default_rules())
    whole = list(scan_file(path, redactor))
    assert len(whole) == sum(len(rules) for _, rules in secret_lines("codex")) + 1 + 2
    for chunk in (64, 1000, 4999, 1 << 20):
        assert list(scan_file(path, redactor, chunk)) == whole
    assert whole[-1].line == data.count(b"\n") + 1  # the last line has no newline


def test_which_names_are_transcripts() -> None:
    assert is_transcript_name("a.jsonl")
    assert is_transcript_name("a.trajectory.jsonl")
    assert is_transcript_name("7d3f.jsonl.deleted.2026-03-14T13-00-00.000Z")
    assert is_transcript_name("7d3f.jsonl.reset.1") and is_transcript_name("7d3f.jsonl.bak.x")
    assert not is_transcript_name("7d3f.jsonl.deleted.2026.zst")
    assert not is_transcript_name("a.json") and not is_transcript_name("a.jsonl.lock")
