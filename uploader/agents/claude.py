"""Claude Code: `~/.claude/projects/<project>/<uuid>.jsonl`, where `<project>` is the working
directory with every character other than a letter or digit replaced by `-`.

Every line carries `sessionId`, `uuid`, `cwd` and `gitBranch`; the conversation is `user`
and `assistant` lines holding Anthropic message blocks, one assistant message often spread
over several lines. A `system` line with subtype `compact_boundary` marks a compaction, and
the user line after it holds the summary.

A subagent writes a transcript of its own, whose lines carry the parent's `sessionId`:
`<project>/<session>/subagents/agent-<id>.jsonl` (before Claude Code 2.1:
`<project>/agent-<id>.jsonl`, beside the parent's). It is a session of its own,
`<session>-agent-<id>`, never spliced into the parent's.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath
from typing import Any

from uploader.agents.base import (
    Agent,
    CheckpointMark,
    SessionMeta,
    is_uuid,
    plain_file,
    plain_folder,
    short_git,
)
from uploader.agents.entries import (
    Entry,
    Malformed,
    ParseState,
    assistant_blocks,
    blocks,
    dict_of,
    event,
    images_in,
    str_of,
    texts,
    usage,
)

_SUBAGENT = re.compile(r"agent-[A-Za-z0-9_\-]{1,80}\.jsonl")
_OTHER_HEADERS = ("session_meta", "session")  # Codex's and OpenClaw/pi's first lines
_CONTINUED = "This session is being continued"  # how a compact summary opens
# A slash command as the CLI records it, and what a local command printed.
_COMMAND_NAME = re.compile(r"<command-name>(.*?)</command-name>", re.S)
_COMMAND_ARGS = re.compile(r"<command-args>(.*?)</command-args>", re.S)
_BASH_INPUT = re.compile(r"<bash-input>(.*?)</bash-input>", re.S)
_COMMAND_OUTPUT = re.compile(
    r"<(local-command-stdout|local-command-stderr|bash-stdout|bash-stderr)>(.*?)</\1>", re.S
)
_MARKUP_LIMIT = 100_000  # longer texts are not searched for command markup
_ONLY_CLAUDE = frozenset({"summary", "file-history-snapshot", "queue-operation", "custom-title",
                          "ai-title", "progress"})  # fmt: skip
_USAGE = (
    ("input_tokens", "input"), ("output_tokens", "output"),
    ("cache_read_input_tokens", "cache_read"), ("cache_creation_input_tokens", "cache_write"),
)  # fmt: skip


def claude_project(cwd: str) -> str:
    """Claude Code's folder for a working directory: every non-alphanumeric becomes '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


