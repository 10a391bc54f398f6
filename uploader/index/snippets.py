"""A hit's snippet: the few words around the first match, the matches marked.

Made here, from the document's text and the words searched for, so that every backend
shows the same snippet for the same hit.
"""

from __future__ import annotations

import re

from uploader.index.base import MARK_END, MARK_START
from uploader.index.query import Parsed, fold

WIDTH = 160  # characters of context around the first match


def snippet(text: str, parsed: Parsed) -> str:
    """About WIDTH characters of `text` around its first match, each matched word
    between MARK_START and MARK_END, on one line."""
    patterns = [_pattern(term.words, term.prefix) for group in parsed.groups for term in group
                if not term.negated]  # fmt: skip
    folded = fold(text)
    # fold() keeps an ASCII text's length; for others, match on the text itself.
    haystack = folded if len(folded) == len(text) else text
    spans = sorted((m.start(), m.end()) for p in patterns for m in p.finditer(haystack))
    first = spans[0][0] if spans else 0
    start = max(0, first - WIDTH // 3)
    end = min(len(text), start + WIDTH)
    if start > 0:  # begin at a word
        space = text.find(" ", start, first) if first > start else -1
        start = space + 1 if space >= 0 else start
    out: list[str] = ["…" if start > 0 else ""]
    at = start
    for s, e in spans:
        if s < at or e > end:
            continue
        out += [text[at:s], MARK_START, text[s:e], MARK_END]
        at = e
    out.append(text[at:end])
    if end < len(text):
        out.append("…")
    return " ".join("".join(out).split())


def _pattern(words: tuple[str, ...], prefix: bool) -> re.Pattern[str]:
    parts = [re.escape(w) for w in words]
    tail = r"\w*" if prefix else r"(?![^\W_])"
    return re.compile(r"(?<![^\W_])" + r"[\W_]+".join(parts) + tail, re.IGNORECASE)
