"""Starting the dashboard: beside a `watch` (same process, same loop) or alone (`host`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from uploader.core.errors import UsageError, UserError
from uploader.index.indexer import Indexer
from uploader.stores import Store
from uploader.write.live import LiveSessions

from .app import UIConfig, create_app
from .auth import MIN_TOKEN_CHARS, generate_token
from .limits import Limits, Load
from .security import HostPolicy
from .server import Dashboard, check_exposure, raise_open_files_limit, serve_until
from .service import Sessions

log = logging.getLogger(__name__)

AUTO = "auto"


def build_dashboard(
    store: Store,
    *,
    bind: str,
    port: int,
    token: str | None = None,
    allowed_hosts: Iterable[str] = (),
    dist: Path | None = None,
    live: LiveSessions | None = None,
    stats: Callable[[], dict[str, float]] | None = None,
    limits: Limits | None = None,
    health: Callable[[], dict[str, Any]] | None = None,
    indexer: Indexer | None = None,
) -> Dashboard:
    """The app and its bound socket: a busy port, an exposed bind or a weak token fails
    here, before anything else starts."""
    token, generated = resolve_token(token)
    check_exposure(bind, token)
    hosts = allowed_host_list(allowed_hosts)
    if dist is not None and not (dist / "index.html").is_file():
        raise UserError(
            f"--ui-dist {dist} has no index.html", "point it at the folder of a built bundle"
        )
    raise_open_files_limit()
    limits = limits or Limits()
    load = Load(limits)
    sessions = Sessions(store, live=live, stats=stats, indexer=indexer)
    config = UIConfig(token=token, dist=dist, store_description=store.description, bind=bind,
                      allowed_hosts=hosts, limits=limits, health=health)  # fmt: skip
    dashboard = Dashboard(create_app(sessions, config, load), bind, port, sessions, load)
    if generated:
        # Once, on the terminal: in the fragment (#), which browsers never send, so the
        # token reaches neither a server log nor a Referer.
        print(
            f"Dashboard token (made for this run): sign in at "
            f"{dashboard.local_url}login#token={token}\n"
            f"Scripts send 'Authorization: Bearer {token}'.",
            file=sys.stderr,
            flush=True,
        )
    return dashboard


def resolve_token(token: str | None) -> tuple[str | None, bool]:
    """The token to require (None: none), and whether it was made here (`auto`)."""
    if token is not None and token.strip() == AUTO:
        return generate_token(), True
    if token is not None:
        token = token.strip()
        if len(token) < MIN_TOKEN_CHARS:
            raise UsageError(
                f"the dashboard token has {len(token)} characters; it needs at least "
                f"{MIN_TOKEN_CHARS}",
                "pass --ui-token auto to have one made, or generate one: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
    return token or None, False


def allowed_host_list(values: Iterable[str]) -> tuple[str, ...]:
    """--ui-allowed-host values (each may hold several, split by commas or spaces)."""
    hosts = tuple(h for value in values for h in value.replace(",", " ").split())
    for host in hosts:
        try:
            HostPolicy(extra=[host])
        except ValueError:
            raise UsageError(
                f"--ui-allowed-host {host[:80]!r} is not a host name",
                "give the name (and port) as the browser's address bar shows it, "
                "like dash.example.com or dash.example.com:8443, without http://",
            ) from None
    return hosts


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
            threading.Thread(
                target=webbrowser.open, args=(dashboard.local_url,), daemon=True
            ).start()
        await serve_until(dashboard, stop)

    asyncio.run(main())
    return 0
