"""The one place where errors become responses: the status of each error, a JSON body
under /api/, else the error page, worded as the command line words it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from uploader.core.errors import (
    Ambiguous,
    Damaged,
    NotFound,
    StorageError,
    UploaderError,
    UsageError,
)
from uploader.messages import explain

from .context import Busy, TooLarge, authenticated, sessions_of, ui
from .health import health_strip

log = logging.getLogger(__name__)


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
