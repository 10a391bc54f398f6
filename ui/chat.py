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
Pygments'; this module builds no HTML itself.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from uploader.agents.base import is_uuid
from uploader.agents.transcript import QUIET_EVENTS, Entry, ParseState, parse_line, parse_lines
from uploader.agents.usage import add_usage_entry
from uploader.read.catalog import SessionSummary

from . import images, markup
from .diffs import Diff, tool_diff
from .render import CAP_CHARS, Shown, shown
from .service import MAX_PAGE, Reading, Sessions

#: Lines read past either end of a page to find the other half of a call and its result.
PARTNER_LINES = 50
#: Characters of an assistant's text shown before it is folded (a message is read whole).
ASSISTANT_FOLD_CHARS = 12_000
#: Events that say how a tool call ended: they join the call's card.
ENDINGS = frozenset({"exec_command_end", "patch_apply_end"})
#: Messages that are the agent's instructions, not the conversation: folded as context.
CONTEXT_EVENTS = frozenset({"developer message", "system message"})
#: Notes that describe the session rather than say something: folded as context.
CONTEXT_NOTES = frozenset({"session_meta", "turn_context", "session"})
#: Tools whose arguments are a shell command.
_SHELL_ARGS = ("command", "cmd")
_SUBTITLE_KEYS = ("description", "file_path", "pattern", "path", "url", "query", "prompt")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_RUNNING = re.compile(r"^Process running with session ID", re.M)
_IMAGE_MARK = "[image]"

ImageUrl = Callable[[int, int], str]


@dataclass
class Card:
    """One thing on the page. `kind` names its look (the `k-<kind>` class)."""

    kind: str
    entry: Entry
    text: Shown = field(default_factory=lambda: Shown(""))
    markdown: bool = False  # the text is Markdown (rendered when a page shows the card)
    folds: bool = False  # the text is long: its first part shows, the rest on a click
    label: str = ""  # what the header says besides the kind
    anchor: str = ""  # the element's id
    anchor_line: int = -1  # the line the card stands for on this page
    # A tool call's:
    result: Entry | None = None
    result_text: Shown = field(default_factory=lambda: Shown(""))
    result_anchor: str = ""
    result_later: bool = False  # the result is on a line past the page's end
    end: Entry | None = None
    end_text: Shown = field(default_factory=lambda: Shown(""))
    arguments: Shown = field(default_factory=lambda: Shown(""))
    arguments_json: bool = False  # the arguments are JSON (coloured when shown)
    facts: list[tuple[str, str]] = field(default_factory=list)  # small arguments, as words
    command: Markup | None = None
    command_text: str | None = None
    subtitle: str = ""
    diff: Diff | None = None
    status: str = ""  # "exit 2", "error", "exit 0", "no result yet"
    failed: bool = False
    partner: str = ""  # "before": the call came from the page before this one
    subagent: str | None = None  # the subagent's session id
    images: list[tuple[str, str]] = field(default_factory=list)  # (url, media type)
    result_images: list[tuple[str, str]] = field(default_factory=list)
    # Token usage of the message this card ends:
    usage: dict[str, float] | None = None
    model: str | None = None
    children: list[Card] = field(default_factory=list)  # a folded group's cards

    # Rendered only for the cards a page shows (fit_cards cuts a page before this).

    @functools.cached_property
    def html(self) -> Markup | None:
        """The text as Markdown."""
        return markup.markdown(self.text.text) if self.markdown else None

    @functools.cached_property
    def head_html(self) -> Markup | None:
        """The first part of the text as Markdown, when it folds."""
        return markup.markdown(self.text.head) if self.markdown and self.folds else None

    @functools.cached_property
    def arguments_html(self) -> Markup | None:
        return markup.highlight(self.arguments.text, "json") if self.arguments_json else None

    @property
    def status_class(self) -> str:
        if self.failed:
            return "bad"
        return "ok" if self.status.startswith("exit") else "tag"

    @property
    def line(self) -> int:
        return self.anchor_line if self.anchor_line >= 0 else self.entry.line

    @property
    def chars(self) -> int:
        """Characters of transcript this card puts on a page."""
        own = len(self.text.text) + len(self.arguments.text) + len(self.result_text.text)
        own += len(self.end_text.text)
        if self.diff is not None:
            own += sum(len(text) for _, text in self.diff.lines)
        return own + sum(child.chars for child in self.children)


