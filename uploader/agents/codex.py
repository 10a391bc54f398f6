"""OpenAI Codex CLI: `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`.

Every line is `{"timestamp", "type", "payload"}`. The first is `session_meta` (id, cwd,
git); the conversation is `response_item` lines (messages, reasoning, tool calls and their
outputs) with `event_msg` lines beside them that mostly repeat it; `compacted` marks a
compaction (local: a summary message; remote: encrypted history only).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePath
from typing import Any

from uploader.agents.base import Agent, CheckpointMark, SessionMeta, last_uuid, short, short_git
from uploader.agents.entries import (
    Entry,
    Malformed,
    ParseState,
    call,
    compact,
    dict_of,
    event,
    images_in,
    str_of,
    texts,
    usage,
)

_NAME = re.compile(r"^rollout-(\d{4})-(\d\d)-(\d\d)T[\w\-.]*\.jsonl$")
# The header newer builds put before a command's output: "Process exited with code 2".
_EXITED = re.compile(r"^Process exited with code (-?\d+)$", re.M)
_CONTEXT_PREFIXES = ("<", "# AGENTS.md instructions")  # context sent as user messages
_USAGE = (
    ("input_tokens", "input"), ("cached_input_tokens", "cache_read"),
    ("output_tokens", "output"), ("reasoning_output_tokens", "reasoning"),
    ("total_tokens", "total"),
)  # fmt: skip


def codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or "~/.codex").expanduser()


class Codex(Agent):
    name = "codex"
    display = "Codex"
    folders_hint = "~/.codex/sessions"
    # Copies of what response_item lines say, turn bookkeeping, and the ends of tool calls
    # (their exit status joins the call: see _event_msg).
    quiet_events = frozenset(
        {"user_message", "agent_message", "agent_reasoning", "token_count", "task_started",
         "task_complete", "ghost_snapshot", "web_search_end", "exec_command_end",
         "patch_apply_end"}
    )  # fmt: skip

    def session_folders(self) -> list[Path]:
        return [codex_home() / "sessions"]

    def owns_path(self, path: PurePath) -> bool:
        return ".codex" in path.parts or path.name.startswith("rollout-")

    def canonical_path(self, source: dict[str, Any], original: PurePath) -> Path | None:
        found = _NAME.fullmatch(original.name)
        if found is None:
            return None
        year, month, day = found.groups()
        return codex_home() / "sessions" / year / month / day / original.name

    def sid_from_name(self, path: PurePath) -> str | None:
        return last_uuid(path.name) if path.name.startswith("rollout-") else None

    def is_header(self, obj: dict[str, Any], path: PurePath) -> bool:
        return obj.get("type") == "session_meta"

    def read_meta(self, obj: dict[str, Any], path: PurePath, meta: SessionMeta) -> bool:
        if obj.get("type") != "session_meta":
            return False
        payload = dict_of(obj.get("payload"))
        meta.first_line_id = str_of(payload.get("id"))
        meta.cwd = str_of(payload.get("cwd"))
        git = dict_of(payload.get("git"))
        meta.git_commit = str_of(git.get("commit_hash"))
        meta.git_branch = str_of(git.get("branch"))
        return True

    def recognises(self, obj: dict[str, Any]) -> bool:
        return "payload" in obj

    def checkpoint_of(
        self, obj: dict[str, Any], meta: SessionMeta, ts: float
    ) -> CheckpointMark | None:
        """`compacted`: Codex's (fields in `payload`), and the generic trigger any other
        source may write (the same fields at the top level)."""
        if obj.get("type") != "compacted":
            return None
        payload = dict_of(obj.get("payload")) or obj
        message = str_of(payload.get("message"))
        if message:
            label = short(message)
        elif payload.get("replacement_history"):
            label = "remote compaction"
        else:
            label = str_of(obj.get("label")) or "compaction"
        git = str_of(obj.get("git")) or meta.git_commit or meta.git_branch
        return CheckpointMark(label, short_git(git), ts)

    def parse(self, obj: dict[str, Any], i: int, st: ParseState, size: int) -> list[Entry]:
        kind, payload = obj["type"], obj.get("payload")
        if kind not in ("response_item", "event_msg", "session_meta", "turn_context", "compacted"):
            return [event(i, kind, payload if isinstance(payload, dict) else obj)]
        if not isinstance(payload, dict):
            raise Malformed
        if kind == "response_item":
            return [_item(payload, i, st)]
        if kind == "event_msg":
            return [_event_msg(payload, i, st)]
        if kind in ("session_meta", "turn_context"):
            st.model = str_of(payload.get("model")) or st.model
            facts = [
                f"{k} {payload[k]}"
                for k in ("model", "cwd", "cli_version")
                if str_of(payload.get(k))
            ]
            return [Entry("meta", i, " · ".join(facts), title=kind)]
        message = texts(payload.get("message"))
        if not message:  # remote compaction: the history is encrypted, only its size is news
            history = payload.get("replacement_history")
            items = history if isinstance(history, list) else []
            n = sum(len(str_of(dict_of(x).get("encrypted_content")) or "") for x in items)
            message = f"remote compaction ({n or size} bytes of encrypted history)"
        return [Entry("compaction", i, message)]


def _item(p: dict[str, Any], i: int, st: ParseState) -> Entry:
    ptype = p.get("type")
    if ptype == "message":
        role, text = str_of(p.get("role")) or "?", texts(p.get("content"))
        images = images_in(p.get("content"), st)
        if role == "assistant":
            return Entry("assistant", i, text, role=role, images=images)
        if role == "user":
            context = text.lstrip().startswith(_CONTEXT_PREFIXES)
            title = "context" if context else None
            return Entry("user", i, text, role=role, title=title, images=images)
        return Entry("event", i, text, role=role, title=f"{role} message")
    if ptype == "reasoning":  # encrypted_content is opaque: only the summary is readable
        text = texts(p.get("summary")) or texts(p.get("content"))
        sealed = not text.strip() and bool(str_of(p.get("encrypted_content")))
        return Entry("reasoning", i, text, title="encrypted" if sealed else None)
    if ptype in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call"):
        name = {"local_shell_call": "local_shell", "web_search_call": "web_search"}.get(ptype)
        call_id = str_of(p.get("call_id")) or str_of(p.get("id"))
        args = next((p[k] for k in ("arguments", "input", "action") if k in p), None)
        return call(i, name or str_of(p.get("name")), call_id, args, st)
    if ptype in ("function_call_output", "custom_tool_call_output"):
        call_id = str_of(p.get("call_id"))
        text, failed, code = _output(p.get("output"))
        name = st.tool_names.get(call_id or "")
        return Entry(
            "tool_result", i, text, name=name, call_id=call_id, is_error=failed, exit_code=code,
            images=images_in(p.get("output"), st),
        )  # fmt: skip
    return event(i, str_of(ptype) or "response_item", p)


def _output(output: Any) -> tuple[str, bool, int | None]:
    """Output text, whether it failed, and the exit code when one is given; shell outputs
    wrap the text with an exit code."""
    if isinstance(output, dict):
        failed = output.get("success") is False
        return texts(output.get("content")) or compact(output), failed, None
    if not isinstance(output, str):
        return texts(output), False, None
    if output.startswith("{"):
        try:
            wrapped = json.loads(output)
        except (ValueError, RecursionError):
            wrapped = None
        if isinstance(wrapped, dict) and isinstance(wrapped.get("output"), str):
            code = _code(dict_of(wrapped.get("metadata")).get("exit_code"))
            return wrapped["output"], code is not None and code != 0, code
    if output.startswith("Exit code: "):  # newer builds: plain text with a header
        code_text = output[11:].split("\n", 1)[0].strip()
        code = int(code_text) if code_text.lstrip("-").isdigit() else None
        return output, code is not None and code != 0, code
    head = output[:2000].split("\nOutput:\n", 1)[0]  # exec_command: a header, then Output:
    exited = _EXITED.search(head)
    if exited:
        code = int(exited.group(1))
        return output, code != 0, code
    return output, False, None


def _code(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _event_msg(p: dict[str, Any], i: int, st: ParseState) -> Entry:
    etype = str_of(p.get("type")) or "event_msg"
    if etype == "token_count":
        info = dict_of(p.get("info"))
        total = info.get("total_token_usage")
        if isinstance(total, dict) and total != st.codex_total:
            st.codex_total = total
            last = info.get("last_token_usage")  # this turn's numbers, not the running sum
            numbers = usage(last if isinstance(last, dict) else total, _USAGE)
            return Entry("usage", i, usage=numbers, title=st.model)
    if etype in ("exec_command_end", "patch_apply_end"):  # how a tool call ended
        code = _code(p.get("exit_code"))
        failed = (code is not None and code != 0) or p.get("success") is False
        output = str_of(p.get("aggregated_output")) or "\n".join(
            t for t in (str_of(p.get("stdout")), str_of(p.get("stderr"))) if t
        )
        return Entry(
            "event", i, output, call_id=str_of(p.get("call_id")), is_error=failed,
            exit_code=code, title=etype,
        )  # fmt: skip
    text = str_of(p.get("message")) or str_of(p.get("text"))  # user_message, agent_reasoning, ...
    return event(i, etype, p, text)


CODEX = Codex()
