"""Search and usage: the pages (`/search`, `/usage`) and their JSON (`/api/search`,
`/api/usage`), over the store's search index (uploader.index)."""

from __future__ import annotations

import re
import time
from typing import Any

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from uploader import agents
from uploader.core.errors import UsageError
from uploader.core.terminal import printable
from uploader.core.units import parse_since
from uploader.index.base import MARK_END, MARK_START, ROLES, USAGE_GROUPS, SearchQuery, UsageTotal
from uploader.index.query import QueryError, parse

from . import render
from .charts import Bar, bar_chart
from .context import int_param, sessions_of

SINCE_CHOICES = (("", "any time"), ("24h", "last day"), ("7d", "last week"),
                 ("30d", "last 30 days"), ("90d", "last 90 days"))  # fmt: skip
PAGE = 20
_MARKS = re.compile(f"([{MARK_START}{MARK_END}])")


def marked(snippet: str) -> Markup:
    """A hit's snippet as HTML: its text escaped (control characters written out), each
    match in <mark>."""
    out, inside = [], False
    for part in _MARKS.split(snippet):
        if part == MARK_START:
            out.append("<mark>")
            inside = True
        elif part == MARK_END and inside:
            out.append("</mark>")
            inside = False
        elif part not in (MARK_START, MARK_END):
            out.append(str(escape(printable(part))))
    if inside:
        out.append("</mark>")
    return Markup("".join(out))


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise UsageError(f"{name}={value[:40]!r} is not one of: {', '.join(allowed)}")
    return value


def _since(request: Request, default: str = "") -> tuple[str, float | None]:
    text = request.query_params.get("since", default).strip()
    if not text:
        return "", None
    try:
        return text, parse_since(text[:40], time.time())
    except ValueError as exc:
        raise UsageError(f"since: {exc}") from None


def search_query(request: Request) -> SearchQuery | None:
    """The search the address asks for (None: no words yet)."""
    params = request.query_params
    text = params.get("q", "").strip()[:500]
    if not text:
        return None
    parse(text)  # a malformed query: UsageError, a 400 saying what is wrong
    tool = params.get("tool", "").strip()[:100] or None
    project = params.get("project", "").strip()[:200] or None
    return SearchQuery(
        text,
        agent=_choice(request, "agent", tuple(agents.names())),
        since=_since(request)[1],
        role=_choice(request, "role", ROLES),
        tool=tool,
        project=project,
        sid=params.get("sid", "").strip()[:128] or None,
        limit=int_param(request, "limit", PAGE, lo=1, hi=100) or PAGE,
        offset=int_param(request, "offset", 0, hi=10_000) or 0,
    )


async def search_page(request: Request) -> Response:
    from .pages import page, with_params

    sessions = sessions_of(request)
    error: str | None = None
    try:
        query = search_query(request)
    except QueryError as exc:  # said beside the search box, which keeps what was typed
        query, error = None, f"{exc.message}. {exc.hint}"
    hits = await run_in_threadpool(sessions.search, query) if query is not None else []
    return page(
        request,
        "search.html",
        query=query,
        params=request.query_params,
        hits=hits,
        roles=ROLES,
        since_choices=SINCE_CHOICES,
        searchable=sessions.index is not None,
        url=lambda **c: with_params(request, **c),
        marked=marked,
        site_query=query.text if query is not None else "",
        error=error,
    )


async def search_api(request: Request) -> Response:
    query = search_query(request)
    if query is None:
        raise UsageError("q is empty", "pass the words to look for: /api/search?q=...")
    hits = await run_in_threadpool(sessions_of(request).search, query)
    return JSONResponse({"hits": [h.to_json() for h in hits], "offset": query.offset,
                         "limit": query.limit})  # fmt: skip


def _usage_rows(request: Request) -> tuple[str, str, list[UsageTotal]]:
    by = _choice(request, "by", USAGE_GROUPS) or "day"
    since_text, since = _since(request, "30d")
    rows = sessions_of(request).usage(by, since)
    return by, since_text, rows


async def usage_page(request: Request) -> Response:
    from .pages import page

    by, since_text, rows = await run_in_threadpool(_usage_rows, request)
    sessions = sessions_of(request)
    top = await run_in_threadpool(sessions.usage, "session", _since(request, "30d")[1])
    # One measure for every bar: the cost when any group has one, else the tokens.
    priced = any(r.figures.get("cost_usd") for r in rows)
    bars = [
        Bar(r.key, (r.figures.get("cost_usd") or 0.0) if priced else r.tokens,
            f"{r.key}: {render.number(int(r.tokens))} tokens"
            + (f", ${r.figures['cost_usd']:,.2f}" if r.figures.get("cost_usd") else ""))
        for r in rows
    ]  # fmt: skip
    return page(
        request,
        "usage.html",
        by=by,
        since=since_text,
        groups=USAGE_GROUPS,
        since_choices=SINCE_CHOICES,
        rows=rows,
        total=_total(rows),
        chart=bar_chart(bars, f"{'cost' if priced else 'tokens'} by {by}"),
        measure="estimated cost" if priced else "tokens",
        top=top[:10],
        searchable=sessions.index is not None,
        money=money,
    )


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


async def usage_api(request: Request) -> Response:
    by, _, rows = await run_in_threadpool(_usage_rows, request)
    return JSONResponse(
        {"by": by, "rows": [{"key": r.key, "title": r.title, "messages": r.messages,
                             **r.figures} for r in rows]}
    )  # fmt: skip


def _total(rows: list[UsageTotal]) -> dict[str, Any]:
    keys = ("input", "output", "cache_read", "cache_write", "cost_usd")
    return {
        "messages": sum(r.messages for r in rows),
        **{k: sum(r.figures.get(k, 0) or 0 for r in rows) for k in keys},
    }


def page_routes() -> list[Route]:
    return [Route("/search", search_page), Route("/usage", usage_page)]


def api_routes() -> list[Route]:
    return [Route("/api/search", search_api), Route("/api/usage", usage_api)]