# -- what an entry is on the page ------------------------------------------------------------


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


# -- tool calls ---------------------------------------------------------------------------------


def _parsed(arguments: str | None) -> Any:
    if not arguments or not arguments.lstrip().startswith("{") or len(arguments) > 1_000_000:
        return None
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):
        return None


def _shell_command(args: Any) -> str | None:
    """The command of a shell-like tool's arguments (`command`, `cmd`, Codex's action)."""
    if not isinstance(args, dict):
        return None
    action = args.get("action")
    if isinstance(action, dict) and "command" in action:
        args = action
    for key in _SHELL_ARGS:
        value = args.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if len(value) == 3 and value[1] in ("-lc", "-c") and value[0].endswith("sh"):
                return str(value[2])  # ["bash", "-lc", script]: the script
            return shlex.join(value)
    return None


def _subtitle(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    for key in _SUBTITLE_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:160]
    return ""


def _facts(args: Any, subtitle: str) -> list[tuple[str, str]] | None:
    """Arguments that are a few short words (`{"path": "a.py", "limit": 50}`) as (key,
    value) pairs, less the one the subtitle shows; None when they are more than that."""
    if not isinstance(args, dict) or len(args) > 8:
        return None
    out = []
    for key, value in args.items():
        if isinstance(value, str):
            if len(value) > 200 or "\n" in value:
                if key in _SHELL_ARGS:
                    continue
                return None
            if subtitle and " ".join(value.split())[:160] == subtitle:
                continue
            out.append((str(key), value))
        elif value is None or isinstance(value, bool | int | float):
            out.append((str(key), json.dumps(value)))
        elif key in _SHELL_ARGS or key == "action":
            continue
        else:
            return None
    return out


def _clean(text: str) -> str:
    """Terminal colours and titles out of a command's output."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def _tool_card(
    call: Entry, result: Entry | None, end: Entry | None, cap: int, image_url: ImageUrl
) -> Card:
    card = Card("tool_call", call)
    args = _parsed(call.arguments)
    card.subtitle = _subtitle(args)
    card.diff = tool_diff(call.name, call.arguments)
    command = _shell_command(args) if card.diff is None else None
    facts = _facts(args, card.subtitle)
    if command is not None:
        card.command, card.command_text = markup.code_block(command, "bash"), command
        card.facts = [(k, v) for k, v in facts or () if k not in _SHELL_ARGS]
    elif facts is not None:
        card.facts = facts
    elif card.diff is None:
        card.arguments = shown(call.arguments, cap)
        if isinstance(args, dict | list) and not card.arguments.held_back:
            card.arguments_json = True
    card.text = shown(call.text, cap)
    if result is not None:
        card.result = result
        card.result_text = shown(_clean(_without_image_marks(result)), cap)
        card.result_images = _images(result, image_url)
        card.subagent = result.subagent
    if end is not None:
        card.end = end
        if result is None or _RUNNING.search(result.text[:2000]):
            card.end_text = shown(_clean(end.text), cap)  # what it printed once it ended
    code = end.exit_code if end is not None and end.exit_code is not None else None
    if code is None and result is not None:
        code = result.exit_code
    card.failed = bool((result is not None and result.is_error) or (end and end.is_error))
    if code is not None:
        card.status = f"exit {code}"
    elif card.failed:
        card.status = "error"
    elif result is None and end is None and call.name != "web_search":  # a search has none
        card.status = "no result here"
    return card


def _images(entry: Entry, image_url: ImageUrl) -> list[tuple[str, str]]:
    """(URL, media type) of the entry's images that are shown (not SVG, not HTML...)."""
    return [
        (image_url(entry.line, im.index), im.media_type)
        for im in entry.images
        if images.shown(im.media_type)
    ]


