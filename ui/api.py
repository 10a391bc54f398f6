"""The JSON API under /api/ (what the pages use and scripts can call), /healthz and
/metrics, and the one place where errors become responses."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict
from typing import IO, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from uploader.catalog import Ambiguous, Query
from uploader.errors import UsageError, UserError
from uploader.reading import Damaged, NotFound
from uploader.stores.base import StorageError

from . import render
from .service import MAX_PAGE, Reading, Sessions, check_sid

log = logging.getLogger(__name__)

LIVE_POLL_S = 0.25
KEEPALIVE_S = 15.0


def ui(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.app.state.ui
    return state


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = ui(request)["sessions"]
    return sessions


# -- parameters ----------------------------------------------------------------------------


def int_param(
    request: Request, name: str, default: int | None, lo: int = 0, hi: int | None = None
) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw[:40]!r} is not a whole number") from None
    if value < lo or (hi is not None and value > hi):
        bounds = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
        raise UsageError(f"{name}={value} is out of range ({bounds})")
    return value


def list_query(request: Request) -> Query:
    params = request.query_params
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise UsageError(f"order={order[:20]!r} must be asc or desc")
    return Query(
        text=params.get("q", ""),
        agent=params.get("agent", ""),
        active_minutes=int_param(request, "active", None, lo=1),
        sort=params.get("sort", "updated"),
        descending=order == "desc",
    )


async def open_reading(request: Request, sid: str) -> Reading:
    checkpoint = request.query_params.get("checkpoint") or None
    generation = int_param(request, "generation", None, lo=1)
    return await run_in_threadpool(
        sessions_of(request).open, sid, checkpoint=checkpoint, generation=generation
    )


# -- routes --------------------------------------------------------------------------------


async def list_sessions(request: Request) -> Response:
    query = list_query(request)
    limit = int_param(request, "limit", 50, lo=1, hi=1000) or 50
    offset = int_param(request, "offset", 0) or 0
    # Filtering and sorting thousands of sessions runs off the loop the tailing shares.
    _, items = await run_in_threadpool(sessions_of(request).listing, query)
    return JSONResponse(
        {
            "total": len(items),
            "offset": offset,
            "limit": limit,
            "sessions": [i.to_json() for i in items[offset : offset + limit]],
        }
    )


def public_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as the browser may see it: no paths of this machine's spool."""
    out = dict(manifest)
    out["segments"] = [
        {k: v for k, v in s.items() if k != "local"} for s in manifest.get("segments", ())
    ]
    return out


async def one_session(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    body = {
        "summary": r.summary.to_json(),
        "manifest": public_manifest(r.manifest),
        "generation": r.plan.generation,
        "lines": r.plan.lines,
    }
    return JSONResponse(body)


async def session_lines(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    start = int_param(request, "start", 0) or 0
    limit = int_param(request, "limit", 200, lo=1, hi=MAX_PAGE) or 200
    max_chars = int_param(request, "max_chars", None, lo=1)
    fmt = request.query_params.get("format", "raw")
    sessions = sessions_of(request)
    body: dict[str, Any] = {
        "sid": r.sid,
        "start": start,
        "limit": limit,
        "total": r.plan.lines,
        "generation": r.plan.generation,
        "checkpoint": r.plan.checkpoint["id"] if r.plan.checkpoint else None,
        "format": fmt,
    }
    if fmt == "raw":
        lines = await run_in_threadpool(sessions.lines, r, start, limit)
        body["lines"] = [
            {"line": i, "text": _cut(data.decode("utf-8", "replace"), max_chars)}
            for i, data in lines
        ]
    elif fmt == "parsed":
        entries = await run_in_threadpool(sessions.entries, r, start, limit)
        body["entries"] = [
            {k: (_cut(v, max_chars) if isinstance(v, str) else v) for k, v in asdict(e).items()}
            for e in entries
        ]
    else:
        raise UsageError(f"format={fmt[:20]!r} must be raw or parsed")
    return JSONResponse(body)


def _cut(text: str, max_chars: int | None) -> str:
    return text if max_chars is None or len(text) <= max_chars else text[:max_chars]


async def download(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    name = r.sid + (f"-{r.plan.checkpoint['id']}" if r.plan.checkpoint else "") + ".jsonl"
    # Every segment is fetched and checked (sha256, counts) before the response starts, so
    # a damaged segment anywhere is a clear error status, never a 200 with a cut-off body.
    # The checked bytes wait in a temporary file (memory stays bounded whatever the size).
    staged, size = await run_in_threadpool(_stage, sessions_of(request).download(r))

    def body() -> Iterator[bytes]:
        try:
            while chunk := staged.read(1 << 20):
                yield chunk
        finally:
            staged.close()

    return StreamingResponse(
        body(),
        media_type="application/x-ndjson",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "content-length": str(size),
        },
    )


def _stage(chunks: Iterator[bytes]) -> tuple[IO[bytes], int]:
    staged: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    try:
        size = 0
        for chunk in chunks:
            staged.write(chunk)
            size += len(chunk)
        staged.seek(0)
    except BaseException:
        staged.close()
        raise
    return staged, size


async def previews(request: Request) -> Response:
    sids = request.query_params.getlist("sid")
    for joined in request.query_params.getlist("sids"):
        sids.extend(s for s in joined.split(",") if s)
    if not sids:
        raise UsageError("no sessions asked for", "pass sid=ID (repeatable) or sids=ID,ID")
    sids = [check_sid(s) for s in dict.fromkeys(sids)]
    messages = int_param(request, "messages", 3, lo=0, hi=50) or 0
    chars = int_param(request, "chars", 200, lo=1, hi=10_000) or 200
    found = await run_in_threadpool(sessions_of(request).previews, sids, messages, chars)
    return JSONResponse({"previews": found})


async def resolve(request: Request) -> Response:
    query = request.query_params.get("q", "")
    sid = await run_in_threadpool(sessions_of(request).catalog.resolve, query)
    return JSONResponse({"sid": sid})


async def events(request: Request) -> Response:
    """Server-sent events: new lines of a live session, rendered as the page shows them."""
    sid = check_sid(request.path_params["sid"])
    sessions = sessions_of(request)
    after = int_param(request, "after", 0) or 0
    view = request.query_params.get("view", "chat")
    if view not in ("chat", "raw"):
        raise UsageError(f"view={view[:20]!r} must be chat or raw")
    fragment = ui(request)["templates"].get_template("_lines.html")

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
                    html = await run_in_threadpool(_render_new, sessions, r, after, view, fragment)
                    after = min(total, after + MAX_PAGE)
                    yield f"event: lines\ndata: {json.dumps({'html': html, 'total': after})}\n\n"
                    quiet_since = time.monotonic()
                    continue
            except (Damaged, StorageError) as exc:  # the engine moved on under us: next poll
                log.debug("live %s: %s", sid, exc)
            if time.monotonic() - quiet_since > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(LIVE_POLL_S)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"cache-control": "no-store"}
    )


