"""How the dashboard and its `watch` are doing: the watch's status (the bar every page
shows, and /api/status), /healthz, and /metrics in Prometheus' text format.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from . import render
from .context import authenticated, load_of, sessions_of, ui


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
