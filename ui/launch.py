"""Starting the dashboard: beside a `watch` (same process, same loop) or alone (`host`)."""

from __future__ import annotations

import asyncio
import signal
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from uploader.errors import UserError
from uploader.live import LiveSessions
from uploader.stores import Store

from .app import UIConfig, create_app
from .server import Dashboard, check_exposure, serve_until
from .service import Sessions


def build_dashboard(
    store: Store,
    *,
    bind: str,
    port: int,
    token: str | None = None,
    dist: Path | None = None,
    live: LiveSessions | None = None,
    stats: Callable[[], dict[str, float]] | None = None,
) -> Dashboard:
    """The app and its bound socket: a busy port or an exposed bind fails here, before
    anything else starts."""
    check_exposure(bind, token)
    if dist is not None and not (dist / "index.html").is_file():
        raise UserError(
            f"--ui-dist {dist} has no index.html", "point it at the folder of a built bundle"
        )
    sessions = Sessions(store, live=live, stats=stats)
    config = UIConfig(token=token, dist=dist, store_description=store.description)
    return Dashboard(create_app(sessions, config), bind, port, sessions)


def run_host(dashboard: Dashboard, *, open_browser: bool = False) -> int:
    """Serve until Ctrl+C or SIGTERM. The store's list is loaded at once: someone who
    starts `host` is about to look at it (a `watch` loads it only when asked)."""
    catalog = dashboard.sessions.catalog
    threading.Thread(target=catalog.refresh, name="catalog", daemon=True).start()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(dashboard.url,), daemon=True).start()
        await serve_until(dashboard, stop)

    asyncio.run(main())
    return 0
