"""The conversation view: transcript entries as the cards a reader sees.

One card per thing said or done, in the transcript's order:

- a tool call holds its result, the event that says how it ended (Codex's
  `exec_command_end` / `patch_apply_end`) and its exit status, failures marked; a call and
  its result on two sides of a page boundary are fetched together (`read_page` reads up
  to PARTNER_LINES lines past either end of the page for the missing half);
- an edit (Edit, MultiEdit, Write, apply_patch, pi's edit and write) is shown as a diff,
  a shell command as the command, other arguments as JSON;
- assistant text, readable reasoning and summaries as Markdown (ui/markup.py); encrypted
  reasoning as one small marker; whitespace-only text as nothing at all;
- images carried in a line, inline (served by /api/sessions/SID/lines/N/images/K);
- context the agent or its CLI injected (system and developer prompts, AGENTS.md,
  environment context, `isMeta` text, the session's settings) folded under "Context";
  slash commands as a command, with what they printed;
- token usage once per assistant message (on its last card), cost as dollars;
- bookkeeping (hooks running, file backups, turn timings, copies of turns the agent keeps
  for its own display) is left out here, and is in the raw view.

Every card has an `id` unique on the page: `L<n>` for the first card of line n (0-based,
as the API counts), `L<n>-<k>` for the next ones. Escaping is Jinja's, Markdown's and
Pygments'; these modules build no HTML themselves.

This module reads a session's page (its lines, and the partners of calls cut off by the
page's ends), sums its token usage and finds its subagents. The cards: card.py (the Card
and what a page does with a list of them), page_cards.py (a page's entries as cards:
pairing, usage, folding, anchors), tool_cards.py (a tool call's card), tokens.py (usage
and cost in words).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from uploader.agents.base import is_uuid
from uploader.agents.transcript import Entry, ParseState, parse_line, parse_lines
from uploader.read.summaries import SessionSummary

from .card import Card
from .page_cards import ENDINGS, cards
from .service import MAX_PAGE, Reading, Sessions
from .tokens import summed, totals
from .tool_cards import ImageUrl

#: Lines read past either end of a page to find the other half of a call and its result.
PARTNER_LINES = 50


@dataclass
class Page:
    """A page's entries, and the entries of the lines just outside it that hold the
    other half of a call or result cut off by the page's ends."""

    entries: list[Entry]
    before: list[Entry] = field(default_factory=list)
    after: list[Entry] = field(default_factory=list)


def open_ends(entries: list[Entry]) -> tuple[set[str], set[str]]:
    """(ids of calls on the page without their result, ids of results on the page without
    their call)."""
    calls = {e.call_id for e in entries if e.kind == "tool_call" and e.call_id}
    answered = {e.call_id for e in entries if e.kind == "tool_result" and e.call_id}
    return calls - answered, answered - calls


def read_page(
    lines: Callable[[int, int], Iterable[tuple[int, bytes]]],
    agent: str,
    start: int,
    limit: int,
    total: int,
) -> Page:
    """The entries of lines [start, start + limit), and of up to PARTNER_LINES lines on
    either side when a call or a result at the page's ends needs them. `lines(start, n)`
    reads lines of the session."""
    stop = min(total, start + limit)
    page = Page(list(parse_lines(lines(start, stop - start), agent)))
    waiting, orphans = open_ends(page.entries)
    if waiting and stop < total:
        n = min(PARTNER_LINES, total - stop)
        page.after = [
            e
            for e in parse_lines(lines(stop, n), agent)
            if e.call_id in waiting and (e.kind == "tool_result" or e.title in ENDINGS)
        ]
    if orphans and start > 0:
        first = max(0, start - PARTNER_LINES)
        page.before = [
            e
            for e in parse_lines(lines(first, start - first), agent)
            if e.kind == "tool_call" and e.call_id in orphans
        ]
    return page


