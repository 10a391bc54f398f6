"""Find secrets in runs of transcript lines and replace each with a marker.

Redaction is per line and a pure function of the line's bytes and the rules: the same
line gives the same output wherever it is and however the input was cut into calls.

Speed (the common case is a 4 MiB read with no secret at all):

1. Candidate lines. With Hyperscan, every rule is compiled once into one database
   (HS_FLAG_PREFILTER: a rule Hyperscan cannot do exactly is run as a superset) and the
   whole buffer is scanned in one call, without a copy; a match reports where it ends,
   which names the line. Rules Hyperscan cannot compile at all, and every rule when the
   `hyperscan` package is missing (or `engine="re"`), use their literal keywords instead:
   `bytes.find` over the whole buffer, one `.lower()` copy only if a rule ignores case.
2. Exact matches. Only on those lines: the rule's keywords must be on the line, then its
   Python regex runs on the line alone (without its newline), so both engines produce
   exactly the same output.

No Python code runs per line without a candidate, and a buffer with no secret comes back
as the very same object. A marker already in the text is never replaced again: redacting
redacted bytes changes nothing.

Inside JSON strings (every transcript line is JSON): a replacement never starts or ends
inside an escape sequence (\\n, \\", \\uXXXX), and on a JSON line only the bytes inside
strings are replaced (the first piece of a secret that spans strings gets the marker, the
others become empty), so every redacted line still parses. The marker has no quote or
backslash. The fingerprint is taken on the secret with its JSON escapes undone (a string
inside a string: twice), so a key has the same fingerprint in plain text and in JSON.
"""

from __future__ import annotations

import hashlib
import logging
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from uploader.core.hyperscan import Scratches, hs
from uploader.redaction.hyperscan_db import hyperscan_database
from uploader.redaction.json_text import outside_escapes, string_runs, unescape
from uploader.redaction.marks import ChangedLine, MarkHit, marks_in_output
from uploader.redaction.rules import RuleSet

log = logging.getLogger(__name__)

MARK_PREFIX = "[REDACTED:"
_MARK = re.compile(rb"\[REDACTED:[a-z0-9][a-z0-9-]*:[0-9a-f]{8}\]")
_NL = b"\n"
_MARK_IDS = 1 << 16  # Hyperscan ids from here on are marks, not rules

Engine = Literal["auto", "hyperscan", "re"]


@dataclass(frozen=True)
class Finding:
    """A secret found by `Redactor.find`: never its value."""

    rule: str
    fingerprint: str  # first 8 hex of sha256 of the secret
    line: int  # 1-based, within the data given
    column: int  # 1-based byte offset of the secret in its line


@dataclass(frozen=True)
class Redaction:
    """The redacted counterpart of `input[:end]`.

    `data` is the very same object as the input when nothing matched (and may then run
    past `end`); otherwise it is exactly the redacted bytes (`len(data) == end`)."""

    data: bytes
    end: int
    hits: tuple[tuple[int, str], ...] = ()  # (offset of a marker in data, rule id)
    # (offset in data just past a changed line, source bytes - redacted bytes up to there)
    shifts: tuple[tuple[int, int], ...] = ()
    # (offset in data[:end], index) of each of the redactor's marks; None: not looked for
    marks: tuple[MarkHit, ...] | None = None

    def source_pos(self, pos: int) -> int:
        """The input offset matching `pos`, a line boundary in data (0 <= pos <= end)."""
        i = bisect_right(self.shifts, pos, key=_first)
        return pos + (self.shifts[i - 1][1] if i else 0)

    def counts(self, start: int = 0, stop: int | None = None) -> dict[str, int]:
        """Secrets replaced per rule among the markers at start <= offset < stop."""
        out: dict[str, int] = {}
        for offset, rule in self.hits:
            if offset >= start and (stop is None or offset < stop):
                out[rule] = out.get(rule, 0) + 1
        return out


def _first(pair: tuple[int, int]) -> int:
    return pair[0]


@dataclass(frozen=True)
class _Rule:
    index: int
    id: str
    marker_id: bytes
    pattern: re.Pattern[bytes]
    group: int
    keywords: tuple[bytes, ...]  # lowered when ignore_case
    ignore_case: bool
    hs_expression: bytes  # for Hyperscan: the prefilter, else the regex


