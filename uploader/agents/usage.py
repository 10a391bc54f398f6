"""A segment's token usage, each API message counted once, exactly, across segments.

Counted as lines are appended to a segment (`UsageCounter.feed_lines`, given where the
write path's one scan found the marks), or while a segment is packed (`feed`, for one
begun before a restart): only the lines holding `"usage"` (Claude Code, OpenClaw, pi) or
`"token_count"` (Codex) are parsed. The rules are the parsers' (entries with kind `usage`):

- Claude Code writes one line per content block of an API message, each with the
  message's `usage`, and only the last carries the final `output_tokens`: a message,
  named by `message.id` and `requestId`, counts once with its largest figures.
- Codex's `token_count` events carry cumulative totals and are re-sent: a line counts
  only when the total changed, with that turn's `last_token_usage`.
- OpenClaw and pi: each assistant message's own usage, and its cost.

A message whose agent recorded no cost gets the list price of its tokens from the price
table (uploader.agents.prices) as `estimate_usd`, or counts as `unpriced` when the table
does not know its model: so a list of sessions can show a cost without reading one.

A message may be split over two segments, and a Codex total re-sent at the start of the
next one. So each segment's record carries `usage_carry`, the little the count needs to
go on from there (the last Claude message and its figures, the last Codex total and
model), and the next segment's count starts from it: the segments' `usage` then add up
to the session's exactly, and a list of sessions sums them from the manifest without
reading a segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from uploader.agents.entries import ParseState
from uploader.agents.prices import estimate
from uploader.agents.transcript import parse_line
from uploader.core.literals import literals_of

#: Only lines holding one of these can carry token usage.
USAGE_MARKS = (b'"usage"', b'"token_count"')
#: Codex names the model of its token counts in the turn's context (for the estimate).
CODEX_MODEL_MARKS = (b'"turn_context"', b'"session_meta"')
#: Every mark some agent's count looks for: one scan for all of them serves any agent.
ALL_USAGE_MARKS = (*USAGE_MARKS, *CODEX_MODEL_MARKS)
#: The figures the entries use; a segment records these (and `cost_usd`, `reasoning`,
#: `total` when its agent reports them; `estimate_usd` and `unpriced`: add_usage_entry).
USAGE_KEYS = ("input", "output", "cache_read", "cache_write")


def add_usage_entry(total: dict[str, float], usage: Mapping[str, float], model: str | None) -> None:
    """Add one usage entry's figures to `total`, and for a message whose agent recorded no
    cost its list price (`estimate_usd`), or one more message of a model the price table
    does not know (`unpriced`)."""
    for key, value in usage.items():
        total[key] = total.get(key, 0) + value
    if "cost_usd" not in usage:
        priced = estimate(usage, model)
        if priced is None:
            total["unpriced"] = total.get("unpriced", 0) + 1
        else:
            total["estimate_usd"] = total.get("estimate_usd", 0) + priced


def marks_of(agent: str) -> tuple[bytes, ...]:
    """The marks worth looking for in this agent's lines (one scan instead of two)."""
    if agent == "codex":
        return (b'"token_count"', *CODEX_MODEL_MARKS)
    if agent in ("claude", "openclaw", "pi"):
        return (b'"usage"',)
    return (*USAGE_MARKS, *CODEX_MODEL_MARKS)


def usage_lines(
    data: bytes,
    marks: tuple[bytes, ...] = USAGE_MARKS,
    start: int = 0,
    stop: int | None = None,
    found: Iterable[int] | None = None,
) -> list[tuple[int, bytes]]:
    """(start offset, line) of each line of data[start:stop] that holds one of `marks`, in
    order (start must be a line's first byte; data is searched in place, not sliced, for
    every mark in one pass: uploader.core.literals). `found`: where the marks start, in
    order, from a scan the caller made anyway; then data is not searched again."""
    stop = len(data) if stop is None else stop
    out: list[tuple[int, bytes]] = []
    line_end = start - 1  # the end of the last line taken: its other marks are skipped
    if found is None:
        found = literals_of(marks).positions(data, start, stop)
    for at in found:
        if at <= line_end:
            continue
        first = data.rfind(b"\n", start, at) + 1 or start
        line_end = data.find(b"\n", at, stop)
        if line_end < 0:
            line_end = stop
        out.append((first, data[first:line_end]))
    return out