#: after that only the lines added since are read.
TOTALS_MAX_BYTES = 32 << 20
_TOTALS_KEPT = 64
_Counted = tuple[int, dict[str, float], ParseState]  # lines summed, their totals, the state
_totals: weakref.WeakKeyDictionary[Sessions, dict[tuple[Any, ...], _Counted]] = (
    weakref.WeakKeyDictionary()
)  # per dashboard (a Sessions reads one store)
_totals_lock = threading.Lock()


def session_cards(
    sessions: Sessions, r: Reading, start: int, limit: int, subagents: Mapping[str, str]
) -> list[Card]:
    """The cards of a session's page (blocking: reads the store)."""

    def lines(first: int, n: int) -> Iterable[tuple[int, bytes]]:
        return sessions.iter_lines(r, first, n)

    page = read_page(lines, r.agent, start, limit, r.plan.lines)
    return cards(
        page.entries, before=page.before, after=page.after, image_url=image_urls(r),
        subagents=subagents,
    )  # fmt: skip


def image_urls(r: Reading) -> ImageUrl:
    """Where the dashboard serves image k of line n of this reading."""
    generation = f"?generation={r.plan.generation}" if r.plan.generation else ""

    def image_url(line: int, k: int) -> str:
        return f"/api/sessions/{r.sid}/lines/{line}/images/{k}{generation}"

    return image_url


def session_totals(sessions: Sessions, r: Reading) -> dict[str, float] | None:
    """The session's token usage summed over its lines (blocking). Remembered per
    session, generation and checkpoint with the parser's state, so a live session's page
    reads only the lines added since; None for a session over TOTALS_MAX_BYTES not
    summed yet (a page never reads a whole large session)."""
    checkpoint = r.plan.checkpoint.id if r.plan.checkpoint else None
    first = r.plan.pieces[0].entry.sha256 if r.plan.pieces else None  # the same session
    key = (r.sid, first, r.plan.generation, checkpoint)
    with _totals_lock:
        kept = _totals.setdefault(sessions, {})
        counted, found, state = kept.get(key, (0, {}, ParseState()))
        if counted > r.plan.lines:  # not the same lines any more: start again
            counted, found, state = 0, {}, ParseState()
        if counted == 0 and r.summary.bytes > TOTALS_MAX_BYTES:
            return None

        def new_lines() -> Iterator[tuple[int, bytes]]:
            for first in range(counted, r.plan.lines, MAX_PAGE):
                yield from sessions.iter_lines(r, first, MAX_PAGE)

        for index, data in new_lines():
            found = summed(found, totals(parse_line(data, index, r.agent, state))) or {}
        kept.pop(key, None)
        while len(kept) >= _TOTALS_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = (r.plan.lines, found, state)
        return found


@dataclass
class Family:
    """A Claude Code session's subagents (sessions `<sid>-agent-<id>`), or a subagent's
    parent (its id up to `-agent-`)."""

    parent: str | None = None  # the parent's id, when this is a subagent
    parent_title: str | None = None  # None: the parent is not in the store
    children: list[SessionSummary] = field(default_factory=list)
    agent_ids: dict[str, str] = field(default_factory=dict)  # a child's agent id -> its id


SUBAGENT_MARK = "-agent-"


def family(summaries: Iterable[SessionSummary], sid: str) -> Family:
    out = Family()
    parent, mark, agent_id = sid.partition(SUBAGENT_MARK)
    if mark and is_uuid(parent) and agent_id:
        out.parent = parent
    prefix = sid + SUBAGENT_MARK
    has_children = is_uuid(sid)  # only a Claude Code session (named by its UUID) has any
    for s in summaries:
        if has_children and s.sid.startswith(prefix) and len(s.sid) > len(prefix):
            out.children.append(s)
            out.agent_ids[s.sid[len(prefix) :]] = s.sid
        elif out.parent is not None and s.sid == out.parent:
            out.parent_title = s.title
    out.children.sort(key=lambda s: (s.first_ts or s.created or 0, s.sid))
    return out