@dataclass(slots=True)
class _Span:
    start: int  # in the line, after moving out of escape sequences
    end: int
    rule: _Rule
    fingerprint: bytes


class Redactor:
    """Compiles a RuleSet once; `redact`, `redact_line` and `find` may then be called from
    any number of threads.

    engine: "auto" (Hyperscan when the package imports, else pure Python), "hyperscan"
    (fail if it does not), or "re" (pure Python: the fallback, forced). marks: strings
    `redact` also finds, in the same scan, where Hyperscan runs (uploader.redaction.marks).
    """

    def __init__(
        self, rules: RuleSet, engine: Engine = "auto", marks: tuple[bytes, ...] = ()
    ) -> None:
        self.rules = rules
        self._engine_choice: Engine = engine
        self.marks = marks
        self._mark_sizes = [len(m) for m in marks]
        self._finds_marks = False  # True when every mark is in the Hyperscan database
        flag = re.IGNORECASE
        self._rules = tuple(
            _Rule(
                index=i,
                id=rule.id,
                marker_id=rule.id.encode(),
                pattern=re.compile(rule.regex.encode(), flag if rule.ignore_case else 0),
                group=rule.secret_group,
                keywords=tuple(
                    k.encode().lower() if rule.ignore_case else k.encode() for k in rule.keywords
                ),
                ignore_case=rule.ignore_case,
                hs_expression=(rule.prefilter or rule.regex).encode(),
            )
            for i, rule in enumerate(rules.rules)
        )
        self._allow_values = frozenset(a.value.encode() for a in rules.allow if a.value)
        self._allow = _allow_patterns([a.regex for a in rules.allow if a.regex])
        self._db: Any = None
        self._views = False  # the hyperscan package scans a memoryview
        self._scratches: Scratches | None = None
        keyword_rules = self._rules
        if engine != "re":
            if hs is None:
                if engine == "hyperscan":
                    raise RuntimeError("the hyperscan package is not installed")
                log.info("hyperscan is not available: redaction uses the pure-Python engine")
            else:
                key = tuple((r.index, r.id, r.hs_expression, r.ignore_case) for r in self._rules)
                key += tuple(
                    (_MARK_IDS + i, f"mark {i}", re.escape(m), False) for i, m in enumerate(marks)
                )
                self._db, compiled, self._views = hyperscan_database(key)
                self._finds_marks = bool(marks) and all(
                    _MARK_IDS + i in compiled for i in range(len(marks))
                )
                self._scratches = Scratches(self._db)
                keyword_rules = tuple(r for r in self._rules if r.index not in compiled)
                if engine == "hyperscan" and not any(i < _MARK_IDS for i in compiled):
                    raise RuntimeError("hyperscan compiles none of these rules")
        self._keyword_rules = keyword_rules
        self.engine: str = "hyperscan" if self._db is not None else "re"
        self.fallback_rules = tuple(r.id for r in keyword_rules)
        self._any_ignore_case = any(r.ignore_case and r.keywords for r in keyword_rules)

    def with_marks(self, marks: tuple[bytes, ...]) -> Redactor:
        """This redactor, finding these marks too (the same object if it already does)."""
        return self if marks == self.marks else Redactor(self.rules, self._engine_choice, marks)

    # -- public ---------------------------------------------------------------------------

    def redact(self, data: bytes, end: int | None = None) -> Redaction:
        """Redact `data[:end]`, a run of lines (each ending in a newline, except perhaps
        the last); data[end:] is ignored and not part of the result."""
        end = len(data) if end is None else end
        found: list[MarkHit] | None = [] if self._finds_marks else None
        lines = self._candidates(data, end, found)
        unchanged = Redaction(data, end, marks=None if found is None else tuple(sorted(found)))
        if not lines:
            return unchanged
        view = memoryview(data)
        parts: list[bytes | memoryview] = []
        hits: list[tuple[int, str]] = []
        shifts: list[tuple[int, int]] = []
        changed: list[ChangedLine] = []
        prev = out = delta = 0
        for start in sorted(lines):
            stop, rule_set = lines[start]
            line = data[start:stop]
            edits = self._edits(line, self._spans(line, rule_set))
            if not edits:
                continue
            line_out = out + start - prev
            for a, b, replacement, rule in edits:
                parts.append(view[prev : start + a])
                out += start + a - prev
                if rule is not None:
                    hits.append((out, rule))
                parts.append(replacement)
                out += len(replacement)
                delta += b - a - len(replacement)
                prev = start + b
            past = stop + 1 if stop < end else stop
            parts.append(view[prev:past])
            out += past - prev
            prev = past
            shifts.append((out, delta))
            changed.append((start, past, line_out, out))
        if not hits:
            return unchanged
        parts.append(view[prev:end])
        redacted = b"".join(parts)
        marks = None if found is None else marks_in_output(found, changed, redacted, self.marks)
        return Redaction(redacted, len(redacted), tuple(hits), tuple(shifts), marks)

    def redact_text(self, text: str) -> str:
        """Text that goes into a manifest beside the lines (a title, a label, a folder):
        its secrets replaced as in the lines (the same string when there were none)."""
        data = text.encode("utf-8", "surrogatepass")
        out = self.redact(data).data
        return text if out is data else out.decode("utf-8", "surrogatepass")

    def redact_line(self, line: bytes) -> tuple[bytes, list[str]]:
        """One line (or a few): its redacted bytes (the same object when nothing matched)
        and the rule of each secret replaced."""
        result = self.redact(line)
        return result.data, [rule for _, rule in result.hits]

    def find(self, data: bytes) -> Iterator[Finding]:
        """The secrets in `data` (whole lines): rule, fingerprint, line and column. Never
        the value."""
        lines = self._candidates(data, len(data))
        number, pos = 1, 0
        for start in sorted(lines):
            number += data.count(_NL, pos, start)
            pos = start
            stop, rule_set = lines[start]
            for span in self._spans(data[start:stop], rule_set):
                yield Finding(span.rule.id, span.fingerprint.decode(), number, span.start + 1)

    # -- candidate lines ------------------------------------------------------------------

    def _candidates(
        self, data: bytes, end: int, marks: list[MarkHit] | None = None
    ) -> dict[int, tuple[int, set[int]]]:
        """{line start: (line end, the rules that may match on it)}; a line's end is the
        offset of its newline, or `end`. The marks found go to `marks`, if given."""
        lines: dict[int, tuple[int, set[int]]] = {}
        if end <= 0:
            return lines
        if self._db is not None:
            self._hyperscan_lines(data, end, lines, marks)
        if self._keyword_rules:
            self._keyword_lines(data, end, lines)
        return lines

    def _hyperscan_lines(
        self,
        data: bytes,
        end: int,
        lines: dict[int, tuple[int, set[int]]],
        marks: list[MarkHit] | None,
    ) -> None:
        found: list[tuple[int, int]] = []
        sizes = self._mark_sizes

        def on_match(rule: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            if rule < _MARK_IDS:
                found.append((to, rule))
            elif marks is not None:
                marks.append((to - sizes[rule - _MARK_IDS], rule - _MARK_IDS))

        view: bytes | memoryview = data
        if end < len(data):  # hyperscan < 0.9 takes bytes only: then a copy
            view = memoryview(data)[:end] if self._views else data[:end]
        assert self._scratches is not None
        self._db.scan(view, match_event_handler=on_match, scratch=self._scratches.get())
        if not found:
            return
        found.sort()
        start = stop = -1
        rule_set: set[int] = set()
        for to, rule in found:
            last = to - 1  # the match's last byte: it names the line
            if not start <= last <= stop:
                start = data.rfind(_NL, 0, last) + 1
                stop = data.find(_NL, last, end)
                stop = end if stop < 0 else stop
                rule_set = lines.setdefault(start, (stop, set()))[1]
            rule_set.add(rule)

    def _keyword_lines(self, data: bytes, end: int, lines: dict[int, tuple[int, set[int]]]) -> None:
        lowered: bytes | None = None
        if self._any_ignore_case:
            lowered = (data if end == len(data) else data[:end]).lower()
        for rule in self._keyword_rules:
            if not rule.keywords:  # no prefilter at all: every line
                start = 0
                while start < end:
                    stop = data.find(_NL, start, end)
                    stop = end if stop < 0 else stop
                    lines.setdefault(start, (stop, set()))[1].add(rule.index)
                    start = stop + 1
                continue
            hay = lowered if rule.ignore_case and lowered is not None else data
            for keyword in rule.keywords:
                at = hay.find(keyword, 0, end)
                while at >= 0:
                    start = data.rfind(_NL, 0, at) + 1
                    stop = data.find(_NL, at, end)
                    stop = end if stop < 0 else stop
                    lines.setdefault(start, (stop, set()))[1].add(rule.index)
                    at = hay.find(keyword, stop + 1, end) if stop < end else -1

    # -- one line -------------------------------------------------------------------------

    def _spans(self, line: bytes, rule_set: set[int]) -> list[_Span]:
        """The secrets of one line (without its newline), leftmost-longest first, then in
        rule order, without overlaps."""
        found: list[_Span] = []
        lowered: bytes | None = None
        for index in sorted(rule_set):
            rule = self._rules[index]
            if rule.keywords:
                if rule.ignore_case:
                    lowered = line.lower() if lowered is None else lowered
                    hay = lowered
                else:
                    hay = line
                if not any(k in hay for k in rule.keywords):
                    continue
            for match in rule.pattern.finditer(line):
                start, end = match.span(rule.group)
                if end <= start:  # an empty group, or one that did not take part
                    continue
                start, end = outside_escapes(line, start, end)
                if end <= start:
                    continue
                secret = unescape(line[start:end])
                if not self._allowed(secret):
                    found.append(_Span(start, end, rule, _fingerprint(secret)))
        if len(found) > 1:
            found.sort(key=lambda s: (s.start, s.start - s.end, s.rule.index))
            kept, reach = [], -1
            for span in found:
                if span.start >= reach:
                    kept.append(span)
                    reach = span.end
            found = kept
        return found

    def _allowed(self, secret: bytes) -> bool:
        return (
            secret in self._allow_values
            or _MARK.fullmatch(secret) is not None
            or any(p.search(secret) for p in self._allow)
        )

    @staticmethod
    def _edits(line: bytes, spans: list[_Span]) -> list[tuple[int, int, bytes, str | None]]:
        """(start, end, replacement, rule id or None) in the line, ascending."""
        edits: list[tuple[int, int, bytes, str | None]] = []
        json_line: bool | None = None
        for span in spans:
            marker = b"[REDACTED:" + span.rule.marker_id + b":" + span.fingerprint + b"]"
            if b'"' in line[span.start : span.end]:
                if json_line is None:
                    json_line = line.lstrip()[:1] in (b"{", b"[")
                if json_line:
                    runs = string_runs(line, span.start, span.end)
                    for i, (a, b) in enumerate(runs):
                        edits.append(
                            (a, b, marker if i == 0 else b"", span.rule.id if i == 0 else None)
                        )
                    continue
            edits.append((span.start, span.end, marker, span.rule.id))
        return edits


_GLOBAL_FLAGS = re.compile(r"\A\(\?([imsx]+)\)")
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _allow_patterns(regexes: list[str]) -> tuple[re.Pattern[bytes], ...]:
    """The allowlist regexes, as few patterns as keep their meaning: one alternation of
    all that can be combined (a secret is checked against each of them), then each one
    that refers to its own groups."""
    alone = [r for r in regexes if _GROUP_REFERENCE.search(r)]
    union = [
        _GLOBAL_FLAGS.sub(lambda m: f"(?{m.group(1)}:", r) + ")" if _GLOBAL_FLAGS.match(r) else r
        for r in regexes
        if r not in alone
    ]
    try:
        patterns = [re.compile("|".join(f"(?:{r})" for r in union).encode())] if union else []
    except re.error:  # e.g. two of them name a group alike
        patterns, alone = [], regexes
    return tuple(patterns + [re.compile(r.encode()) for r in alone])


def _fingerprint(secret: bytes) -> bytes:
    return hashlib.sha256(secret).hexdigest()[:8].encode()
