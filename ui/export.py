"""A session's conversation as one file to share or archive outside the tool
(`agent-uploader export SID --format md|html`).

- html: one standalone page, the dashboard's cards (ui/page_cards.py, templates/_macros.html)
  with its style sheets inlined in a <style> element and no scripts at all; images in the
  file as data: URLs (the dashboard's rules: PNG, JPEG, GIF, WebP, up to 10 MB each);
  folds are <details>, which need no script.
- md: Markdown, each card as a heading line and its text; code, commands, outputs and
  diffs in fences long enough never to be closed by the text inside; injected context in
  <details>; images named, not embedded.

Both stream: lines are read and parsed a page at a time (PAGE_LINES, longer by up to
chat.PARTNER_LINES while a tool call waits for its result, so that no call is cut from its
result), and each page is written before the next is read. Texts are not cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from uploader import __version__
from uploader.agents.transcript import Entry, ParseState, parse_line
from uploader.read.summaries import SessionSummary

from . import chat, images, page_cards, tokens
from .card import Card
from .render import when
from .resources import resource_dir

PAGE_LINES = 200
#: Characters of a text exported: everything (a cap only against absurd lines).
EXPORT_CAP = 1 << 30
STYLE_SHEETS = ("app.css", "highlight.css")
_BACKTICKS = re.compile(r"`+")


def pages(
    lines: Iterable[tuple[int, bytes]], agent: str
) -> Iterator[tuple[list[Entry], dict[int, bytes]]]:
    """The session's entries a page at a time (one ParseState throughout), with the lines
    of the page that carry images (for their data: URLs)."""
    state = ParseState()
    source = iter(lines)
    while True:
        entries: list[Entry] = []
        with_images: dict[int, bytes] = {}
        waiting: set[str] = set()
        extra = 0
        ended = True
        for count, (index, data) in enumerate(source, 1):
            parsed = parse_line(data, index, agent, state)
            entries.extend(parsed)
            for e in parsed:
                if e.images:
                    with_images[index] = data
                if e.kind == "tool_call" and e.call_id:
                    waiting.add(e.call_id)
                elif e.kind == "tool_result" and e.call_id:
                    waiting.discard(e.call_id)
            if count >= PAGE_LINES:
                if not waiting or extra >= chat.PARTNER_LINES:
                    ended = False
                    break
                extra += 1
        if entries:
            yield entries, with_images
        if ended:
            return


def _cards(entries: list[Entry], with_images: dict[int, bytes], embed: bool) -> list[Card]:
    def image_url(line: int, k: int) -> str:
        data = with_images.get(line)
        found = images.data_url(data, k) if embed and data is not None else None
        return found or ""

    return page_cards.cards(entries, image_url=image_url, cap=EXPORT_CAP)


# -- HTML ---------------------------------------------------------------------------------------


def style() -> Markup:
    """The dashboard's style sheets, for a <style> element (our own files: trusted)."""
    css = "\n".join((resource_dir("static") / name).read_text() for name in STYLE_SHEETS)
    if "</" in css:
        raise ValueError("a style sheet holds '</', which would end the <style> element")
    return Markup(css)


def html(
    summary: SessionSummary, lines: Iterable[tuple[int, bytes]], *, note: str = ""
) -> Iterator[str]:
    """The conversation as one standalone HTML page, in pieces."""
    from .app import templates  # the Jinja environment and filters the dashboard uses

    macros: Any = templates().env.get_template("export.html").module
    yield str(macros.head(summary, style(), note, when(datetime.now(UTC).timestamp())))
    total: dict[str, float] = {}
    for entries, with_images in pages(lines, summary.agent):
        total = tokens.summed(total, tokens.totals(entries)) or {}
        yield str(macros.cards(summary.sid, _cards(entries, with_images, embed=True)))
    yield str(macros.tail(total, __version__))


# -- Markdown -----------------------------------------------------------------------------------


def markdown(
    summary: SessionSummary, lines: Iterable[tuple[int, bytes]], *, note: str = ""
) -> Iterator[str]:
    """The conversation as Markdown, in pieces."""
    yield f"# {_line(summary.title)}\n\n"
    facts = [
        f"Session `{summary.sid}`",
        f"{summary.agent_name}",
        f"{summary.lines:,} lines",
    ]
    if summary.host:
        facts.append(f"on {_line(summary.host)}")
    if summary.first_ts:
        facts.append(f"from {when(summary.first_ts)} UTC")
    yield " · ".join(facts) + "\n\n"
    if note:
        yield f"_{_line(note)}_\n\n"
    total: dict[str, float] = {}
    for entries, with_images in pages(lines, summary.agent):
        total = tokens.summed(total, tokens.totals(entries)) or {}
        for card in _cards(entries, with_images, embed=False):
            yield from _card_md(card)
    if total:
        yield "---\n\n" + "Tokens in all: " + " · ".join(tokens.usage_parts(total)) + "\n"