class Claude(Agent):
    name = "claude"
    display = "Claude Code"
    folders_hint = "~/.claude/projects"
    # Hooks running, file backups, the input queue, timings: bookkeeping, not conversation.
    quiet_events = frozenset(
        {"progress", "file-history-snapshot", "queue-operation", "system turn_duration",
         "system stop_hook_summary"}
    )  # fmt: skip

    def session_folders(self) -> list[Path]:
        return [Path.home() / ".claude" / "projects"]

    def owns_path(self, path: PurePath) -> bool:
        return ".claude" in path.parts

    def canonical_path(self, source: dict[str, Any], original: PurePath) -> Path | None:
        cwd = source.get("cwd")
        project = plain_folder(
            claude_project(cwd) if isinstance(cwd, str) else original.parent.name
        )
        if project is None or plain_file(original.name) is None:
            return None
        return Path.home() / ".claude" / "projects" / project / original.name

    def sid_from_name(self, path: PurePath) -> str | None:
        name = path.name
        if name.endswith(".jsonl") and is_uuid(name[:-6]):
            return name[:-6].lower()
        session = path.parent.parent.name
        if _SUBAGENT.fullmatch(name) and path.parent.name == "subagents" and is_uuid(session):
            return f"{session.lower()}-{name[:-6]}"
        return None

    def is_header(self, obj: dict[str, Any], path: PurePath) -> bool:
        return "sessionId" in obj and "uuid" in obj and obj.get("type") not in _OTHER_HEADERS

    def read_meta(self, obj: dict[str, Any], path: PurePath, meta: SessionMeta) -> bool:
        if "sessionId" not in obj or obj.get("type") in _OTHER_HEADERS:
            return False
        sid = str_of(obj.get("sessionId"))
        if sid and (obj.get("isSidechain") is True or path.name.startswith("agent-")):
            meta.parent = sid
            sid = f"{sid}-{path.stem}"  # a subagent's own transcript, not its parent's
        meta.first_line_id = sid
        meta.cwd = str_of(obj.get("cwd"))
        meta.git_branch = str_of(obj.get("gitBranch"))
        return True

    def recognises(self, obj: dict[str, Any]) -> bool:
        kind = obj.get("type")
        return kind in _ONLY_CLAUDE or (
            kind in ("user", "assistant", "system") and ("sessionId" in obj or "uuid" in obj)
        )

    def checkpoint_of(
        self, obj: dict[str, Any], meta: SessionMeta, ts: float
    ) -> CheckpointMark | None:
        if obj.get("type") != "system" or obj.get("subtype") != "compact_boundary":
            return None
        info = dict_of(obj.get("compactMetadata"))
        trigger = str_of(info.get("trigger")) or "manual"
        tokens = info.get("preTokens")
        label = f"{trigger} compaction"
        if isinstance(tokens, int):
            label += f" at {tokens:,} tokens"
        git = str_of(obj.get("gitBranch")) or meta.git_commit or meta.git_branch
        return CheckpointMark(label, short_git(git), ts)

    def parse(self, obj: dict[str, Any], i: int, st: ParseState, size: int) -> list[Entry]:
        kind = obj["type"]
        if kind in ("user", "assistant"):
            msg = obj.get("message")
            if not isinstance(msg, dict):
                raise Malformed
            parse = _user if kind == "user" else _assistant
            out = parse(obj, msg, i, st)
            st.after_compact_boundary = False
            return out
        if kind == "system":
            subtype = str_of(obj.get("subtype"))
            if subtype == "compact_boundary":
                st.after_compact_boundary = True
                info = dict_of(obj.get("compactMetadata"))
                text = f"{str_of(info.get('trigger')) or 'manual'} compaction"
                if isinstance(info.get("preTokens"), int):
                    text += f" at {info['preTokens']:,} tokens"
                return [Entry("compaction", i, text, title=subtype)]
            content = str_of(obj.get("content"))
            if subtype == "local_command" and content:  # a slash command, or what it printed
                command = _command(content, i, None)
                if command is not None:
                    return [command]
            if subtype == "stop_hook_summary" and (
                obj.get("hookErrors") or obj.get("preventedContinuation") is True
            ):
                errors = obj.get("hookErrors")
                text = "\n".join(map(str, errors)) if isinstance(errors, list) else ""
                return [Entry("meta", i, text or "a hook stopped the turn", title="stop hooks")]
            title = f"system {subtype}" if subtype else "system"
            return [event(i, title, obj, content)]
        if kind == "summary":
            return [Entry("meta", i, texts(obj.get("summary")), title="summary")]
        if kind in ("custom-title", "ai-title"):
            name = (
                str_of(obj.get("customTitle"))
                or str_of(obj.get("aiTitle"))
                or str_of(obj.get("title"))
            )
            return [Entry("meta", i, name, title=kind)] if name else [event(i, kind, obj)]
        return [event(i, kind, obj)]