def segment_usage(
    data: bytes, agent: str, carry: Mapping[str, Any] | None = None
) -> tuple[dict[str, float] | None, dict[str, Any] | None]:
    """(the usage of a segment's uncompressed bytes, or None when it has none; what the
    next segment's count goes on from). carry: the previous segment's `usage_carry`."""
    counter = UsageCounter(agent, carry)
    counter.feed(data)
    return counter.result()


class UsageCounter:
    """segment_usage over a segment's bytes as they pass in chunks (whole lines at a
    time: a chunk's unfinished last line waits for the next)."""

    def __init__(self, agent: str, carry: Mapping[str, Any] | None = None) -> None:
        self.agent = agent
        self.carry = carry
        self.state = state_from(carry)
        self.marks = marks_of(agent)
        self.found: dict[str, float] = {}
        self._tail = b""
        self._offset = 0  # of the tail's first byte in the segment

    def feed(self, chunk: bytes) -> None:
        # The chunk is searched where it lies: only the line it finishes is joined to the
        # tail (a 1 MiB copy per chunk would cost as much as the counting).
        start = 0
        if self._tail:
            nl = chunk.find(b"\n")
            if nl < 0:
                self._tail += chunk
                return
            start = nl + 1
            self._count(self._tail + chunk[:start], 0, None, self._offset)
            self._offset += len(self._tail)
            self._tail = b""
        cut = chunk.rfind(b"\n") + 1
        if cut > start:
            self._count(chunk, start, cut, self._offset)
        self._offset += max(cut, start)
        self._tail = chunk[max(cut, start) :]

    def feed_lines(self, data: bytes, start: int, stop: int, found: Iterable[int]) -> None:
        """Count data[start:stop]: whole lines (the last without its newline only if it
        ends the segment), where this agent's marks start at `found` (in order), from a
        scan the caller made anyway. Not to be mixed with `feed`."""
        assert not self._tail, "feed_lines after feed"
        self._count(data, start, stop, self._offset - start, found)
        self._offset += stop - start

    def result(self) -> tuple[dict[str, float] | None, dict[str, Any] | None]:
        """(the segment's usage, or None when it has none; what the next one goes on from)."""
        if self._tail:
            self._count(self._tail, 0, None, self._offset)
            self._tail = b""
        return (self.found or None), _carry_of(self.state, self.carry)

    def _count(
        self,
        data: bytes,
        start: int,
        stop: int | None,
        base: int,
        found: Iterable[int] | None = None,
    ) -> None:
        """Count the lines of data[start:stop]; data[0] is at `base` in the segment."""
        for first, line in usage_lines(data, self.marks, start, stop, found):
            for entry in parse_line(line, base + first, self.agent, self.state):
                if entry.kind == "usage" and entry.usage:
                    add_usage_entry(self.found, entry.usage, entry.title)


def add_usage(
    a: Mapping[str, float] | None, b: Mapping[str, float] | None
) -> dict[str, float] | None:
    """The sum of two usage records (None: nothing known)."""
    if not a or not b:
        return dict(a or b or {}) or None
    return {k: a.get(k, 0) + b.get(k, 0) for k in dict.fromkeys([*a, *b])}


def state_from(carry: Mapping[str, Any] | None) -> ParseState:
    """The parse state a count goes on from after a segment whose usage_carry is `carry`."""
    state = ParseState()
    if not carry:
        return state
    agent = carry.get("agent")
    if isinstance(agent, str):
        state.agent = agent
    total = carry.get("codex_total")
    if isinstance(total, dict):
        state.codex_total = total
    model = carry.get("model")
    if isinstance(model, str):
        state.model = model
    message = carry.get("claude_message")
    if (
        isinstance(message, list)
        and len(message) == 3
        and all(isinstance(part, str) for part in message[:2])
        and isinstance(message[2], dict)
    ):
        key = (message[0], message[1])
        state.usage_counted[key] = {
            k: v for k, v in message[2].items() if isinstance(v, int | float)
        }
        state.usage_last = key
    return state


def _carry_of(state: ParseState, before: Mapping[str, Any] | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    if state.agent != "unknown":
        out["agent"] = state.agent
    if state.codex_total is not None:
        out["codex_total"] = state.codex_total
    if state.model is not None:
        out["model"] = state.model
    if state.usage_last is not None:
        key = state.usage_last
        out["claude_message"] = [key[0], key[1], state.usage_counted.get(key, {})]
    if not out and before:
        return dict(before)  # a segment without usage passes the previous one's on
    return out or None
