"""Transcript lines as conversation entries: the four formats, broken lines, plain text."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pytest

from uploader.agents.transcript import (
    KINDS,
    Entry,
    ParseState,
    first_user_text,
    parse_line,
    parse_lines,
    render_text,
)

# Example lines in each agent's format (docs/formats.md), byte for byte.
CODEX = [
    (
        b'{"timestamp":"2026-03-14T09:12:05.412Z","type":"session_meta",'
        b'"payload":{"id":"019ce1a2-7b3c-7d10-9e2f-3a4b5c6d7e8f",'
        b'"timestamp":"2026-03-14T09:12:05.401Z","cwd":"/home/dev/shop-api",'
        b'"originator":"codex_cli_rs","cli_version":"0.112.0","source":"cli",'
        b'"model_provider":"openai","git":{"commit_hash":"a1b2c3d","branch":"main"}}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T09:12:05.420Z","type":"turn_context",'
        b'"payload":{"cwd":"/home/dev/shop-api","approval_policy":"on-request",'
        b'"sandbox_policy":{"type":"workspace-write","network_access":false},'
        b'"model":"gpt-5-codex","effort":"medium","summary":"auto"}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T09:12:05.431Z","type":"response_item",'
        b'"payload":{"type":"message","role":"user","content":[{"type":"input_text",'
        b'"text":"Add pagination to /orders"}]}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T09:12:08.102Z","type":"response_item",'
        b'"payload":{"type":"reasoning","summary":[{"type":"summary_text",'
        b'"text":"**Locating the orders router**"}],"content":null,'
        b'"encrypted_content":"gAAAAB..."}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T09:12:08.390Z","type":"response_item",'
        b'"payload":{"type":"function_call","name":"shell",'
        b'"arguments":"{\\"command\\":[\\"bash\\",\\"-lc\\",\\"rg -n list_orders src\\"]}",'
        b'"call_id":"call_Q1w2E3"}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T09:12:08.911Z","type":"response_item",'
        b'"payload":{"type":"function_call_output","call_id":"call_Q1w2E3",'
        b'"output":"{\\"output\\":\\"src/orders.py:42:def list_orders\\\\n\\",'
        b'\\"metadata\\":{\\"exit_code\\":0,\\"duration_seconds\\":0.2}}"}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T09:12:09.004Z","type":"event_msg",'
        b'"payload":{"type":"token_count",'
        b'"info":{"total_token_usage":{"input_tokens":48210,"cached_input_tokens":40960,'
        b'"output_tokens":1310,"reasoning_output_tokens":640,"total_tokens":49520},'
        b'"last_token_usage":{"input_tokens":9800,"cached_input_tokens":9216,'
        b'"output_tokens":210,"reasoning_output_tokens":96,"total_tokens":10010},'
        b'"model_context_window":272000},"rate_limits":null}}\n'
    ),
    (
        b'{"timestamp":"2026-03-14T11:40:00.550Z","type":"compacted",'
        b'"payload":{"message":"","replacement_history":[{"type":"message","role":"user",'
        b'"content":[{"type":"input_text","text":"Add pagination to /orders"}]},'
        b'{"type":"compaction","encrypted_content":"gAAAAB..."}]}}\n'
    ),
]
CLAUDE = [
    (
        b'{"parentUuid":null,"isSidechain":false,"userType":"external",'
        b'"cwd":"/home/dev/shop-api","sessionId":"5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a",'
        b'"version":"2.1.72","gitBranch":"main","type":"user","message":{"role":"user",'
        b'"content":"Add pagination to /orders"},'
        b'"uuid":"9f0c1d2e-1111-4a2b-8c3d-000000000001",'
        b'"timestamp":"2026-03-14T09:12:06.010Z"}\n'
    ),
    (
        b'{"parentUuid":"9f0c1d2e-1111-4a2b-8c3d-000000000001","isSidechain":false,'
        b'"sessionId":"5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a","type":"assistant",'
        b'"requestId":"req_011CAbc","message":{"id":"msg_01Qx","role":"assistant",'
        b'"model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use",'
        b'"id":"toolu_01Xy","name":"Grep","input":{"pattern":"def list_orders",'
        b'"path":"src"}}],"stop_reason":"tool_use","usage":{"input_tokens":12,'
        b'"cache_creation_input_tokens":5120,"cache_read_input_tokens":18000,'
        b'"output_tokens":88}},"uuid":"9f0c1d2e-1111-4a2b-8c3d-000000000002",'
        b'"timestamp":"2026-03-14T09:12:08.200Z"}\n'
    ),
    (
        b'{"parentUuid":"9f0c1d2e-1111-4a2b-8c3d-000000000002","isSidechain":false,'
        b'"sessionId":"5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a","type":"user",'
        b'"message":{"role":"user","content":[{"type":"tool_result",'
        b'"tool_use_id":"toolu_01Xy","content":"src/orders.py:42:def list_orders(",'
        b'"is_error":false}]},"uuid":"9f0c1d2e-1111-4a2b-8c3d-000000000003",'
        b'"timestamp":"2026-03-14T09:12:08.700Z"}\n'
    ),
    (
        b'{"parentUuid":null,"logicalParentUuid":"9f0c1d2e-1111-4a2b-8c3d-000000000003",'
        b'"isSidechain":false,"sessionId":"5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a",'
        b'"type":"system","subtype":"compact_boundary","content":"Conversation compacted",'
        b'"level":"info","compactMetadata":{"trigger":"auto","preTokens":155210},'
        b'"uuid":"9f0c1d2e-1111-4a2b-8c3d-0000000000c1",'
        b'"timestamp":"2026-03-14T11:40:00.000Z"}\n'
    ),
    (
        b'{"parentUuid":"9f0c1d2e-1111-4a2b-8c3d-0000000000c1","isSidechain":false,'
        b'"sessionId":"5b1e0c7a-2f4d-4c55-9a61-0d2e8b7f1c3a","type":"user",'
        b'"isCompactSummary":true,"isVisibleInTranscriptOnly":true,'
        b'"message":{"role":"user",'
        b'"content":"This session is being continued from a previous conversation... '
        b'Summary: pagination added to /orders"},'
        b'"uuid":"9f0c1d2e-1111-4a2b-8c3d-0000000000c2",'
        b'"timestamp":"2026-03-14T11:40:01.000Z"}\n'
    ),
    (
        b'{"type":"summary","summary":"Orders API pagination",'
        b'"leafUuid":"9f0c1d2e-1111-4a2b-8c3d-0000000000c2"}\n'
    ),
]
OPENCLAW = [
    (
        b'{"type":"session","version":3,"id":"7d3f9a10-5c2e-4b8a-9f01-2e6c4d8b1a77",'
        b'"timestamp":"2026-03-14T09:00:00.000Z","cwd":"/home/dev/.openclaw/workspace"}\n'
    ),
    (
        b'{"type":"model_change","id":"a1b2c3d4","parentId":null,'
        b'"timestamp":"2026-03-14T09:00:00.010Z","provider":"anthropic",'
        b'"modelId":"claude-sonnet-4-5"}\n'
    ),
    (
        b'{"type":"message","id":"b2c3d4e5","parentId":"a1b2c3d4",'
        b'"timestamp":"2026-03-14T09:00:03.000Z","message":{"role":"user",'
        b'"content":[{"type":"text","text":"Summarise today\'s merged PRs"}],'
        b'"timestamp":1773478803000}}\n'
    ),
    (
        b'{"type":"message","id":"c3d4e5f6","parentId":"b2c3d4e5",'
        b'"timestamp":"2026-03-14T09:00:05.000Z","message":{"role":"assistant",'
        b'"content":[{"type":"toolCall","id":"call_9","name":"bash",'
        b'"arguments":{"command":"gh pr list --state merged"}}],"provider":"anthropic",'
        b'"model":"claude-sonnet-4-5","usage":{"input":820,"output":64,"cacheRead":0,'
        b'"cacheWrite":0,"totalTokens":884,"cost":{"total":0.0035}},"stopReason":"toolUse",'
        b'"timestamp":1773478805000}}\n'
    ),
    (
        b'{"type":"message","id":"d4e5f6a7","parentId":"c3d4e5f6",'
        b'"timestamp":"2026-03-14T09:00:06.000Z","message":{"role":"toolResult",'
        b'"toolCallId":"call_9","toolName":"bash","content":[{"type":"text",'
        b'"text":"#412 Fix auth refresh"}],"isError":false,"timestamp":1773478806000}}\n'
    ),
    (
        b'{"type":"compaction","id":"e5f6a7b8","parentId":"d4e5f6a7",'
        b'"timestamp":"2026-03-14T13:00:00.000Z",'
        b'"summary":"User asked for a PR digest; #412 reviewed.",'
        b'"firstKeptEntryId":"c3d4e5f6","tokensBefore":182400}\n'
    ),
]


def parse(lines: list[bytes], agent: str) -> list[Entry]:
    entries = list(parse_lines(enumerate(lines), agent))
    assert all(e.kind in KINDS for e in entries)
    assert {e.line for e in entries} == set(range(len(lines)))  # every line shows up
    return entries


def of_kind(entries: list[Entry], kind: str) -> list[Entry]:
    return [e for e in entries if e.kind == kind]


def codex_line(payload: dict[str, object], kind: str = "response_item") -> bytes:
    line = {"timestamp": "2026-03-14T10:00:00.000Z", "type": kind, "payload": payload}
    return json.dumps(line).encode() + b"\n"


def claude_line(kind: str, message: object, **extra: object) -> bytes:
    line = {"sessionId": "s", "uuid": "u", "type": kind, "message": message, **extra}
    return json.dumps(line).encode() + b"\n"


def pi_line(message: dict[str, object]) -> bytes:
    return json.dumps({"type": "message", "id": "f00dbabe", "message": message}).encode()


# -- Codex ------------------------------------------------------------------------------


def test_codex_example() -> None:
    entries = parse(CODEX, "codex")
    assert [e.kind for e in entries] == [
        "meta", "meta", "user", "reasoning", "tool_call", "tool_result", "usage", "compaction",
    ]  # fmt: skip
    meta, context, user, reasoning, call, result, usage, compaction = entries
    assert meta.title == "session_meta"
    assert "/home/dev/shop-api" in meta.text and "0.112.0" in meta.text
    assert context.title == "turn_context" and "gpt-5-codex" in context.text
    assert (user.text, user.role, user.title) == ("Add pagination to /orders", "user", None)
    assert user.ts == "2026-03-14T09:12:05.431Z"
    assert reasoning.text == "**Locating the orders router**"
    assert (call.name, call.call_id) == ("shell", "call_Q1w2E3")
    assert call.arguments is not None and "\n" in call.arguments  # pretty-printed
    assert json.loads(call.arguments) == {"command": ["bash", "-lc", "rg -n list_orders src"]}
    assert result.call_id == call.call_id and result.name == "shell"
    assert result.text == "src/orders.py:42:def list_orders\n"
    assert not result.is_error
    assert usage.usage == {
        "input": 9800, "cache_read": 9216, "output": 210, "reasoning": 96, "total": 10010,
    }  # fmt: skip
    assert compaction.text == "remote compaction (9 bytes of encrypted history)"


def test_codex_token_count_counts_only_when_the_total_changes() -> None:
    def token_count(total: int, last: int) -> bytes:
        info = {
            "total_token_usage": {"input_tokens": total, "total_tokens": total},
            "last_token_usage": {"input_tokens": last, "total_tokens": last},
        }
        return codex_line({"type": "token_count", "info": info}, "event_msg")

    lines = [token_count(100, 100), token_count(100, 100), token_count(150, 50)]
    lines.append(codex_line({"type": "token_count", "info": None}, "event_msg"))
    entries = parse(lines, "codex")
    assert [e.kind for e in entries] == ["usage", "event", "usage", "event"]
    assert [e.usage for e in of_kind(entries, "usage")] == [
        {"input": 100, "total": 100},
        {"input": 50, "total": 50},
    ]
    assert entries[1].title == "token_count"
    assert list(render_text(entries)) == ["[usage] in 100 total 100", "[usage] in 50 total 50"]


def test_codex_event_messages_are_not_second_turns() -> None:
    lines = [
        codex_line({"type": "user_message", "message": "Add pagination"}, "event_msg"),
        codex_line({"type": "agent_message", "message": "Done."}, "event_msg"),
        codex_line({"type": "agent_reasoning", "text": "thinking"}, "event_msg"),
        codex_line({"type": "context_compacted"}, "event_msg"),
    ]
    entries = parse(lines, "codex")
    assert [(e.kind, e.title, e.text) for e in entries] == [
        ("event", "user_message", "Add pagination"),
        ("event", "agent_message", "Done."),
        ("event", "agent_reasoning", "thinking"),
        ("event", "context_compacted", "{}"),
    ]


def test_codex_failed_command_and_other_tools() -> None:
    output = {"output": "boom\n", "metadata": {"exit_code": 2, "duration_seconds": 0.1}}
    lines = [
        codex_line({"type": "function_call", "name": "shell", "arguments": "{}", "call_id": "c1"}),
        codex_line({"type": "function_call_output", "call_id": "c1", "output": json.dumps(output)}),
        codex_line({"type": "function_call_output", "call_id": "c9", "output": "plain text"}),
        codex_line(
            {
                "type": "custom_tool_call",
                "name": "apply_patch",
                "call_id": "c2",
                "input": "*** Begin Patch",
            }
        ),
        codex_line({"type": "custom_tool_call_output", "call_id": "c2", "output": "ok"}),
        codex_line(
            {
                "type": "local_shell_call",
                "call_id": "c3",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls"]},
            }
        ),
        codex_line({"type": "web_search_call", "id": "ws1", "action": {"query": "x"}}),
        codex_line(
            {
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "a"},
                    {"type": "output_text", "text": "b"},
                ],
            }
        ),
    ]
    entries = parse(lines, "codex")
    failed, plain = entries[1], entries[2]
    assert (failed.kind, failed.text, failed.is_error, failed.name) == (
        "tool_result", "boom\n", True, "shell",
    )  # fmt: skip
    assert (plain.text, plain.is_error, plain.name) == ("plain text", False, None)
    patch, patched = entries[3], entries[4]
    assert (patch.kind, patch.name, patch.arguments) == (
        "tool_call",
        "apply_patch",
        "*** Begin Patch",
    )
    assert (patched.kind, patched.call_id, patched.name) == ("tool_result", "c2", "apply_patch")
    shell, search, answer = entries[5], entries[6], entries[7]
    assert (shell.kind, shell.name, shell.call_id) == ("tool_call", "local_shell", "c3")
    assert shell.arguments is not None and json.loads(shell.arguments)["command"] == ["ls"]
    assert (search.kind, search.name, search.call_id) == ("tool_call", "web_search", "ws1")
    assert (answer.kind, answer.text) == ("assistant", "a\nb")


def test_codex_developer_message_is_not_a_user_turn() -> None:
    content = [{"type": "input_text", "text": "<permissions instructions>"}]
    line = codex_line({"type": "message", "role": "developer", "content": content})
    [entry] = parse_line(line, 0, "codex")
    assert (entry.kind, entry.title, entry.role) == ("event", "developer message", "developer")


def test_codex_local_compaction_keeps_its_message() -> None:
    line = codex_line({"message": "Summary: pagination done"}, "compacted")
    [entry] = parse_line(line, 7, "codex")
    assert (entry.kind, entry.text, entry.line) == ("compaction", "Summary: pagination done", 7)


def test_huge_arguments_are_kept_as_they_were() -> None:
    big = json.dumps({"content": "x" * 150_000})
    line = codex_line({"type": "function_call", "name": "write", "arguments": big, "call_id": "c"})
    [entry] = parse_line(line, 0, "codex")
    assert entry.arguments == big


def test_long_texts_are_not_cut() -> None:
    text = "word " * 20_000
    [entry] = parse_line(claude_line("user", {"role": "user", "content": text}), 0, "claude")
    assert entry.text == text


# -- Claude Code ------------------------------------------------------------------------


def test_claude_example() -> None:
    entries = parse(CLAUDE, "claude")
    assert [e.kind for e in entries] == [
        "user", "tool_call", "usage", "tool_result", "compaction", "summary", "meta",
    ]  # fmt: skip
    user, call, usage, result, compaction, summary, title = entries
    assert (user.text, user.ts) == ("Add pagination to /orders", "2026-03-14T09:12:06.010Z")
    assert (call.name, call.call_id) == ("Grep", "toolu_01Xy")
    assert call.arguments is not None
    assert json.loads(call.arguments) == {"pattern": "def list_orders", "path": "src"}
    assert usage.usage == {"input": 12, "output": 88, "cache_read": 18000, "cache_write": 5120}
    assert (result.call_id, result.name, result.is_error) == ("toolu_01Xy", "Grep", False)
    assert result.text == "src/orders.py:42:def list_orders("
    assert compaction.text == "auto compaction at 155,210 tokens"
    assert summary.text.endswith("Summary: pagination added to /orders")
    assert (title.title, title.text) == ("summary", "Orders API pagination")


def test_claude_usage_counted_once_per_message_and_request() -> None:
    usage = {"input_tokens": 10, "output_tokens": 20}
    thinking = {"id": "msg_1", "role": "assistant", "usage": usage,
                "content": [{"type": "thinking", "thinking": "hmm", "signature": "s"}]}  # fmt: skip
    text = {**thinking, "content": [{"type": "text", "text": "Here it is."}]}
    lines = [
        claude_line("assistant", thinking, requestId="req_1"),
        claude_line("assistant", text, requestId="req_1"),
        claude_line("assistant", text, requestId="req_2"),
    ]
    entries = parse(lines, "claude")
    assert [e.kind for e in entries] == [
        "reasoning", "usage", "assistant", "assistant", "usage",
    ]  # fmt: skip
    assert entries[0].text == "hmm" and entries[2].text == "Here it is."
    assert entries[1].usage == {"input": 10, "output": 20}


def test_claude_error_results_and_images() -> None:
    content = [
        {"type": "tool_result", "tool_use_id": "toolu_9", "is_error": True,
         "content": [{"type": "text", "text": "Exit code 1"}, {"type": "image", "source": {}}]},
        {"type": "text", "text": "why did it fail?"},
    ]  # fmt: skip
    [result, user] = parse_line(claude_line("user", {"role": "user", "content": content}), 0, "")
    assert (result.kind, result.call_id, result.is_error) == ("tool_result", "toolu_9", True)
    assert result.text == "Exit code 1\n[image]"
    assert (user.kind, user.text) == ("user", "why did it fail?")


def test_claude_summary_after_boundary_without_flag() -> None:
    """Older builds did not mark the summary; it still directly follows the boundary."""
    continued = claude_line("user", {"role": "user", "content": "This session is being continued"})
    entries = parse([CLAUDE[3], continued, continued], "claude")
    assert [e.kind for e in entries] == ["compaction", "summary", "user"]


def test_claude_other_lines_are_kept() -> None:
    lines = [
        b'{"type":"file-history-snapshot","messageId":"m","snapshot":{}}',
        b'{"type":"system","subtype":"api_error","content":"overloaded","sessionId":"s"}',
        b'{"type":"custom-title","customTitle":"Pagination work","sessionId":"s"}',
        b'{"type":"brand-new-thing","sessionId":"s","x":1}',
    ]
    entries = parse(lines, "claude")
    assert [(e.kind, e.title) for e in entries] == [
        ("event", "file-history-snapshot"),
        ("event", "system api_error"),
        ("meta", "custom-title"),
        ("event", "brand-new-thing"),
    ]
    assert entries[1].text == "overloaded" and entries[2].text == "Pagination work"
    assert '"x":1' in entries[3].text


# -- OpenClaw and pi ----------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["openclaw", "pi"])
def test_openclaw_example(agent: str) -> None:
    entries = parse(OPENCLAW, agent)
    assert [e.kind for e in entries] == [
        "meta", "meta", "user", "tool_call", "usage", "tool_result", "compaction",
    ]  # fmt: skip
    session, model, user, call, usage, result, compaction = entries
    assert session.title == "session" and "/home/dev/.openclaw/workspace" in session.text
    assert model.title == "model_change claude-sonnet-4-5"
    assert (user.text, user.ts) == ("Summarise today's merged PRs", "2026-03-14T09:00:03.000Z")
    assert (call.name, call.call_id) == ("bash", "call_9")
    assert call.arguments is not None
    assert json.loads(call.arguments) == {"command": "gh pr list --state merged"}
    assert usage.usage == {
        "input": 820, "output": 64, "cache_read": 0, "cache_write": 0, "total": 884,
        "cost_usd": 0.0035,
    }  # fmt: skip
    assert (result.call_id, result.name, result.is_error) == ("call_9", "bash", False)
    assert result.text == "#412 Fix auth refresh"
    assert compaction.text == "User asked for a PR digest; #412 reviewed."
    assert compaction.title == "compaction at 182,400 tokens"


def test_pi_other_roles() -> None:
    lines = [
        pi_line(
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "plan"},
                    {"type": "text", "text": "ok"},
                ],
            }
        ),
        pi_line(
            {"role": "bashExecution", "command": "make test", "output": "FAILED", "exitCode": 1}
        ),
        pi_line({"role": "compactionSummary", "summary": "earlier work", "tokensBefore": 9}),
        pi_line(
            {
                "role": "toolResult",
                "toolCallId": "t1",
                "toolName": "read",
                "isError": True,
                "content": [{"type": "text", "text": "no such file"}],
            }
        ),
        b'{"type":"thinking_level_change","id":"1","thinkingLevel":"high"}',
        b'{"type":"custom","id":"2","customType":"x","data":{}}',
    ]
    entries = parse(lines, "pi")
    assert [(e.kind, e.text) for e in entries[:2]] == [("reasoning", "plan"), ("assistant", "ok")]
    call, result = entries[2], entries[3]
    assert (call.kind, call.name, call.call_id) == ("tool_call", "bash", "f00dbabe")
    assert (result.kind, result.call_id, result.text) == ("tool_result", "f00dbabe", "FAILED")
    assert result.is_error
    assert (entries[4].kind, entries[4].text) == ("summary", "earlier work")
    assert (entries[5].kind, entries[5].is_error, entries[5].name) == ("tool_result", True, "read")
    assert (entries[6].kind, entries[6].title) == ("meta", "thinking_level_change high")
    assert (entries[7].kind, entries[7].title) == ("event", "custom x")


# -- shapes nobody expected ----------------------------------------------------------------


BAD_LINES = [
    b'{"type":"user","message":{"role":"user","content":"unterminated\n',
    b"\xff\xfe not utf-8 \xc3\x28\n",
    b'{"type":"message","message":{"role":"user","content":"caf\xe9"}}\n',
    b"[1, 2, 3]\n",
    b"42\n",
    b"\n",
    b'{"no_type_here":true}\n',
]


@pytest.mark.parametrize("agent", ["codex", "claude", "openclaw", "pi", "unknown"])
@pytest.mark.parametrize("line", BAD_LINES)
def test_unreadable_lines_come_back_raw(agent: str, line: bytes) -> None:
    [entry] = parse_line(line, 3, agent)
    assert (entry.kind, entry.line) == ("raw", 3)
    assert entry.text == line.decode("utf-8", "replace").rstrip("\n")
    assert list(render_text([entry])) == [entry.text]


@pytest.mark.parametrize(
    ("line", "agent"),
    [
        (codex_line({"type": "message", "role": "user", "content": 5}), "codex"),
        (b'{"type":"response_item","payload":"text"}', "codex"),
        (claude_line("user", "not a dict"), "claude"),
        (claude_line("assistant", {"content": [1, 2]}), "claude"),
        (pi_line({"role": 7}), "pi"),
        (pi_line({"role": "user", "content": {"a": 1}}), "openclaw"),
    ],
)
def test_unexpected_field_types_come_back_raw(line: bytes, agent: str) -> None:
    [entry] = parse_line(line, 0, agent)
    assert (entry.kind, entry.text) == ("raw", line.decode().rstrip("\n"))


@pytest.mark.parametrize(
    ("line", "agent", "title"),
    [
        (b'{"type":"turn_aborted","payload":{"reason":"x"}}', "codex", "turn_aborted"),
        (codex_line({"type": "task_started"}, "event_msg"), "codex", "task_started"),
        (codex_line({"type": "ghost_snapshot", "commit": "abc"}), "codex", "ghost_snapshot"),
        (b'{"type":"queue-operation","operation":"enqueue"}', "claude", "queue-operation"),
        (b'{"type":"reset","id":"1"}', "openclaw", "reset"),
    ],
)  # fmt: skip
def test_unknown_types_come_back_as_events(line: bytes, agent: str, title: str) -> None:
    [entry] = parse_line(line, 0, agent)
    assert (entry.kind, entry.title) == ("event", title)
    assert entry.text  # the rest of the line, as JSON


def _paths(node: object, path: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    """Every key/index path inside a parsed JSON line."""
    items: Iterable[tuple[object, object]] = ()
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    for key, child in items:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def _replaced(obj: object, path: tuple[object, ...], value: object) -> bytes:
    copy = json.loads(json.dumps(obj))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return json.dumps(copy).encode()


@pytest.mark.parametrize(
    ("agent", "lines"), [("codex", CODEX), ("claude", CLAUDE), ("openclaw", OPENCLAW)]
)
def test_no_line_is_ever_dropped_or_raises(agent: str, lines: list[bytes]) -> None:
    """Every example line cut short, and with every value anywhere in it made odd."""
    odd: list[object] = [None, 5, 1.5, "x", "", [], {}, [None], [5], True]
    for line in lines:
        for cut in (1, len(line) // 2, len(line) - 3):
            assert [e.kind for e in parse_line(line[:cut], 0, agent)] == ["raw"]
        obj = json.loads(line)
        for path in _paths(obj):
            for value in odd:
                changed = _replaced(obj, path, value)
                for as_agent in (agent, "unknown"):
                    state = ParseState()
                    entries = parse_line(changed, 4, as_agent, state)
                    entries += parse_line(changed, 5, as_agent, state)
                    assert entries and all(e.kind in KINDS and e.line in (4, 5) for e in entries)
                    assert all(isinstance(e.text, str) for e in entries)
                    list(render_text(entries))


def test_unknown_agent_is_detected_per_format() -> None:
    for agent, lines in (("codex", CODEX), ("claude", CLAUDE), ("openclaw", OPENCLAW)):
        assert parse(lines, "unknown") == parse(lines, agent)


def test_parse_line_without_state() -> None:
    assert [e.kind for e in parse_line(CLAUDE[1], 5, "claude")] == ["tool_call", "usage"]
    state = ParseState()
    assert [e.kind for e in parse_line(CLAUDE[1], 5, "claude", state)] == ["tool_call", "usage"]
    assert [e.kind for e in parse_line(CLAUDE[1], 6, "claude", state)] == ["tool_call"]


# -- first_user_text ---------------------------------------------------------------------


def test_first_user_text_skips_codex_context() -> None:
    context = codex_line(
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "<environment_context>\n  <cwd>/x</cwd>"}]}
    )  # fmt: skip
    agents_md = codex_line(
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "# AGENTS.md instructions for /x\n..."}]}
    )  # fmt: skip
    lines = [CODEX[0], CODEX[1], context, agents_md, *CODEX[2:]]
    assert first_user_text(lines, "codex") == "Add pagination to /orders"
    assert first_user_text(lines, "unknown") == "Add pagination to /orders"
    rendered = list(render_text(parse(lines, "codex")))
    assert "user (context): <environment_context>" in rendered


def test_first_user_text_skips_claude_summaries_meta_and_tool_results() -> None:
    meta = claude_line("user", {"role": "user", "content": "Caveat: local commands"}, isMeta=True)
    real = claude_line("user", {"role": "user", "content": "  Now add\n  sorting   too "})
    lines = [CLAUDE[3], CLAUDE[4], CLAUDE[2], meta, real]
    assert first_user_text(lines, "claude") == "Now add sorting too"


def test_first_user_text_cuts_and_finds_nothing() -> None:
    long = claude_line("user", {"role": "user", "content": "abc " * 100})
    text = first_user_text([long], "claude", limit=20)
    assert text == "abc abc abc abc abc…" and len(text) == 20
    assert first_user_text([CLAUDE[1], CLAUDE[5], b"garbage"], "claude") is None
    assert first_user_text(OPENCLAW, "openclaw") == "Summarise today's merged PRs"


# -- render_text -------------------------------------------------------------------------


def test_render_codex() -> None:
    lines = [*CODEX, codex_line({"type": "user_message", "message": "dup"}, "event_msg")]
    assert list(render_text(parse(lines, "codex"))) == [
        "[session_meta] cwd /home/dev/shop-api · cli_version 0.112.0",
        "[turn_context] model gpt-5-codex · cwd /home/dev/shop-api",
        "user: Add pagination to /orders",
        "  thinking: **Locating the orders router**",
        '  [tool shell] { "command": [ "bash", "-lc", "rg -n list_orders src" ] }',
        "  [result] src/orders.py:42:def list_orders",
        "[usage] in 9800 out 210 cache_read 9216 reasoning 96 total 10010",
        "[compaction] remote compaction (9 bytes of encrypted history)",
    ]


def test_render_claude_and_openclaw() -> None:
    claude = list(render_text(parse(CLAUDE, "claude")))
    assert claude[:3] == [
        "user: Add pagination to /orders",
        '  [tool Grep] { "pattern": "def list_orders", "path": "src" }',
        "[usage] in 12 out 88 cache_read 18000 cache_write 5120",
    ]
    assert "[compaction] auto compaction at 155,210 tokens" in claude
    assert claude[-2].startswith("[summary] This session is being continued")
    assert claude[-1] == "[summary] Orders API pagination"
    openclaw = list(render_text(parse(OPENCLAW, "openclaw")))
    assert "[usage] in 820 out 64 cache_read 0 cache_write 0 total 884 $0.0035" in openclaw
    assert "  [result] #412 Fix auth refresh" in openclaw


def test_render_folds_long_outputs() -> None:
    output = "\n".join(f"line {n}" for n in range(100))
    entries = [
        Entry("tool_result", 0, output, is_error=True),
        Entry("assistant", 1, "first\n\nthird"),
        Entry("tool_call", 2, name="write", arguments="y" * 1000),
        Entry("raw", 3, "not json {"),
    ]
    lines = list(render_text(entries))
    assert lines[:6] == [
        "  [error] line 0",
        "          line 1",
        "          line 2",
        "          line 3",
        "          line 4",
        "          … (+95 more lines)",
    ]
    assert lines[6:9] == ["assistant: first", "", "           third"]
    assert len(lines[9]) == 300 and lines[9].endswith("…")
    assert lines[10] == "not json {"
