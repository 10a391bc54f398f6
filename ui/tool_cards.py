"""A tool call's card: its arguments as a shell command, a few facts, a diff or JSON; its
result and the event that says how it ended joined to it; its exit status. And the
helpers every card's text shares: terminal codes out, images beside the text.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any

from uploader.agents.transcript import Entry

from . import images, markup
from .card import Card
from .diffs import tool_diff
from .render import shown

#: Tools whose arguments are a shell command.
_SHELL_ARGS = ("command", "cmd")
_SUBTITLE_KEYS = ("description", "file_path", "pattern", "path", "url", "query", "prompt")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_RUNNING = re.compile(r"^Process running with session ID", re.M)
_IMAGE_MARK = "[image]"

ImageUrl = Callable[[int, int], str]


def _parsed(arguments: str | None) -> Any:
    if not arguments or not arguments.lstrip().startswith("{") or len(arguments) > 1_000_000:
        return None
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):
        return None


def _shell_command(args: Any) -> str | None:
    """The command of a shell-like tool's arguments (`command`, `cmd`, Codex's action)."""
    if not isinstance(args, dict):
        return None
    action = args.get("action")
    if isinstance(action, dict) and "command" in action:
        args = action
    for key in _SHELL_ARGS:
        value = args.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if len(value) == 3 and value[1] in ("-lc", "-c") and value[0].endswith("sh"):
                return str(value[2])  # ["bash", "-lc", script]: the script
            return shlex.join(value)
    return None


def _subtitle(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    for key in _SUBTITLE_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:160]
    return ""


def _facts(args: Any, subtitle: str) -> list[tuple[str, str]] | None:
    """Arguments that are a few short words (`{"path": "a.py", "limit": 50}`) as (key,
    value) pairs, less the one the subtitle shows; None when they are more than that."""
    if not isinstance(args, dict) or len(args) > 8:
        return None
    out = []
    for key, value in args.items():
        if isinstance(value, str):
            if len(value) > 200 or "\n" in value:
                if key in _SHELL_ARGS:
                    continue
                return None
            if subtitle and " ".join(value.split())[:160] == subtitle:
                continue
            out.append((str(key), value))
        elif value is None or isinstance(value, bool | int | float):
            out.append((str(key), json.dumps(value)))
        elif key in _SHELL_ARGS or key == "action":
            continue
        else:
            return None
    return out


def strip_terminal(text: str) -> str:
    """Terminal colours and titles out of a command's output."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def tool_card(
    call: Entry, result: Entry | None, end: Entry | None, cap: int, image_url: ImageUrl
) -> Card:
    card = Card("tool_call", call)
    args = _parsed(call.arguments)
    card.subtitle = _subtitle(args)
    card.diff = tool_diff(call.name, call.arguments)
    command = _shell_command(args) if card.diff is None else None
    facts = _facts(args, card.subtitle)
    if command is not None:
        card.command, card.command_text = markup.code_block(command, "bash"), command
        card.facts = [(k, v) for k, v in facts or () if k not in _SHELL_ARGS]
    elif facts is not None:
        card.facts = facts
    elif card.diff is None:
        card.arguments = shown(call.arguments, cap)
        if isinstance(args, dict | list) and not card.arguments.held_back:
            card.arguments_json = True
    card.text = shown(call.text, cap)
    if result is not None:
        card.result = result
        card.result_text = shown(strip_terminal(without_image_marks(result)), cap)
        card.result_images = image_links(result, image_url)
        card.subagent = result.subagent
    if end is not None:
        card.end = end
        if result is None or _RUNNING.search(result.text[:2000]):
            card.end_text = shown(strip_terminal(end.text), cap)  # what it printed once it ended
    code = end.exit_code if end is not None and end.exit_code is not None else None
    if code is None and result is not None:
        code = result.exit_code
    card.failed = bool((result is not None and result.is_error) or (end and end.is_error))
    if code is not None:
        card.status = f"exit {code}"
    elif card.failed:
        card.status = "error"
    elif result is None and end is None and call.name != "web_search":  # a search has none
        card.status = "no result here"
    return card


def image_links(entry: Entry, image_url: ImageUrl) -> list[tuple[str, str]]:
    """(URL, media type) of the entry's images that are shown (not SVG, not HTML...)."""
    return [
        (image_url(entry.line, im.index), im.media_type)
        for im in entry.images
        if images.shown(im.media_type)
    ]


def without_image_marks(entry: Entry) -> str:
    """The text with the `[image]` placeholders of the images shown beside it taken out."""
    text = entry.text
    shown_images = sum(images.shown(im.media_type) for im in entry.images)
    if not shown_images or _IMAGE_MARK not in text:
        return text
    lines, left = [], shown_images
    for line in text.split("\n"):
        if left and line == _IMAGE_MARK:
            left -= 1
            continue
        lines.append(line)
    return "\n".join(lines)
