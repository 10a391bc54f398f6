"""The API's lines of a session: a page of them (raw or parsed, within the response's
budget), one line whole, and an image a line carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from uploader.core.errors import NotFound, UsageError

from . import images
from .context import SEND_CHUNK, TooLarge, int_param, limits_of, open_reading, sessions_of
from .limits import Limits
from .service import MAX_PAGE, Reading, Sessions, check_sid, cut_text


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
