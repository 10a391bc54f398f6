"""The agents' registry: one module per agent, asked in order, and the jobs done once for
everyone (`--sid auto`, the first line, the first-message title)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path, PurePath

import pytest

from tests.support.transcripts import CLAUDE_SID, CODEX_SID, OPENCLAW_SID, PI_SID, claude_lines
from uploader import agents
from uploader.agents import FIRST_LINE_LIMIT, first_line_of, read_first_line
from uploader.agents.titles import TITLE_SEGMENTS, first_message
from uploader.agents.transcript import QUIET_EVENTS
from uploader.storage.sessionid import auto_sid, stable_sid

FIXTURES = Path(__file__).parents[1] / "fixtures" / "real" / "claude"
OLD_PARENT = "4c2ddfdc-b619-4525-8d03-1950fb1b0257"  # the parent of the old-layout sidechains


def test_the_registry_lists_each_agent_once_in_order() -> None:
    assert agents.names() == ["codex", "claude", "openclaw", "pi"]
    assert agents.display_names() == {
        "codex": "Codex", "claude": "Claude Code", "openclaw": "OpenClaw", "pi": "pi",
    }  # fmt: skip
    assert [type(a).__module__ for a in agents.AGENTS] == [
        "uploader.agents.codex", "uploader.agents.claude", "uploader.agents.openclaw",
        "uploader.agents.pi",
    ]  # fmt: skip
    assert agents.get("claude") is agents.AGENTS[1]
    assert agents.get("unknown") is None and agents.get("nope") is None
    assert agents.display_name("nope") == agents.display_name("unknown") == "unknown"
    assert agents.folders_hint() == (
        "~/.codex/sessions, ~/.claude/projects, ~/.openclaw/agents/*/sessions, ~/.pi/agent/sessions"
    )
    quiet = {"user_message", "agent_message", "agent_reasoning", "token_count", "task_started",
             "task_complete", "ghost_snapshot", "web_search_end", "exec_command_end",
             "patch_apply_end", "progress", "file-history-snapshot", "queue-operation",
             "system turn_duration", "system stop_hook_summary",
             "custom model-snapshot"}  # fmt: skip
    assert quiet == QUIET_EVENTS


def test_session_folders_follow_home_and_codex_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, codex = tmp_path / "home", tmp_path / "elsewhere" / "codex"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    assert agents.session_folders() == []
    folders = [
        codex / "sessions",
        home / ".claude" / "projects",
        home / ".openclaw" / "agents" / "main" / "sessions",
        home / ".openclaw" / "agents" / "work" / "sessions",
        home / ".pi" / "agent" / "sessions",
    ]
    for folder in folders:
        folder.mkdir(parents=True)
    (home / ".codex" / "sessions").mkdir(parents=True)  # not Codex's while CODEX_HOME says
    found = agents.session_folders()
    assert [folder for _, folder in found] == folders
    assert [a.display for a, _ in found] == ["Codex", "Claude Code", "OpenClaw", "OpenClaw", "pi"]


@pytest.mark.parametrize(
    ("path", "sid"),
    [
        (f"s/2026/03/14/rollout-2026-03-14T09-12-05-{CODEX_SID}.jsonl", CODEX_SID),
        (f"-home-dev/{CLAUDE_SID.upper()}.jsonl", CLAUDE_SID),
        (f"-home-dev/{CLAUDE_SID}/subagents/agent-a1b2c3.jsonl", f"{CLAUDE_SID}-agent-a1b2c3"),
        (f"-home-dev/{CLAUDE_SID}/subagents/agent-acompact-fffbd0.jsonl",
         f"{CLAUDE_SID}-agent-acompact-fffbd0"),
        ("-home-dev/agent-a1b2c3.jsonl", None),  # the old layout: the first line says whose
        (f"main/sessions/{OPENCLAW_SID}-topic-42.jsonl", f"{OPENCLAW_SID}-topic-42"),
        (f"main/sessions/{OPENCLAW_SID}.jsonl.deleted.2026-04-13T00-53-49.392Z", OPENCLAW_SID),
        (f"main/sessions/{OPENCLAW_SID}-topic-{'x' * 90}.jsonl", OPENCLAW_SID),  # too long
        (f"--w--/2026-03-14T10-00-00-000Z_{PI_SID}.jsonl", PI_SID),
        (f"anywhere/notes-{PI_SID}-old.jsonl", PI_SID),
        ("anywhere/notes.jsonl", None),
    ],
)  # fmt: skip
def test_sid_from_name_follows_each_agents_conventions(path: str, sid: str | None) -> None:
    assert agents.sid_from_name(PurePath("/h") / path) == sid


def test_first_line_is_read_once_for_everyone(tmp_path: Path) -> None:
    assert first_line_of(b'{"a":1}\n{"b":2}\n') == b'{"a":1}\n'
    assert first_line_of(b'{"a":') is None  # still being written
    assert first_line_of(b"") is None
    assert first_line_of(b"x" * FIRST_LINE_LIMIT) == b""  # too long: never parsed
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"x" * (FIRST_LINE_LIMIT + 10) + b"\n")
    assert read_first_line(path) == b""
    path.write_bytes(b'{"a":1}\nmore')
    assert read_first_line(path) == b'{"a":1}\n'


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_auto_sid_is_the_name_then_the_first_line_then_host_and_path(tmp_path: Path) -> None:
    parent_line = claude_lines()[0]  # a subagent's lines carry its parent's sessionId
    sub = write(tmp_path / CLAUDE_SID / "subagents" / "agent-a1b2c3.jsonl", parent_line)
    assert auto_sid(sub) == f"{CLAUDE_SID}-agent-a1b2c3"
    # Claude Code before 2.1 wrote them beside the parent: the first line says whose.
    for name in ("agent-36541525.jsonl", "agent-50243ee8.jsonl"):
        old = write(tmp_path / "old" / name, (FIXTURES / name).read_bytes())
        assert auto_sid(old) == f"{OLD_PARENT}-{name[:-6]}"
    flat = write(tmp_path / "flat" / "agent-x1.jsonl", parent_line)  # no isSidechain flag
    assert auto_sid(flat) == f"{CLAUDE_SID}-agent-x1"
    header = b'{"type":"session","version":3,"id":"' + OPENCLAW_SID.encode() + b'"}\n'
    assert auto_sid(write(tmp_path / "session.jsonl", header)) == OPENCLAW_SID
    assert auto_sid(write(tmp_path / "copy.jsonl", parent_line)) == CLAUDE_SID
    plain = write(tmp_path / "notes.jsonl", b'{"type":"message"}\n')
    assert auto_sid(plain) == stable_sid(plain)
    long = write(tmp_path / "long.jsonl", b"x" * FIRST_LINE_LIMIT)
    assert auto_sid(long) == stable_sid(long)
    unsafe = write(tmp_path / "unsafe.jsonl", b'{"type":"session","id":"../etc"}\n')
    assert auto_sid(unsafe) == stable_sid(unsafe)


def test_auto_sid_waits_for_a_first_line_only_when_the_name_has_no_id(tmp_path: Path) -> None:
    half = b'{"type":"session","id":"abc'
    assert auto_sid(write(tmp_path / "w.jsonl", half)) is None
    assert auto_sid(write(tmp_path / "e.jsonl", b"")) is None
    assert auto_sid(write(tmp_path / f"{CLAUDE_SID}.jsonl", half)) == CLAUDE_SID
    with pytest.raises(OSError):
        auto_sid(tmp_path / "missing.jsonl")


def user_line(text: str) -> bytes:
    return (
        b'{"type":"user","sessionId":"s","uuid":"u","message":{"content":"'
        + text.encode()
        + b'"}}\n'
    )


def test_first_message_searches_the_first_segments_only_as_far_as_needed() -> None:
    tool = b'{"type":"system","subtype":"x","sessionId":"s"}\n'
    read: list[int] = []

    def segments(found_in: int) -> Iterator[bytes]:
        for n in range(10):
            read.append(n)
            yield user_line(f"ask {n}") if n == found_in else tool

    assert first_message(segments(1), "claude") == "ask 1"
    assert read == [0, 1]  # the third segment was never read
    read.clear()
    assert first_message(segments(TITLE_SEGMENTS), "claude") is None
    assert read == list(range(TITLE_SEGMENTS))
    assert first_message([user_line("  Add\\n pagination ")], "unknown") == "Add pagination"
