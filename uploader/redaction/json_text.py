"""Secrets inside JSON strings: undoing escapes (for one fingerprint however a key was
quoted), never cutting an escape sequence in two, and the parts of a span that lie inside
strings (a replacement must not eat a quote: the line has to stay valid JSON)."""

from __future__ import annotations

import re

_BACKSLASH = 0x5C
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")
_QUOTE_OR_ESCAPE = re.compile(rb'\\.|"', re.DOTALL)


_ESCAPES = re.compile(rb'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})')
_SIMPLE = {
    b'"': b'"', b"\\": b"\\", b"/": b"/", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r",
    b"t": b"\t",
}  # fmt: skip


def _unescape_one(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    simple = _SIMPLE.get(code)
    if simple is not None:
        return simple
    return chr(int(code[1:], 16)).encode("utf-8", "surrogatepass")


def unescape(value: bytes) -> bytes:
    """`value` with JSON string escapes undone, up to three levels deep (a string holding
    JSON holding a string): a secret has one fingerprint however it was quoted."""
    for _ in range(3):
        if b"\\" not in value:
            break
        value = _ESCAPES.sub(_unescape_one, value)
    return value


def _escape_around(line: bytes, pos: int) -> tuple[int, int] | None:
    """The escape sequence (\\x or \\uXXXX) that `pos` falls strictly inside, if any."""
    if line.rfind(b"\\", max(pos - 5, 0), pos) < 0:  # the common case: no backslash near
        return None
    for q in range(pos - 1, max(pos - 6, -1), -1):
        if line[q] != _BACKSLASH:
            continue
        run = 0
        while q - run - 1 >= 0 and line[q - run - 1] == _BACKSLASH:
            run += 1
        if run % 2:  # this backslash is itself escaped: keep looking further back
            continue
        size = 6 if line[q + 1 : q + 2] == b"u" and _HEX4.fullmatch(line[q + 2 : q + 6]) else 2
        return (q, q + size) if pos < q + size else None
    return None


def outside_escapes(line: bytes, start: int, end: int) -> tuple[int, int]:
    """The span moved inwards so that it neither starts nor ends inside an escape
    sequence: no replacement may leave half of one (a dangling backslash)."""
    inside = _escape_around(line, start)
    if inside is not None:
        start = inside[1]
    inside = _escape_around(line, end)
    if inside is not None:
        end = inside[0]
    return start, end


def string_runs(line: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """The parts of line[start:end] that lie inside JSON strings (quotes excluded)."""
    runs: list[tuple[int, int]] = []
    inside = False
    cur = start
    for match in _QUOTE_OR_ESCAPE.finditer(line, 0, end):
        if match.end() - match.start() != 1:  # an escape pair
            continue
        quote = match.start()
        if quote >= start:
            if inside and quote > cur:
                runs.append((cur, quote))
            cur = quote + 1
        inside = not inside
    if inside and end > cur:
        runs.append((cur, end))
    return runs
