"""Sessions made to show what the conversation view does with each kind of line: Markdown
(a table, a fence), an edit, images (real PNG bytes, and ones the dashboard must refuse),
a failed command, encrypted reasoning, whitespace-only text, injected context, a slash
command, a message spread over several lines; and a Codex session with an apply_patch,
an exec_command_end and a failed exec_command, and a pi session with an image."""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

VIEW_SID = "0f1e2d3c-4b5a-4697-8877-665544332211"
CODEX_VIEW_SID = "019d0000-1111-7222-8333-444455556666"
PI_VIEW_SID = "1a2b3c4d-0000-4000-8000-00000000beef"
TABLE = "| Endpoint | Limit |\n|---|---|\n| `/orders` | **50** |\n| `/users` | 20 |"
SCRIPT = "<script>alert('md')</script>"


def png(width: int = 4, height: int = 3) -> bytes:
    """A real, tiny PNG (red pixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _j(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def claude_view_lines(big_image: bytes | None = None) -> list[bytes]:
    """A Claude Code session; `big_image`: the bytes of line 3's second image."""
    n = 0

    def line(kind: str, body: dict[str, Any], **more: Any) -> bytes:
        nonlocal n
        n += 1
        return _j({"type": kind, "sessionId": VIEW_SID, "uuid": f"u{n}", "cwd": "/home/dev/v",
                   "timestamp": f"2026-03-20T10:00:{n:02d}.000Z", **body, **more})  # fmt: skip

    def user(content: Any, **more: Any) -> bytes:
        return line("user", {"message": {"role": "user", "content": content}}, **more)

    def assistant(msg: str, block: dict[str, Any], usage: dict[str, int] | None = None) -> bytes:
        message: dict[str, Any] = {"id": msg, "role": "assistant", "model": "claude-opus-4-6",
                                   "content": [block]}  # fmt: skip
        if usage:
            message["usage"] = usage
        return line("assistant", {"message": message, "requestId": f"req_{msg}"})

    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": b64(png())}}  # fmt: skip
    second = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                          "data": b64(big_image or png(2, 2))}}  # fmt: skip
    svg = {"type": "image", "source": {"type": "base64", "media_type": "image/svg+xml",
                                       "data": b64(b"<svg onload='alert(1)'/>")}}  # fmt: skip
    html = b64(b"<html><script>alert(1)</script>")
    liar = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                        "data": html}}  # fmt: skip
    usage = {"input_tokens": 10, "output_tokens": 300, "cache_read_input_tokens": 1000}
    return [
        user("<local-command-caveat>Caveat: local commands below.</local-command-caveat>",
             isMeta=True),  # 0
        user("<command-name>/model</command-name>\n<command-message>model</command-message>\n"
             "<command-args>opus</command-args>"),  # 1
        user("<local-command-stdout>Set model to \x1b[1mopus\x1b[22m</local-command-stdout>"),  # 2
        user([{"type": "text", "text": "Here is the screenshot of the bug"}, image, second]),  # 3
        assistant("msg_A", {"type": "thinking", "thinking": "", "signature": "sig=="}, usage),  # 4
        assistant("msg_A", {"type": "text", "text": "\n\n"}, usage),  # 5
        assistant("msg_A", {"type": "text", "text": f"The limits:\n\n{TABLE}\n\n{SCRIPT} and "
                            "[a link](javascript:alert(1)) and [docs](https://example.com/d)\n\n"
                            "```python\ndef page(limit=50):\n    return limit\n```"}, usage),  # 6
        assistant("msg_A", {"type": "tool_use", "id": "toolu_E1", "name": "Edit", "input": {
            "file_path": "/home/dev/v/orders.py", "old_string": "LIMIT = 20\nMAX = 100",
            "new_string": "LIMIT = 50\nMAX = 100"}}, usage),  # 7
        user([{"type": "tool_result", "tool_use_id": "toolu_E1", "content": "updated"}]),  # 8
        assistant("msg_B", {"type": "tool_use", "id": "toolu_B1", "name": "Bash",
                            "input": {"command": "pytest -q", "description": "Run the tests"}},
                  {"input_tokens": 5, "output_tokens": 7}),  # 9
        user([{"type": "tool_result", "tool_use_id": "toolu_B1", "is_error": True,
               "content": [{"type": "text", "text": "1 failed"}, svg, liar]}]),  # 10
        assistant("msg_C", {"type": "text", "text": "Done."},
                  {"input_tokens": 1, "output_tokens": 2}),  # 11
    ]  # fmt: skip