def _user(obj: dict[str, Any], msg: dict[str, Any], i: int, st: ParseState) -> list[Entry]:
    out: list[Entry] = []
    parts: list[str] = []
    images = []
    at = -1  # where the user's own text goes among the tool results
    role = str_of(msg.get("role"))
    ran = dict_of(obj.get("toolUseResult"))  # the CLI's own record of the tool's run
    subagent = str_of(ran.get("agentId"))
    for block in blocks(msg.get("content")):
        btype = block.get("type")
        if btype == "tool_result":
            call_id = str_of(block.get("tool_use_id"))
            name = st.tool_names.get(call_id or "")
            failed = block.get("is_error") is True
            text = texts(block.get("content"))
            result = Entry("tool_result", i, text, role, name, call_id, is_error=failed)
            result.images = images_in(block.get("content"), st)
            result.subagent = subagent
            out.append(result)
        elif btype in ("text", "image"):
            at = len(out) if at < 0 else at
            parts.append(texts([block]))
            images += images_in(block, st)
        else:
            out.append(event(i, f"block {btype}", block))
    if parts:
        text = "\n".join(parts)
        entry: Entry | None
        if obj.get("isCompactSummary") is True or (
            st.after_compact_boundary and text.startswith(_CONTINUED)
        ):
            entry = Entry("summary", i, text, role)
        elif obj.get("isMeta") is True:  # text the CLI wrote in the user's name
            entry = Entry("user", i, text, role, title="isMeta")
        else:
            entry = _command(text, i, role) or Entry("user", i, text, role)
        entry.images = images
        out.insert(at, entry)
    return out


def _command(text: str, i: int, role: str | None) -> Entry | None:
    """A slash command (`<command-name>/model</command-name>...`), a `!` shell command, or
    what a local command printed, as the CLI marks them up; None for other text."""
    stripped = text.strip()
    if not stripped.startswith("<") or len(stripped) > _MARKUP_LIMIT:
        return None
    name = _COMMAND_NAME.search(stripped)
    if name is not None and stripped.startswith("<command-"):
        command = name.group(1).strip()
        found = _COMMAND_ARGS.search(stripped)
        args = found.group(1).strip() if found else ""
        text = f"{command} {args}".rstrip()
        return Entry("user", i, text, role, name=command, arguments=args or None, title="command")
    bash = _BASH_INPUT.fullmatch(stripped)
    if bash is not None:
        command = bash.group(1).strip()
        return Entry("user", i, f"! {command}", role, name="!", arguments=command, title="command")
    outputs = _COMMAND_OUTPUT.findall(stripped)
    if outputs and not _COMMAND_OUTPUT.sub("", stripped).strip():
        printed = "\n".join(body.strip("\n") for _, body in outputs if body.strip())
        failed = any(tag.endswith("stderr") and body.strip() for tag, body in outputs)
        return Entry("user", i, printed, role, is_error=failed, title="command output")
    return None


def _assistant(obj: dict[str, Any], msg: dict[str, Any], i: int, st: ParseState) -> list[Entry]:
    out = assistant_blocks(msg.get("content"), i, st, "tool_use", "input")
    numbers = msg.get("usage")
    if isinstance(numbers, dict):
        figures = _counted_once(
            (str(msg.get("id")), str(obj.get("requestId"))), usage(numbers, _USAGE), st
        )
        if figures:
            out.append(Entry("usage", i, usage=figures, title=str_of(msg.get("model"))))
    message = str_of(msg.get("id"))
    for entry in out:
        entry.message = message
    return out


def _counted_once(
    key: tuple[str, str], figures: dict[str, float] | None, st: ParseState
) -> dict[str, float] | None:
    """What this line adds to its API message's usage. One message is written as one line
    per content block, all with its `usage`, and only the last carries the final
    `output_tokens`: each figure counts once, at its largest, so the usage entries of a
    message sum to its final figures (the first line's are not the message's)."""
    if not figures or key == ("None", "None"):
        return figures
    st.usage_last = key
    before = st.usage_counted.get(key)
    if before is None:
        st.usage_counted[key] = dict(figures)
        return figures
    added = {k: v - before.get(k, 0) for k, v in figures.items() if v > before.get(k, 0)}
    for k, v in added.items():
        before[k] = before.get(k, 0) + v
    return added or None


CLAUDE = Claude()
