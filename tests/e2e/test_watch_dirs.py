"""`watch` over whole agent folders: real trees in each agent's layout (docs/formats.md), one
real process, files that appear, grow, go idle, wake up and are renamed when they end."""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import time
from pathlib import Path

from tests.support.cli import saved_state, start_cli, wait_until
from tests.support.storeview import manifest, rebuild
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
from uploader.read.summaries import list_sids
from uploader.stores.local import LocalStore

SECOND_CLAUDE = "6c2f1d8b-3e5a-4d66-8b72-1e3f9c8a2d4b"
IDLE_OPENCLAW = "8e4a0b21-6d3f-4c9b-a012-3f7d5e9c2b88"


def lines_of(n: int, tag: str) -> bytes:
    return b"".join(
        json.dumps({"type": "message", "tag": tag, "i": i}).encode() + b"\n" for i in range(n)
    )


def test_watch_finds_the_agent_folders_and_keeps_every_session_exact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    codex = home / ".codex/sessions/2026/03/14" / f"rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl"
    claude = home / ".claude/projects/-home-dev-shop-api" / f"{CLAUDE_SID}.jsonl"
    claw_dir = home / ".openclaw/agents/main/sessions"
    claw = claw_dir / f"{OPENCLAW_SID}.jsonl"
    idle_claw = claw_dir / f"{IDLE_OPENCLAW}.jsonl"
    pi = (
        home
        / ".pi/agent/sessions/--home-dev-shop-api--"
        / f"2026-03-14T10-00-00-000Z_{PI_SID}.jsonl"
    )
    for path, content in [
        (codex, b"".join(codex_lines())),
        (claude, b"".join(claude_lines())),
        (claw, b"".join(openclaw_lines())),
        (idle_claw, lines_of(3, "old")),
        (pi, b"".join(pi_lines())),
    ]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (claw_dir / f"{OPENCLAW_SID}.jsonl.lock").write_text("pid 1")
    (claw_dir / f"{OPENCLAW_SID}.trajectory.jsonl").write_bytes(lines_of(2, "trajectory"))
    (claw_dir / "sessions.json").write_text(json.dumps({
        "agent:main:main": {"sessionId": OPENCLAW_SID, "updatedAt": 1773478803000,
                            "label": "PR digest", "displayName": "ignored"},
    }))  # fmt: skip

    store = LocalStore(tmp_path / "store")
    log = tmp_path / "watch.log"
    env = {"HOME": str(home), "CODEX_HOME": str(home / ".codex")}
    proc = start_cli(
        "watch", "--store", f"file://{store.root}", "--spool-dir", str(tmp_path / "spool"),
        "--idle-close", "1s", "--scan-ms", "200ms", "--poll-ms", "100", "--ui-disable",
        env=env, log=log,
    )  # fmt: skip
    try:

        def stored(path: Path, sid: str) -> bool:
            return rebuild(store, sid) == path.read_bytes()

        sessions = {codex: CODEX_SID, claude: CLAUDE_SID, claw: OPENCLAW_SID, pi: PI_SID,
                    idle_claw: IDLE_OPENCLAW}  # fmt: skip
        for path, sid in sessions.items():
            wait_until(functools.partial(stored, path, sid), what=f"{sid} uploaded")

        # A new session appears; an idle one wakes up and grows.
        second = claude.parent / f"{SECOND_CLAUDE}.jsonl"
        second.write_bytes(lines_of(4, "new"))
        time.sleep(1.5)  # codex has been idle for over --idle-close: closed by now
        with open(codex, "ab") as f:
            f.write(lines_of(3, "later"))
        wait_until(lambda: stored(second, SECOND_CLAUDE), what="the new session")
        wait_until(lambda: stored(codex, CODEX_SID), what="the woken session")

        # OpenClaw ends a session by renaming it: the end, not a new session.
        with open(claw, "ab") as f:
            f.write(lines_of(2, "last words"))
        ended = claw_dir / f"{OPENCLAW_SID}.jsonl.deleted.2026-04-13T00-53-49.392Z"
        claw.rename(ended)
        wait_until(lambda: (manifest(store, OPENCLAW_SID) or {}).get("closed") is True,
                   what="the renamed session closed")  # fmt: skip
        assert rebuild(store, OPENCLAW_SID) == ended.read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()

    text = log.read_text()
    for agent in ("Codex", "Claude Code", "OpenClaw", "pi"):
        assert f"found {agent} sessions in" in text, text
    assert sorted(list_sids(store)) == sorted([*sessions.values(), SECOND_CLAUDE])
    assert (manifest(store, OPENCLAW_SID) or {})["source"]["title"] == "PR digest"
    for path, sid in [(codex, CODEX_SID), (claude, CLAUDE_SID), (pi, PI_SID)]:
        assert rebuild(store, sid) == path.read_bytes(), sid


