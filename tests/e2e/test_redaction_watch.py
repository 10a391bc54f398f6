"""No secret leaves the machine: real `watch`, `snapshot`, `sweep` and `import` runs on
transcripts of each agent with secrets in user text, tool arguments, tool output and
reasoning, checked where a user would look: the objects in the store.

The expected markers are computed here from the planted secrets (sha256 of each), not
by the redactor under test; the lines without secrets must come back byte for byte.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import uploader
from tests.support.cli import open_url, run_cli, saved_state, start_cli, store_args, wait_until
from tests.support.storeview import generations, manifest, rebuild
from tests.support.transcripts import claude_lines, codex_lines, openclaw_lines, pi_lines
from uploader.stores import Store
from uploader.stores.local import LocalStore

SIDS = {
    "codex": "019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f",
    "claude": "5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a",
    "openclaw": "7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77",
    "pi": "3c1d2e4f-aaaa-4bbb-8ccc-0123456789ab",
}
FILE_NAMES = {
    "codex": "rollout-2026-03-14T09-12-05-{sid}.jsonl",
    "claude": "{sid}.jsonl",
    "openclaw": "{sid}.jsonl",
    "pi": "2026-03-14T09-00-00-000Z_{sid}.jsonl",
}
MARKER = re.compile(rb"\[REDACTED:([a-z0-9-]+):([0-9a-f]{8})\]")


def _pick(alphabet: str, n: int, seed: int) -> str:
    return "".join(alphabet[(seed * 7 + i * 13) % len(alphabet)] for i in range(n))


ALNUM = string.ascii_letters + string.digits
# Built at run time from pieces: no token-shaped literal sits in the repository.
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "\n".join(_pick(ALNUM + "+/", 64, k) for k in range(5))
    + "\n-----END RSA PRIVATE KEY-----"
)
SECRETS = {
    "aws": "AK" + "IA" + _pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 1),
    "github": "gh" + "p_" + _pick(ALNUM, 36, 2),
    "anthropic": "sk-" + "ant-api03-" + _pick(ALNUM + "-_", 93, 3) + "AA",
    "stripe": "sk_" + "live_" + _pick(ALNUM, 32, 4),
    "slack": "xo" + "xb-" + "1234567890-1234567890123-" + _pick(ALNUM, 24, 5),
    "google": "AI" + "za" + _pick(ALNUM + "-_", 35, 6),
    "url_password": _pick(ALNUM, 18, 7),
    "bearer": _pick(ALNUM, 40, 8),
    "pem": PEM,
}


def fingerprint(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).hexdigest()[:8].encode()


def _j(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def secret_lines(agent: str) -> list[bytes]:
    """Lines in the agent's own format with secrets where real ones turn up: the user's
    text, a tool's arguments (a JSON string inside JSON for Codex), a tool's output (a
    `cat .env`, a private key), and reasoning."""
    s = SECRETS
    user = f"deploy with {s['aws']} and push with {s['github']}"
    command = f"curl -H 'Authorization: Bearer {s['bearer']}' https://api.example.com/v1"
    env_file = (
        f"ANTHROPIC_API_KEY={s['anthropic']}\nSTRIPE_KEY={s['stripe']}\n"
        f"DATABASE_URL=postgres://app:{s['url_password']}@db.internal:5432/app\n"
    )
    thinking = f"The Slack token {s['slack']} and the Google key {s['google']} leaked."
    ts = "2026-03-14T10:00:0{}.000Z"
    if agent == "codex":
        return [
            _j({"timestamp": ts.format(1), "type": "response_item", "payload": {
                "type": "message", "role": "user",
                "content": [{"type": "input_text", "text": user}]}}),
            _j({"timestamp": ts.format(2), "type": "response_item", "payload": {
                "type": "reasoning", "summary": [{"type": "summary_text", "text": thinking}],
                "content": None, "encrypted_content": "gAAAAB"}}),
            _j({"timestamp": ts.format(3), "type": "response_item", "payload": {
                "type": "function_call", "name": "shell", "call_id": "call_S1",
                "arguments": json.dumps({"command": ["bash", "-lc", command]})}}),
            _j({"timestamp": ts.format(4), "type": "response_item", "payload": {
                "type": "function_call_output", "call_id": "call_S1",
                "output": json.dumps({"output": env_file + PEM, "metadata": {"exit_code": 0}})}}),
        ]  # fmt: skip
    if agent == "claude":
        sid = SIDS["claude"]
        return [
            _j({"type": "user", "sessionId": sid, "uuid": "s-1", "timestamp": ts.format(1),
                "message": {"role": "user", "content": user}}),
            _j({"type": "assistant", "sessionId": sid, "uuid": "s-2", "timestamp": ts.format(2),
                "message": {"id": "msg_S", "role": "assistant", "content": [
                    {"type": "thinking", "thinking": thinking},
                    {"type": "tool_use", "id": "toolu_S", "name": "Bash",
                     "input": {"command": command}}]}}),
            _j({"type": "user", "sessionId": sid, "uuid": "s-3", "timestamp": ts.format(3),
                "message": {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_S",
                     "content": env_file + PEM, "is_error": False}]}}),
        ]  # fmt: skip
    return [  # OpenClaw and pi share the format
        _j({"type": "message", "id": "5e000001", "parentId": None, "timestamp": ts.format(1),
            "message": {"role": "user", "content": [{"type": "text", "text": user}]}}),
        _j({"type": "message", "id": "5e000002", "parentId": "5e000001",
            "timestamp": ts.format(2), "message": {"role": "assistant", "content": [
                {"type": "thinking", "thinking": thinking},
                {"type": "toolCall", "id": "call_S", "name": "bash",
                 "arguments": {"command": command}}]}}),
        _j({"type": "message", "id": "5e000003", "parentId": "5e000002",
            "timestamp": ts.format(3), "message": {"role": "toolResult", "toolCallId": "call_S",
                "content": [{"type": "text", "text": env_file + PEM}], "isError": False}}),
    ]  # fmt: skip


LINES: dict[str, Callable[[], list[bytes]]] = {
    "codex": codex_lines,
    "claude": claude_lines,
    "openclaw": openclaw_lines,
    "pi": pi_lines,
}


def transcript(agent: str) -> bytes:
    """The agent's synthetic session with the secret lines in the middle of it."""
    lines = LINES[agent]()
    half = len(lines) // 2
    return b"".join([*lines[:half], *secret_lines(agent), *lines[half:]])


