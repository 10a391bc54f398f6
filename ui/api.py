"""The JSON API under /api/ (what the pages use and scripts can call), /healthz and
/metrics, and the one place where errors become responses."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import asdict
from typing import IO, Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from uploader.core.errors import (
    Ambiguous,
    Damaged,
    NotFound,
    StorageError,
    UploaderError,
    UsageError,
    UserError,
)
from uploader.messages import explain
from uploader.read.catalog import Query
from uploader.storage.manifest import Manifest

from . import chat, images, page_cards, render
from .card import fit_cards
from .limits import Limits, Load, Slot
from .security import AUTHENTICATED
from .service import MAX_PAGE, Reading, Sessions, check_sid, cut_text

log = logging.getLogger(__name__)

LIVE_POLL_S = 0.25
KEEPALIVE_S = 15.0
#: A download's checked bytes wait in memory up to this, then in an unnamed temp file.
STAGE_IN_MEMORY = 1 << 20
SEND_CHUNK = 256 << 10
#: The largest number a parameter may hold (a line index, an offset).
MAX_NUMBER = 10**12


class Busy(UserError):
    """A cap of the dashboard is reached: try again in a moment (503)."""

    retry_after_s = 2


class TooLarge(UserError):
    """More than the dashboard will hold for one request (413)."""


def ui(request: Request) -> dict[str, Any]:
    state: dict[str, Any] = request.app.state.ui
    return state


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = ui(request)["sessions"]
    return sessions


def load_of(request: Request) -> Load:
    load: Load = ui(request)["load"]
    return load


def limits_of(request: Request) -> Limits:
    return load_of(request).limits


def authenticated(request: Request) -> bool:
    """Past the token (or there is none): only then may a response name the store."""
    return request.scope.get(AUTHENTICATED) is True


# -- parameters ----------------------------------------------------------------------------


def int_param(
    request: Request, name: str, default: int | None, lo: int = 0, hi: int | None = None
) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        if len(raw) > 20:
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw[:40]!r} is not a whole number") from None
    if value < lo or value > (MAX_NUMBER if hi is None else hi):
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
    _, total, items = await run_in_threadpool(sessions_of(request).listing, query, offset, limit)
    return JSONResponse(
        {
            "total": total,
            "offset": offset,
            "limit": limit,
            "sessions": [i.to_json() for i in items],
        }
    )


def public_manifest(manifest: Manifest) -> dict[str, Any]:
    """The manifest's JSON as the browser may see it: no paths of this machine's spool."""
    out = manifest.to_json()
    out["segments"] = [{k: v for k, v in s.items() if k != "local"} for s in out["segments"]]
    return out


async def one_session(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    usage = await run_in_threadpool(_usage, sessions_of(request), r)
    body = {
        "summary": r.summary.to_json(),
        "manifest": public_manifest(r.manifest),
        "generation": r.plan.generation,
        "lines": r.plan.lines,
        "usage": usage,
    }
    return JSONResponse(body)


def _usage(sessions: Sessions, r: Reading) -> dict[str, float] | None:
    """The session's token usage summed over its lines (a live session's unsent ones too),
    else the segments' records: for a session too large to read whole on a request, or
    with a segment that cannot be read (its other facts are still shown)."""
    try:
        found = chat.session_totals(sessions, r)
    except (Damaged, StorageError) as exc:
        log.debug("%s: usage from the manifest: %s", r.sid, exc)
        found = None
    return found if found is not None else r.summary.usage


async def session_lines(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    start = int_param(request, "start", 0) or 0
    limit = int_param(request, "limit", 200, lo=1, hi=MAX_PAGE) or 200
    max_chars = int_param(request, "max_chars", None, lo=1)
    fmt = request.query_params.get("format", "raw")
    if fmt not in ("raw", "parsed"):
        raise UsageError(f"format={fmt[:20]!r} must be raw or parsed")
    sessions = sessions_of(request)
    budget = Budget(limits_of(request), max_chars)
    body: dict[str, Any] = {
        "sid": r.sid,
        "start": start,
        "limit": limit,
        "total": r.plan.lines,
        "generation": r.plan.generation,
        "checkpoint": r.plan.checkpoint.id if r.plan.checkpoint else None,
        "format": fmt,
    }
    if fmt == "raw":
        body["lines"] = await run_in_threadpool(_raw_lines, sessions, r, start, limit, budget)
    else:
        body["entries"] = await run_in_threadpool(_entries, sessions, r, start, limit, budget)
    return JSONResponse(body)


class Budget:
    """What one response may still hold: each line up to `cap` characters, all of them
    up to Limits.response_chars; past that, `small_line_chars` each (every line is still
    there, with the URL of its whole text)."""

    def __init__(self, limits: Limits, max_chars: int | None = None) -> None:
        self.left = limits.response_chars
        self.cap = min(max_chars or limits.line_chars, limits.line_chars)
        self.small = min(self.cap, limits.small_line_chars)

    def next_cap(self) -> int:
        return max(self.small, min(self.cap, self.left))

    def spend(self, chars: int) -> None:
        self.left -= chars


def line_url(r: Reading, index: int) -> str:
    """Where the whole of a line is (as raw text)."""
    generation = f"?generation={r.plan.generation}" if r.plan.generation else ""
    return f"/api/sessions/{r.sid}/lines/{index}{generation}"


def _raw_lines(
    sessions: Sessions, r: Reading, start: int, limit: int, budget: Budget
) -> list[dict[str, Any]]:
    out = []
    for i, data in sessions.iter_lines(r, start, limit):
        text, cut = cut_text(data, budget.next_cap())
        budget.spend(len(text))
        item: dict[str, Any] = {"line": i, "text": text}
        if cut:
            item.update(truncated=True, bytes=len(data), url=line_url(r, i))
        out.append(item)
    return out


def _entries(
    sessions: Sessions, r: Reading, start: int, limit: int, budget: Budget
) -> list[dict[str, Any]]:
    out = []
    for entry in sessions.iter_entries(r, start, limit):
        fields, cut = asdict(entry), False
        for key, value in fields.items():
            if isinstance(value, str):
                cap = budget.next_cap()
                if len(value) > cap:
                    fields[key], cut = value[:cap], True
                budget.spend(len(fields[key]))
        if cut:
            fields.update(truncated=True, url=line_url(r, entry.line))
        out.append(fields)
    return out


async def one_line(request: Request) -> Response:
    """One line, whole, as the source has it (sent in pieces: it may be megabytes)."""
    sid = check_sid(request.path_params["sid"])
    raw = request.path_params["n"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise UsageError(f"line {raw[:40]!r} is not a line number", "lines count from 0")
    r = await open_reading(request, sid)
    data = await run_in_threadpool(sessions_of(request).line, r, int(raw))

    async def pieces() -> AsyncIterator[bytes]:
        view = memoryview(data)
        for at in range(0, len(data), SEND_CHUNK):
            yield bytes(view[at : at + SEND_CHUNK])

    return StreamingResponse(
        pieces(),
        media_type="text/plain; charset=utf-8",
        headers={"content-length": str(len(data)), "cache-control": "no-store"},
    )


def _index(raw: str, what: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise UsageError(f"{what} {raw[:40]!r} is not a number", f"{what}s count from 0")
    return int(raw)


async def line_image(request: Request) -> Response:
    """Image k of line n (a base64 block in the line), as the bytes a browser shows: only
    PNG, JPEG, GIF and WebP whose bytes are what they say, up to images.MAX_BYTES."""
    sid = check_sid(request.path_params["sid"])
    n, k = _index(request.path_params["n"], "line"), _index(request.path_params["k"], "image")
    r = await open_reading(request, sid)
    data = await run_in_threadpool(sessions_of(request).line, r, n)
    where, whole = f"line {n} of session {sid}", line_url(r, n)
    try:
        media, body = await run_in_threadpool(images.image_of, data, k)
    except images.NoImage as exc:
        raise NotFound(f"{where}: {exc}", "images are counted from 0 in each line") from None
    except images.Refused as exc:
        raise UsageError(f"{where}: {exc}", f"the line itself is at {whole}") from None
    except images.TooBig as exc:
        raise TooLarge(f"{where}: {exc}", f"the line itself is at {whole}") from None
    # A line's bytes never change within a generation, and the page's URLs name it.
    headers = {"cache-control": "private, max-age=3600", "content-disposition": "inline"}
    return Response(body, media_type=media, headers=headers)


async def download(request: Request) -> Response:
    r = await open_reading(request, check_sid(request.path_params["sid"]))
    name = r.sid + (f"-{r.plan.checkpoint.id}" if r.plan.checkpoint else "") + ".jsonl"
    load, limits = load_of(request), limits_of(request)
    # Every segment is fetched and checked (sha256, counts) before the response starts, so
    # a damaged segment anywhere is a clear error status, never a 200 with a cut-off body.
    # The checked bytes wait in a temporary file: memory stays bounded whatever the size,
    # and the file's size and number are capped (Limits.downloads, download_bytes).
    pieces = r.plan.pieces
    if all(p.entry.bytes is not None for p in pieces):
        size = sum(p.entry.bytes or 0 for p in pieces)  # at most: a checkpoint cuts
    else:
        size = limits.download_bytes // max(1, limits.downloads)
    if size > limits.download_bytes:
        raise TooLarge(
            f"session {r.sid} is too large to download here ({render.size(size)}; "
            f"the dashboard stages at most {render.size(limits.download_bytes)})",
            f"use `agent-uploader replay --sid {r.sid} > {name}`",
        )
    slot = load.take_download(size)
    if slot is None:
        load.refused += 1
        raise Busy("too many downloads at once", "try again when one of them has finished")
    try:
        staged, actual = await _stage_unless_gone(request, sessions_of(request).download(r), size)
    except BaseException:
        slot.release()
        raise
    return Staged(
        staged,
        slot,
        media_type="application/x-ndjson",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "content-length": str(actual),
        },
    )


async def _stage_unless_gone(
    request: Request, chunks: Iterator[bytes], cap: int
) -> tuple[IO[bytes], int]:
    """Stage in a worker thread; a client that goes away meanwhile stops it."""
    cancel = threading.Event()
    task = asyncio.ensure_future(run_in_threadpool(_stage, chunks, cap, cancel))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.25)
            if done:
                return task.result()
            if await request.is_disconnected():
                break
    finally:
        cancel.set()
        if not task.done():
            await asyncio.wait({task})  # the thread removes what it staged, then ends
    if not task.cancelled() and task.exception() is None:
        task.result()[0].close()  # finished just as the client left
    raise ClientDisconnect()


def _stage(chunks: Iterator[bytes], cap: int, cancel: threading.Event) -> tuple[IO[bytes], int]:
    staged: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=STAGE_IN_MEMORY)  # noqa: SIM115
    try:
        size = 0
        for chunk in chunks:
            if cancel.is_set():
                raise ClientDisconnect()
            size += len(chunk)
            if size > cap:
                raise TooLarge(f"the session holds more than its manifest says ({cap} bytes)",
                               "run `agent-uploader verify`")  # fmt: skip
            staged.write(chunk)
        staged.seek(0)
    except BaseException:
        staged.close()
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # stops the read-ahead thread of an unfinished reading
    return staged, size


class Held(StreamingResponse):
    """A streamed response that holds a Slot until it ends, however it ends."""

    def __init__(self, content: AsyncIterator[Any], slot: Slot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


class Staged(Held):
    """A staged download, sent in pieces; its temp file is gone the moment the response
    ends: sent, failed, or the client disconnected in the middle."""

    def __init__(self, staged: IO[bytes], slot: Slot, **kwargs: Any) -> None:
        async def pieces() -> AsyncIterator[bytes]:
            while chunk := staged.read(SEND_CHUNK):  # a page-cache read: on the loop
                yield chunk

        super().__init__(pieces(), slot, **kwargs)
        self.staged = staged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.staged.close()


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


def watch_health(request: Request) -> dict[str, Any] | None:
    """The status of the `watch` this dashboard is part of (None for `host`), as
    `agent-uploader status --json` prints it."""
    health = ui(request)["config"].health
    return health() if health is not None else None


def health_strip(request: Request) -> render.HealthStrip | None:
    """The bar every page shows, past the token only (None for `host`)."""
    found = watch_health(request) if authenticated(request) else None
    return render.health_strip(found, time.time()) if found is not None else None


async def watch_status(request: Request) -> Response:
    """/api/status: `agent-uploader status --json` of the `watch` serving this."""
    found = watch_health(request)
    if found is None:
        found = {
            "running": False,
            "healthy": False,
            "problems": ["this dashboard is served by `host`, not by a watch"],
        }
    return JSONResponse(found)


async def healthz(request: Request) -> Response:
    sessions = sessions_of(request)
    body: dict[str, Any] = {"status": "ok"}
    if authenticated(request):  # a monitor without the token learns only that it runs
        body.update(
            store=sessions.store.description,
            watching=len(sessions.live.sids()) if sessions.live is not None else 0,
            uptime_s=round(time.time() - ui(request)["started"], 1),
        )
    return JSONResponse(body)


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
    ("dashboard_connections", "gauge", "Connections the dashboard holds open."),
    ("dashboard_streams", "gauge", "Live-line streams the dashboard serves."),
    ("dashboard_downloads", "gauge", "Downloads being staged or sent."),
    ("dashboard_staged_bytes", "gauge", "Bytes reserved for downloads being staged or sent."),
    ("dashboard_refused", "counter", "Connections and requests turned away: a cap was reached."),
]


async def metrics(request: Request) -> Response:
    stats = sessions_of(request).stats
    values = await run_in_threadpool(stats) if stats is not None else {}
    load = load_of(request)
    values = {
        **values,
        "dashboard_connections": load.connections.used,
        "dashboard_streams": load.streams.used,
        "dashboard_downloads": load.downloads.used,
        "dashboard_staged_bytes": load.staged_bytes,
        "dashboard_refused": load.refused,
    }
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
        Route("/api/sessions/{sid}/lines/{n}", one_line),
        Route("/api/sessions/{sid}/lines/{n}/images/{k}", line_image),
        Route("/api/sessions/{sid}/download", download),
        Route("/api/sessions/{sid}/events", events),
        Route("/api/previews", previews),
        Route("/api/resolve", resolve),
        Route("/api/status", watch_status),
    ]


# -- errors --------------------------------------------------------------------------------


def status_of(exc: Exception) -> int:
    if isinstance(exc, Ambiguous):
        return 409
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, Busy):
        return 503
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, Damaged):
        return 500
    if isinstance(exc, StorageError):
        return 502
    return 500


async def on_error(request: Request, exc: Exception) -> Response:
    """An error as the command line words it (the same table: uploader.messages.explain);
    a store that failed, as the dashboard's reader can act on it."""
    status = status_of(exc)
    hint: str | None
    if isinstance(exc, StorageError):
        message, hint = f"the store failed: {exc}", "try again; check the store's status"
    elif isinstance(exc, UploaderError):
        shown = explain(exc)
        message, hint = shown.message, shown.hint
    else:
        raise exc
    headers = {"retry-after": str(exc.retry_after_s)} if isinstance(exc, Busy) else None
    if request.url.path.startswith("/api/"):
        body: dict[str, Any] = {"error": message, "hint": hint}
        if isinstance(exc, Ambiguous):
            body["matches"] = exc.matches
        return JSONResponse(body, status_code=status, headers=headers)
    return error_page(request, status, message, hint, headers)


