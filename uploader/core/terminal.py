"""Text from transcripts and stores on a terminal: shown, never obeyed.

A transcript, a file name, an agent's index or a store's object can hold terminal
controls (ESC sequences retitle a terminal, clear it, write the clipboard; a newline in a
log message fakes a log line) and Unicode bidi controls (U+202E shows `txt.exe` as
`exe.txt`). `printable` shows each of them as an escape a reader can see (`\\x1b`,
`\\u202e`); everything else, accents and CJK included, stays as it was. Output written
for programs (--json) escapes them the JSON way instead (`json_text`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

# C0 and C1 controls, DEL; bidi embeddings, overrides, isolates and marks; the Unicode
# line and paragraph separators (a line break to some viewers); and os.fsdecode's
# stand-ins for bytes of a file name that are not UTF-8.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_UNDECODABLE = "\udc80-\udcff"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_UNDECODABLE}]")
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}{_UNDECODABLE}]")
# json.dumps escapes C0 controls in strings itself; its raw newlines are indentation.
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, *, lines: bool = False) -> str:
    """`text` with every character a terminal would act on shown as an escape; with
    `lines`, tabs and newlines stay (multi-line output such as a conversation)."""
    return (_UNSAFE_IN_LINES if lines else _UNSAFE).sub(_escape, text)


def is_printable(text: str) -> bool:
    """Does `text` hold nothing that `printable` would escape?"""
    return _UNSAFE.search(text) is None


def json_text(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) with the characters above
    written as \\u escapes: the same JSON value, safe to land on a terminal."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeFormatter(logging.Formatter):
    """Log lines whose message cannot carry terminal controls or a line break (a message
    is one line, whatever text it quotes); tracebacks keep their own line breaks."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return printable(super().formatException(ei), lines=True)

    def formatStack(self, stack_info: str) -> str:
        return printable(super().formatStack(stack_info), lines=True)
