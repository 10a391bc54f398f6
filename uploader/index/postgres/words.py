"""The text PostgreSQL is given: the tsvector of a document written out from our own
words (uploader.index.query's, as SQLite finds them), within PostgreSQL's limits; and text
cleaned of what a text column cannot hold.

May import: index.query.
"""

from __future__ import annotations

import re

from uploader.index.query import words

#: PostgreSQL's limits on a tsvector (tsearch: MAXSTRLEN, MAXNUMPOS, MAXENTRYPOS, and
#: the 1 MB of a whole one, less a margin for what the estimate leaves out).
MAX_WORD_BYTES = 2047
MAX_PLACES = 256
MAX_PLACE = 16383
MAX_TSVECTOR_BYTES = 900_000
_SURROGATE = re.compile("[\ud800-\udfff]")


def tsvector(*fields: str) -> str:
    """The tsvector of `fields`, written out: each word with the places it is at (a gap
    between fields), within PostgreSQL's limits (see the module's doc)."""
    places: dict[str, list[int]] = {}
    place = 0
    for field in fields:
        found = words(field)
        for n, word in enumerate(found, place + 1):
            seen = places.get(word)
            if seen is None:
                places[word] = [n]
            elif len(seen) < MAX_PLACES:
                seen.append(n)
        place += len(found) + 1  # a gap: no phrase spans two fields
    out = []
    size = 0
    for word, at in places.items():  # in the order they first come
        length = len(word) if word.isascii() else len(word.encode())
        if length > MAX_WORD_BYTES:
            continue
        size += length + 6 + 2 * len(at)  # the word, its entry, its count of places, places
        if size > MAX_TSVECTOR_BYTES:
            break
        if at[-1] > MAX_PLACE:
            at = [a for a in at if a < MAX_PLACE] + [MAX_PLACE]
        # The words are letters and digits only: quoting them is all it takes.
        out.append(f"'{word}':{','.join(map(str, at)) if len(at) > 1 else at[0]}")
    return " ".join(out)


def clean(text: str) -> str:
    """Text PostgreSQL takes: no NUL (a text column cannot hold one), no lone surrogate
    (not UTF-8). Each becomes U+FFFD, so that the words stay the same."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            text = _SURROGATE.sub("\ufffd", text)
    return text


def clean_or_none(text: str | None) -> str | None:
    return None if text is None else clean(text)
