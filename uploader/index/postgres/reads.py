"""The PostgreSQL index's queries, each the work of one transaction (PostgresIndex runs
it): the indexer's notes, what is indexed, a search, usage totals, the session list and
the table sizes. The SQL is made before, once.

May import: core, index.base, index.query, index.snippets, index.postgres's schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from uploader.core.errors import UsageError
from uploader.index.base import (
    USAGE_FIGURES,
    USAGE_GROUPS,
    Hit,
    ListQuery,
    SearchQuery,
    SessionPage,
    UsageTotal,
)
from uploader.index.postgres.schema import SCHEMA
from uploader.index.query import parse, too_slow
from uploader.index.snippets import snippet

if TYPE_CHECKING:
    import psycopg

    Connection = psycopg.Connection[tuple[Any, ...]]

#: Sort keys of the session list (uploader.read.listing.SORT_KEYS) -> the column.
_SORT_COLUMNS = {
    "updated": "coalesce(updated, 0)",
    "created": "coalesce(created, 0)",
    "title": 'title_key COLLATE "C"',
    "lines": "lines",
    "bytes": "bytes",
    "segments": "segments",
    "agent": 'agent COLLATE "C"',
}
_FIGURE_SUMS = ", ".join(f"sum(u.{f})" for f in USAGE_FIGURES)
_USAGE_KEYS = {
    "day": "coalesce(to_char(to_timestamp(u.ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'unknown')",
    "model": "coalesce(u.model, 'unknown')",
    "agent": "coalesce(s.agent, 'unknown')",
    "project": "coalesce(s.project, 'unknown')",
    "session": "u.sid",
}


def get_meta(key: str) -> Callable[[Connection], str | None]:
    def work(conn: Connection) -> str | None:
        row = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE key = %s", (key,)).fetchone()
        return str(row[0]) if row else None

    return work


def indexed(sid: str) -> Callable[[Connection], set[int]]:
    def work(conn: Connection) -> set[int]:
        rows = conn.execute(f"SELECT seq FROM {SCHEMA}.segments WHERE sid = %s", (sid,)).fetchall()
        return {int(r[0]) for r in rows}

    return work


def sids(conn: Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute(f"SELECT sid FROM {SCHEMA}.sessions").fetchall()}


def search(query: SearchQuery, timeout_ms: int) -> Callable[[Connection], list[Hit]]:
    """The hits of a search, stopped as too slow after `timeout_ms` (1 at least: 0 would
    be no limit at all)."""
    # The driver is imported where it is used: this module is imported without it too
    # (PostgresIndex then says it is missing).
    from psycopg import errors as pg_errors

    parsed = parse(query.text)
    project = query.project or ""
    params = {
        "q": parsed.tsquery(),
        **_given(agent=query.agent, since=query.since, role=query.role, tool=query.tool,
                 sid=query.sid, project=project.casefold()),
        "in_cwd": project.lower(),
        **_page(query.limit, query.offset),
    }  # fmt: skip
    where = _where(
        params,
        agent="s.agent = %(agent)s",
        since="d.ts >= %(since)s",
        role="d.role = %(role)s",
        tool="lower(d.tool) = lower(%(tool)s)",
        sid="d.sid = %(sid)s",
        project="(s.project_key = %(project)s OR strpos(lower(s.cwd), %(in_cwd)s) > 0)",
    )
    sql = (
        "SELECT d.sid, d.generation, d.seq, d.line, d.ts, coalesce(s.agent, 'unknown'),"
        " d.role, d.tool, coalesce(s.title, d.sid), d.text"
        f" FROM (SELECT %(q)s::tsquery AS q) q, {SCHEMA}.docs d"
        f" LEFT JOIN {SCHEMA}.sessions s ON s.sid = d.sid"
        f" WHERE d.tsv @@ q.q AND {where}"
        " ORDER BY ts_rank(d.tsv, q.q) DESC, d.ts DESC NULLS LAST, d.sid, d.seq, d.n"
        " LIMIT %(limit)s OFFSET %(offset)s"
    )

    def work(conn: Connection) -> list[Hit]:
        conn.execute(f"SET LOCAL statement_timeout = {timeout_ms:d}")
        try:
            rows = conn.execute(sql, params).fetchall()
        except pg_errors.QueryCanceled:
            raise too_slow() from None
        return [
            Hit(sid=r[0], generation=r[1], seq=r[2], line=r[3], ts=r[4], agent=r[5], role=r[6],
                tool=r[7], title=r[8], snippet=snippet(r[9], parsed))
            for r in rows
        ]  # fmt: skip

    return work


def usage(
    *, by: str, since: float | None = None, agent: str | None = None
) -> Callable[[Connection], list[UsageTotal]]:
    """Token usage and cost summed by `by` (one of USAGE_GROUPS)."""
    if by not in USAGE_GROUPS:
        raise UsageError(
            f"cannot group usage by {by!r}", f"choose one of: {', '.join(USAGE_GROUPS)}"
        )
    params = _given(since=since, agent=agent)
    where = _where(params, since="u.ts >= %(since)s", agent="s.agent = %(agent)s")
    key = _USAGE_KEYS[by]
    sql = (
        f"SELECT {key} AS key, count(*), max(s.title), {_FIGURE_SUMS}"
        f" FROM {SCHEMA}.usage u LEFT JOIN {SCHEMA}.sessions s ON s.sid = u.sid"
        f" WHERE {where} GROUP BY 1"
    )

    def work(conn: Connection) -> list[UsageTotal]:
        rows = conn.execute(sql, params).fetchall()
        totals = [
            UsageTotal(str(r[0]), int(r[1]), _figures(r[3:]), r[2] if by == "session" else None)
            for r in rows
        ]
        if by == "day":
            return sorted(totals, key=lambda t: t.key)
        return sorted(totals, key=lambda t: (-t.figures.get("cost_usd", 0), -t.tokens, t.key))

    return work


def sessions(query: ListQuery) -> Callable[[Connection], SessionPage]:
    """A page of the session list: the summaries, and how many match in all."""
    column = _SORT_COLUMNS.get(query.sort)
    if column is None:
        raise UsageError(
            f"cannot sort by {query.sort!r}", f"choose one of: {', '.join(_SORT_COLUMNS)}"
        )
    params = {
        **_given(text=query.text.casefold().strip(), agent=query.agent,
                 since=query.updated_since),
        **_page(query.limit, query.offset),
    }  # fmt: skip
    condition = _where(
        params,
        text="strpos(find_key, %(text)s) > 0",
        agent="agent = %(agent)s",
        since="updated >= %(since)s",
    )
    order = f'{column} {"DESC" if query.descending else "ASC"}, sid COLLATE "C"'
    page = (
        f"SELECT summary FROM {SCHEMA}.sessions WHERE {condition}"
        f" ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s"
    )

    def work(conn: Connection) -> SessionPage:
        count = conn.execute(
            f"SELECT count(*) FROM {SCHEMA}.sessions WHERE {condition}",
            params,
        ).fetchone()
        rows = conn.execute(page, params).fetchall()
        return SessionPage([r[0] for r in rows], int(count[0]) if count else 0)

    return work


def stats(conn: Connection) -> dict[str, int]:
    """Rows in each table, and the bytes of them all."""
    tables = ("sessions", "segments", "docs", "usage")
    out = {}
    for table in tables:
        row = conn.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()
        out[table] = int(row[0]) if row else 0
    sizes = " + ".join(f"pg_total_relation_size('{SCHEMA}.{t}')" for t in (*tables, "meta"))
    row = conn.execute(f"SELECT {sizes}").fetchone()
    out["bytes"] = int(row[0]) if row else 0
    return out


def _given(**values: Any) -> dict[str, Any]:
    """The filters that are given: not None, not empty."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _page(limit: int, offset: int) -> dict[str, int]:
    return {"limit": max(0, limit), "offset": max(0, offset)}


def _where(params: Mapping[str, Any], **conditions: str) -> str:
    """The SQL conditions of the filters in params, joined by AND."""
    return " AND ".join(sql for name, sql in conditions.items() if name in params) or "TRUE"


def _figures(sums: Sequence[Any]) -> dict[str, float]:
    """A group's figures: those some record reported, and the tokens (0 when none)."""
    out = {f: float(v) for f, v in zip(USAGE_FIGURES, sums, strict=True) if v is not None}
    for f in ("input", "output", "cache_read", "cache_write"):
        out.setdefault(f, 0.0)
    return out