def stored_objects(store: Store, sid: str) -> dict[str, bytes]:
    """Every object of the session as a user would read it (segments gunzipped)."""
    out = {}
    for key in store.list(f"sessions/{sid}/"):
        data = store.get(key)
        out[key] = gzip.decompress(data) if key.endswith(".gz") else data
    return out


def assert_redacted(store: Store, sid: str, source: bytes) -> dict[str, int]:
    """The store holds the source with every planted secret replaced by its marker and
    nothing else changed; returns the manifest's redaction counts."""
    stored = rebuild(store, sid)
    for key, data in stored_objects(store, sid).items():
        for name, secret in SECRETS.items():
            for piece in secret.splitlines():  # a key's lines, however it was escaped
                if "PRIVATE KEY" not in piece:
                    assert piece.encode() not in data, f"{name} leaked into {key}"
    src_lines, out_lines = source.splitlines(True), stored.splitlines(True)
    assert len(out_lines) == len(src_lines)
    changed = 0
    for before, after in zip(src_lines, out_lines, strict=True):
        if before == after:
            continue
        changed += 1
        json.loads(after)  # still valid JSON
        assert MARKER.search(after), after[:200]
    assert changed == len(secret_lines(_agent_of(sid)))
    found = {fp for _, fp in MARKER.findall(stored)}
    assert found == {fingerprint(v) for v in SECRETS.values()}
    m = manifest(store, sid) or {}
    counts: dict[str, int] = {}
    for segment in m["segments"]:
        for rule, n in segment.get("redactions", {}).items():
            counts[rule] = counts.get(rule, 0) + n
    assert sum(counts.values()) == len(MARKER.findall(stored))
    return counts


