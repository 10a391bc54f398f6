"""`replay`, `reload`, `verify`, `ls`, `label` and `delete` as a user runs them: real
processes over a real store, checking what they print, exit with, and leave on disk."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli_env, run_cli, start_cli, wait_until
from tests.support.session_factory import FIXTURE_SESSIONS, populated_store, write_session
from tests.support.transcripts import (
    CLAUDE_SID,
    CODEX_SID,
    HOSTILE_SID,
    OPENCLAW_SID,
    PI_SID,
    claude_lines,
    codex_lines,
)
from uploader.cli import read_commands as cli_reading
from uploader.stores.local import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    populated_store(store)
    return store


def cli(store: LocalStore, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(*args, env={"AGENT_UPLOADER_STORE": f"file://{store.root}", **(env or {})})


def original(sid: str) -> bytes:
    return b"".join(FIXTURE_SESSIONS[sid][0]())


def segment_path(store: LocalStore, sid: str, seq: int) -> Path:
    m = json.loads(store.get(f"sessions/{sid}/manifest.json"))
    entry: dict[str, Any] = next(s for s in m["segments"] if s["seq"] == seq)
    return store.root / "sessions" / sid / str(entry["path"])


def edit_manifest(store: LocalStore, sid: str, change: Any) -> None:
    path = store.root / "sessions" / sid / "manifest.json"
    m = json.loads(path.read_bytes())
    change(m)
    path.write_text(json.dumps(m))


# -- exit codes and what stays on disk -------------------------------------------------


def test_unknown_session_exits_3_and_writes_nothing(store: LocalStore, tmp_path: Path) -> None:
    target = tmp_path / "new" / "x.jsonl"
    done = cli(store, "reload", "--sid", "no-such-session", "--to", str(target))
    assert done.returncode == 3
    assert "no session 'no-such-session'" in done.stderr and "agent-uploader ls" in done.stderr
    assert not target.parent.exists()


def test_unknown_checkpoint_and_generation_exit_3(store: LocalStore, tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    done = cli(store, "reload", "--sid", CODEX_SID, "--checkpoint", "nope", "--to", str(target))
    assert done.returncode == 3
    assert "no checkpoint 'nope'" in done.stderr and "2026-03-14T11-40-00Z" in done.stderr
    done = cli(store, "replay", "--sid", CODEX_SID, "--generation", "7")
    assert done.returncode == 3 and "no generation 7" in done.stderr
    assert not target.exists()


def test_ambiguous_prefix_lists_matches_and_exits_2(store: LocalStore) -> None:
    done = cli(store, "replay", "--sid", "0")  # the codex and the pi session
    assert done.returncode == 2
    assert CODEX_SID in done.stderr and PI_SID in done.stderr
    assert done.stdout == ""


def test_no_session_named_is_a_usage_error(store: LocalStore) -> None:
    done = cli(store, "reload")
    assert done.returncode == 2 and "--sid" in done.stderr


def test_existing_target_needs_force(store: LocalStore, tmp_path: Path) -> None:
    target = tmp_path / "keep.jsonl"
    target.write_bytes(b"mine\n")
    done = cli(store, "reload", "--sid", CLAUDE_SID, "--to", str(target))
    assert done.returncode == 1 and "--force" in done.stderr
    assert target.read_bytes() == b"mine\n"
    done = cli(store, "reload", "--sid", CLAUDE_SID, "--to", str(target), "--force")
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == original(CLAUDE_SID)


def test_reload_without_to_goes_where_the_agent_looks(store: LocalStore, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "CODEX_HOME": str(home / "codex")}
    expected = {
        CODEX_SID: home / "codex/sessions/2026/03/14" / Path(FIXTURE_SESSIONS[CODEX_SID][1]).name,
        CLAUDE_SID: home / f".claude/projects/-home-dev-shop-api/{CLAUDE_SID}.jsonl",
        OPENCLAW_SID: home / f".openclaw/agents/main/sessions/{OPENCLAW_SID}.jsonl",
        PI_SID: home / ".pi/agent/sessions/--home-dev-shop-api--"
        / Path(FIXTURE_SESSIONS[PI_SID][1]).name,
    }  # fmt: skip
    for sid, path in expected.items():
        done = cli(store, "reload", "--sid", sid, env=env)
        assert done.returncode == 0, done.stderr
        assert str(path) in done.stderr and "where its agent will find it" in done.stderr
        assert path.read_bytes() == original(sid)
    write_session(store, "plain", claude_lines(), agent="unknown")  # no agent, no place
    done = cli(store, "reload", "--sid", "plain", env=env)
    assert done.returncode == 2 and "--to PATH" in done.stderr


def test_a_manifest_cannot_choose_where_reload_writes(tmp_path: Path) -> None:
    store, home = LocalStore(tmp_path / "store"), tmp_path / "home"
    env = {"HOME": str(home)}
    climb = "/home/u/.openclaw/agents/../sessions/evil.jsonl"
    write_session(store, "climb", claude_lines(), path=climb, agent="openclaw")
    done = run_cli("reload", "--store", f"file://{store.root}", "--sid", "climb", env=env)
    assert done.returncode == 2, done.stderr
    assert not home.exists()
    write_session(store, "cwd", claude_lines(), path="/x/evil.jsonl", agent="claude")
    edit_manifest(store, "cwd", lambda m: m["source"].update(cwd="/../../etc"))
    done = run_cli("reload", "--store", f"file://{store.root}", "--sid", "cwd", env=env)
    assert done.returncode == 0, done.stderr
    written = [p for p in home.rglob("*") if p.is_file()]
    assert [p.relative_to(home).parts[:2] for p in written] == [(".claude", "projects")]


# -- replay ------------------------------------------------------------------------------


def test_replay_text_is_a_readable_conversation(store: LocalStore) -> None:
    done = cli(store, "replay", "--sid", CLAUDE_SID[:6], "--format", "text")
    assert done.returncode == 0, done.stderr
    assert "user: " in done.stdout and "assistant" in done.stdout
    assert "[tool Grep]" in done.stdout
    assert "\x1b[" not in done.stdout  # no colour in a pipe


def test_replay_at_a_checkpoint_stops_at_its_compaction_line(store: LocalStore) -> None:
    done = cli(store, "replay", "--sid", CODEX_SID, "--checkpoint", "latest")
    lines = codex_lines()
    cut = next(i for i, line in enumerate(lines) if b'"type":"compacted"' in line)
    assert done.stdout.encode() == b"".join(lines[: cut + 1])


def test_replay_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    big = [json.dumps({"type": "user", "i": i, "pad": "x" * 200}).encode() + b"\n"
           for i in range(40_000)]  # fmt: skip
    write_session(store, "big", big, seg_lines=5000)
    cmd = f"{sys.executable} -m uploader replay --sid big | head -n 1"
    done = subprocess.run(
        cmd, shell=True, capture_output=True, text=True, timeout=60,
        env=cli_env({"AGENT_UPLOADER_STORE": f"file://{store.root}"}), check=False,
    )  # fmt: skip
    assert done.stdout == big[0].decode()
    assert done.stderr == ""


def start_follow(store: LocalStore, out: Path, interval: str) -> subprocess.Popen[bytes]:
    """`replay --follow` of CLAUDE_SID, printing into `out`."""
    with open(out, "wb") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "uploader", "replay", "--sid", CLAUDE_SID, "--follow",
             "--interval", interval],
            stdout=f, stderr=subprocess.DEVNULL,
            env=cli_env({"AGENT_UPLOADER_STORE": f"file://{store.root}"}),
        )  # fmt: skip


def test_replay_follow_prints_segments_as_they_arrive(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    lines = claude_lines()
    write_session(store, CLAUDE_SID, lines[:5], seg_lines=5)
    out = tmp_path / "follow.out"
    proc = start_follow(store, out, "100ms")
    try:
        wait_until(lambda: out.read_bytes() == b"".join(lines[:5]), what="the first segment")
        write_session(store, CLAUDE_SID, lines[:10], seg_lines=5)
        wait_until(lambda: out.read_bytes() == b"".join(lines[:10]), what="the second segment")
        write_session(store, CLAUDE_SID, lines, seg_lines=5, closed=True)
        assert proc.wait(timeout=20) == 0  # ends by itself once the session is closed
    finally:
        proc.kill()
    assert out.read_bytes() == b"".join(lines)


# -- damage ------------------------------------------------------------------------------


def flip_byte(store: LocalStore, sid: str) -> None:
    path = segment_path(store, sid, 2)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def drop_segment(store: LocalStore, sid: str) -> None:
    segment_path(store, sid, 2).unlink()


def truncate_gzip(store: LocalStore, sid: str) -> None:
    path = segment_path(store, sid, 2)
    path.write_bytes(path.read_bytes()[:-12])


def name_a_missing_segment(store: LocalStore, sid: str) -> None:
    def add(m: dict[str, Any]) -> None:
        last = dict(m["segments"][-1])
        last.update(seq=last["seq"] + 1, path="segments/session-000099.jsonl.gz")
        m["segments"].append(last)

    edit_manifest(store, sid, add)


def break_manifest(store: LocalStore, sid: str) -> None:
    (store.root / "sessions" / sid / "manifest.json").write_bytes(b'{"version": 1, "segm')


DAMAGE = {
    "flipped byte": (flip_byte, "segment 2"),
    "missing segment": (drop_segment, "segment 2"),
    "truncated gzip": (truncate_gzip, "segment 2: is a truncated gzip"),
    "manifest names a missing segment": (name_a_missing_segment, "is missing from the store"),
    "manifest not JSON": (break_manifest, "not valid JSON"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damage_is_found_by_verify_and_refused_by_reload(
    store: LocalStore, tmp_path: Path, damage: str
) -> None:
    spoil, said = DAMAGE[damage]
    spoil(store, CLAUDE_SID)
    checked = cli(store, "verify", "--sid", CLAUDE_SID)
    assert checked.returncode == 1, checked.stdout
    assert CLAUDE_SID in checked.stdout and said in checked.stdout, checked.stdout

    target = tmp_path / "restore" / "target.jsonl"
    target.parent.mkdir()
    target.write_bytes(b"the user's own file\n")
    done = cli(store, "reload", "--sid", CLAUDE_SID, "--to", str(target), "--force")
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
    assert target.read_bytes() == b"the user's own file\n"
    assert [p.name for p in target.parent.iterdir()] == ["target.jsonl"]  # no temp file left


def test_verify_all_names_only_the_damaged_session(store: LocalStore) -> None:
    flip_byte(store, OPENCLAW_SID)
    edit_manifest(store, PI_SID, lambda m: m["segments"].pop(1))  # a gap in seq
    done = cli(store, "verify", "--all")
    assert done.returncode == 1
    rows = {line.split()[0]: line for line in done.stdout.splitlines() if line.strip()}
    assert rows[CODEX_SID].endswith("ok") and rows[CLAUDE_SID].endswith("ok")
    assert "problem" in rows[OPENCLAW_SID] and "problem" in rows[PI_SID]
    assert f"problem: {PI_SID} segment 2: missing from the manifest (a gap in seq)" in done.stdout
    report = json.loads(cli(store, "verify", "--all", "--json").stdout)
    assert {r["sid"]: r["ok"] for r in report}[CODEX_SID] is True
    assert {r["sid"]: r["ok"] for r in report}[OPENCLAW_SID] is False


def test_verify_finds_a_checkpoint_whose_object_is_gone(store: LocalStore) -> None:
    m = json.loads(store.get(f"sessions/{CLAUDE_SID}/manifest.json"))
    cid = m["checkpoints"][0]["id"]
    store.delete([f"sessions/{CLAUDE_SID}/checkpoints/{cid}.json"])
    done = cli(store, "verify", "--sid", CLAUDE_SID)
    assert done.returncode == 1
    assert f"checkpoint {cid}" in done.stdout and "missing" in done.stdout


# -- ls and label --------------------------------------------------------------------------


def test_ls_lists_with_the_dashboards_filters(store: LocalStore) -> None:
    done = cli(store, "ls")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split()[:3] == ["ID", "TITLE", "AGENT"]
    assert all(sid in done.stdout for sid in FIXTURE_SESSIONS)
    items = json.loads(cli(store, "ls", "--json", "--agent", "claude").stdout)
    assert {i["sid"] for i in items} == {CLAUDE_SID, HOSTILE_SID}
    assert items[0]["lines"] > 0 and "title" in items[0]
    items = json.loads(cli(store, "ls", "--json", "-q", "pagination", "--sort", "title").stdout)
    titles = [i["title"] for i in items]
    assert len(titles) >= 2 and titles == sorted(titles, key=str.casefold, reverse=True)
    assert cli(store, "ls", "--sort", "nope").returncode == 2


def test_labels_are_unique_and_name_sessions(store: LocalStore) -> None:
    assert cli(store, "label", "--sid", CLAUDE_SID, "orders work").returncode == 0
    clash = cli(store, "label", "--sid", CODEX_SID, "Orders  Work")
    assert clash.returncode == 1 and CLAUDE_SID in clash.stderr
    done = cli(store, "replay", "--label", "orders work")
    assert done.stdout.encode() == original(CLAUDE_SID)
    listed = json.loads(cli(store, "ls", "--json").stdout)
    assert {i["sid"]: i["title"] for i in listed}[CLAUDE_SID] == "orders work"
    assert cli(store, "label", "--sid", CLAUDE_SID, "--clear").returncode == 0
    assert cli(store, "label", "--sid", CODEX_SID, "orders work").returncode == 0
    assert cli(store, "replay", "--label", "nothing like it").returncode == 3


# -- delete ------------------------------------------------------------------------------


def test_delete_asks_first_and_keeps_an_archive(store: LocalStore, tmp_path: Path) -> None:
    spool = ["--spool-dir", str(tmp_path / "spool")]
    refused = cli(store, "delete", "--sid", CLAUDE_SID, *spool)  # no terminal to ask on
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert store.list(f"sessions/{CLAUDE_SID}/")
    done = cli(store, "delete", "--sid", CLAUDE_SID, "--yes", *spool)
    assert done.returncode == 0, done.stderr
    assert list(store.list(f"sessions/{CLAUDE_SID}/")) == []
    assert cli(store, "replay", "--sid", CLAUDE_SID).returncode == 3
    archive = next(store.root.glob("archive/*"))
    assert str(archive.relative_to(store.root)) in done.stderr
    back = run_cli("replay", "--store", f"file://{archive}", "--sid", CLAUDE_SID)
    assert back.stdout.encode() == original(CLAUDE_SID)
    gone = cli(store, "delete", "--sid", CODEX_SID, "--yes", "--no-archive", *spool)
    assert gone.returncode == 0
    assert not any(CODEX_SID in key for key in store.list("archive/"))
    assert not (store.root / "sessions" / CODEX_SID).exists()


def test_delete_refuses_a_session_a_running_watch_writes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    source = tmp_path / f"{CLAUDE_SID}.jsonl"
    source.write_bytes(b"".join(claude_lines()))
    spool = tmp_path / "spool"
    log = tmp_path / "watch.log"
    args = ["--store", f"file://{store.root}", "--spool-dir", str(spool)]
    proc = start_cli(
        "watch", "--file", str(source), *args, "--seg-lines", "5", "--ui-disable", log=log
    )
    try:
        wait_until(lambda: bool(list(store.list(f"sessions/{CLAUDE_SID}/manifest"))),
                   what="the manifest")  # fmt: skip
        done = run_cli("delete", "--sid", CLAUDE_SID, "--yes", *args)
        assert done.returncode == 1
        assert "running `agent-uploader watch`" in done.stderr and str(spool) in done.stderr
        assert list(store.list(f"sessions/{CLAUDE_SID}/manifest"))
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    # Stopped: the deletion goes through, and the spool forgets the session, so that a
    # later watch of the file uploads it afresh rather than naming deleted segments.
    done = run_cli("delete", "--sid", CLAUDE_SID, "--yes", "--no-archive", *args)
    assert done.returncode == 0, done.stderr
    assert not (spool / "state" / f"{CLAUDE_SID}.json").exists()
    proc = start_cli("watch", "--file", str(source), *args, "--ui-disable", log=log)
    try:
        wait_until(lambda: bool(list(store.list(f"sessions/{CLAUDE_SID}/manifest"))),
                   what="the session uploaded again")  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    back = run_cli("replay", "--store", f"file://{store.root}", "--sid", CLAUDE_SID)
    assert back.stdout.encode() == source.read_bytes()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_reload_progress_shows_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    err = FakeTerminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(cli_reading, "PROGRESS_AFTER_S", 0.0)  # "a moment" has passed
    with cli_reading._Progress(1000, "reload 5b1e0c7a") as progress:
        for _ in range(4):
            progress(250)
    shown = err.getvalue()
    assert ("reload 5b1e0c7a" in shown and "100%" in shown) if terminal else shown == ""


# -- what a review found ---------------------------------------------------------------


def test_follow_prints_the_rest_of_a_generation_before_the_next(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    lines = claude_lines()
    write_session(store, CLAUDE_SID, lines[:10], seg_lines=5)
    out = tmp_path / "follow.out"
    proc = start_follow(store, out, "300ms")
    try:
        wait_until(lambda: out.read_bytes() == b"".join(lines[:10]), what="the first segments")
        # In one upload: the old generation's last segment and the new generation.
        gen2 = lines[:7]
        write_session(store, CLAUDE_SID, lines[:15] + gen2, seg_lines=5, generations=[15],
                      closed=True)  # fmt: skip
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
    assert out.read_bytes() == b"".join(lines[:15] + gen2)


MALFORMED = {
    "no seq": lambda m: m["segments"][1].pop("seq"),
    "path climbs": lambda m: m["segments"][1].update(path="segments/../../x"),
    "lines not a number": lambda m: m["segments"][1].update(lines="many"),
    "segment not an object": lambda m: m["segments"].__setitem__(1, "x"),
    "source not an object": lambda m: m.update(source="x"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_manifest_is_an_error_not_a_traceback(store: LocalStore, case: str) -> None:
    edit_manifest(store, CLAUDE_SID, MALFORMED[case])
    for args in (["replay", "--sid", CLAUDE_SID], ["verify", "--sid", CLAUDE_SID]):
        done = cli(store, *args)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert "manifest" in cli(store, "verify", "--sid", CLAUDE_SID).stdout
    listed = cli(store, "ls", "--json")  # the other sessions are still listed
    assert listed.returncode == 0, listed.stderr
    assert CODEX_SID in {i["sid"] for i in json.loads(listed.stdout)}


def test_delete_refuses_an_open_session_another_writer_just_wrote(
    tmp_path: Path, store: LocalStore
) -> None:
    write_session(store, "busy", claude_lines(), agent="claude")  # open, updated now
    spool = ["--spool-dir", str(tmp_path / "spool")]
    done = cli(store, "delete", "--sid", "busy", "--yes", *spool)
    assert done.returncode == 1 and "--force" in done.stderr and "still open" in done.stderr
    assert list(store.list("sessions/busy/manifest"))
    done = cli(store, "delete", "--sid", "busy", "--yes", "--force", *spool)
    assert done.returncode == 0, done.stderr
    assert not list(store.list("sessions/busy/"))


def test_reload_of_a_session_without_lines_exits_3(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    write_session(store, "empty", [], agent="claude")
    target = tmp_path / "x.jsonl"
    done = run_cli("reload", "--store", f"file://{store.root}", "--sid", "empty", "--to",
                   str(target))  # fmt: skip
    assert done.returncode == 3 and "no lines" in done.stderr
    assert not target.exists()


def test_reload_replaces_only_regular_files_and_keeps_them_private(
    store: LocalStore, tmp_path: Path
) -> None:
    real = tmp_path / "real.jsonl"
    real.write_bytes(b"keep\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    done = cli(store, "reload", "--sid", CLAUDE_SID, "--to", str(link), "--force")
    assert done.returncode == 1 and "a link" in done.stderr
    assert real.read_bytes() == b"keep\n" and link.is_symlink()
    fresh = tmp_path / "fresh.jsonl"
    assert cli(store, "reload", "--sid", CLAUDE_SID, "--to", str(fresh)).returncode == 0
    assert fresh.stat().st_mode & 0o777 == 0o600  # transcripts hold secrets
    real.chmod(0o640)
    assert cli(store, "reload", "--sid", CLAUDE_SID, "--to", str(real), "--force").returncode == 0
    assert real.stat().st_mode & 0o777 == 0o640 and real.read_bytes() == original(CLAUDE_SID)


def test_replay_text_does_not_pass_terminal_controls(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    text = "hi \u001b]0;PWNED\u0007 \u001b[2J \u009b31m there"
    evil = json.dumps({"type": "user", "message": {"role": "user", "content": text}}).encode()
    evil += b"\n"
    write_session(store, "esc", [evil], agent="claude")
    done = run_cli("replay", "--store", f"file://{store.root}", "--sid", "esc", "--format", "text")
    assert "hi" in done.stdout and "there" in done.stdout
    assert not any(ch in done.stdout for ch in "\x1b\x07\x9b")


def test_verify_all_of_an_empty_store(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    done = run_cli("verify", "--all", "--store", f"file://{tmp_path / 'store'}")
    assert done.returncode == 0, done.stderr
    assert "0 session(s) checked" in done.stderr


def test_labels_of_deleted_sessions_do_not_block_and_ids_are_not_labels(
    store: LocalStore,
) -> None:
    store.put("labels.json", json.dumps({"gone-session": "orders"}).encode(), "application/json")
    assert cli(store, "label", "--sid", CLAUDE_SID, "orders").returncode == 0
    assert json.loads(store.get("labels.json")) == {CLAUDE_SID: "orders"}
    shadow = cli(store, "label", "--sid", HOSTILE_SID, PI_SID[:2])
    assert shadow.returncode == 1 and PI_SID in shadow.stderr


def test_a_checkpoint_of_another_generation_is_a_usage_error(
    store: LocalStore, tmp_path: Path
) -> None:
    target = tmp_path / "never-written.jsonl"
    done = cli(store, "reload", "--sid", CODEX_SID, "--checkpoint", "latest", "--generation",
               "2", "--to", str(target))  # fmt: skip
    assert done.returncode == 2 and "belongs to generation 1" in done.stderr
    assert not target.exists()


def test_commands_take_the_session_as_their_argument(store: LocalStore, tmp_path: Path) -> None:
    """`reload SID`, `replay SID`, `verify SID`, `label SID TEXT`, `delete SID`: as `git
    show` takes a commit; --sid keeps working, and the two must not disagree."""
    target = tmp_path / "codex.jsonl"
    done = cli(store, "reload", CODEX_SID[:8], "--to", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == original(CODEX_SID)
    assert cli(store, "replay", CLAUDE_SID).stdout.encode() == original(CLAUDE_SID)
    verified = cli(store, "verify", PI_SID, "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)[0]["sid"] == PI_SID
    assert cli(store, "label", OPENCLAW_SID, "claw-work").returncode == 0
    assert cli(store, "label", "--sid", CLAUDE_SID, "claude-work").returncode == 0
    listed = {s["sid"]: s["label"] for s in json.loads(cli(store, "ls", "--json").stdout)}
    assert listed[OPENCLAW_SID] == "claw-work" and listed[CLAUDE_SID] == "claude-work"
    assert cli(store, "replay", "claw-work").stdout.encode() == original(OPENCLAW_SID)
    assert cli(store, "label", OPENCLAW_SID, "--clear").returncode == 0
    both = cli(store, "replay", CODEX_SID, "--sid", PI_SID)
    assert both.returncode == 2 and "two sessions given" in both.stderr
    gone = cli(store, "delete", PI_SID, "--yes", "--no-archive")
    assert gone.returncode == 0, gone.stderr
    assert not (store.root / "sessions" / PI_SID).exists()
