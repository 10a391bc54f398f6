"""A card of the conversation view: one thing said or done, its fields, and its Markdown
rendered only when a page shows it; walking, fitting and counting a page's cards.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from markupsafe import Markup

from uploader.agents.transcript import Entry

from . import markup
from .diffs import Diff
from .render import Shown


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
