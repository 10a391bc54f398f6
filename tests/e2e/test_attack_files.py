"""Hostile files, terminals and parsers: what someone who can write a transcript, an
agent's folder or the store can make the uploader do, and what it must not.

Everything it writes is private (0600 files, 0700 folders) whatever the umask; nothing
from a transcript, a file name or the store reaches a terminal raw (control and bidi
characters are shown escaped, a newline cannot fake a log line); server answers lose
their credentials before they are shown; ids end where they end (no "abc\\n"); and JSON
nested 100,000 deep, NaN, gigabytes or not an object is a reported bad file, never a
traceback or a folder stuck forever. Real files, real CLI processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.support.cli import cli_env, run_cli, start_cli, tmpfs, wait_until
from tests.support.httpstub import FixedAnswer
from tests.support.session_factory import write_session
from tests.support.storeview import manifest, rebuild
from tests.support.transcripts import CLAUDE_SID, CODEX_SID, claude_lines, codex_lines
from uploader.read.summaries import list_sids
from uploader.storage.sessionid import is_safe_sid
from uploader.stores.base import scrub
from uploader.stores.local import LocalStore

# What must never reach a terminal raw: C0 (but tab and newline where text has lines),
# DEL, C1, and the bidi controls.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
EVIL_TITLE = "evil\x1b]0;pwned\x07 \u202etxt.exe\nERROR fake line \x9b31m"
DEEP = "[" * 100_000
OPENCLAW_A = "aaaaaaaa-1111-4000-8000-000000000001"
OPENCLAW_B = "bbbbbbbb-2222-4000-8000-000000000002"


def lines(n: int, tag: str) -> bytes:
    return b"".join(
        json.dumps({"type": "message", "tag": tag, "i": i}).encode() + b"\n" for i in range(n)
    )


def uploaded(store: LocalStore, sid: str, source: Path) -> Callable[[], bool]:
    """Does the store hold the whole of `source` as session `sid`?"""
    return lambda: rebuild(store, sid) == source.read_bytes()


def assert_safe(text: str, what: str = "") -> None:
    found = UNSAFE.findall(text)
    assert not found, f"raw {found!r} in {what or 'output'}: {text[:2000]!r}"


# -- files: 0600 in 0700, whatever the umask ------------------------------------------------


def not_private(*roots: Path) -> list[str]:
    """Everything under the roots (the roots too) that is not a 0600 file or 0700 folder."""
    wrong = []
    for root in roots:
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            want = 0o700 if path.is_dir() else 0o600
            if mode != want:
                wrong.append(f"{path.relative_to(root.parent)} {mode:o}")
    return wrong


def start_with_umask(umask: int, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uploader", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=cli_env(),
            umask=umask,
        )


def run_with_umask(umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "uploader", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        umask=umask,
        timeout=60,
        check=False,
    )


def stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=["umask000", "umask022"])
def test_spool_store_and_restored_files_are_private(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "home"  # the user's: its mode is theirs
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    source = tmp_path / "session.jsonl"
    content = lines(3, "a") + b'{"type":"compacted","label":"before refactor"}\n' + lines(3, "b")
    source.write_bytes(content)
    spool, store = home / ".agent-uploader" / "spool", LocalStore(home / "store")
    log = tmp_path / "watch.log"
    proc = start_with_umask(
        umask, log, "watch", "--file", str(source), "--sid", "private-1",
        "--store", f"file://{store.root}", "--spool-dir", str(spool),
        "--seg-lines", "2", "--poll-ms", "100", "--ui-disable",
    )  # fmt: skip
    try:
        wait_until(lambda: len((manifest(store, "private-1") or {}).get("segments", [])) >= 3,
                   what="segments uploaded")  # fmt: skip
    finally:
        stop(proc, log)
    assert rebuild(store, "private-1") == content
    assert (manifest(store, "private-1") or {})["checkpoints"], "a checkpoint object was written"
    assert (spool / "state" / "private-1.json").exists()
    assert (spool / "state" / "manifests" / "private-1.json").exists()
    assert not_private(store.root, home / ".agent-uploader") == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o755

    target = home / "restored" / "deeper" / "session.jsonl"
    done = run_with_umask(
        umask, "reload", "--sid", "private-1", "--store", f"file://{store.root}",
        "--to", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == content
    assert not_private(home / "restored") == []
    assert stat.S_IMODE(home.stat().st_mode) == 0o755  # the --to target's parent keeps its mode


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=["umask000", "umask022"])
def test_queued_segments_and_ended_marks_are_private(tmp_path: Path, umask: int) -> None:
    source = tmp_path / "session.jsonl"
    source.write_bytes(lines(5, "q"))
    spool, log = tmp_path / "spool", tmp_path / "watch.log"
    queue = spool / "queue" / "queued-1"
    with FixedAnswer(503).running() as server:  # every upload fails: segments stay queued
        proc = start_with_umask(
            umask, log, "watch", "--file", str(source), "--sid", "queued-1",
            "--upload-url", f"{server.url}/up", "--spool-dir", str(spool),
            "--seg-lines", "2", "--poll-ms", "100", "--shutdown-timeout", "1s", "--ui-disable",
        )  # fmt: skip
        try:
            wait_until(lambda: len(list(queue.glob("*.meta.json"))) >= 2, what="queued segments")
            source.unlink()  # the session ends: its end is marked in the queue
            wait_until(lambda: (queue / "ended").exists(), what="the ended mark")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert "Traceback" not in log.read_text()
    assert list(queue.glob("*.jsonl.gz")) and (spool / "lock").exists()
    assert (spool / "spool-id").exists() and (spool / "state" / "queued-1.json").exists()
    assert not_private(spool) == []


def test_an_old_spool_is_tightened_but_a_users_folders_are_not(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    source.write_bytes(lines(3, "x"))
    old = tmp_path / "old-spool"  # as an earlier version left it, under umask 022
    (old / "state").mkdir(parents=True, mode=0o755)
    for folder in (old, old / "state"):
        folder.chmod(0o755)
    (old / "spool-id").write_text("0123456789ab")
    mine = tmp_path / "mine"  # a folder of the user's, given as --spool-dir
    mine.mkdir(mode=0o755)
    mine.chmod(0o755)
    (mine / "notes.txt").write_text("mine")
    shared = tmp_path / "shared-store"  # a store folder the user made (and may share)
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    for spool, sid, store in ((old, "old-1", tmp_path / "store"), (mine, "mine-1", shared)):
        log = tmp_path / f"{sid}.log"
        proc = start_with_umask(
            0o022, log, "watch", "--file", str(source), "--sid", sid,
            "--store", f"file://{store}", "--spool-dir", str(spool),
            "--seg-lines", "1", "--poll-ms", "100", "--ui-disable",
        )  # fmt: skip
        try:
            wait_until(uploaded(LocalStore(store), sid, source), what=f"{sid} uploaded")
        finally:
            stop(proc, log)
    assert stat.S_IMODE(old.stat().st_mode) == 0o700
    assert stat.S_IMODE((old / "state").stat().st_mode) == 0o700
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755  # not ours: untouched
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    for name in ("active", "queue", "state"):
        assert stat.S_IMODE((mine / name).stat().st_mode) == 0o700
    assert not_private(shared / "sessions") == []


def old_transcript(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.utime(path, (time.time() - 600, time.time() - 600))


def test_sweep_archives_privately_even_across_file_systems(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    old_transcript(sessions / f"{OPENCLAW_A}.jsonl", lines(3, "a"))
    with tmpfs(tmp_path / "other-disk", "4m") as disk:
        archive = disk / "archive" / "openclaw"
        store = LocalStore(tmp_path / "store")
        done = run_with_umask(
            0o000, "sweep", str(sessions), str(archive), "main", "--store", f"file://{store.root}"
        )
        assert done.returncode == 0, done.stderr
        assert (archive / f"{OPENCLAW_A}.jsonl").read_bytes() == lines(3, "a")
        assert not_private(disk / "archive") == []
        assert not_private(store.root) == []


def test_import_backs_up_privately(tmp_path: Path) -> None:
    folder = tmp_path / "ws" / ".sessions"
    folder.mkdir(parents=True)
    (folder / f"{OPENCLAW_A}.json").write_text(json.dumps({
        "session_id": OPENCLAW_A, "created_at": "2025-11-02T10:00:00Z",
        "messages": [{"role": "user", "content": "hi", "timestamp": "2025-11-02T10:00:00Z"}],
    }))  # fmt: skip
    (folder / "session_map.json").write_text("{}")
    store = tmp_path / "store"
    done = run_with_umask(0o000, "import", str(tmp_path / "ws"), "--store", f"file://{store}")
    assert done.returncode == 0, done.stderr
    backup = folder / "backup_old_format"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert stat.S_IMODE((backup / "session_map.json").stat().st_mode) == 0o600
    assert not_private(store) == []


# -- terminals: shown, never obeyed ---------------------------------------------------------


@pytest.fixture
def hostile_store(tmp_path: Path) -> LocalStore:
    """Sessions whose title, label and agent carry terminal and bidi controls, and a
    manifest under a key no session id can have."""
    store = LocalStore(tmp_path / "store")
    write_session(store, CLAUDE_SID, claude_lines(), agent="cla\x1b[8mude",
                  extra={"title": EVIL_TITLE})  # fmt: skip
    write_session(store, CODEX_SID, codex_lines())
    store.put("labels.json", json.dumps({CODEX_SID: "lab\u202eel\x1b[2J"}).encode(), "x")
    odd = store.root / "sessions" / "odd\n\x1b[2J" / "manifest.json"
    odd.parent.mkdir()
    odd.write_bytes(store.get(f"sessions/{CODEX_SID}/manifest.json"))
    return store


def test_ls_shows_titles_labels_agents_and_keys_escaped(hostile_store: LocalStore) -> None:
    url = f"file://{hostile_store.root}"
    done = run_cli("ls", "--store", url)
    assert done.returncode == 0, done.stderr
    assert_safe(done.stdout, "ls")
    assert_safe(done.stderr, "ls's messages")
    rows = done.stdout.splitlines()
    assert len(rows) == 3, done.stdout  # the header and two sessions: no fake line
    assert "evil\\x1b]0;pwned\\x07 \\u202etxt" in done.stdout
    assert "cla\\x1b[8mude" in done.stdout
    assert "lab\\u202eel\\x1b[2J" in done.stdout  # a label is the title it shows
    assert "odd\\n\\x1b[2J/manifest.json" in done.stderr  # left out, and said so

    as_json = run_cli("ls", "--json", "--store", url)
    assert as_json.returncode == 0, as_json.stderr
    assert_safe(as_json.stdout, "ls --json")
    by_sid = {s["sid"]: s for s in json.loads(as_json.stdout)}
    assert by_sid[CLAUDE_SID]["title"] == " ".join(EVIL_TITLE.split())  # the data is intact
    assert by_sid[CODEX_SID]["label"] == "lab\u202eel\x1b[2J"


@pytest.mark.parametrize("text", ["x\x1b]0;pwned\x07", "evil\u202etxt.exe", "a\x85b", "a\x7f"])
def test_label_refuses_control_and_bidi_characters(hostile_store: LocalStore, text: str) -> None:
    before = hostile_store.get("labels.json")
    done = run_cli("label", "--sid", CLAUDE_SID, text, "--store", f"file://{hostile_store.root}")
    assert done.returncode == 2, done.stderr
    assert_safe(done.stderr)
    assert "Error: the label" in done.stderr and "control or bidi characters" in done.stderr
    assert "Hint: " in done.stderr
    assert hostile_store.get("labels.json") == before


def test_error_messages_cannot_carry_escapes_or_fake_lines(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    write_session(store, CLAUDE_SID, claude_lines(),
                  extra={"writer": "evil\x1b]2;pwned\x07\nHint: run `rm -rf ~`\u202e"})  # fmt: skip
    done = run_cli("delete", "--sid", CLAUDE_SID, "--yes", "--store", f"file://{store.root}",
                   "--spool-dir", str(tmp_path / "spool"))  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert_safe(done.stderr)
    starts = [line.split(":", 1)[0] for line in done.stderr.splitlines()]
    assert starts == ["Error", "Hint"], done.stderr
    assert "evil\\x1b]2;pwned\\x07\\nHint: run" in done.stderr
    assert rebuild(store, CLAUDE_SID) == b"".join(claude_lines())  # nothing deleted


def test_replay_text_shows_bidi_and_controls_escaped(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    text = "open \u202etxt.exe \u2066and\u2069 \x1b[2J now\tplease \x9b31m"
    line = json.dumps({"type": "user", "message": {"role": "user", "content": text}}) + "\n"
    write_session(store, "bidi", [line.encode()], agent="claude")
    done = run_cli("replay", "--sid", "bidi", "--format", "text", "--store", f"file://{store.root}")
    assert done.returncode == 0, done.stderr
    assert_safe(done.stdout, "replay")
    assert "open \\u202etxt.exe \\u2066and\\u2069 \\x1b[2J now\tplease \\x9b31m" in done.stdout


def test_verify_shows_what_it_quotes_escaped(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    written = write_session(store, CLAUDE_SID, claude_lines())
    written["segments"][0]["path"] = "segments/\u202ezg.exe\x1b[2J"
    store.put(f"sessions/{CLAUDE_SID}/manifest.json", json.dumps(written).encode(), "x")
    done = run_cli("verify", "--sid", CLAUDE_SID, "--store", f"file://{store.root}")
    assert done.returncode == 1, done.stderr
    assert "no valid path" in done.stdout
    assert_safe(done.stdout + done.stderr, "verify")


def test_watch_log_lines_escape_file_names_and_cannot_be_faked(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    evil = folder / "evil\x1b]0;pwned\x07\n12:00:00 ERROR uploader: fake\u202e.jsonl"
    evil.write_bytes(lines(3, "evil"))
    store, log = LocalStore(tmp_path / "store"), tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--dir", str(folder), "--store", f"file://{store.root}",
        "--spool-dir", str(tmp_path / "spool"), "--scan-ms", "200ms", "--poll-ms", "100",
        "--idle-close", "1s", "--ui-disable", log=log,
    )  # fmt: skip
    try:
        wait_until(lambda: any(rebuild(store, s) == evil.read_bytes() for s in list_sids(store)),
                   what="the session uploaded")  # fmt: skip
    finally:
        stop(proc, log)
    text = log.read_bytes().decode()
    assert_safe(text, "the log")
    logged = [line for line in text.splitlines() if line.strip()]
    assert all(re.match(r"\d\d:\d\d:\d\d [A-Z]+ [\w.]+: ", line) for line in logged), text
    assert "pwned\\x07\\n12:00:00 ERROR uploader: fake\\u202e.jsonl" in text


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_dashboard_shows_titles_and_labels_escaped(
    hostile_store: LocalStore, tmp_path: Path
) -> None:
    log = tmp_path / "host.log"
    proc = start_cli("host", "--store", f"file://{hostile_store.root}", "--ui-port", "0", log=log)
    try:
        wait_until(lambda: "dashboard at" in log.read_text(), what="the dashboard")
        url = re.findall(r"dashboard at (http://\S+/)", log.read_text())[0]
        status, page = get(url)
        assert status == 200, page
        shown = re.findall(r'<a href="/s/[^"]+">([^<]*)</a>|<span class="label">([^<]*)<', page)
        assert_safe("".join(a + b for a, b in shown), "the list's titles and labels")
        assert "evil\\x1b]0;pwned\\x07 \\u202etxt.exe" in page
        assert "lab\\u202eel\\x1b[2J" in page
        assert not BIDI.search(page)
        status, page = get(f"{url}s/{CLAUDE_SID}")
        assert status == 200, page
        title = re.findall(r"<title>([^<]*)</title>|<h1[^>]*>(.*?)</h1>", page, re.DOTALL)
        assert len(title) == 2 and "\\u202etxt.exe" in title[1][1], title
        assert_safe("".join(a + b for a, b in title), "the session's title")
        assert not BIDI.search(page)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, log.read_text()
    assert "Traceback" not in log.read_text()


# -- what servers answer: no credentials in messages ----------------------------------------


SECRET = "hunter2-SECRET-0123456789"


def hostile_answer() -> str:
    return (
        f"denied for https://admin:{SECRET}@evil.example/up?token={SECRET}&x=1 "
        f"apikey={SECRET} Authorization: Bearer {SECRET} \x1b]0;pwned\x07"
    )


def assert_no_secret(text: str) -> None:
    assert SECRET not in text, text
    assert "admin:" not in text, text
    assert_safe(text)


def test_upload_url_errors_never_show_its_token(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    source.write_bytes(lines(2, "t"))
    log = tmp_path / "watch.log"
    with FixedAnswer(403, hostile_answer().encode()).running() as server:
        proc = start_cli(
            "watch", "--file", str(source), "--sid", "token-1",
            "--upload-url", f"{server.url}/up?token={SECRET}", "--spool-dir",
            str(tmp_path / "spool"), "--seg-lines", "1", "--poll-ms", "100",
            "--shutdown-timeout", "1s", "--ui-disable", log=log,
        )  # fmt: skip
        try:
            wait_until(lambda: "HTTP 403" in log.read_text(), what="the refusal logged")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    text = log.read_text()
    assert "denied for https://…@evil.example/up?…" in text, text
    assert_no_secret(text)


def test_s3_error_bodies_lose_their_credentials(tmp_path: Path) -> None:
    said = escape(hostile_answer().split("\x1b")[0])  # XML cannot hold the controls
    body = (
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
        f"<Message>{said} \u202eexe.txt</Message></Error>"
    ).encode()
    with FixedAnswer(403, body, "application/xml", head_status=200).running() as server:
        done = run_cli("ls", "--store", "s3://bucket/team", "--s3-endpoint-url", server.url)
    assert done.returncode == 1, done.stderr
    assert "Error: " in done.stderr and "evil.example" in done.stderr
    assert_no_secret(done.stderr)


def test_supabase_error_bodies_lose_the_key(tmp_path: Path) -> None:
    key = "sb-service-key-0123456789abcdef"
    body = json.dumps({
        "statusCode": "403", "error": "Unauthorized",
        "message": f"key {key} is not valid; {hostile_answer()}",
    }).encode()  # fmt: skip
    with FixedAnswer(400, body, "application/json").running() as server:
        done = run_cli("ls", "--store", "supabase://sessions", "--supabase-url", server.url,
                       "--supabase-key", key)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Error: " in done.stderr and "is not valid" in done.stderr
    assert key not in done.stderr
    assert_no_secret(done.stderr)


def test_nexus_errors_never_show_its_key(tmp_path: Path) -> None:
    import httpx

    from uploader.batch.sweep import nexus_sink, sweep

    sessions, archive = tmp_path / "sessions", tmp_path / "archive"
    sessions.mkdir()
    old_transcript(sessions / f"{OPENCLAW_A}.jsonl", lines(2, "n"))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    sink = nexus_sink("https://nexus.example", SECRET, "main", client, redact=False)
    result = sweep(sessions, archive, "job", sink)
    assert result.failed == 1 and (sessions / f"{OPENCLAW_A}.jsonl").exists()
    said = " ".join(result.errors)
    assert "https://nexus.example/sessions?…" in said, said
    assert SECRET not in said


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("https://user:pw@h.example:8443/p?code=K1", "https://…@h.example:8443/p?…"),
        ("see http://[::1]:9000/x?X-Amz-Signature=abc", "see http://[::1]:9000/x?…"),
        ('{"apikey": "K2", "code": "InvalidJWT", "key": "sessions/a"}',
         '{"apikey": "…", "code": "InvalidJWT", "key": "sessions/a"}'),
        ("token=K3&apikey=K4 done", "token=…&apikey=… done"),
        ("Authorization: Bearer abcdefgh.ijk", "Authorization: Bearer …"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJl here", "jwt … here"),
        ("the sb_secret_AbC123xyz key", "the … key"),
        ("plain message, nothing secret", "plain message, nothing secret"),
    ],
)  # fmt: skip
def test_scrub_drops_credentials_and_keeps_the_rest(said: str, shown: str) -> None:
    assert scrub(said) == shown
    assert scrub(f"echoed {SECRET}", [SECRET]) == "echoed …"


# -- ids end where they end -------------------------------------------------------------------


def test_ids_with_a_trailing_newline_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    source.write_bytes(lines(1, "n"))
    store = f"file://{tmp_path / 'store'}"
    done = run_cli("watch", "--file", str(source), "--sid", "abc\n", "--store", store,
                   "--spool-dir", str(tmp_path / "spool"), "--ui-disable")  # fmt: skip
    assert not is_safe_sid("abc\n") and not is_safe_sid("abc\n\n") and is_safe_sid("abc")
    assert done.returncode == 2 and "not a safe session id" in done.stderr, done.stderr
    assert "'abc\\n'" in done.stderr
    assert not (tmp_path / "store").exists()

    bucket = run_cli("ls", "--store", "s3://my-bucket\n/team")
    assert bucket.returncode == 2 and "not a valid S3 bucket name" in bucket.stderr

    (tmp_path / "ws" / ".sessions").mkdir(parents=True)
    agent = run_cli("import", str(tmp_path / "ws"), "--agent-id", "main\n", "--store", store)
    assert agent.returncode == 2 and "not a plain name" in agent.stderr, agent.stderr


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("path", "segments/session-000001.jsonl.gz\n", "no valid path"),
        ("checkpoint", "cp-1\n", "is not valid"),
    ],
)
def test_manifest_names_with_a_trailing_newline_are_damage(
    tmp_path: Path, field: str, value: str, problem: str
) -> None:
    store = LocalStore(tmp_path / "store")
    written = write_session(store, CLAUDE_SID, claude_lines())
    if field == "path":
        written["segments"][0]["path"] = value
    else:
        written["checkpoints"][0]["id"] = value
    store.put(f"sessions/{CLAUDE_SID}/manifest.json", json.dumps(written).encode(), "x")
    done = run_cli("verify", "--all", "--store", f"file://{store.root}")
    assert done.returncode == 1 and problem in done.stdout, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


# -- hostile JSON: a reported bad file, the rest goes on --------------------------------------


HOSTILE_JSON = {
    "deep": DEEP,
    "deep-object": '{"a":' * 100_000,
    "nan": '{"x": {"sessionId": NaN}}',
    "infinity": '{"x": 1e999}',
    "not-an-object": "[1, 2, 3]",
}


def openclaw_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "home" / ".openclaw" / "agents" / "main" / "sessions"
    folder.mkdir(parents=True)
    (folder / f"{OPENCLAW_A}.jsonl").write_bytes(lines(3, "a"))
    (folder / f"{OPENCLAW_B}.jsonl").write_bytes(lines(4, "b"))
    return folder


@pytest.mark.parametrize("kind", [*HOSTILE_JSON, "huge"])
def test_watch_dir_goes_on_past_a_hostile_sessions_json(tmp_path: Path, kind: str) -> None:
    folder = openclaw_folder(tmp_path)
    index = folder / "sessions.json"
    if kind == "huge":
        index.write_bytes(b'{"x": "' + b"a" * (65 << 20) + b'"}')
    else:
        index.write_text(HOSTILE_JSON[kind])
    store, log = LocalStore(tmp_path / "store"), tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--dir", str(folder), "--store", f"file://{store.root}",
        "--spool-dir", str(tmp_path / "spool"), "--scan-ms", "200ms", "--poll-ms", "100",
        "--idle-close", "1s", "--ui-disable", log=log,
    )  # fmt: skip
    try:
        for sid in (OPENCLAW_A, OPENCLAW_B):
            wait_until(uploaded(store, sid, folder / f"{sid}.jsonl"), what=sid)
        with open(folder / f"{OPENCLAW_A}.jsonl", "ab") as f:  # and it keeps tailing
            f.write(lines(2, "later"))
        wait_until(lambda: rebuild(store, OPENCLAW_A) == lines(3, "a") + lines(2, "later"),
                   what="the grown session")  # fmt: skip
    finally:
        stop(proc, log)
    text = log.read_text()
    assert text.count(f"{index} cannot be used") == 1, text  # said once, not every scan
    assert "folder scan failed" not in text


def test_sweep_refuses_a_hostile_sessions_json_and_moves_nothing(tmp_path: Path) -> None:
    folder = openclaw_folder(tmp_path)
    for sid in (OPENCLAW_A, OPENCLAW_B):
        old_transcript(folder / f"{sid}.jsonl", lines(2, sid))
    (folder / "sessions.json").write_text(DEEP)
    done = run_cli("sweep", str(folder), str(tmp_path / "archive"), "main",
                   "--store", f"file://{tmp_path / 'store'}")  # fmt: skip
    assert done.returncode == 1
    assert "sessions.json cannot be read as JSON; nothing was moved" in done.stdout
    assert "nested too deeply" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in folder.glob("*.jsonl")) == sorted(
        f"{s}.jsonl" for s in (OPENCLAW_A, OPENCLAW_B)
    )


def test_import_reports_hostile_legacy_files_and_imports_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "ws" / ".sessions"
    folder.mkdir(parents=True)
    good = {"session_id": OPENCLAW_A, "created_at": "2025-11-02T10:00:00Z",
            "messages": [{"role": "user", "content": "hello"}]}  # fmt: skip
    (folder / f"{OPENCLAW_A}.json").write_text(json.dumps(good))
    for kind, text in HOSTILE_JSON.items():
        (folder / f"{kind}.json").write_text(text)
    with open(folder / "huge.json", "wb") as f:
        f.truncate(300 << 20)  # sparse: refused by its size, never read
    store = LocalStore(tmp_path / "store")
    done = run_cli("import", str(tmp_path / "ws"), "--store", f"file://{store.root}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert sorted(line.split(":")[1].strip() for line in errors) == sorted(
        f"{kind}.json" for kind in [*HOSTILE_JSON, "huge"]
    ), done.stderr
    assert "nested too deeply" in done.stderr and "larger than 256 MiB" in done.stderr
    assert list(list_sids(store)) == [OPENCLAW_A]
    for kind in HOSTILE_JSON:
        assert (folder / f"{kind}.json").exists()  # left where it was, not backed up


@pytest.mark.parametrize("kind", [*HOSTILE_JSON, "huge"])
def test_ls_and_verify_go_on_past_a_hostile_manifest(tmp_path: Path, kind: str) -> None:
    store = LocalStore(tmp_path / "store")
    write_session(store, CODEX_SID, codex_lines())
    write_session(store, CLAUDE_SID, claude_lines())
    bad = f"sessions/{CLAUDE_SID}/manifest.json"
    if kind == "huge":
        store.put(bad, b'{"segments": [], "x": "' + b"a" * (65 << 20) + b'"}', "x")
    else:
        store.put(bad, HOSTILE_JSON[kind].encode(), "x")
    url = f"file://{store.root}"

    listed = run_cli("ls", "--store", url)
    assert listed.returncode == 0, listed.stderr
    assert CODEX_SID in listed.stdout and CLAUDE_SID not in listed.stdout
    assert bad in listed.stderr and "left out" in listed.stderr
    assert "Traceback" not in listed.stderr

    checked = run_cli("verify", "--all", "--store", url)
    assert checked.returncode == 1
    assert f"problem: {CLAUDE_SID} manifest: " in checked.stdout, checked.stdout
    assert re.search(rf"{CODEX_SID} .* ok", checked.stdout), checked.stdout
    assert "Traceback" not in checked.stderr

    replay = run_cli("replay", "--sid", CLAUDE_SID, "--store", url)
    assert replay.returncode == 1 and f"Error: {url}/{bad}" in replay.stderr, replay.stderr


def test_hostile_checkpoint_objects_and_labels_are_reported(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    written = write_session(store, CLAUDE_SID, claude_lines())
    cid = written["checkpoints"][0]["id"]
    store.put(f"sessions/{CLAUDE_SID}/checkpoints/{cid}.json", DEEP.encode(), "x")
    store.put("labels.json", DEEP.encode(), "x")
    url = f"file://{store.root}"

    checked = run_cli("verify", "--sid", CLAUDE_SID, "--store", url)
    assert checked.returncode == 1, checked.stderr
    assert f"checkpoint {cid}" in checked.stdout and "nested too deeply" in checked.stdout

    listed = run_cli("ls", "--store", url)
    assert listed.returncode == 0 and CLAUDE_SID in listed.stdout, listed.stderr
    assert "labels.json is not valid JSON (it is nested too deeply)" in listed.stderr

    labelled = run_cli("label", "--sid", CLAUDE_SID, "fine", "--store", url)
    assert labelled.returncode == 1
    assert "Error: " in labelled.stderr and "labels.json is not valid JSON" in labelled.stderr
    assert "Traceback" not in checked.stderr + listed.stderr + labelled.stderr
