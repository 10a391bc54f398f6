"""The dashboard: a Starlette app of server-rendered pages and the JSON API they use.

Pages work without JavaScript (forms, links, <details>); static/app.js adds live lines
and type-to-search. Every route reads the store through `Sessions`; nothing here
writes to it, and no store credential ever reaches a page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from uploader import __version__, agents
from uploader.read.listing import SORT_KEYS

from . import api, errors, find, health, pages, render, tokens
from .auth import Logins, Throttle
from .limits import Limits, Load
from .resources import resource_dir
from .security import Guard, HostPolicy
from .service import Sessions


@dataclass
class UIConfig:
    token: str | None = None
    dist: Path | None = None  # a custom static bundle served at / instead of the pages
    store_description: str = ""
    bind: str = "127.0.0.1"  # the address served on: a name requests may use (Host)
    allowed_hosts: tuple[str, ...] = ()  # more such names (a reverse proxy's)
    limits: Limits = field(default_factory=Limits)
    #: The status of the `watch` this dashboard is part of, as `status --json` shows it
    #: (uploader.write.status.report): the health strip and /api/status. None for `host`.
    health: Callable[[], dict[str, Any]] | None = None


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,
    )
    env.filters.update(
        size=render.size,
        when=render.when,
        ratio=render.ratio,
        number=render.number,
        visible=render.visible,
        tokens=render.tokens,
        session_cost=render.session_cost,
        usage=tokens.usage_parts,
        cost=tokens.cost,
    )
    env.globals.update(version=__version__, agents=agents.display_names(), sort_keys=SORT_KEYS)
    return Jinja2Templates(env=env)


class _Dashboard(Starlette):
    """Starlette with the guard outside everything, its error responses included."""

    guard: dict[str, Any]

    def build_middleware_stack(self) -> ASGIApp:
        return Guard(super().build_middleware_stack(), **self.guard)


def create_app(
    sessions: Sessions, config: UIConfig | None = None, load: Load | None = None
) -> Starlette:
    config = config or UIConfig()
    load = load or Load(config.limits)
    hosts = HostPolicy(config.bind, config.allowed_hosts)
    logins = Logins(config.token) if config.token else None
    throttle = Throttle()
    app_state: dict[str, Any] = {
        "sessions": sessions,
        "templates": templates(),
        "config": config,
        "started": time.time(),
        "load": load,
        "limits": load.limits,
        "hosts": hosts,
        "logins": logins,
        "throttle": throttle,
    }
    routes: list[Route | Mount] = [
        Route("/healthz", health.healthz),
        Route("/metrics", health.metrics),
        *api.routes(),
        *find.api_routes(),
        Mount("/static", StaticFiles(directory=str(resource_dir("static"))), name="static"),
    ]
    if config.dist is not None:
        routes.append(Mount("/", StaticFiles(directory=str(config.dist), html=True), name="dist"))
    else:
        routes.extend([*pages.routes(), *find.page_routes()])
    app = _Dashboard(routes=routes, exception_handlers=errors.exception_handlers())
    app.state.ui = app_state
    app.guard = {"hosts": hosts, "limits": load.limits, "logins": logins, "throttle": throttle}
    return app