def start_dir_watch(tmp_path: Path, folder: Path, *args: str) -> tuple[object, LocalStore, Path]:
    store, log = LocalStore(tmp_path / "store"), tmp_path / "watch.log"
    proc = start_cli(
        "watch", "--dir", str(folder), "--store", f"file://{store.root}",
        "--spool-dir", str(tmp_path / "spool"), "--scan-ms", "200ms", "--poll-ms", "100",
        "--ui-disable", *args, log=log,
    )  # fmt: skip
    return proc, store, log


def stop(proc: object, log: Path) -> None:
    assert isinstance(proc, subprocess.Popen)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0, log.read_text()


def test_many_busy_files_in_one_folder_are_all_tailed(tmp_path: Path) -> None:
    """Twelve sessions written at once in one folder: more than the catch-up gate, and
    sharing one folder watch."""
    folder = tmp_path / "projects" / "-home-dev-shop"
    folder.mkdir(parents=True)
    sids = [f"{n:08x}-1111-4222-8333-444444444444" for n in range(12)]
    proc, store, log = start_dir_watch(tmp_path, tmp_path / "projects", "--seg-lines", "5")
    try:
        for round_ in range(6):
            for sid in sids:
                with open(folder / f"{sid}.jsonl", "ab") as f:
                    f.write(lines_of(2, f"{sid}-{round_}"))
            time.sleep(0.2)
        for sid in sids:

            def tailed(s: str = sid) -> bool:
                return len((manifest(store, s) or {}).get("segments", [])) >= 2

            wait_until(tailed, what=f"{sid} tailed")
    finally:
        stop(proc, log)
    assert "Traceback" not in log.read_text()
    for sid in sids:
        assert rebuild(store, sid) == (folder / f"{sid}.jsonl").read_bytes(), sid


