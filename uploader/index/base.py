"""What an index holds and the calls every backend answers (SQLite, PostgreSQL).

An index is a cache of one store, never the truth: it can be deleted at any time and
rebuilt from the store. What it holds:

- a **document** per transcript line worth searching (`Doc`): the line's text by role
  (user, assistant, reasoning, tool call arguments, tool output, summary), the tool's
  name and the file paths it touched, capped in size (uploader.index.extract);
- a **usage record** per API message that reported tokens (`UsageRecord`), counted once
  as the segments' own accounting does;
- the **session's facts** (`SessionFacts`): the summary the session list shows, plus
  cwd, project, git branch and model, for filters.

Segments never change once uploaded, so a segment is indexed once: its documents, its
usage records and its mark (sid, seq) are written in one transaction, and a writer that
finds the mark there skips it. A killed indexer leaves either all of a segment or none
of it; many indexers writing the same segment at once write the same rows once. The
lines a `watch` has read but not uploaded yet are searchable too, as live documents
that the segment's own replace when it is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Roles a document can have, in the order the search page offers them.
#: `other`: the lines of a transcript whose agent is not known, as they are.
ROLES = ("user", "assistant", "reasoning", "tool_call", "tool_output", "summary", "other")
#: What `usage --by` groups by.
USAGE_GROUPS = ("day", "model", "agent", "project", "session")
#: The figures a usage record holds (cost_usd: reported by the agent, else estimated).
USAGE_FIGURES = ("input", "output", "cache_read", "cache_write", "reasoning", "cost_usd")
#: The figures that make a group's `tokens`.
TOKEN_FIGURES = ("input", "output", "cache_read", "cache_write")
#: A search that takes longer is stopped (QueryError): a query can be made to scan every
#: document (a short prefix, many ORs), and the dashboard must stay responsive.
SEARCH_TIMEOUT_S = 5.0
#: A snippet's match is between these two characters (never in indexed text: extract
#: strips them), so that each caller marks it its own way (HTML <mark>, bold on a
#: terminal, `[...]` in JSON).
MARK_START = "\x02"
MARK_END = "\x03"


@dataclass(frozen=True, slots=True)
class Doc:
    """One searchable line of a segment."""

    line: int  # the line's index in its generation (0-based), as the dashboard counts
    role: str  # one of ROLES
    text: str
    ts: float | None = None  # epoch seconds
    tool: str | None = None  # a tool call's or tool output's tool name
    paths: str = ""  # file paths the line's tool call touched, space-separated


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """The tokens of one API message (or one Codex turn)."""

    line: int
    ts: float | None
    model: str | None
    figures: Mapping[str, float]  # keys from USAGE_FIGURES


@dataclass(frozen=True, slots=True)
class SegmentDocs:
    """What one segment adds to the index."""

    sid: str
    seq: int
    generation: int
    docs: Sequence[Doc]
    usage: Sequence[UsageRecord]


@dataclass(frozen=True)
class SessionFacts:
    """What the index knows of a session besides its lines: `summary` is the session
    list's record (uploader.read.summaries.SessionSummary.to_json()), the rest is for
    filters and grouping."""

    sid: str
    agent: str
    title: str
    updated: float | None
    created: float | None
    closed: bool
    summary: Mapping[str, Any]
    host: str = ""
    cwd: str | None = None
    project: str | None = None  # the last folder of cwd
    git_branch: str | None = None
    model: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    """A search, as `agent-uploader search` and the dashboard's search page take it.
    `text` is in the query language of uploader.index.query (already checked)."""

    text: str
    agent: str | None = None
    since: float | None = None  # epoch seconds: only lines from then on
    role: str | None = None  # one of ROLES
    tool: str | None = None  # a tool's name, exactly (case-insensitive)
    project: str | None = None  # the project's folder name, or a part of its cwd
    sid: str | None = None  # only this session
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class Hit:
    sid: str
    generation: int
    seq: int
    line: int
    ts: float | None
    agent: str
    role: str
    tool: str | None
    title: str
    snippet: str  # the match between MARK_START and MARK_END

    def to_json(self) -> dict[str, Any]:
        """The object `search --json` prints, with the match in [brackets]."""
        return {
            "sid": self.sid,
            "generation": self.generation,
            "line": self.line,
            "ts": self.ts,
            "agent": self.agent,
            "role": self.role,
            "tool": self.tool,
            "title": self.title,
            "snippet": self.snippet.replace(MARK_START, "[").replace(MARK_END, "]"),
        }


@dataclass(frozen=True)
class UsageTotal:
    """The usage of one group (a day "2026-12-04", a model, an agent, a project, a sid)."""

    key: str
    messages: int
    figures: dict[str, float] = field(default_factory=dict)
    title: str | None = None  # by session: the session's title

    @property
    def tokens(self) -> float:
        return sum(self.figures.get(k, 0) for k in TOKEN_FIGURES)


@dataclass(frozen=True)
class SessionPage:
    """One page of the session list, and how many sessions match in all."""

    summaries: list[Mapping[str, Any]]
    total: int


@dataclass(frozen=True)
class ListQuery:
    """The session list's filters and order, as uploader.read.listing.Query has them."""

    text: str = ""  # in the title, the id or the label (case-insensitive)
    agent: str = ""
    updated_since: float | None = None
    sort: str = "updated"  # a column of the list (catalog.SORT_KEYS)
    descending: bool = True
    offset: int = 0
    limit: int = 50


class Index(Protocol):
    """A search index of one store. Safe to use from several threads (each call takes
    what it needs), and from several processes at once."""

    #: Where it is, for messages (a file's path, a database URL without its password).
    description: str

    def bind(self, store: str) -> None:
        """Record which store this index is of; IndexMismatch when it already holds
        another store's sessions."""

    def indexed(self, sid: str) -> set[int]:
        """The seqs of the session's segments already in the index."""

    def add_segment(self, segment: SegmentDocs) -> bool:
        """Add one segment's documents and usage, and its mark, in one transaction.
        False (and nothing written) when the segment was already there."""

    def add_live(self, sid: str, generation: int, seq: int, docs: Sequence[Doc], *,
                 replace: bool) -> None:  # fmt: skip
        """Lines of a segment still being written (a `watch`'s active segment), searchable
        at once; the segment's own documents replace them when it is added. `replace`:
        drop the session's earlier such lines first (a new active segment, a restart)."""

    def put_session(self, facts: SessionFacts) -> None:
        """Add or replace the session's facts."""

    def remove_session(self, sid: str) -> None:
        """Forget the session: its facts, documents, usage and marks."""

    def sids(self) -> set[str]:
        """Every session the index has facts of."""

    def get_meta(self, key: str) -> str | None:
        """A value the indexer keeps between runs (where its last refresh got to)."""

    def set_meta(self, key: str, value: str) -> None: ...

    def search(self, query: SearchQuery) -> list[Hit]:
        """Hits, best first (most recent first among equals)."""

    def usage(
        self, *, by: str, since: float | None = None, agent: str | None = None
    ) -> list[UsageTotal]:
        """Usage totals grouped `by` one of USAGE_GROUPS, largest cost (then tokens)
        first; `day` groups in date order."""

    def sessions(self, query: ListQuery) -> SessionPage:
        """One page of the session list, from the index alone."""

    def stats(self) -> dict[str, int]:
        """Counts for `index` and the benchmarks: sessions, segments, docs, usage, bytes."""

    def close(self) -> None: ...