def codex_view_lines() -> list[bytes]:
    def item(payload: dict[str, Any], kind: str = "response_item") -> bytes:
        return _j({"timestamp": "2026-03-21T09:00:00.000Z", "type": kind, "payload": payload})

    patch = ("*** Begin Patch\n*** Update File: src/app.py\n@@ def main():\n-    run(1)\n"
             "+    run(2)\n*** Add File: NOTES.md\n+hello\n*** End Patch\n")  # fmt: skip
    return [
        item({"id": CODEX_VIEW_SID, "cwd": "/w", "cli_version": "0.125.0"}, "session_meta"),
        item({"type": "message", "role": "developer",
              "content": [{"type": "input_text", "text": "<permissions instructions>be safe"}]}),
        item({"type": "message", "role": "user",
              "content": [{"type": "input_text", "text": "# AGENTS.md instructions for /w\nx"}]}),
        item({"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "Fix the run count"},
            {"type": "input_image", "image_url": f"data:image/png;base64,{b64(png())}"}]}),
        item({"type": "reasoning", "summary": [], "encrypted_content": "gAAAA"}),
        item({"type": "custom_tool_call", "name": "apply_patch", "call_id": "c1",
              "input": patch}),
        item({"type": "patch_apply_end", "call_id": "c1", "success": True,
              "stdout": "Success. Updated the following files:\nM src/app.py\n"}, "event_msg"),
        item({"type": "custom_tool_call_output", "call_id": "c1",
              "output": json.dumps({"output": "Success.", "metadata": {"exit_code": 0}})}),
        item({"type": "function_call", "name": "exec_command", "call_id": "c2",
              "arguments": json.dumps({"cmd": "pytest -q", "workdir": "/w"})}),
        item({"type": "function_call_output", "call_id": "c2", "output":
              "Chunk ID: 1\nWall time: 1.0 seconds\nProcess exited with code 2\nOutput:\nE boom"}),
        item({"type": "exec_command_end", "call_id": "c2", "exit_code": 2,
              "aggregated_output": "E boom"}, "event_msg"),
        item({"type": "message", "role": "assistant",
              "content": [{"type": "output_text", "text": "**Fixed**, but `pytest` fails."}]}),
        item({"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 900, "output_tokens": 40, "total_tokens": 940},
            "last_token_usage": {"input_tokens": 900, "output_tokens": 40, "total_tokens": 940}}},
             "event_msg"),
    ]  # fmt: skip


def pi_view_lines() -> list[bytes]:
    def entry(body: dict[str, Any]) -> bytes:
        return _j({**body, "timestamp": "2026-03-22T08:00:00.000Z"})

    return [
        entry({"type": "session", "version": 3, "id": PI_VIEW_SID, "cwd": "/p"}),
        entry({"type": "message", "id": "a1", "parentId": None, "message": {"role": "user",
               "content": [{"type": "text", "text": "What is in this picture?"},
                           {"type": "image", "data": b64(png()), "mimeType": "image/png"}]}}),
        entry({"type": "message", "id": "a2", "parentId": "a1", "message": {
            "role": "assistant", "model": "claude-opus-4-5",
            "content": [{"type": "thinking", "thinking": "", "thinkingSignature": "x"},
                        {"type": "text", "text": "Red pixels."},
                        {"type": "toolCall", "id": "t1", "name": "edit", "arguments": {
                            "path": "a.txt", "oldText": "red", "newText": "blue"}}],
            "usage": {"input": 10, "output": 5, "totalTokens": 15,
                      "cost": {"total": 0.09700774999999999}}}}),
        entry({"type": "message", "id": "a3", "parentId": "a2", "message": {
            "role": "toolResult", "toolCallId": "t1", "toolName": "edit", "isError": False,
            "content": [{"type": "text", "text": "Edited a.txt"}]}}),
    ]  # fmt: skip