def test_lines_spooled_before_a_kill_are_uploaded_at_the_next_start(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    source = folder / f"{SECOND_CLAUDE}.jsonl"
    source.write_bytes(lines_of(3, "before"))
    spool = tmp_path / "spool"
    proc, store, log = start_dir_watch(tmp_path, folder)
    try:
        wait_until(lambda: spool_offset(spool, SECOND_CLAUDE) == source.stat().st_size,
                   what="the lines spooled")  # fmt: skip
    finally:
        assert isinstance(proc, subprocess.Popen)
        proc.kill()  # SIGKILL: the active segment is still in the spool
        proc.wait(timeout=30)
    proc, store, log = start_dir_watch(tmp_path, folder, "--idle-close", "1s")
    try:
        wait_until(lambda: rebuild(store, SECOND_CLAUDE) == source.read_bytes(),
                   what="the spooled lines uploaded")  # fmt: skip
    finally:
        stop(proc, log)


def spool_offset(spool: Path, sid: str) -> int | None:
    state = saved_state(spool, sid)
    return None if state is None else int(state["offset"])


def test_a_subagent_transcript_is_a_session_of_its_own(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "-home-dev-shop"
    parent = project / f"{CLAUDE_SID}.jsonl"
    sub = project / CLAUDE_SID / "subagents" / "agent-a1b2c3.jsonl"
    sub.parent.mkdir(parents=True)
    parent.write_bytes(b"".join(claude_lines()))
    sub.write_bytes(b"".join(claude_lines()[:3]))  # its lines carry the parent's sessionId
    proc, store, log = start_dir_watch(tmp_path, tmp_path / "projects", "--idle-close", "1s")
    try:
        wait_until(lambda: rebuild(store, CLAUDE_SID) == parent.read_bytes(), what="parent")
        wait_until(lambda: rebuild(store, f"{CLAUDE_SID}-agent-a1b2c3") == sub.read_bytes(),
                   what="the subagent")  # fmt: skip
    finally:
        stop(proc, log)
    generations = {s.get("generation", 1) for s in (manifest(store, CLAUDE_SID) or {})["segments"]}
    assert generations == {1}


def test_a_folder_gone_for_a_moment_does_not_end_its_sessions(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    folder = root / "-home-dev-shop"
    folder.mkdir(parents=True)
    source = folder / f"{SECOND_CLAUDE}.jsonl"
    source.write_bytes(lines_of(5, "first"))
    proc, store, log = start_dir_watch(tmp_path, root, "--idle-close", "500ms")
    try:
        wait_until(lambda: rebuild(store, SECOND_CLAUDE) == source.read_bytes(), what="upload")
        time.sleep(1.0)  # idle: closed
        folder.rename(tmp_path / "away")
        time.sleep(0.3)  # about one scan
        (tmp_path / "away").rename(folder)
        with open(source, "ab") as f:
            f.write(lines_of(2, "after"))
        wait_until(lambda: rebuild(store, SECOND_CLAUDE) == source.read_bytes(), what="growth")
    finally:
        stop(proc, log)
    m = manifest(store, SECOND_CLAUDE) or {}
    assert not m.get("closed") and {s.get("generation", 1) for s in m["segments"]} == {1}


def test_a_damaged_state_file_holds_back_its_session_only(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    damaged, good = folder / f"{SECOND_CLAUDE}.jsonl", folder / f"{CLAUDE_SID}.jsonl"
    damaged.write_bytes(lines_of(2, "damaged"))
    good.write_bytes(lines_of(2, "good"))
    state = tmp_path / "spool" / "state" / f"{SECOND_CLAUDE}.json"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"not json\n")
    proc, store, log = start_dir_watch(tmp_path, folder)
    try:
        with open(good, "ab") as f:
            f.write(lines_of(1, "more"))
        size = good.stat().st_size
        wait_until(lambda: spool_offset(tmp_path / "spool", CLAUDE_SID) == size, what="read")
        wait_until(lambda: "cannot be read" in log.read_text(), what="the damaged state named")
        time.sleep(0.5)  # more scans: still said once
    finally:
        stop(proc, log)
    assert rebuild(store, CLAUDE_SID) == good.read_bytes()
    text = log.read_text()
    assert str(state) in text and "move the file away" in text
    assert text.count("cannot be read") == 1, "said once, not at every scan"
    assert manifest(store, SECOND_CLAUDE) is None  # left alone, the state file as it was
    assert state.read_bytes() == b"not json\n"


def test_watch_file_and_watch_dir_give_a_file_the_same_session_id(tmp_path: Path) -> None:
    """One derivation for both: the name's id by its agent's conventions, then the first
    line's, then host and path. A Claude subagent's transcript carries its parent's
    sessionId in every line; `watch --file` on it must not write into the parent."""
    root = tmp_path / "tree"
    project = root / "projects" / "-home-dev-shop"
    real = Path(__file__).parents[1] / "fixtures" / "real" / "claude" / "agent-36541525.jsonl"
    header = b'{"type":"session","version":3,"id":"generic-1234","cwd":"/w"}\n'
    files = {
        root / f"rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl": (codex_lines(), CODEX_SID),
        project / f"{CLAUDE_SID}.jsonl": (claude_lines(), CLAUDE_SID),
        project / CLAUDE_SID / "subagents" / "agent-a1b2c3.jsonl":
            (claude_lines()[:3], f"{CLAUDE_SID}-agent-a1b2c3"),
        project / "agent-36541525.jsonl":  # Claude Code 2.0: beside the parent's file
            ([real.read_bytes()], "4c2ddfdc-b619-4525-8d03-1950fb1b0257-agent-36541525"),
        root / f"{OPENCLAW_SID}-topic-42.jsonl": (openclaw_lines(), f"{OPENCLAW_SID}-topic-42"),
        root / f"2026-03-14T10-00-00-000Z_{PI_SID}.jsonl": (pi_lines(), PI_SID),
        root / "other" / "session.jsonl": ([header, lines_of(2, "g")], "generic-1234"),
        root / "other" / "notes.jsonl": ([lines_of(2, "n")], None),  # h-<host and path>
    }  # fmt: skip
    for path, (content, _) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(content))

    def stored(store: LocalStore) -> dict[bytes, str]:
        """The store's sessions, by their content."""
        return {rebuild(store, sid): sid for sid in list_sids(store)}

    proc, store, log = start_dir_watch(tmp_path, root, "--idle-close", "500ms")
    try:
        wait_until(lambda: len(stored(store)) == len(files), what="every file uploaded")
    finally:
        stop(proc, log)
    by_dir = stored(store)

    watches = []
    for n, path in enumerate(files):
        one, one_log = LocalStore(tmp_path / f"store-{n}"), tmp_path / f"file-{n}.log"
        proc = start_cli(
            "watch", "--file", str(path), "--store", f"file://{one.root}",
            "--spool-dir", str(tmp_path / f"spool-{n}"), "--seg-ms", "200ms",
            "--poll-ms", "100", "--ui-disable", log=one_log,
        )  # fmt: skip
        watches.append((path, proc, one, one_log))
    by_file = {}
    try:
        for path, _, one, _ in watches:

            def rebuilt(o: LocalStore = one, p: Path = path) -> bool:
                return rebuild_any(o) == p.read_bytes()

            wait_until(rebuilt, what=str(path))
            by_file[path] = sorted(list_sids(one))
    finally:
        for _, proc, _, one_log in watches:
            stop(proc, one_log)

    for path, (_, want) in files.items():
        sid = by_dir[path.read_bytes()]
        assert by_file[path] == [sid], path
        assert sid == want or (want is None and sid.startswith("h-")), path
    subagent_store = watches[2][2]
    assert sorted(list_sids(subagent_store)) == [f"{CLAUDE_SID}-agent-a1b2c3"]  # not the parent's


def rebuild_any(store: LocalStore) -> bytes | None:
    sids = sorted(list_sids(store))
    return rebuild(store, sids[0]) if len(sids) == 1 else None
