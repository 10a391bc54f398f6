"""The search language, read once and written out for each backend.

    pagination bug          both words, anywhere in the line
    "retry with backoff"    the words together, in this order
    migrat*                 words starting with `migrat`
    redis OR memcached      either
    -flaky                  lines without the word

Words are what SQLite's unicode61 tokenizer makes of text: runs of letters and digits,
matched without regard to case. A term with punctuation inside (`orders.py`,
`fix_pagination`, `a-b`) is the phrase of its words. PostgreSQL is given the same words
(uploader.index.postgres tokenizes with `words` before `to_tsvector`), so that both
backends find the same lines.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from uploader.core.errors import UsageError
from uploader.index.base import SEARCH_TIMEOUT_S

_WORD = re.compile(r"[^\W_]+")
_TERM = re.compile(r'\s*(-?)(?:"([^"]*)("?)|(\S+))')
MAX_TERMS = 32
MIN_PREFIX = 2  # `a*` would match most of the index


class QueryError(UsageError):
    """A search that cannot be read: says what is wrong and how to write it."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            'write words, "a phrase", a prefix* or a OR b; -word leaves lines out',
        )


def too_slow() -> QueryError:
    return QueryError(
        f"the search took longer than {SEARCH_TIMEOUT_S:g} s: add words, a phrase or filters"
    )


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]  # lowercased; several: a phrase
    prefix: bool = False  # the last word is a prefix
    negated: bool = False


@dataclass(frozen=True)
class Parsed:
    """Groups joined by AND; the terms of a group by OR."""

    groups: tuple[tuple[Term, ...], ...]

    def fts5(self) -> str:
        """The query in SQLite FTS5's MATCH syntax (every word quoted: no operator or
        column name can come from the user's text)."""
        positive = [g for g in self.groups if not g[0].negated]
        negative = [g[0] for g in self.groups if g[0].negated]
        out = " AND ".join(
            "(" + " OR ".join(_fts5_term(t) for t in group) + ")" for group in positive
        )
        for term in negative:
            out += " NOT " + _fts5_term(term)
        return out

    def tsquery(self) -> str:
        """The query in PostgreSQL's to_tsquery syntax (the words are letters and digits
        only, so they need no quoting)."""
        parts = []
        for group in self.groups:
            terms = " | ".join(_ts_term(t) for t in group)
            parts.append(f"!({terms})" if group[0].negated else f"({terms})")
        return " & ".join(parts)

    def words(self) -> list[str]:
        """The words looked for (not the excluded ones), for highlighting."""
        return [w for g in self.groups if not g[0].negated for t in g for w in t.words]


def words(text: str) -> list[str]:
    """The words of a text, as the index sees them: lowercased, without diacritics."""
    return _WORD.findall(fold(text))


def fold(text: str) -> str:
    """Lowercase, and without diacritics where the text has any (é -> e), as unicode61."""
    text = text.lower()
    if text.isascii():
        return text
    # Canonical decomposition only, and composed again: Hangul syllables and ligatures
    # stay as SQLite's tokenizer keeps them, é becomes e.
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def parse(text: str) -> Parsed:
    """Read a search; QueryError says what is wrong with one that cannot be read."""
    if not text.strip():
        raise QueryError("the search is empty")
    if text.count('"') % 2:
        raise QueryError(f"a quote in {text!r} is not closed")
    groups: list[list[Term]] = []
    join_next = False
    pos = 0
    while pos < len(text):
        match = _TERM.match(text, pos)
        if match is None:  # only spaces are left
            break
        pos = match.end()
        negated, phrase, _closed, bare = match.groups()
        if bare == "OR" and not negated:
            if not groups or join_next:
                raise QueryError(f"OR needs a term on each side in {text!r}")
            join_next = True
            continue
        term = _term(phrase if phrase is not None else bare, phrase is not None, bool(negated))
        if term is None:
            if join_next:
                raise QueryError(f"OR needs a term on each side in {text!r}")
            continue  # punctuation only: matches nothing, so it asks for nothing
        if join_next:
            if term.negated or groups[-1][0].negated:
                raise QueryError(f"-word cannot be part of an OR in {text!r}")
            groups[-1].append(term)
            join_next = False
        else:
            groups.append([term])
    if join_next:
        raise QueryError(f"OR needs a term on each side in {text!r}")
    if not groups:
        raise QueryError(f"{text!r} has no word to look for (letters or digits)")
    if all(g[0].negated for g in groups):
        raise QueryError(f"{text!r} only leaves words out: add one to look for")
    if sum(len(g) for g in groups) > MAX_TERMS:
        raise QueryError(f"the search has more than {MAX_TERMS} terms")
    return Parsed(tuple(tuple(g) for g in groups))


def _term(raw: str, quoted: bool, negated: bool) -> Term | None:
    prefix = not quoted and raw.endswith("*")
    found = tuple(words(raw.rstrip("*") if prefix else raw))
    if not found:
        return None
    if prefix and len(found[-1]) < MIN_PREFIX:
        raise QueryError(f"{raw!r}: a prefix needs {MIN_PREFIX} letters or more")
    return Term(found, prefix=prefix, negated=negated)


def _fts5_term(term: Term) -> str:
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def _ts_term(term: Term) -> str:
    parts = list(term.words)
    if term.prefix:
        parts[-1] += ":*"
    return "(" + " <-> ".join(parts) + ")" if len(parts) > 1 else parts[0]
