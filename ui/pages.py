"""The HTML pages: the sessions list, a session, and the login form."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from uploader.core.errors import SessionNotFound, UsageError
from uploader.storage.sessionid import is_safe_sid

from . import chat, render
from .auth import COOKIE, Logins, Throttle
from .card import Card, fit_cards
from .context import authenticated, int_param, limits_of, list_query, open_reading, sessions_of, ui
from .health import health_strip
from .security import client_key, cookies_named, is_https, safe_next
from .service import MAX_PAGE

PAGE_SIZE = 50
LINES_PAGE = 200


def page(
    request: Request,
    name: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    # Which store this is, and how its uploads go, stay unsaid until the token is given.
    store = sessions_of(request).store.description if authenticated(request) else ""
    response: Response = ui(request)["templates"].TemplateResponse(
        request,
        name,
        {"store": store, "health": health_strip(request), **context},
        status_code=status,
        headers=headers,
    )
    return response


def with_params(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


async def sessions_page(request: Request) -> Response:
    query = list_query(request)
    limit = int_param(request, "limit", PAGE_SIZE, lo=1, hi=500) or PAGE_SIZE
    number = int_param(request, "page", 1, lo=1) or 1
    sessions = sessions_of(request)
    # Filtering and sorting thousands of sessions runs off the loop the tailing shares.
    everything, total, items = await run_in_threadpool(
        sessions.listing, query, (number - 1) * limit, limit
    )
    pages = max(1, math.ceil(total / limit))
    return page(
        request,
        "sessions.html",
        items=items,
        total=total,
        all_total=everything,
        query=query,
        page=number,
        pages=pages,
        limit=limit,
        now=time.time(),
        ago=render.ago,
        url=lambda **c: with_params(request, **c),
        error=sessions.catalog.last_error,
    )


async def session_page(request: Request) -> Response:
    sid = request.path_params["sid"]
    sessions = sessions_of(request)
    try:
        if not is_safe_sid(sid):
            raise SessionNotFound(sid, sessions.store.description)
        r = await open_reading(request, sid)
    except SessionNotFound:
        # An id prefix or a label in the address: go to the session's own page.
        resolved = await run_in_threadpool(sessions.catalog.resolve, sid)
        if resolved == sid:
            raise  # listed a moment ago, deleted since: not found, not a redirect to itself
        query = request.url.query
        return RedirectResponse(f"/s/{resolved}" + (f"?{query}" if query else ""), 303)
    view = request.query_params.get("view", "chat")
    if view not in ("chat", "raw", "segments"):
        view = "chat"
    limit = int_param(request, "limit", LINES_PAGE, lo=1, hi=MAX_PAGE) or LINES_PAGE
    total = r.plan.lines
    last_start = max(0, (total - 1) // limit * limit) if total else 0
    line = int_param(request, "line", None)
    if line is not None:  # a permalink: the page that holds the line, scrolled to it
        held = min(line, max(0, total - 1)) // limit * limit
        return RedirectResponse(with_params(request, line=None, start=held) + f"#L{line}", 303)
    start_param = request.query_params.get("start")
    start = last_start if start_param == "end" else int_param(request, "start", 0) or 0
    lines: list[tuple[int, bytes]] = []
    items: list[Card] = []
    kin = chat.family(await run_in_threadpool(sessions.catalog.sessions), r.sid)
    totals = None
    # A page shows at most Limits.response_chars of transcript: past that, it ends early
    # and its "Later" link starts where it stopped.
    budget = limits_of(request).response_chars
    if view == "raw":
        lines = await run_in_threadpool(
            render.fit_lines, sessions.iter_lines(r, start, limit), budget
        )
        if lines and lines[-1][0] + 1 < min(total, start + limit):
            limit = lines[-1][0] + 1 - start
    elif view == "chat":
        cards = await run_in_threadpool(
            chat.session_cards, sessions, r, start, limit, kin.agent_ids
        )
        items, stop = fit_cards(cards, budget, start + limit)
        limit = max(1, min(limit, stop - start))
        totals = await run_in_threadpool(chat.session_totals, sessions, r)
    return page(
        request,
        "session.html",
        r=r,
        s=r.summary,
        manifest=r.manifest,
        view=view,
        start=start,
        limit=limit,
        total=total,
        last_start=last_start,
        lines=lines,
        items=items,
        sid=r.sid,
        generations=r.manifest.generations(),
        live=r.summary.live,
        at_end=start + limit >= total,
        now=time.time(),
        ago=render.ago,
        url=lambda **c: with_params(request, **c),
        here=with_params(request, start=start, line=None),
        family=kin,
        totals=totals,
    )


async def login(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if request.method != "POST":
        return page(request, "login.html", next=target, failed=False, wait=0)
    state = ui(request)
    logins: Logins | None = state["logins"]
    throttle: Throttle = state["throttle"]
    client = client_key(request.scope, state["hosts"])
    wait = throttle.wait(client)
    if wait:
        return page(request, "login.html", status=429, headers={"retry-after": str(wait)},
                    next=target, failed=False, wait=wait)  # fmt: skip
    form = await read_form(request)
    given = (form.get("token") or [""])[0]
    target = safe_next((form.get("next") or ["/"])[0])
    if logins is not None and logins.token_ok(given):
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            logins.issue(),
            max_age=logins.max_age_s,
            path="/",
            httponly=True,
            samesite="strict",
            secure=is_https(request.scope, state["hosts"]),
        )
        return response
    throttle.failed(client)
    return page(request, "login.html", status=401, next=target, failed=True, wait=0)


async def read_form(request: Request) -> dict[str, list[str]]:
    """The login form: small, and sent within the header timeout, or refused."""
    limits = limits_of(request)
    body = bytearray()
    try:
        async with asyncio.timeout(limits.header_timeout_s):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limits.body_bytes:
                    raise UsageError("the form is too large")
    except TimeoutError:
        raise UsageError("the form took too long to arrive") from None
    try:
        return parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    except ValueError:
        raise UsageError("the form has too many fields") from None


async def logout(request: Request) -> Response:
    logins: Logins | None = ui(request)["logins"]
    if logins is not None:
        for value in cookies_named(request.headers.get("cookie", ""), COOKIE):
            logins.revoke(value)
    response = RedirectResponse("/login" if logins is not None else "/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [
        Route("/", sessions_page),
        Route("/s/{sid:path}", session_page),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
