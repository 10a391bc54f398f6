"""A page's entries as cards: what each entry is on the page (or why it has none), tool
calls paired with their results and endings (across the page's ends too), each
message's token usage on its last card, runs of context and notes folded, and the
anchors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from uploader.agents.transcript import QUIET_EVENTS, Entry

from .card import Card, walk
from .render import CAP_CHARS, shown
from .tokens import summed
from .tool_cards import ImageUrl, image_links, strip_terminal, tool_card, without_image_marks

#: Characters of an assistant's text shown before it is folded (a message is read whole).
ASSISTANT_FOLD_CHARS = 12_000
#: Events that say how a tool call ended: they join the call's card.
ENDINGS = frozenset({"exec_command_end", "patch_apply_end"})
#: Messages that are the agent's instructions, not the conversation: folded as context.
CONTEXT_EVENTS = frozenset({"developer message", "system message"})
#: Notes that describe the session rather than say something: folded as context.
CONTEXT_NOTES = frozenset({"session_meta", "turn_context", "session"})


def hidden(entry: Entry) -> str | None:
    """Why an entry has no card of its own, or None when it gets one: bookkeeping, a copy
    of what another line says, or nothing to show."""
    if entry.kind == "event" and entry.title in QUIET_EVENTS and entry.title not in ENDINGS:
        return "bookkeeping"
    if entry.kind in ("user", "assistant") and not entry.text.strip() and not entry.images:
        return "empty"
    if entry.kind == "reasoning" and not entry.text.strip() and entry.title != "encrypted":
        return "empty"
    return None


_INTERRUPTED = re.compile(r"^\[Request interrupted by user[^\]\n]{0,40}\]$")


def _kind(entry: Entry) -> str:
    kind, title = entry.kind, entry.title
    if kind == "user":
        if title in ("context", "isMeta"):
            return "context"
        if _INTERRUPTED.match(entry.text.strip()):  # Claude Code's mark, in the user's name
            return "note"
        if title in ("command", "command output"):
            return "command"
        return "user"
    if kind == "reasoning":
        return "encrypted" if not entry.text.strip() else "reasoning"
    if kind == "event" and title in CONTEXT_EVENTS:
        return "context"
    if kind == "event" and title == "error" and entry.is_error:  # pi: a request that failed
        return "note"
    if kind == "event" and (title or "").startswith("system ") and entry.text[:1] != "{":
        return "note"  # Claude Code's own messages (api_error, informational, ...)
    if kind == "meta":
        return "context" if title in CONTEXT_NOTES else "note"
    return kind


def _context_label(entry: Entry) -> str:
    """A few words on what injected context this is."""
    if entry.kind == "meta":
        return {"session_meta": "session", "turn_context": "turn settings"}.get(
            entry.title or "", entry.title or "settings"
        )
    if entry.title == "isMeta":
        return "written by the CLI"
    text = entry.text.lstrip()
    if text.startswith("# AGENTS.md"):
        return "AGENTS.md"
    tag = re.match(r"<([A-Za-z_][\w \-]{0,40})>", text)
    if tag:
        return tag.group(1)
    return f"{entry.role} prompt" if entry.role else "prompt"


def _text_card(kind: str, entry: Entry, cap: int, image_url: ImageUrl) -> Card:
    card = Card(kind, entry)
    if kind == "command":
        card.text = shown(strip_terminal(entry.text), cap)
    else:
        card.text = shown(without_image_marks(entry), cap)
    card.images = image_links(entry, image_url)
    if kind in ("assistant", "reasoning", "summary", "compaction"):
        text = card.text
        card.markdown = True
        card.folds = len(text.text) > ASSISTANT_FOLD_CHARS if kind == "assistant" else text.folds
    if kind == "context":
        card.label = _context_label(entry)
    elif kind == "note" and entry.kind == "user":
        card.label = "interrupted"
    elif kind == "command" and entry.title == "command output":
        card.label = "output"
    return card


def cards(
    entries: Iterable[Entry],
    *,
    before: Iterable[Entry] = (),
    after: Iterable[Entry] = (),
    image_url: ImageUrl | None = None,
    subagents: Mapping[str, str] | None = None,
    cap: int = CAP_CHARS,
) -> list[Card]:
    """The page's cards from its entries, in order. `before` and `after`: entries of the
    lines just before and after the page, for the other half of a call cut off by the
    page's ends (nothing else of them is shown). `image_url(line, k)`: where image k of
    a line is; `subagents`: a subagent's agent id -> its session id."""
    page = list(entries)
    after = list(after)
    url = image_url or (lambda line, k: "")
    # Every tool call takes the first result (and ending) with its id, wherever it is on
    # the page or just after it; a result whose call is on the page before comes with it.
    later = [e for e in page if e.kind in ("tool_result", "event")] + list(after)
    results: dict[str, Entry] = {}
    endings: dict[str, Entry] = {}
    for e in later:
        if not e.call_id:
            continue
        if e.kind == "tool_result":
            results.setdefault(e.call_id, e)
        elif e.title in ENDINGS:
            endings.setdefault(e.call_id, e)
    calls = [e for e in page if e.kind == "tool_call" and e.call_id]
    earlier = {e.call_id: e for e in before if e.kind == "tool_call" and e.call_id}
    joined: set[int] = set()  # id() of results and endings shown with their call
    for c in calls:
        for found in (results.get(c.call_id or ""), endings.get(c.call_id or "")):
            if found is not None and found.line >= c.line:
                joined.add(id(found))
    out: list[Card] = []
    for e in page:
        if id(e) in joined or hidden(e):
            continue
        if e.kind == "tool_call":
            cid = e.call_id or ""
            result = results.get(cid) if id(results.get(cid)) in joined else None
            end = endings.get(cid) if id(endings.get(cid)) in joined else None
            out.append(tool_card(e, result, end, cap, url))
        elif e.kind == "tool_result":
            call = earlier.pop(e.call_id or "", None)
            if call is not None:  # its call is on the page before: shown together here
                end = endings.get(e.call_id or "")
                if end is not None and end.line >= e.line:
                    joined.add(id(end))
                else:
                    end = None
                card = tool_card(call, e, end, cap, url)
                card.partner, card.anchor_line = "before", e.line
            else:
                card = _text_card("tool_result", e, cap, url)
                card.text = shown(strip_terminal(card.text.text), cap)
                card.failed = e.is_error
                card.status = f"exit {e.exit_code}" if e.exit_code is not None else ""
            out.append(card)
        elif e.kind == "event" and e.title in ENDINGS:
            out.append(_ending_card(e, cap))
        elif e.kind == "usage":
            out.append(Card("usage", e, usage=e.usage, model=e.title))
        else:
            out.append(_text_card(_kind(e), e, cap, url))
    past_end = {id(e) for e in after}
    for card in out:
        card.result_later = card.result is not None and id(card.result) in past_end
        card.subagent = (subagents or {}).get(card.subagent or "")
    out = _attach_usage(out)
    out = _group(out)
    _anchor(out)
    return out


