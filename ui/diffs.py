"""File edits as unified diffs: what a tool call changed, read from its arguments.

- Claude Code `Edit` (`old_string`, `new_string`) and `MultiEdit` (`edits`), pi's and
  OpenClaw's `edit` (`oldText`, `newText`, or `edits`): the old text against the new.
- `Write` / `write` (`content`): a new file, every line added.
- Codex `apply_patch` (its own `*** Begin Patch` format), whether the patch is the whole
  input of a custom tool call, an `input` argument, or inside a shell command
  (`apply_patch <<'PATCH' ...`).

Lines are data (a kind and a text) that the template escapes; nothing here builds HTML.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Lines of diff shown at most; the rest are counted (the raw line has them all).
MAX_LINES = 2000
#: Lines of old or new text compared line by line at most (difflib is quadratic at worst).
MAX_COMPARED = 5000
#: Characters of arguments read as JSON to look for an edit.
MAX_ARGUMENTS = 4_000_000
BEGIN, END = "*** Begin Patch", "*** End Patch"
_OLD_NEW = (("old_string", "new_string"), ("oldText", "newText"), ("old_str", "new_str"))
_PATH_KEYS = ("file_path", "path", "filePath", "filename")
_WRITERS = frozenset({"write", "create", "write_file", "create_file"})


@dataclass
class Diff:
    """A diff as lines of (kind, text): kind is file, hunk, add, del, ctx or note."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    held_back: int = 0  # lines past MAX_LINES

    def add(self, kind: str, text: str) -> None:
        if kind == "add":
            self.added += 1
        elif kind == "del":
            self.removed += 1
        if len(self.lines) < MAX_LINES:
            self.lines.append((kind, text))
        else:
            self.held_back += 1

    def file(self, header: str, path: str) -> None:
        self.files.append(path)
        self.add("file", header)

    @property
    def language_file(self) -> str | None:
        """The one file this diff changes, if one (names the language of a new file)."""
        return self.files[0] if len(self.files) == 1 else None


def tool_diff(name: str | None, arguments: str | None) -> Diff | None:
    """The diff a tool call's arguments describe, or None when they describe no edit."""
    if not arguments or len(arguments) > MAX_ARGUMENTS:
        return None
    args: Any = arguments
    if arguments.lstrip().startswith("{"):
        try:
            args = json.loads(arguments)
        except (ValueError, RecursionError):
            args = arguments
    if isinstance(args, dict):
        found = _edit(name, args)
        if found is not None:
            return found
    patch = _find_patch(args)
    return patch_diff(patch) if patch is not None else None


def _edit(name: str | None, args: dict[str, Any]) -> Diff | None:
    path = next((args[k] for k in _PATH_KEYS if isinstance(args.get(k), str)), None) or "?"
    pairs: list[tuple[str, str]] = []
    for old_key, new_key in _OLD_NEW:
        if isinstance(args.get(old_key), str) and isinstance(args.get(new_key), str):
            pairs.append((args[old_key], args[new_key]))
    edits = args.get("edits")
    if not pairs and isinstance(edits, list):
        for edit in edits:
            if not isinstance(edit, dict):
                return None
            pair = next(
                ((edit[o], edit[n]) for o, n in _OLD_NEW
                 if isinstance(edit.get(o), str) and isinstance(edit.get(n), str)),
                None,
            )  # fmt: skip
            if pair is None:
                return None
            pairs.append(pair)
    if pairs:
        diff = Diff()
        diff.file(path, path)
        for n, (old, new) in enumerate(pairs):
            if n:
                diff.add("hunk", "…")
            _compare(diff, old, new)
        return diff
    content = args.get("content")
    if (name or "").lower() in _WRITERS and isinstance(content, str):
        diff = Diff()
        diff.file(f"{path} (written whole)", path)
        for line in content.splitlines():
            diff.add("add", line)
        return diff
    return None


def _compare(diff: Diff, old: str, new: str) -> None:
    """A fragment's old text against its new: one hunk (the fragment is the context), or
    hunks of 3 lines of context when it is long; line numbers would be the fragment's
    own, so they are not shown."""
    a, b = old.splitlines(), new.splitlines()
    if len(a) > MAX_COMPARED or len(b) > MAX_COMPARED:
        for line in a:
            diff.add("del", line)
        for line in b:
            diff.add("add", line)
        return
    context = max(len(a), len(b)) if max(len(a), len(b)) <= 400 else 3
    for line in list(difflib.unified_diff(a, b, lineterm="", n=context))[2:]:
        if line.startswith("@@"):
            if context == 3:
                diff.add("hunk", "…")
        elif line.startswith("+"):
            diff.add("add", line[1:])
        elif line.startswith("-"):
            diff.add("del", line[1:])
        else:
            diff.add("ctx", line[1:])


def _find_patch(value: Any) -> str | None:
    """The `*** Begin Patch` text inside a value: a string, or any string within it."""
    for text in _strings(value):
        at = text.find(BEGIN)
        if at >= 0:
            end = text.find(END, at)
            return text[at : end + len(END)] if end >= 0 else text[at:]
    return None


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def patch_diff(patch: str) -> Diff:
    """Codex's patch format as a diff: `*** Add File:`, `*** Delete File:`,
    `*** Update File:` (with `*** Move to:`), hunks that open with `@@`, lines that start
    with ' ', '-' or '+'."""
    diff = Diff()
    adding = False
    for line in patch.splitlines():
        if line.startswith((BEGIN, END)):
            continue
        if line.startswith("*** Add File: "):
            path = line[14:].strip()
            diff.file(f"{path} (new file)", path)
            adding = True
        elif line.startswith("*** Delete File: "):
            path = line[17:].strip()
            diff.file(f"{path} (deleted)", path)
            adding = False
        elif line.startswith("*** Update File: "):
            path = line[17:].strip()
            diff.file(path, path)
            adding = False
        elif line.startswith("*** Move to: "):
            diff.add("note", f"moved to {line[13:].strip()}")
        elif line.startswith("*** End of File"):
            diff.add("note", "end of file")
        elif line.startswith("@@"):
            diff.add("hunk", line[2:].strip() or "…")
        elif line.startswith("+"):
            diff.add("add", line[1:])
        elif line.startswith("-"):
            diff.add("del", line[1:])
        elif adding:
            diff.add("add", line)
        else:
            diff.add("ctx", line[1:] if line.startswith(" ") else line)
    return diff