def _render_new(sessions: Sessions, r: Reading, after: int, view: str, fragment: Any) -> str:
    if view == "raw":
        lines = sessions.lines(r, after, MAX_PAGE)
        return str(fragment.render(view="raw", lines=lines, sid=r.sid, items=[]))
    entries = sessions.entries(r, after, MAX_PAGE)
    return str(fragment.render(view="chat", items=render.items(entries), sid=r.sid, lines=[]))


async def healthz(request: Request) -> Response:
    sessions = sessions_of(request)
    return JSONResponse(
        {
            "status": "ok",
            "store": sessions.store.description,
            "watching": len(sessions.live.sids()) if sessions.live is not None else 0,
            "uptime_s": round(time.time() - ui(request)["started"], 1),
        }
    )


METRICS: list[tuple[str, str, str]] = [
    ("lines_read", "counter", "Complete lines read from sources."),
    ("bytes_read", "counter", "Bytes read from sources."),
    ("segments_uploaded", "counter", "Segments the store confirmed."),
    ("bytes_uploaded", "counter", "Bytes of segments the store confirmed."),
    ("checkpoints", "counter", "Checkpoints written."),
    ("manifests_written", "counter", "Manifests written."),
    ("queue_segments", "gauge", "Segments waiting in the spool for upload."),
    ("queue_oldest_age_seconds", "gauge", "Age of the oldest segment waiting for upload."),
    ("retries", "counter", "Store calls retried."),
    ("errors", "counter", "Store calls that failed (each retry counts)."),
    ("sessions_watched", "gauge", "Sessions this process tails."),
]


async def metrics(request: Request) -> Response:
    stats = sessions_of(request).stats
    values = await run_in_threadpool(stats) if stats is not None else {}
    out = []
    for name, kind, text in METRICS:
        out.append(f"# HELP agent_uploader_{name} {text}")
        out.append(f"# TYPE agent_uploader_{name} {kind}")
        out.append(f"agent_uploader_{name} {float(values.get(name, 0)):g}")
    return PlainTextResponse("\n".join(out) + "\n", media_type="text/plain; version=0.0.4")


def routes() -> list[Route]:
    return [
        Route("/api/sessions", list_sessions),
        Route("/api/sessions/{sid}", one_session),
        Route("/api/sessions/{sid}/lines", session_lines),
        Route("/api/sessions/{sid}/download", download),
        Route("/api/sessions/{sid}/events", events),
        Route("/api/previews", previews),
        Route("/api/resolve", resolve),
    ]


# -- errors --------------------------------------------------------------------------------


def status_of(exc: Exception) -> int:
    if isinstance(exc, Ambiguous):
        return 409
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, Damaged):
        return 500
    if isinstance(exc, StorageError):
        return 502
    return 500


async def on_error(request: Request, exc: Exception) -> Response:
    status = status_of(exc)
    if isinstance(exc, UserError):
        message, hint = exc.message, exc.hint
    elif isinstance(exc, StorageError):
        message, hint = f"the store failed: {exc}", "try again; check the store's status"
    else:
        raise exc
    if request.url.path.startswith("/api/"):
        body: dict[str, Any] = {"error": message, "hint": hint}
        if isinstance(exc, Ambiguous):
            body["matches"] = exc.matches
        return JSONResponse(body, status_code=status)
    return error_page(request, status, message, hint)


def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
    page = ui(request)["templates"].get_template("error.html")
    store = sessions_of(request).store.description
    html = page.render(request=request, status=status, message=message, hint=hint, store=store)
    return HTMLResponse(html, status_code=status)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail, "hint": None}, status_code=exc.status_code)
    return error_page(request, exc.status_code, str(exc.detail), None)


def exception_handlers() -> dict[Any, Callable[..., Any]]:
    return {UserError: on_error, StorageError: on_error, HTTPException: on_http_error}
