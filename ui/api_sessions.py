"""The API's sessions: the list, one session's summary, manifest and usage, previews of
several, and a prefix or label resolved to an id.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from uploader.core.errors import Damaged, StorageError, UsageError
from uploader.storage.manifest import Manifest

from . import chat
from .context import int_param, list_query, open_reading, sessions_of
from .service import Reading, Sessions, check_sid

log = logging.getLogger(__name__)


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
