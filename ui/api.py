"""The JSON API under /api/ (what the pages use and scripts can call): the table of its
routes, one module per resource (api_sessions, api_lines, api_downloads; /api/status is
health's), and here the live lines of a session as server-sent events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from uploader.core.errors import Damaged, StorageError, UsageError

from . import chat, page_cards, render
from .api_downloads import Held, download
from .api_lines import line_image, one_line, session_lines
from .api_sessions import list_sessions, one_session, previews, resolve
from .card import fit_cards
from .context import Busy, int_param, load_of, sessions_of, ui
from .health import watch_status
from .service import MAX_PAGE, Reading, Sessions, check_sid

log = logging.getLogger(__name__)

LIVE_POLL_S = 0.25
KEEPALIVE_S = 15.0


async def events(request: Request) -> Response:
    """Server-sent events: new lines of a live session, rendered as the page shows them."""
    sid = check_sid(request.path_params["sid"])
    sessions = sessions_of(request)
    after = int_param(request, "after", 0) or 0
    view = request.query_params.get("view", "chat")
    if view not in ("chat", "raw"):
        raise UsageError(f"view={view[:20]!r} must be chat or raw")
    fragment = ui(request)["templates"].get_template("_lines.html")
    load = load_of(request)
    budget = load.limits.response_chars
    slot = load.streams.take()
    if slot is None:
        load.refused += 1
        raise Busy("too many live pages open at once", "close some, or reload this one later")

    async def stream() -> AsyncIterator[str]:
        nonlocal after
        quiet_since = time.monotonic()
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            if not sessions.is_live(sid):
                yield "event: end\ndata: {}\n\n"
                return
            try:
                r = await run_in_threadpool(sessions.open, sid)
                total = r.plan.lines
                if total > after:
                    html, after = await run_in_threadpool(
                        _render_new, sessions, r, after, view, fragment, budget
                    )
                    yield f"event: lines\ndata: {json.dumps({'html': html, 'total': after})}\n\n"
                    quiet_since = time.monotonic()
                    continue
            except (Damaged, StorageError) as exc:  # the engine moved on under us: next poll
                log.debug("live %s: %s", sid, exc)
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(LIVE_POLL_S)

    return Held(
        stream(), slot, media_type="text/event-stream", headers={"cache-control": "no-store"}
    )


def _render_new(
    sessions: Sessions, r: Reading, after: int, view: str, fragment: Any, budget: int
) -> tuple[str, int]:
    """The lines after `after`, rendered, up to a page or `budget` characters; and the
    index of the first line not sent."""
    if view == "raw":
        lines = render.fit_lines(sessions.iter_lines(r, after, MAX_PAGE), budget)
        html = fragment.render(view="raw", lines=lines, sid=r.sid, items=[])
        return str(html), lines[-1][0] + 1 if lines else after
    entries = sessions.entries(r, after, MAX_PAGE)
    cards = page_cards.cards(entries, image_url=chat.image_urls(r))
    # The next poll starts past the lines read (not past the entries: a line may have many).
    items, stop = fit_cards(cards, budget, min(r.plan.lines, after + MAX_PAGE))
    html = fragment.render(view="chat", items=items, sid=r.sid, lines=[])
    return str(html), stop


def routes() -> list[Route]:
    return [
        Route("/api/sessions", list_sessions),
        Route("/api/sessions/{sid}", one_session),
        Route("/api/sessions/{sid}/lines", session_lines),
        Route("/api/sessions/{sid}/lines/{n}", one_line),
        Route("/api/sessions/{sid}/lines/{n}/images/{k}", line_image),
        Route("/api/sessions/{sid}/download", download),
        Route("/api/sessions/{sid}/events", events),
        Route("/api/previews", previews),
        Route("/api/resolve", resolve),
        Route("/api/status", watch_status),
    ]