def _agent_of(sid: str) -> str:
    return next(agent for agent, s in SIDS.items() if s == sid)


def watch_until_uploaded(
    source: Path, spool: Path, store_url: str, *extra: str, env: dict[str, str] | None = None
) -> str:
    """Run a real `watch` until every byte of the file is spooled and uploaded, then stop
    it with Ctrl+C; its log."""
    log = spool.parent / "watch.log"
    proc = start_cli(
        "watch", "--file", str(source), "--store", store_url, "--spool-dir", str(spool),
        "--seg-lines", "7", "--poll-ms", "50", "--ui-disable", *extra, env=env, log=log,
    )  # fmt: skip
    sid = source.name.removesuffix(".jsonl")[-36:]
    size = source.stat().st_size

    def done() -> bool:
        state = saved_state(spool, sid)
        return state is not None and state["offset"] == size

    try:
        wait_until(done, timeout=30, what="watch to read the file")
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    text = log.read_text(errors="replace")
    assert code == 0, text[-3000:]
    return text


def write_source(folder: Path, agent: str, data: bytes) -> Path:
    path = folder / FILE_NAMES[agent].format(sid=SIDS[agent])
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("agent", sorted(SIDS))
def test_watch_stores_every_agents_secrets_redacted(tmp_path: Path, agent: str) -> None:
    source = write_source(tmp_path, agent, transcript(agent))
    store_url = f"file://{tmp_path / 'store'}"
    log = watch_until_uploaded(source, tmp_path / "spool", store_url)
    store = LocalStore(tmp_path / "store")
    counts = assert_redacted(store, SIDS[agent], source.read_bytes())
    assert len(counts) >= 8, counts  # one rule per kind of secret planted
    assert "secrets redacted (" in log
    for secret in SECRETS.values():
        assert secret.splitlines()[1 if secret is PEM else 0] not in log
    # The whole toolchain agrees with the redacted stream.
    verified = run_cli("verify", "--sid", SIDS[agent], "--store", store_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    target = tmp_path / "reloaded.jsonl"
    done = run_cli("reload", "--sid", SIDS[agent], "--store", store_url, "--to", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == rebuild(store, SIDS[agent])


def test_every_store_gets_the_redacted_stream(
    tmp_path: Path, store_url: str, request: pytest.FixtureRequest
) -> None:
    source = write_source(tmp_path, "codex", transcript("codex"))
    watch_until_uploaded(source, tmp_path / "spool", store_url, *store_args(request))
    assert_redacted(open_url(request, store_url), SIDS["codex"], source.read_bytes())


@pytest.mark.parametrize("how", ["flag", "env"])
def test_redaction_off_ships_the_bytes_as_written(tmp_path: Path, how: str) -> None:
    source = write_source(tmp_path, "claude", transcript("claude"))
    args, env = (
        (["--redact", "off"], None) if how == "flag" else ([], {"AGENT_UPLOADER_REDACT": "off"})
    )
    log = watch_until_uploaded(
        source, tmp_path / "spool", f"file://{tmp_path / 'store'}", *args, env=env
    )
    store = LocalStore(tmp_path / "store")
    assert rebuild(store, SIDS["claude"]) == source.read_bytes()
    assert all("redactions" not in s for s in (manifest(store, SIDS["claude"]) or {})["segments"])
    assert "redaction is off" in log


def test_a_restart_and_a_new_spool_continue_the_redacted_session(tmp_path: Path) -> None:
    """Redaction makes stored and source lengths differ: resuming from the state, and a
    new spool adopting the store's copy, must still continue at the right source byte."""
    lines = transcript("openclaw").splitlines(True)
    source = write_source(tmp_path, "openclaw", b"".join(lines[:9]))
    store_url, sid = f"file://{tmp_path / 'store'}", SIDS["openclaw"]
    store = LocalStore(tmp_path / "store")
    watch_until_uploaded(source, tmp_path / "spool", store_url)
    with open(source, "ab") as f:
        f.writelines(lines[9:14])
    watch_until_uploaded(source, tmp_path / "spool", store_url)  # same spool: its state
    with open(source, "ab") as f:
        f.writelines(lines[14:])
    watch_until_uploaded(source, tmp_path / "spool-2", store_url)  # another machine
    assert list(generations(store, sid)) == [1], "continuing must not start a new generation"
    assert_redacted(store, sid, source.read_bytes())


def test_redact_rules_file_adds_a_rule_and_an_allowlist(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[rules]]\n"
        'id = "acme-token"\n'
        "regex = 'acme_[a-z0-9]{24}'\n"
        "[allowlist]\n"
        f"values = [{json.dumps(SECRETS['github'])}]\n"
    )
    acme = "acme_" + _pick(string.ascii_lowercase + string.digits, 24, 9)
    body = _j({"type": "user", "sessionId": SIDS["claude"], "message": {
        "role": "user", "content": f"{acme} and {SECRETS['github']}"}})  # fmt: skip
    source = write_source(tmp_path, "claude", body)
    watch_until_uploaded(
        source, tmp_path / "spool", f"file://{tmp_path / 'store'}", "--redact-rules", str(rules)
    )
    stored = rebuild(LocalStore(tmp_path / "store"), SIDS["claude"])
    assert b"[REDACTED:acme-token:" + fingerprint(acme) + b"]" in stored
    assert SECRETS["github"].encode() in stored  # allowed by the user's own list


@pytest.mark.parametrize(
    ("content", "says"),
    [("[[rules]]\nid = 'x'\n", "regex"), ("[[rules\n", "line 1"), ("[bogus]\n", "bogus")],
)
def test_a_bad_rules_file_is_a_clear_error(tmp_path: Path, content: str, says: str) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(content)
    source = write_source(tmp_path, "claude", transcript("claude"))
    done = run_cli(
        "watch", "--file", str(source), "--store", f"file://{tmp_path / 'store'}",
        "--spool-dir", str(tmp_path / "spool"), "--ui-disable", "--redact-rules", str(rules),
    )  # fmt: skip
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert "Error:" in done.stderr and str(rules) in done.stderr and says in done.stderr
    assert not (tmp_path / "store").exists()


def test_snapshot_redacts_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENT_UPLOADER_REDACT", raising=False)
    monkeypatch.delenv("AGENT_UPLOADER_REDACT_RULES", raising=False)
    source = write_source(tmp_path, "pi", transcript("pi"))
    store = uploader.open_store(f"file://{tmp_path / 'store'}")
    assert uploader.snapshot(store, source, SIDS["pi"])
    assert_redacted(store, SIDS["pi"], source.read_bytes())

    plain = uploader.open_store(f"file://{tmp_path / 'plain'}")
    monkeypatch.setenv("AGENT_UPLOADER_REDACT", "off")
    assert uploader.snapshot(plain, source, SIDS["pi"])
    assert rebuild(plain, SIDS["pi"]) == source.read_bytes()
    monkeypatch.delenv("AGENT_UPLOADER_REDACT")
    explicit = uploader.open_store(f"file://{tmp_path / 'explicit'}")
    assert uploader.snapshot(explicit, source, SIDS["pi"], redact=False)
    assert rebuild(explicit, SIDS["pi"]) == source.read_bytes()


def test_sweep_redacts_for_the_store(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    source = write_source(folder, "openclaw", transcript("openclaw"))
    (folder / "sessions.json").write_text("{}")
    os.utime(source, (time.time() - 600, time.time() - 600))
    original = source.read_bytes()
    done = run_cli(
        "sweep", str(folder), str(tmp_path / "archive"), "main", "--json",
        "--store", f"file://{tmp_path / 'store'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert_redacted(LocalStore(tmp_path / "store"), SIDS["openclaw"], original)


def test_import_redacts_legacy_sessions(tmp_path: Path) -> None:
    sid = "11111111-aaaa-4bbb-8ccc-000000000001"
    legacy = tmp_path / "ws" / ".sessions"
    legacy.mkdir(parents=True)
    (legacy / f"{sid}.json").write_text(json.dumps({
        "session_id": sid, "created_at": "2025-11-02T10:00:00Z",
        "metadata": {"label": f"deploy {SECRETS['stripe']}",
                     "display_name": f"with {SECRETS['slack']}"},
        "messages": [{"role": "user", "content": f"my key is {SECRETS['github']}",
                      "timestamp": "2025-11-02T10:00:00Z"}]}))  # fmt: skip
    done = run_cli("import", str(tmp_path / "ws"), "--store", f"file://{tmp_path / 'store'}")
    assert done.returncode == 0, done.stdout + done.stderr
    store = LocalStore(tmp_path / "store")
    stored = rebuild(store, sid)
    assert SECRETS["github"].encode() not in stored
    assert fingerprint(SECRETS["github"]) in stored
    # The label and title beside the lines leave the machine too.
    objects = b"".join(stored_objects(store, sid).values())
    for name in ("github", "stripe", "slack"):
        assert SECRETS[name].encode() not in objects, name
    m = manifest(store, sid) or {}
    assert fingerprint(SECRETS["stripe"]).decode() in json.dumps(m)


def test_titles_from_an_agents_index_are_redacted(tmp_path: Path) -> None:
    """OpenClaw's sessions.json names sessions; a label there is uploaded as the title."""
    folder = tmp_path / "sessions"
    folder.mkdir()
    write_source(folder, "openclaw", transcript("openclaw"))
    label = f"prod db postgres://app:{SECRETS['url_password']}@db:5432/app"
    (folder / "sessions.json").write_text(json.dumps(
        {"agent:main:main": {"sessionId": SIDS["openclaw"], "updatedAt": 1, "label": label}}
    ))  # fmt: skip
    log = tmp_path / "watch.log"
    store = LocalStore(tmp_path / "store")
    proc = start_cli(
        "watch", "--dir", str(folder), "--store", f"file://{store.root}",
        "--spool-dir", str(tmp_path / "spool"), "--ui-disable", "--scan-ms", "200",
        "--idle-close", "1s", log=log,
    )  # fmt: skip
    try:
        wait_until(lambda: bool((manifest(store, SIDS["openclaw"]) or {}).get("segments")),
                   timeout=30, what="the first segment")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]
    m = manifest(store, SIDS["openclaw"]) or {}
    assert SECRETS["url_password"] not in json.dumps(m)
    assert "postgres://app:[REDACTED:" in m["source"]["title"]


def test_the_dashboard_shows_how_many_secrets_were_redacted(tmp_path: Path) -> None:
    from tests.support.uiclient import TestClient
    from ui.app import create_app
    from ui.service import Sessions

    source = write_source(tmp_path, "codex", transcript("codex"))
    store = LocalStore(tmp_path / "store")
    assert uploader.snapshot(store, source, SIDS["codex"], redact=True)
    client = TestClient(create_app(Sessions(store)))
    listed = client.get("/api/sessions").json()["sessions"][0]
    assert listed["redacted"] == len(SECRETS)
    assert sum(listed["redactions"].values()) == len(SECRETS)
    page = client.get(f"/s/{SIDS['codex']}").text
    assert f"{len(SECRETS)} " in page.split('id="redacted">', 1)[1][:40]
    for rule in listed["redactions"]:
        assert rule in page
    for secret in SECRETS.values():
        assert secret.splitlines()[1 if secret is PEM else 0] not in page
    row = client.get("/").text
    assert 'class="num redacted"' in row
