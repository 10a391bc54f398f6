"""Titles: the agent's own first, then the first real user message, cleaned."""

from __future__ import annotations

import json
from typing import Any

from uploader.agents.titles import clean_message, first_message


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
