"""What every handler of the dashboard works from: its state (the sessions, the load and
its limits), whether the request is past the token, the request's parameters read and
bounded, the session it names opened; and the two errors only the dashboard raises.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from uploader.core.errors import UsageError, UserError
from uploader.read.listing import Query

from .limits import Limits, Load
from .security import AUTHENTICATED
from .service import Reading, Sessions

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
