"""Titles: the agent's own first, then the first real user message, cleaned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import run_cli
from uploader.agents.titles import HeadTitles, clean_message, first_message, pick_title


def line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def claude_user(uuid: str, content: str, **more: Any) -> bytes:
    return line({"type": "user", "sessionId": "s", "uuid": uuid, "cwd": "/w",
                 "message": {"role": "user", "content": content}, **more})  # fmt: skip


def test_claude_own_titles_in_order() -> None:
    asked = claude_user("u1", "fix the build")
    summary = line({"type": "summary", "summary": "Build fixed", "leafUuid": "u1"})
    other = line({"type": "summary", "summary": "Another session", "leafUuid": "zz"})
    assert first_message([other + asked], "claude") == "fix the build"
    assert first_message([other + summary + asked], "claude") == "Build fixed"
    ai = line({"type": "ai-title", "aiTitle": "Fixing the build", "sessionId": "s"})
    assert first_message([summary + asked + ai], "claude") == "Fixing the build"
    custom = line({"type": "custom-title", "customTitle": "release blocker", "sessionId": "s"})
    assert first_message([summary + custom + asked + ai], "claude") == "release blocker"


def test_pi_session_info_name() -> None:
    data = line({"type": "session", "id": "p", "cwd": "/w"}) + line(
        {"type": "message", "id": "a", "message": {"role": "user", "content": "hello"}}
    )
    assert first_message([data], "pi") == "hello"
    named = data + line({"type": "session_info", "id": "b", "name": "Port the selector"})
    assert first_message([named], "pi") == "Port the selector"


def test_markup_envelopes_and_injected_context_are_not_titles() -> None:
    command = claude_user(
        "u1", "<command-name>/clear</command-name>\n<command-message>clear</command-message>"
    )
    meta = claude_user("u2", "Caveat: generated", isMeta=True)
    real = claude_user("u3", "why does the orders test fail?")
    assert first_message([command + meta + real], "claude") == "why does the orders test fail?"
    assert first_message([command + meta], "claude") == "/clear"  # nothing better
    assert (
        clean_message(
            "System: [2026-03-29 16:44:52 GMT+8] Feishu[ou_1] DM from Li: hi\n\nShip the fix"
        )
        == "Ship the fix"
    )
    assert (
        clean_message(
            "[Telegram Ana (@ana) id:42 +2m 2026-02-26 14:30 UTC] deploy it [message_id: 3]"
        )
        == "deploy it"
    )
    assert clean_message("A new session was started via /new or /reset. Execute…") == ""
    assert clean_message("# AGENTS.md instructions for /w\n\n<INSTRUCTIONS>…") == ""
    assert (
        clean_message(
            "# Files mentioned by the user:\n\n## a.vtt: /a.vtt\n\n"
            "## My request for Codex:\nsum it up"
        )
        == "sum it up"
    )


def test_watch_records_the_title_found_while_packing(tmp_path: Path) -> None:
    """A real `watch --once`, segments of two lines: the first holds only a slash command
    (a second best), the second the first real message, which is the title (recorded
    when each segment was packed, picked by the shipper)."""
    sid = "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a"
    command = claude_user("u1", "<command-name>/clear</command-name>", sessionId=sid)
    meta = claude_user("u2", "Caveat: generated", isMeta=True, sessionId=sid)
    real = claude_user("u3", "why does the orders test fail?", sessionId=sid)
    later = [claude_user(f"u{i}", f"and then {i}", sessionId=sid) for i in range(4, 12)]
    source = tmp_path / f"{sid}.jsonl"
    source.write_bytes(command + meta + real + b"".join(later))
    store = tmp_path / "store"
    done = run_cli(
        "watch", "--once", "--file", str(source), "--store", f"file://{store}",
        "--spool-dir", str(tmp_path / "spool"), "--seg-lines", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((store / "sessions" / sid / "manifest.json").read_bytes())
    assert manifest["first_message"] == "why does the orders test fail?"
    assert len(manifest["segments"]) == 6


def test_a_second_best_waits_for_the_segments_after_it() -> None:
    command = HeadTitles(second="/clear")
    real = HeadTitles(user="fix the build")
    assert pick_title([command, real]) == "fix the build"
    assert pick_title([command, HeadTitles(), HeadTitles(), real]) == "/clear"  # 3 at most
    assert pick_title([HeadTitles(own="Release"), real]) == "Release"
    assert pick_title([]) is None
    assert HeadTitles.from_json({"user": "x", "own": 3, "junk": "y"}) == HeadTitles(user="x")
    assert HeadTitles.from_json(None) == HeadTitles()