def _ending_card(e: Entry, cap: int) -> Card:
    """How a tool call whose card is not on this page ended."""
    card = Card("note", e, text=shown(strip_terminal(e.text), cap), failed=e.is_error)
    card.label = "command ended" if e.title == "exec_command_end" else "patch applied"
    card.status = f"exit {e.exit_code}" if e.exit_code is not None else ""
    if e.is_error and not card.status:
        card.status = "failed"
    return card


#: Cards a message's token usage may be shown on.
_USAGE_ON = frozenset({"assistant", "tool_call", "tool_result", "reasoning", "encrypted"})


def _attach_usage(out: list[Card]) -> list[Card]:
    """Each usage entry onto one card of its message: Claude's onto the last card with the
    same message id; pi's and OpenClaw's onto the last card of its line; Codex's (a line
    of its own) onto the card before it, or, when it comes before the response it counts
    (older Codex builds), the card after it. Alone when there is none."""
    kept: list[Card] = []
    for n, card in enumerate(out):
        if card.kind != "usage":
            kept.append(card)
            continue
        e = card.entry
        target: Card | None = None
        if e.message:
            target = next(
                (c for c in reversed(out) if c.kind != "usage" and c.entry.message == e.message),
                None,
            )
        else:
            same_line = [c for c in kept if c.entry.line == e.line and c.kind != "usage"]
            if same_line:
                target = same_line[-1]
            elif kept and kept[-1].kind in _USAGE_ON:
                target = kept[-1]
            else:
                for later in out[n + 1 :]:
                    if later.kind == "usage":
                        break
                    if later.kind in _USAGE_ON:
                        target = later
                        break
        if target is None:
            kept.append(card)
            continue
        target.usage = summed(target.usage, e.usage)
        target.model = target.model or e.title
    return kept


def _group(out: list[Card]) -> list[Card]:
    """Runs of context cards (two or more) and of notes (three or more) folded as one."""
    grouped: list[Card] = []
    n = 0
    while n < len(out):
        kind = out[n].kind
        end = n
        while end < len(out) and out[end].kind == kind:
            end += 1
        run = out[n:end]
        if (kind == "context" and len(run) >= 2) or (kind == "note" and len(run) >= 3):
            group = Card("group", run[0].entry, children=run)
            group.label = "context" if kind == "context" else "notes"
            grouped.append(group)
        else:
            grouped.extend(run)
        n = end
    return grouped


def _anchor(out: list[Card]) -> None:
    """`L<n>` for the first card of line n on the page, `L<n>-<k>` for the next ones."""
    used: dict[int, int] = {}

    def take(line: int) -> str:
        k = used.get(line, 0)
        used[line] = k + 1
        return f"L{line}" if k == 0 else f"L{line}-{k}"

    for card in walk(out):
        if card.kind == "group":
            continue
        card.anchor = take(card.line)
        result = card.result
        if result is not None and result.line != card.line and result.line not in used:
            card.result_anchor = take(result.line)