def error_page(
    request: Request,
    status: int,
    message: str,
    hint: str | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    page = ui(request)["templates"].get_template("error.html")
    store = sessions_of(request).store.description if authenticated(request) else ""
    html = page.render(request=request, status=status, message=message, hint=hint, store=store,
                       health=health_strip(request))  # fmt: skip
    return HTMLResponse(html, status_code=status, headers=headers)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"error": exc.detail, "hint": None}, status_code=exc.status_code, headers=exc.headers
        )
    return error_page(request, exc.status_code, str(exc.detail), None, exc.headers)


async def on_os_error(request: Request, exc: Exception) -> Response:
    """Out of file handles (the tailing and the dashboard share them): try again later;
    any other OSError is a crash like any other."""
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        log.warning("%s: out of file handles; answered 503", request.url.path[:200])
        return await on_error(
            request, Busy("the server is out of file handles", "try again in a moment")
        )
    raise exc


async def on_crash(request: Request, exc: Exception) -> Response:
    """Anything unexpected: a bare 500 (the guard logs it, without the query string)."""
    message = "internal error"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "hint": None}, status_code=500)
    return error_page(request, 500, message, None)


def exception_handlers() -> dict[Any, Callable[..., Any]]:
    return {
        UploaderError: on_error,
        HTTPException: on_http_error,
        OSError: on_os_error,
        Exception: on_crash,
    }