def _without_image_marks(entry: Entry) -> str:
    """The text with the `[image]` placeholders of the images shown beside it taken out."""
    text = entry.text
    shown_images = sum(images.shown(im.media_type) for im in entry.images)
    if not shown_images or _IMAGE_MARK not in text:
        return text
    lines, left = [], shown_images
    for line in text.split("\n"):
        if left and line == _IMAGE_MARK:
            left -= 1
            continue
        lines.append(line)
    return "\n".join(lines)


# -- cards --------------------------------------------------------------------------------------


def _text_card(kind: str, entry: Entry, cap: int, image_url: ImageUrl) -> Card:
    card = Card(kind, entry)
    if kind == "command":
        card.text = shown(_clean(entry.text), cap)
    else:
        card.text = shown(_without_image_marks(entry), cap)
    card.images = _images(entry, image_url)
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
            out.append(_tool_card(e, result, end, cap, url))
        elif e.kind == "tool_result":
            call = earlier.pop(e.call_id or "", None)
            if call is not None:  # its call is on the page before: shown together here
                end = endings.get(e.call_id or "")
                if end is not None and end.line >= e.line:
                    joined.add(id(end))
                else:
                    end = None
                card = _tool_card(call, e, end, cap, url)
                card.partner, card.anchor_line = "before", e.line
            else:
                card = _text_card("tool_result", e, cap, url)
                card.text = shown(_clean(card.text.text), cap)
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
    card = Card("note", e, text=shown(_clean(e.text), cap), failed=e.is_error)
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


def summed(a: dict[str, float] | None, b: dict[str, float] | None) -> dict[str, float] | None:
    if not a or not b:
        return a or b
    return {k: a.get(k, 0) + b.get(k, 0) for k in dict.fromkeys([*a, *b])}


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


def walk(out: Iterable[Card]) -> Iterator[Card]:
    """Every card, the ones inside groups included, in order."""
    for card in out:
        yield card
        yield from walk(card.children)


def fit_cards(out: list[Card], budget: int, stop: int) -> tuple[list[Card], int]:
    """Cards while their text stays within `budget` characters (at least one), and the
    first line the next page starts at (`stop` when all fit)."""
    used = 0
    for n, card in enumerate(out[:-1]):
        used += card.chars
        if used >= budget:
            return out[: n + 1], out[n + 1].entry.line
    return out, stop


def shown_lines(out: Iterable[Card]) -> set[int]:
    """The lines the cards show (a call's result and ending included)."""
    lines: set[int] = set()
    for card in walk(out):
        lines.add(card.entry.line)
        for other in (card.result, card.end):
            if other is not None:
                lines.add(other.line)
    return lines


# -- a page ---------------------------------------------------------------------------------------


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


# -- numbers ------------------------------------------------------------------------------------

_USAGE_NAMES = (
    ("input", "in"), ("output", "out"), ("cache_read", "cache read"),
    ("cache_write", "cache write"), ("reasoning", "reasoning"), ("total", "total"),
)  # fmt: skip


def usage_parts(usage: dict[str, float] | None) -> list[str]:
    """Token numbers as a page shows them: `in 1,204`, `out 88`, `$0.0970`."""
    if not usage:
        return []
    parts = [f"{label} {_number(usage[key])}" for key, label in _USAGE_NAMES if key in usage]
    if usage.get("cost_usd"):  # a cost of 0 is a proxy that does not count, not news
        parts.append(cost(usage["cost_usd"]))
    if usage.get("estimate_usd"):
        partial = " (partial: unknown model)" if usage.get("unpriced") else ""
        parts.append(f"≈ {cost(usage['estimate_usd'])} at list prices{partial}")
    return parts


def cost(value: float) -> str:
    """Dollars to four places (`$0.0970`), or to two from a dollar up."""
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def totals(entries: Iterable[Entry]) -> dict[str, float]:
    """The sum of the usage entries (each counted once by the parsers), with the list
    price of those whose agent recorded no cost (`estimate_usd`; `unpriced`: how many
    messages of a model the price table does not know)."""
    out: dict[str, float] = {}
    for e in entries:
        if e.kind == "usage" and e.usage:
            add_usage_entry(out, e.usage, e.title)
    return out


# -- a session's page -----------------------------------------------------------------------------

#: Sessions up to this size get their token totals summed when their page first opens;
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