def _line(text: str) -> str:
    return " ".join(text.split())


def fence(text: str, language: str = "") -> str:
    """A fenced block that the text inside cannot close."""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text.rstrip(chr(10))}\n{ticks}\n\n"


def _head(card: Card, what: str) -> str:
    e = card.entry
    parts = [what, f"line {card.line + 1}"]
    if e.ts:
        parts.append(e.ts[:19].replace("T", " "))
    return "**" + parts[0] + "** · " + " · ".join(parts[1:]) + "\n\n"


def _card_md(card: Card) -> Iterator[str]:
    e, kind = card.entry, card.kind
    if kind == "group":
        for child in card.children:
            yield from _card_md(child)
        return
    if kind == "user":
        yield _head(card, "User")
        yield fence(card.text.text) if card.text.text.strip() else ""
    elif kind == "assistant":
        yield _head(card, "Assistant")
        yield card.text.text.strip() + "\n\n"
    elif kind == "reasoning":
        yield _head(card, "Reasoning")
        yield "".join(f"> {line}\n" for line in card.text.text.strip().split("\n")) + "\n"
    elif kind == "encrypted":
        yield f"_reasoning (encrypted), line {card.line + 1}_\n\n"
    elif kind == "context":
        yield f"<details><summary>Context: {_line(card.label)} (line {card.line + 1})</summary>\n\n"
        yield fence(card.text.text) + "</details>\n\n"
    elif kind == "command":
        if e.title == "command":
            yield _head(card, f"Command `{e.name}`" + (f" `{e.arguments}`" if e.arguments else ""))
        else:
            yield _head(card, "Command output") + fence(card.text.text)
    elif kind == "tool_call":
        yield from _tool_md(card)
    elif kind == "tool_result":
        yield _head(card, f"Tool result `{e.name or '?'}`" + _status(card))
        yield fence(card.text.text)
    elif kind in ("summary", "compaction"):
        yield _head(card, "Compaction summary" if kind == "summary" else "Compaction")
        yield card.text.text.strip() + "\n\n"
    elif kind == "usage":
        yield f"_tokens: {' · '.join(tokens.usage_parts(card.usage))}_\n\n"
    elif kind == "note":
        text = "" if e.text.startswith("{") else f": {_line(e.text)[:300]}"
        yield f"_{card.label or e.title or 'note'}{_status(card)}{text}_ (line {card.line + 1})\n\n"
    elif kind == "event":
        yield _head(card, f"Event `{e.title or '?'}`") + fence(card.text.text, "json")
    else:
        yield _head(card, "Raw line") + fence(card.text.text)
    if kind in ("user", "tool_result") and e.images:
        yield " ".join(f"_[image: {im.media_type}]_" for im in e.images) + "\n\n"
    if card.usage and kind != "usage":
        model = f"{card.model} · " if card.model else ""
        yield f"_tokens: {model}{' · '.join(tokens.usage_parts(card.usage))}_\n\n"


def _status(card: Card) -> str:
    if card.status:
        return f" · {card.status}" + (" (failed)" if card.failed else "")
    return " · failed" if card.failed else ""


def _tool_md(card: Card) -> Iterator[str]:
    e = card.entry
    what = f"Tool `{e.name or 'call'}`" + (f" {_line(card.subtitle)}" if card.subtitle else "")
    yield _head(card, what + _status(card))
    if card.diff is not None:
        body = "\n".join(_diff_line(kind, text) for kind, text in card.diff.lines)
        yield fence(body, "diff")
    elif card.command_text is not None:
        yield fence(card.command_text, "sh")
    elif card.arguments.text and not card.facts:
        yield fence(card.arguments.text, "json")
    if card.facts:
        yield " · ".join(f"{key}: `{value}`" for key, value in card.facts) + "\n\n"
    if card.result is not None:
        yield f"Result (line {card.result.line + 1}):\n\n"
        yield fence(card.result_text.text) if card.result_text.text.strip() else "_no output_\n\n"
        if card.result.images:
            yield " ".join(f"_[image: {im.media_type}]_" for im in card.result.images) + "\n\n"
    if card.end_text.text.strip():
        yield "Output when it ended:\n\n" + fence(card.end_text.text)


def _diff_line(kind: str, text: str) -> str:
    prefix = {"add": "+", "del": "-", "ctx": " ", "hunk": "@@ ", "file": "### ", "note": "# "}
    return prefix.get(kind, "") + text
