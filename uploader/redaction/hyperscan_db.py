"""The rules compiled into one Hyperscan database, once per process and rule set.

Hyperscan (the `hyperscan` package, whose wheels bundle the library) scans a whole read for
every rule in one pass; where it cannot be imported or refuses a rule, the engine's
keyword path takes over.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from uploader.core.hyperscan import hs, scans_views

log = logging.getLogger(__name__)

# Patterns whose anchors mean "start/end of the line" to Python (which sees one line) but
# "start/end of the buffer" to Hyperscan: such rules use the keyword path.
_BUFFER_ANCHOR = re.compile(r"(?<!\\)(?:\\\\)*\\[AZz]")

HsRule = tuple[int, str, bytes, bool]  # index, id, expression, ignore_case


@functools.lru_cache(maxsize=8)
def hyperscan_database(rules: tuple[HsRule, ...]) -> tuple[Any, frozenset[int], bool]:
    """One Hyperscan database of what it can compile (about 0.1 s: once per process and
    rule set; a database is read-only, so Redactors share it); the indexes of the rules it
    holds; whether this version of the package scans a memoryview (0.7 wants bytes)."""
    assert hs is not None
    candidates = [r for r in rules if not _BUFFER_ANCHOR.search(r[2].decode())]
    if not candidates:
        return None, frozenset(), False
    try:
        db = _compile(candidates)
    except hs.error:
        # Find the rules Hyperscan refuses (one bad user rule must not cost the rest).
        good = []
        for rule in candidates:
            try:
                _compile([rule])
                good.append(rule)
            except hs.error as exc:
                log.info("redaction rule %s runs without hyperscan: %s", rule[1], exc)
        candidates = good
        try:
            db = _compile(candidates) if candidates else None
        except hs.error as exc:  # e.g. a CPU Hyperscan does not support
            log.warning("hyperscan failed (%s): redaction uses the pure-Python engine", exc)
            db = None
    if db is None:
        return None, frozenset(), False
    return db, frozenset(r[0] for r in candidates), scans_views(db)


def _compile(rules: list[HsRule]) -> Any:
    assert hs is not None
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    base = hs.HS_FLAG_PREFILTER | hs.HS_FLAG_MULTILINE
    db.compile(
        expressions=[r[2] for r in rules],
        ids=[r[0] for r in rules],
        elements=len(rules),
        flags=[base | (hs.HS_FLAG_CASELESS if r[3] else 0) for r in rules],
    )
    return db
